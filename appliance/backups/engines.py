"""The database engines a backup knows, by the name in DATABASE_TYPE and in
the manifest. Each offers DUMP_NAME, database_size, snapshot and check_dump."""

from __future__ import annotations

from types import ModuleType

from appliance.backups import postgres_engine, sqlite_engine
from appliance.backups.archive import ArchiveRejected

ENGINES: dict[str, ModuleType] = {
    sqlite_engine.ENGINE: sqlite_engine,
    postgres_engine.ENGINE: postgres_engine,
}
DUMP_NAMES = frozenset(engine.DUMP_NAME for engine in ENGINES.values())


def engine_named(name: object) -> ModuleType:
    try:
        return ENGINES[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ArchiveRejected(
            f"engine {name!r} is not one this version knows"
        ) from None
