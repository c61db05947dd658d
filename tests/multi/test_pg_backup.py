"""The README's backup and restore: `pg_dump -Fc` of a populated database, `pg_restore` into a
new empty one; every table has the same rows and /status answers the same."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy.engine import make_url

from bot.services import stats
from bot.storage.db import make_engine, make_session_maker
from bot.storage.models import SQLModel
from bot.telegram.coordinator.render import status_text
from tests.coordinator.ledger import AT, POLICY, ZONE, random_world
from tests.dbs import database_url, fetch, on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres() or shutil.which("pg_dump") is None,
    reason="PostgreSQL run only, with pg_dump and pg_restore installed",
)


def libpq(url: str) -> str:
    """The server URL psql, pg_dump and pg_restore take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def status_screen(url: str) -> str:
    engine = make_engine(url)
    try:
        async with make_session_maker(engine)() as session:
            report = await stats.status_report(
                session, scope=stats.Scope(), at=AT, zone=ZONE, policy=POLICY
            )
        return status_text(report, scope_label="all", locale="zh_CN")
    finally:
        await engine.dispose()


async def test_a_dump_restores_into_a_new_database_with_every_row(tmp_path):
    world = await random_world(tmp_path / "live.sqlite3", 7).write()
    await world.engine.dispose()
    source = database_url(tmp_path / "live.sqlite3")  # the same database again
    dump = tmp_path / "duban.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), "-d", libpq(source)], check=True)
    target = database_url(tmp_path / "restored.sqlite3", empty=True)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", libpq(target), str(dump)],
        check=True,
    )

    tables = sorted(SQLModel.metadata.tables)
    counts = {t: fetch(source, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}
    assert counts["assignment"] > 100
    assert {t: fetch(target, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables} == counts
    assert fetch(target, "SELECT version_num FROM alembic_version") == fetch(
        source, "SELECT version_num FROM alembic_version"
    )
    before, after = await status_screen(source), await status_screen(target)
    assert "<b>" in before and after == before
