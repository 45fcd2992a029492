"""The database engines a backup knows, by the name in DATABASE_TYPE and in
the manifest. Each offers DUMP_NAME, ERRORS, database_size, snapshot and
check_dump.

An engine's module is imported when first asked for, so an installation on
SQLite never loads the PostgreSQL driver (about 10 MB in every process that
backs up or verifies).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from appliance.backups.archive import ArchiveRejected

MODULES = {
    "sqlite": "appliance.backups.sqlite_engine",
    "postgresql": "appliance.backups.postgres_engine",
}
# The archive member each engine's dump is stored as.
DUMP_NAME_OF = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
DUMP_NAMES = frozenset(DUMP_NAME_OF.values())


def engine_named(name: object) -> ModuleType:
    try:
        module = MODULES[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ArchiveRejected(
            f"engine {name!r} is not one this version knows"
        ) from None
    return importlib.import_module(module)
