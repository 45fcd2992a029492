"""Agent and admin accounts: passwords, sessions, tokens, throttling."""
