"""The `customer-service` command.

This module only parses arguments and loads settings; each command's work
lives in the module that owns it, so tests call those functions directly.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid settings,
3 the appliance could not start (port taken, data folder unwritable).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from appliance import __version__
from appliance.exit_codes import EXIT_BAD_CONFIG, EXIT_OK
from appliance.imports import load_target
from appliance.settings import Settings, SettingsError, load_settings

# `appliance` knows the product only by import strings (design.md: imports
# run one way, from app to appliance).
MIGRATE_TARGET = "app.setup:prepare_database"
# Started by `serve` and the scheduler, never by hand: hidden from --help.
HIDDEN_COMMANDS = ("worker", "scheduler", "job")
ADMIN_TARGET = "app.auth.cli:run_admin_command"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="customer-service",
        description="Self-hosted AI customer service appliance.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    add_command(commands, "serve", "run the API workers and the scheduler")
    add_command(commands, "migrate", "upgrade the database schema to the newest")
    health = add_command(commands, "health", "probe readiness; exit 0 or 1")
    health.add_argument(
        "--url", help="base URL to probe (default: this host's HOST and PORT)"
    )
    health.add_argument(
        "--timeout", type=float, default=0.8, help="seconds before giving up"
    )
    add_command(commands, "version", "print the version")
    add_admin_commands(commands)
    add_backup_commands(commands)

    config = add_command(commands, "config", "check or show the settings")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION")
    config_commands.required = True
    add_command(config_commands, "check", "validate settings; exit 2 if invalid")
    add_command(config_commands, "show", "print the settings, secrets masked")

    commands.add_parser("worker")
    commands.add_parser("scheduler")
    commands.add_parser("job").add_argument("target")
    commands._choices_actions = [
        action
        for action in commands._choices_actions
        if action.dest not in HIDDEN_COMMANDS
    ]
    return parser


def add_admin_commands(commands) -> None:
    admin = add_command(commands, "admin", "manage agent and admin accounts")
    actions = admin.add_subparsers(dest="admin_command", metavar="ACTION")
    actions.required = True
    create = add_command(actions, "create-user", "add an agent or admin account")
    create.add_argument("--role", choices=("agent", "admin"), default="agent")
    reset = add_command(
        actions, "reset-password", "set a new password; ends the account's sessions"
    )
    for action in (create, reset):
        action.add_argument("--email", required=True, help="the account's email")
        action.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from stdin (else prompt, else generate one)",
        )


def add_backup_commands(commands) -> None:
    backup = add_command(
        commands, "backup", "make, list, verify, restore, prune and copy backups"
    )
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION")
    actions.required = True
    create = add_command(actions, "create", "back up the database and uploads now")
    listing = add_command(actions, "list", "list the backups, oldest first")
    verify = add_command(actions, "verify", "re-check a backup by test-restoring it")
    verify.add_argument("backup", nargs="?", help="backup id (default: the newest)")
    restore = add_command(
        actions, "restore", "put a backup's database and uploads back in place"
    )
    restore.add_argument("source", help="backup id, or the path of an archive file")
    restore.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation"
    )
    restore.add_argument(
        "--ready-timeout",
        type=float,
        default=120.0,
        help="seconds the restarted appliance has to become ready before the "
        "earlier data is put back (default: 120)",
    )
    prune = add_command(actions, "prune", "delete backups past BACKUP_RETENTION")
    prune.add_argument(
        "--dry-run", action="store_true", help="only list what would be deleted"
    )
    offsite = add_command(
        actions, "offsite", "copy a verified backup to the OSS_* bucket"
    )
    offsite.add_argument(
        "backup", nargs="?", help="backup id (default: the newest verified)"
    )
    for action in (create, listing, verify, restore, prune, offsite):
        action.add_argument("--json", action="store_true", help="print JSON")
    for action in (create, verify, restore):
        # Set by the admin API when it runs the command for an agent.
        action.add_argument("--trigger", default="cli", help=argparse.SUPPRESS)


def add_command(commands, name: str, summary: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version":
        print(f"customer-service {__version__}")
        return EXIT_OK

    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG

    try:
        return dispatch(args, settings)
    except BrokenPipeError:
        # `customer-service config show | head` closed our stdout early.
        sys.stderr.close()
        return EXIT_OK


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "config":
        from appliance.settings.report import check_config, show_config

        return (check_config if args.config_command == "check" else show_config)(
            settings
        )
    if args.command == "health":
        from appliance.health.probe import probe_readiness

        return probe_readiness(settings, url=args.url, timeout=args.timeout)
    if args.command == "migrate":
        from appliance.logs.setup import configure_logging

        configure_logging(settings, "cli")
        return load_target(MIGRATE_TARGET)(settings)
    if args.command == "admin":
        from appliance.logs.setup import configure_logging

        configure_logging(settings, "cli")
        return load_target(ADMIN_TARGET)(settings, args)
    if args.command == "backup":
        from appliance.backups.cli import run_backup_command
        from appliance.logs.setup import configure_logging

        configure_logging(settings, "cli")
        return run_backup_command(settings, args)
    if args.command == "serve":
        from appliance.supervision.serve import serve

        return serve(settings)
    if args.command == "worker":
        from appliance.supervision.worker import run_worker

        return run_worker(settings)
    if args.command == "job":
        from appliance.scheduler.isolation import run_job_here

        return run_job_here(settings, args.target)
    if args.command == "scheduler":
        from appliance.scheduler.process import run_scheduler

        return run_scheduler(settings)
    raise SystemExit(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
