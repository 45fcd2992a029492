"""Schema migrations, shipped inside the package and run without alembic.ini.

`customer-service migrate` calls `upgrade_database`. The alembic
configuration is built here in code, with its script location pointing at
this package's own folder, so an installed wheel (no source tree, no ini
file) migrates the same way a checkout does.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from app.db.engine import build_engine, describe_database
from appliance.exit_codes import EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.settings import Settings

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision this build ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> list[str]:
    """Every revision this build ships, oldest first: a backup's revision
    must be one of these for this version to restore it."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(settings: Settings) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    engine = build_engine(settings)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def migrate_to_head(settings: Settings) -> str | None:
    """Apply every pending migration; return the revision reached."""
    # A throwaway engine: the process that migrates (often the supervisor)
    # should not keep pooled connections it will never use again.
    engine = build_engine(settings)
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade_database(settings: Settings) -> int:
    """`customer-service migrate`: exit code 0 when at head, 1 on failure."""
    database = describe_database(settings)
    try:
        revision = migrate_to_head(settings)
    except (SQLAlchemyError, CommandError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        logger.error("migrating %s failed: %s", database, reason)
        return EXIT_RUNTIME_FAILURE
    logger.info("database at revision %s (%s)", revision, database)
    return EXIT_OK
