"""Migration scripts, applied in order by alembic (a package so it ships)."""
