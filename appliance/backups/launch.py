"""Start a backup, verification or restore for the admin API.

Long runs never happen inside an API worker. The worker starts
`customer-service backup ACTION ... --trigger api --json` as a process in a
session of its own, so it outlives the worker (a restore stops and restarts
every worker), and keeps a thread waiting on it so it never lingers as a
zombie; should the worker exit first, init or supervisord reaps it. The run
reports through progress.json and the run journal, like any other run.
"""

from __future__ import annotations

import logging
import subprocess
import threading

import psutil

from appliance.backups.lock import BackupBusy, backup_lock
from appliance.backups.progress import read_progress
from appliance.settings import Settings, SettingsError, load_settings
from appliance.settings.model import env_name
from appliance.supervision.layout import child_command

logger = logging.getLogger(__name__)

API_TRIGGER = "api"


class SettingsDrifted(Exception):
    """A child would not run on the settings this process runs on."""


def refuse_if_busy(settings: Settings) -> None:
    """Raise BackupBusy while another run holds the backup lock.

    The lock is let go at once, before the child starts: the child takes it
    itself. Two starts racing past this check end with the later child
    refused by the lock, which is why this is only a courtesy check.
    """
    try:
        with backup_lock(settings.backup_path):
            pass
    except BackupBusy:
        raise BackupBusy(describe_busy(settings)) from None


def describe_busy(settings: Settings) -> str:
    report = read_progress(settings.backup_path)
    if report and is_running(report):
        what = f"a backup {report.get('kind')} is running ({report.get('phase')})"
    else:
        what = "another backup, verification, restore or upload is running"
    return f"{what}; try again when it has finished"


def is_running(report: dict) -> bool:
    """Whether the run behind a progress report is still going: its process
    lives (a killed run leaves an unfinished report behind)."""
    pid = report.get("pid")
    if report.get("finished") or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start_backup_command(
    settings: Settings, action: str, *arguments: str
) -> subprocess.Popen:
    """Start `backup ACTION ARGUMENTS` detached; returns without waiting."""
    refuse_drifted_settings(settings)
    command = [
        *child_command("backup"),
        action,
        *arguments,
        "--trigger",
        API_TRIGGER,
        "--json",
    ]
    # stdout would only repeat what the journal records; stderr carries the
    # child's log lines to the appliance's console, like every process's.
    child = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    reaper = threading.Thread(
        target=child.wait, name=f"reap-backup-{child.pid}", daemon=True
    )
    reaper.start()
    logger.info("backup %s started for the admin API as pid %d", action, child.pid)
    return child


def refuse_drifted_settings(settings: Settings) -> None:
    """The child reads its settings from the environment and `.env` again,
    as every child of `serve` does. Refuse when that would give others than
    this process's (`.env` edited since the start), rather than back up or
    restore into what the admin pages do not show."""
    try:
        current = load_settings()
    except SettingsError as exc:
        raise SettingsDrifted(
            f"the settings no longer load ({exc.problems[0]}); fix them and "
            "restart the appliance"
        ) from None
    changed = [
        env_name(name)
        for name in type(settings).model_fields
        if getattr(current, name) != getattr(settings, name)
    ]
    if changed:
        raise SettingsDrifted(
            f"{', '.join(changed[:5])} changed since the appliance started; "
            "restart it to apply the settings, then try again"
        )
