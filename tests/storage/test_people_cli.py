"""`python -m bot people list | remove | add-admin`, run as the operator runs it: a subprocess
over a small ledger (tests.services.factories). Bad input: exit 2 and one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.services.admins import sync_admins
from tests.dbs import database_url, fetch
from tests.services.factories import NOW, build_ledger

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "people.sqlite3"
    ledger = await build_ledger(path)
    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    await ledger.person(200, "李四", role="leader", plan="SR")
    async with ledger.session_maker() as s:
        await sync_admins(s, [1], at=NOW)
        await s.commit()
    await ledger.engine.dispose()
    return path


def people(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ADMIN_IDS", "BOT_TOKEN")}
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=database_url(db),
        TASKS_DATA=str(REPO / "tasks_data"),
        CLOCK_START="2025-12-20T09:00:00+08:00",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "people", *args],
        cwd=db.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def active(db: Path) -> set[tuple[int, str]]:
    return set(
        fetch(
            database_url(db),
            "SELECT p.telegram_id, m.role FROM membership m "
            "JOIN person p ON p.id = m.person_id "
            "WHERE m.revoked_at IS NULL",
        )
    )


async def test_list_remove_and_add_admin(db):
    listed = people(db, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t")[:4] == ["telegram_id", "name", "role", "scope"]
    assert "100\t张三\tliaison\t上饶市卫生健康委员会" in listed.stdout
    assert "200\t李四\tleader\tplan SR" in listed.stdout

    removed = people(db, "remove", "100", "--unit", "上饶市卫健委")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("ended: 100 张三 liaison")
    added = people(db, "add-admin", "300", "--name", "钱七")
    assert added.returncode == 0 and "300" in added.stdout

    assert active(db) == {(1, "coordinator"), (200, "leader"), (300, "coordinator")}
    history = people(db, "list", "--all")
    ended = [line for line in history.stdout.splitlines() if line.startswith("100\t")]
    assert ended and ended[0].endswith("2025-12-20 01:00 UTC\tcli")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("remove", "abc"), "not a Telegram user id"),
        (("remove", "555"), "no person with Telegram id 555"),
        (("remove", "100", "--role", "king"), "--role king"),
        (("remove", "100", "--unit", "不存在的局"), "no unit called"),
        (("remove", "100", "--plan", "ZZ"), "no plan with code ZZ"),
        (("remove", "200", "--role", "liaison"), "no active membership"),
        (("remove", "1"), "ADMIN_IDS"),
        ((), "people list"),
    ],
)
async def test_bad_input_exits_2_with_one_line_and_changes_nothing(db, args, needle):
    before = active(db)

    done = people(db, *args)

    assert done.returncode == 2
    assert needle in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert active(db) == before
