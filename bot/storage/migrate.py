"""Create or upgrade the ledger database in place (Alembic, run from the package).

No alembic.ini is needed: the scripts live in `bot/storage/migrations`. `upgrade_database` is
idempotent and is what `python -m bot migrate`, `python -m bot load` and the bot's start-up call.

A database that has our tables but no `alembic_version` table (made by `create_all`, or by a
build older than the migrations) is stamped at head when its schema equals the models exactly;
otherwise `MigrationError` is raised and nothing is changed: guessing which revision a differing
schema is at could lose data.

New migration (developers): `alembic -c /dev/null` cannot find the scripts, so run
`python -c "from alembic import command; from bot.storage.migrate import alembic_config;
command.revision(alembic_config('sqlite+aiosqlite:///data/duban.sqlite3'), 'what changed',
autogenerate=True)"` against a database at head, then review the script (batch mode is on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bot.core.errors import InvalidInput
from bot.storage import models  # noqa: F401  (registers the tables)
from bot.storage.db import make_engine
from bot.storage.schema_version import MIGRATIONS_DIR


class MigrationError(InvalidInput):
    """The database cannot be brought to the current schema safely; the message says why."""


def alembic_config(
    database_url: str | None = None, *, script_location: Path | None = None
) -> Config:
    """An Alembic Config pointing at the package's migration scripts (or `script_location`)."""
    config = Config()
    config.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision(*, script_location: Path | None = None) -> str | None:
    """The newest revision of the migration scripts."""
    return ScriptDirectory.from_config(
        alembic_config(script_location=script_location)
    ).get_current_head()


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations copy tables; with foreign keys on, dropping the old copy would fail
        # or cascade. Checked again below before committing.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    config.attributes["connection"] = connection
    context = MigrationContext.configure(connection)
    if context.get_current_revision() is None:
        ours = set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
        if ours:
            diffs = compare_metadata(context, SQLModel.metadata)
            if diffs:
                raise MigrationError(
                    "database has tables but no migration history and differs from the "
                    f"models ({len(diffs)} differences, first: {diffs[0]}); upgrade it by hand"
                )
            command.stamp(config, "head")
            return
    command.upgrade(config, revision)
    if sqlite:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise MigrationError(f"foreign key check failed after upgrade: {problems[:3]}")


async def upgrade_database(
    database_url: str, *, revision: str = "head", script_location: Path | None = None
) -> None:
    """Create or upgrade the database at `database_url` (async URL) to `revision`.

    Idempotent: at `revision` already, nothing happens. Raises MigrationError when a database
    without migration history does not match the models. `script_location` is for tests.
    """
    config = alembic_config(database_url, script_location=script_location)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_upgrade, config, revision)
            await conn.commit()
    finally:
        await engine.dispose()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None for a new database or one without history."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def schema_differences(connection: Connection) -> list[Any]:
    """Alembic's diff between the database on `connection` and the models ([] when equal)."""
    return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
