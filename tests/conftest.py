"""The whole suite imports aiogram the way `python -m bot` does: its types built on first use
(bot.lazy_aiogram), so that every test exercises what production runs.

With `TEST_DATABASE_URL=postgresql+asyncpg://…` every test that uses a database gets a fresh
PostgreSQL database instead of an SQLite file (tests/dbs.py)."""

import pytest

from bot.lazy_aiogram import import_aiogram
from tests import dbs

import_aiogram()


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    if dbs.on_postgres():
        return f"databases: PostgreSQL ({dbs.TEST_DATABASE_URL})"
    return "databases: SQLite files (TEST_DATABASE_URL=postgresql+asyncpg://… for PostgreSQL)"


@pytest.fixture(autouse=True)
def _test_databases():
    """The databases a test made are recycled (or dropped) when it ends."""
    mark = dbs.acquired_mark()
    yield
    dbs.release_test_databases(mark)


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    dbs.drop_all_test_databases()
