"""Alembic environment: runs migrations on the connection upgrade_database gives.

There is no alembic.ini and no URL here: the caller builds the engine from
the appliance's settings and hands over an open connection, so the shipped
package migrates with nothing on disk but itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from app.db.models import metadata

# Two processes migrating one PostgreSQL database at once (two hosts starting
# together) would both try to create the same tables; the second waits here.
MIGRATION_LOCK_KEY = 0x6373_6D69


class ForeignKeyViolation(RuntimeError):
    pass


def run_migrations() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported")
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through app.db.migrations")
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        suspend_sqlite_foreign_keys(connection)

    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table.
        render_as_batch=sqlite,
        # Our SQLite connections emit their own BEGIN (app.db.engine), so DDL
        # is transactional there too: a failed upgrade leaves no half schema,
        # and the write lock taken first serialises concurrent migrators.
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if sqlite:
            context.run_migrations()
            check_sqlite_foreign_keys(connection)
        else:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": MIGRATION_LOCK_KEY},
            )
            context.run_migrations()


def suspend_sqlite_foreign_keys(connection: Connection) -> None:
    # Batch mode rebuilds a table by dropping the old one; with foreign keys
    # on, that drop deletes its rows first and fires ON DELETE CASCADE on
    # their children. The pragma is ignored inside a transaction, so it goes
    # straight to the driver before alembic begins one.
    connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")


def check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise ForeignKeyViolation(
            f"migration left rows with dangling foreign keys in {', '.join(tables)}"
        )


run_migrations()
