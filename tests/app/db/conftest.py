from tests.support.databases import (  # noqa: F401
    any_database,
    migrated_database,
    postgres_database,
    postgres_server,
)
