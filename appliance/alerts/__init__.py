"""Alerts to ALERT_WEBHOOK_URL when a backup run or a scheduled job fails.

Two sources, one sender, all in the scheduler process:

- failed backup runs (create, verify, prune, drill, and any later kind that
  records outcome "failed" in the run journal), read from the journal by
  the `backup-alerts` job, whichever process recorded them;
- scheduled jobs that raise, reported by the job runner, once per streak
  of failures.

Sending is bounded in time and never raises: a dead or stalling receiver
costs a few log lines and a count, never a backup.
"""
