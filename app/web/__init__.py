"""The web UI served from the prebuilt frontend-dist/ folder."""
