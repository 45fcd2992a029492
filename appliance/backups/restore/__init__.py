"""Restore a backup: check it whole, set the live data aside, swap, and keep
the result only once the appliance is ready on it (run.py has the steps)."""

from appliance.backups.restore.run import (
    RestoreFailed,
    RestoreRefused,
    RestoreResult,
    restore_backup,
)

__all__ = ["RestoreFailed", "RestoreRefused", "RestoreResult", "restore_backup"]
