"""Migrations: a fresh database equals the models, upgrades are idempotent and keep data."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.loader import load_plans
from bot.storage.migrate import (
    MIGRATIONS_DIR,
    MigrationError,
    current_revision,
    head_revision,
    schema_differences,
    upgrade_database,
)
from bot.storage.models import PlanEvent
from tests.dbs import database_url, fetch, on_postgres, sqlite_url

from .conftest import AT, FakeDirectory, make_plan

FIRST_REVISION = "0001"
PLAN_EVENT = PlanEvent.__table__  # type: ignore[attr-defined]

SECOND_REVISION = '''"""Test-only: a column and an index on a table other tables point at."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(), nullable=False, server_default=""))
        batch_op.create_index("ix_unit_level", ["level"])


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch_op:
        batch_op.drop_index("ix_unit_level")
        batch_op.drop_column("note")
'''


async def differences(db_url: str) -> list:
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        diffs = await conn.run_sync(schema_differences)
    await engine.dispose()
    return diffs


def sqlite_path(db_url: str) -> str:
    return db_url.split(":///", 1)[1]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A database without any table (SQLite, or PostgreSQL in the PostgreSQL run)."""
    return database_url(tmp_path / "ledger.sqlite3", empty=True)


def table_rows(db_url: str, table: str) -> list[tuple]:
    return fetch(db_url, f'SELECT * FROM "{table}" ORDER BY id')


async def load_sample(db_url: str, *, before_plan_events: bool = False) -> None:
    """The sample plan loaded by today's loader. `before_plan_events`: into a database older
    than 0014, which has no planevent table for the load's event: the table is there only
    during the load (and the event goes with it, as such a database never held one)."""
    engine = make_engine(db_url)
    if before_plan_events:
        async with engine.begin() as conn:
            await conn.run_sync(PLAN_EVENT.create)
    await load_plans(make_session_maker(engine), [make_plan()], FakeDirectory(), at=AT)
    if before_plan_events:
        async with engine.begin() as conn:
            await conn.run_sync(PLAN_EVENT.drop)
    await engine.dispose()


async def test_fresh_database_matches_the_models(db_url):
    await upgrade_database(db_url)

    assert await current_revision(db_url) == head_revision()
    assert await differences(db_url) == []


async def test_upgrading_twice_is_a_no_op(db_url):
    await upgrade_database(db_url)
    await load_sample(db_url)
    before = {t: table_rows(db_url, t) for t in ("plan", "unit", "assignment", "statusevent")}

    await upgrade_database(db_url)

    assert await current_revision(db_url) == head_revision()
    assert {t: table_rows(db_url, t) for t in before} == before


async def test_in_place_upgrade_keeps_the_data(db_url, tmp_path: Path):
    await upgrade_database(db_url)
    await load_sample(db_url)
    before = {t: table_rows(db_url, t) for t in ("unit", "task", "assignment", "statusevent")}
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_test_only.py").write_text(
        SECOND_REVISION.format(head=head_revision()), encoding="utf-8"
    )

    await upgrade_database(db_url, script_location=scripts)

    assert await current_revision(db_url) == "9999"
    units = table_rows(db_url, "unit")
    assert [row[:-1] for row in units] == before["unit"]  # same rows, plus the new column
    assert {row[-1] for row in units} == {""}
    for table in ("task", "assignment", "statusevent"):
        assert table_rows(db_url, table) == before[table]
    if not on_postgres():
        assert fetch(db_url, "PRAGMA foreign_key_check") == []


async def test_every_migration_after_the_first_keeps_the_data(sqlite_db_url):
    """Rows written at the first revision survive all later migrations (exercises future ones)."""
    await upgrade_database(sqlite_db_url, revision=FIRST_REVISION)
    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        conn.executescript(
            """
            INSERT INTO plan (id, code, title, issuer, period_start, period_end, source,
                              content_hash, loaded_at)
                VALUES (1, 'SR', '实施意见', '上饶市人民政府', '2023-01-01', '2025-12-31', '',
                        'h', '2025-01-06 01:00:00.000000');
            INSERT INTO unit (id, name, short_name, jurisdiction, level, is_group, known)
                VALUES (1, '上饶市卫生健康委员会', '市卫健委', '上饶市', '市直', 0, 1);
            INSERT INTO task (id, plan_id, ref, kind, number, section, title, text, recurrence,
                              position, domain, measure_unit, baseline, target, nature, binding)
                VALUES (1, 1, 'SR-1', 'task', '1', '', '任务', '', '[]', 0, '', '', '', '', '', 0);
            INSERT INTO milestone (id, task_id, seq, due, original_due, phrase, target)
                VALUES (1, 1, 0, '2024-12-31', '2024-12-31', '2024年底', '');
            INSERT INTO assignment (id, milestone_id, unit_id, role, status, progress, due,
                                    assigned_at)
                VALUES (1, 1, 1, 'lead', 'in_progress', 40, '2024-12-31',
                        '2025-01-06 01:00:00.000000');
            INSERT INTO statusevent (id, assignment_id, at, actor_label, kind, note)
                VALUES (1, 1, '2025-01-07 01:00:00.000000', '王', 'report', '已开工');
            """
        )

    await upgrade_database(sqlite_db_url)

    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        assert conn.execute("SELECT status, progress FROM assignment").fetchall() == [
            ("in_progress", 40)
        ]
        assert conn.execute("SELECT note FROM statusevent").fetchall() == [("已开工",)]
    assert await differences(sqlite_db_url) == []


async def test_database_without_history_is_stamped_when_it_matches(db_url):
    engine = make_engine(db_url)
    await create_all(engine)
    await engine.dispose()
    await load_sample(db_url)

    await upgrade_database(db_url)

    assert await current_revision(db_url) == head_revision()
    assert len(table_rows(db_url, "assignment")) == 12


async def test_database_without_history_that_differs_is_refused(db_url):
    engine = make_engine(db_url)
    await create_all(engine)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE unit ADD COLUMN stray TEXT"))
    await engine.dispose()

    with pytest.raises(MigrationError, match="no migration history"):
        await upgrade_database(db_url)

    assert await current_revision(db_url) is None


def index_definitions(db_url: str) -> dict[str, str]:
    with sqlite3.connect(sqlite_path(db_url)) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
    return {name: " ".join(sql.replace('"', "").split()) for name, sql in rows}


async def test_a_database_of_the_first_revision_gets_the_models_indexes(
    sqlite_db_url, tmp_path: Path
):
    """Autogenerate compares index columns, not a partial index's WHERE: compare the SQL."""
    await upgrade_database(sqlite_db_url, revision=FIRST_REVISION)
    assert "WHERE" not in index_definitions(sqlite_db_url)["ix_assignment_ack"]
    await upgrade_database(sqlite_db_url)
    fresh = sqlite_url(tmp_path / "fresh.sqlite3")
    engine = make_engine(fresh)
    await create_all(engine)
    await engine.dispose()
    upgraded = index_definitions(sqlite_db_url)
    assert upgraded == index_definitions(fresh)
    assert upgraded["ix_assignment_ack"].endswith("WHERE archived_at IS NULL")


def assignment_indexes(db_url: str) -> dict[str, str]:
    """The definitions of the assignment table's indexes, as the database states them."""
    if on_postgres():
        rows = fetch(
            db_url,
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'assignment'",
        )
        return {name: " ".join(sql.replace('"', "").split()) for name, sql in rows}
    return {
        name: sql for name, sql in index_definitions(db_url).items() if " ON assignment " in sql
    }


async def test_a_database_of_revision_0014_gets_the_consolidated_indexes(db_url, tmp_path: Path):
    """0017: ix_assignment_live folds into ix_assignment_due, ix_assignment_closed holds the
    closed rows only, ix_assignment_ontime loses status; the rows stay; the result is what a
    fresh database of the models has."""
    await upgrade_database(db_url, revision="0014")
    await load_sample(db_url)
    before = table_rows(db_url, "assignment")
    assert "ix_assignment_live" in assignment_indexes(db_url)

    await upgrade_database(db_url)

    upgraded = assignment_indexes(db_url)
    assert table_rows(db_url, "assignment") == before
    assert "ix_assignment_live" not in upgraded
    closed_where = upgraded["ix_assignment_closed"].split("WHERE")[1]
    assert "'closed'" in closed_where and "status" in closed_where
    assert "status" not in upgraded["ix_assignment_ontime"].split("WHERE")[0]
    assert "acknowledged_at" in upgraded["ix_assignment_due"]
    fresh = database_url(tmp_path / "fresh.sqlite3", empty=True)
    engine = make_engine(fresh)
    await create_all(engine)
    await engine.dispose()
    assert upgraded == assignment_indexes(fresh)


async def test_memberships_of_an_existing_database_learn_where_they_came_from(sqlite_db_url):
    """0003: a coordinator of all plans that no redeemed invitation explains came from
    ADMIN_IDS, so taking the id out of ADMIN_IDS ends it; invited roles stay."""
    from bot.services.admins import sync_admins

    await upgrade_database(sqlite_db_url, revision="0002")
    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        conn.executescript(
            """
            INSERT INTO unit (id, name, short_name, jurisdiction, level, is_group, known)
                VALUES (1, '上饶市卫生健康委员会', '市卫健委', '上饶市', '市直', 0, 1);
            INSERT INTO person (id, telegram_id, name, username, active, created_at) VALUES
                (1, 11, '管理员', '', 1, '2025-01-06 01:00:00.000000'),
                (2, 22, '受邀督办员', '', 1, '2025-01-06 01:00:00.000000'),
                (3, 33, '联络员', '', 1, '2025-01-06 01:00:00.000000');
            INSERT INTO membership (id, person_id, role, unit_id, plan_id, created_at) VALUES
                (1, 1, 'coordinator', NULL, NULL, '2025-01-06 01:00:00.000000'),
                (2, 2, 'coordinator', NULL, NULL, '2025-01-07 01:00:00.000000'),
                (3, 3, 'liaison', 1, NULL, '2025-01-07 01:00:00.000000');
            INSERT INTO invite (id, token, role, unit_id, plan_id, name, created_by, created_at,
                                expires_at, used_by, used_at) VALUES
                (1, 'tok-a', 'coordinator', NULL, NULL, '', 1, '2025-01-06 01:00:00.000000',
                 '2025-01-13 01:00:00.000000', 2, '2025-01-07 01:00:00.000000'),
                (2, 'tok-b', 'liaison', 1, NULL, '', 1, '2025-01-06 01:00:00.000000',
                 '2025-01-13 01:00:00.000000', 3, '2025-01-07 01:00:00.000000');
            """
        )

    await upgrade_database(sqlite_db_url)

    assert await differences(sqlite_db_url) == []
    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        rows = conn.execute(
            "SELECT id, source, revoked_by, revoke_note FROM membership ORDER BY id"
        ).fetchall()
    assert rows == [(1, "admin", None, ""), (2, "invite", None, ""), (3, "invite", None, "")]
    engine = make_engine(sqlite_db_url)
    async with make_session_maker(engine)() as session:
        outcome = await sync_admins(session, [], at=AT)
        await session.commit()
    await engine.dispose()
    assert [p.telegram_id for p in outcome.removed] == [11]
    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        ended = conn.execute(
            "SELECT id, revoke_note FROM membership WHERE revoked_at IS NOT NULL"
        ).fetchall()
    assert ended == [(1, "ADMIN_IDS")]


async def test_marker_rows_of_earlier_releases_become_stage_marks(sqlite_db_url):
    """0013: the Outbox rows that only marked a batched stage as planned (status batched,
    chat 0, key "<notification key>|0") move to stagemark; their stages stay planned and
    every other Outbox row stays."""
    from bot.storage.outbox.marks import marked_keys
    from bot.storage.outbox.snapshots import new_keys

    await upgrade_database(sqlite_db_url, revision="0012")
    await load_sample(sqlite_db_url, before_plan_events=True)
    marked, sent, later = (
        "escalation:{a}:od9@2025-03-14",
        "overdue:{a}:od2@2025-03-14",
        "escalation:{a}:od16@2025-03-14",
    )
    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        [(aid,)] = conn.execute("SELECT min(id) FROM assignment").fetchall()
        marked, sent, later = (k.format(a=aid) for k in (marked, sent, later))
        payload = {
            "audience": "batched",
            "batches": ["overdue_batch:X:2025-03-23|5"],
            "liaisons": ["张联络"],
        }
        conn.executemany(
            "INSERT INTO outbox (key, kind, chat_id, assignment_id, stage, payload, created_at,"
            " not_before, status, attempts, last_error, parts_sent)"
            " VALUES (?, ?, ?, ?, ?, ?, '2025-03-23 01:00:00.000000',"
            " '2025-03-23 01:00:00.000000', ?, 0, '', 0)",
            [
                (
                    f"{marked}|0",
                    "escalation",
                    0,
                    aid,
                    "od9@2025-03-14",
                    json.dumps(payload),
                    "batched",
                ),
                (
                    f"{sent}|5",
                    "overdue",
                    5,
                    aid,
                    "od2@2025-03-14",
                    '{"audience": "liaisons"}',
                    "sent",
                ),
            ],
        )

    await upgrade_database(sqlite_db_url, revision="0014")

    with sqlite3.connect(sqlite_path(sqlite_db_url)) as conn:
        outbox = conn.execute("SELECT key, status FROM outbox").fetchall()
        marks = conn.execute(
            "SELECT key, assignment_id, kind, stage, payload FROM stagemark"
        ).fetchall()
    assert outbox == [(f"{sent}|5", "sent")]
    [(key, mark_aid, kind, stage, stored)] = marks
    assert (key, mark_aid, kind, stage) == (marked, aid, "escalation", "od9@2025-03-14")
    assert json.loads(stored) == payload
    await upgrade_database(sqlite_db_url)  # 0016: keyed by its parts, its liaisons kept
    assert await differences(sqlite_db_url) == []
    engine = make_engine(sqlite_db_url)
    async with engine.connect() as conn:
        assert await marked_keys(conn, [aid]) == {marked}
        fresh = await new_keys(conn, [marked, sent, later])
    await engine.dispose()
    assert fresh == {later}  # the marked and the sent stage stay planned


async def test_stage_marks_are_keyed_by_their_parts_and_keep_their_liaisons(db_url):
    """0016: a mark's text key and its summaries' keys go; it is keyed (assignment, kind,
    stage) and keeps the names of the liaisons who got it in a list (SQLite: a table without
    rowid, no index beside it); its stage stays planned and a 督办 still lists the chase."""
    from bot.storage.outbox.details import chase_history
    from bot.storage.outbox.marks import marked_keys
    from bot.storage.outbox.snapshots import new_keys

    await upgrade_database(db_url, revision="0014")
    await load_sample(db_url)
    [(aid,)] = fetch(db_url, "SELECT min(id) FROM assignment")
    marked, listed, later = (
        f"escalation:{aid}:ack5",
        f"escalation:{aid}:od9@2025-03-14",
        f"escalation:{aid}:od16@2025-03-14",
    )
    rows = (
        (marked, "ack5", {"audience": "batched", "batches": [f"escalation_batch:X:d|{aid}"]}),
        (listed, "od9@2025-03-14", {"batches": ["overdue_batch:X:d|5"], "liaisons": ["张联络"]}),
    )
    for key, stage, payload in rows:
        fetch(
            db_url,
            "INSERT INTO stagemark (key, assignment_id, kind, stage, payload, created_at) VALUES"
            f" ('{key}', {aid}, 'escalation', '{stage}', '{json.dumps(payload)}',"
            " '2025-03-23 01:00:00')",
        )

    await upgrade_database(db_url)

    assert await differences(db_url) == []
    stored = fetch(
        db_url, "SELECT assignment_id, kind, stage, liaisons FROM stagemark ORDER BY stage"
    )
    decoded = [(a, k, s, json.loads(v) if isinstance(v, str) else v) for a, k, s, v in stored]
    assert decoded == [
        (aid, "escalation", "ack5", []),
        (aid, "escalation", "od9@2025-03-14", ["张联络"]),
    ]
    if not on_postgres():
        [(sql,)] = fetch(db_url, "SELECT sql FROM sqlite_master WHERE name = 'stagemark'")
        assert "WITHOUT ROWID" in sql
        assert (
            fetch(
                db_url,
                "SELECT name FROM sqlite_master WHERE tbl_name = 'stagemark'"
                " AND type = 'index' AND sql IS NOT NULL",
            )
            == []
        )
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        assert await marked_keys(conn, [aid]) == {marked, listed}
        fresh = await new_keys(conn, [marked, listed, later])
        history = (await chase_history(conn, [aid]))[aid]
    await engine.dispose()
    assert fresh == {later}
    assert [(c.stage, c.to, c.audience) for c in history] == [
        ("od9@2025-03-14", "张联络", "liaisons")
    ]


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL run only (the SQLite file: above)")
async def test_an_existing_postgresql_database_upgrades_in_place(db_url):
    """A PostgreSQL database of the first revision, with rows, goes to head keeping them:
    instants are timestamptz, Telegram ids BIGINT afterwards."""
    await upgrade_database(db_url, revision=FIRST_REVISION)
    for statement in (
        "INSERT INTO plan (id, code, title, issuer, period_start, period_end, source,"
        " content_hash, loaded_at) VALUES (1, 'SR', '实施意见', '上饶市人民政府', '2023-01-01',"
        " '2025-12-31', '', 'h', '2025-01-06 01:00:00+00')",
        "INSERT INTO unit (id, name, short_name, jurisdiction, level, is_group, known)"
        " VALUES (1, '上饶市卫生健康委员会', '市卫健委', '上饶市', '市直', false, true)",
        "INSERT INTO person (id, telegram_id, name, username, active, created_at)"
        " VALUES (1, 2000000000, '张三', '', true, '2025-01-06 09:00:00+08')",
        "INSERT INTO chatsubscription (id, chat_id, title, created_at, active)"
        " VALUES (1, -2000000000, '群', '2025-01-06 01:00:00+00', true)",
    ):
        fetch(db_url, statement)

    await upgrade_database(db_url)

    assert await differences(db_url) == []
    types = dict(
        fetch(
            db_url,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'",
        )
    )
    assert types["person.telegram_id"] == types["outbox.chat_id"] == "bigint"
    assert types["sentmessage.chat_id"] == types["chatsubscription.chat_id"] == "bigint"
    assert types["person.created_at"] == "timestamp with time zone"
    (created,) = fetch(db_url, "SELECT created_at FROM person")[0]
    assert created.astimezone(UTC) == datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    fetch(db_url, "UPDATE chatsubscription SET chat_id = -1001234567890")
    assert fetch(db_url, "SELECT chat_id FROM chatsubscription") == [(-1001234567890,)]
