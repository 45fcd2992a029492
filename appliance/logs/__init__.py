"""Logging set-up for each process and rotation of the shared log file."""
