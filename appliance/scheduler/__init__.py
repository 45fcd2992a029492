"""The one scheduler process: backups, log rotation, housekeeping."""
