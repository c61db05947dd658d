"""`python -m bot copy-db FROM TO`: an SQLite ledger with history moves to another database
(PostgreSQL in the PostgreSQL run, another SQLite file otherwise) row for row; a target that
has rows is refused and left as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from benchmarks.synthetic import build_synthetic_ledger
from bot.__main__ import main
from bot.storage.copy import CopyError, copied_tables, copy_database
from bot.storage.db import make_engine, make_session_maker
from bot.storage.migrate import upgrade_database
from bot.storage.models import (
    Assignment,
    ChatSubscription,
    Invite,
    Outbox,
    PendingImport,
    Person,
    ReplyReading,
    SentMessage,
    StageMark,
)
from tests.dbs import database_url, sqlite_url

AT = datetime(2025, 6, 1, 2, tzinfo=UTC)
BIG_USER = 7_123_456_789  # user ids pass 2³¹
SUPERGROUP = -1_001_234_567_890


async def sqlite_ledger(path) -> str:
    """An SQLite deployment's database (the source of a move is SQLite in both runs): a
    synthetic ledger with its status history, plus a row in every other table, with ids past
    2³¹, JSON, bytes and instants to the microsecond."""
    url = sqlite_url(path)
    await upgrade_database(url)
    engine = make_engine(url)
    maker = make_session_maker(engine)
    await build_synthetic_ledger(maker, assignments=400, at=AT, seed=3)
    async with maker() as s:
        assignment = (await s.exec(select(Assignment).limit(1))).scalars().first()
        person = Person(telegram_id=BIG_USER, name="张三", created_at=AT, locale="en")
        s.add(person)
        await s.flush()
        s.add(ChatSubscription(chat_id=SUPERGROUP, title="督办群", created_at=AT))
        s.add(
            Invite(
                token="tok",
                role="liaison",
                created_at=AT,
                expires_at=AT + timedelta(days=7, microseconds=123),
                created_by=person.id,
            )
        )
        s.add(
            Outbox(
                key="remind:1:d7",
                kind="reminder",
                chat_id=SUPERGROUP,
                person_id=person.id,
                assignment_id=assignment.id,
                payload={"ref": "SR-1", "due": date(2025, 6, 30).isoformat(), "n": [1, 2]},
                created_at=AT,
                not_before=AT + timedelta(hours=1),
                status="sent",
                sent_at=AT + timedelta(hours=1, microseconds=5),
                message_id=42,
                parts=[{"text": "第一部分", "reply_markup": None, "assignment_id": None}],
            )
        )
        s.add(
            SentMessage(chat_id=BIG_USER, message_id=42, assignment_id=assignment.id, sent_at=AT)
        )
        s.add(
            PendingImport(
                token="imp",
                owner=BIG_USER,
                chat_id=BIG_USER,
                data=bytes(range(256)),
                options={"code": "SR", "year": 2025},
                created_at=AT,
                updated_at=AT,
            )
        )
        s.add(
            ReplyReading(
                person_id=person.id,
                chat_id=BIG_USER,
                text="SR-1 完成",
                readings=[{"ref": "SR-1", "candidates": [{"status": "done_reported"}]}],
                created_at=AT,
            )
        )
        # stage marks: a key of three columns, more rows than a batch (pages by row value)
        firsts = (
            (await s.exec(select(Assignment.id).order_by(Assignment.id).limit(160)))
            .scalars()
            .all()
        )
        s.add_all(
            StageMark(
                assignment_id=aid,
                kind=kind,
                stage=f"od{n}@2025-03-14",
                liaisons=[person.id] if n % 2 else ["张联络"],
                created_at=AT,
            )
            for aid in firsts
            for kind in ("escalation", "overdue")
            for n in (1, 2)
        )
        await s.commit()
    await engine.dispose()
    return url


async def all_rows(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                t.name: [
                    tuple(r)
                    for r in (await conn.execute(select(t).order_by(*t.primary_key.columns))).all()
                ]
                for t in copied_tables()
            }
    finally:
        await engine.dispose()


async def test_a_sqlite_ledger_is_copied_row_for_row(tmp_path):
    source = await sqlite_ledger(tmp_path / "source.sqlite3")
    target = database_url(tmp_path / "target.sqlite3", empty=True)

    report = await copy_database(source, target, batch=150)  # several batches per table

    want, got = await all_rows(source), await all_rows(target)
    assert {t: len(rows) for t, rows in got.items()} == report.rows
    assert report.rows["statusevent"] > 400 and report.rows["pendingimport"] == 1
    for table, rows in want.items():
        assert got[table] == rows, table
    # the target goes on: new ids after the copied ones, Telegram ids past 2³¹ kept
    engine = make_engine(target)
    async with make_session_maker(engine)() as s:
        newcomer = Person(telegram_id=BIG_USER + 1, name="李四", created_at=AT)
        s.add(newcomer)
        await s.commit()
        assert newcomer.id == max(r[0] for r in want["person"]) + 1
    await engine.dispose()


async def test_a_target_with_rows_is_refused_and_left_as_it_was(tmp_path):
    source = await sqlite_ledger(tmp_path / "source.sqlite3")
    target = database_url(tmp_path / "target.sqlite3", empty=True)
    await copy_database(source, target)
    before = await all_rows(target)

    with pytest.raises(CopyError, match="not empty"):
        await copy_database(source, target)

    assert await all_rows(target) == before


def test_the_command_line_copies_and_refuses(tmp_path, capsys):
    import asyncio

    source = asyncio.run(sqlite_ledger(tmp_path / "source.sqlite3"))
    target = database_url(tmp_path / "target.sqlite3", empty=True)

    assert main(["copy-db", source, target]) == 0
    out = capsys.readouterr().out
    assert "statusevent: " in out and "counts checked" in out

    assert main(["copy-db", source, target]) == 2
    assert "not empty" in capsys.readouterr().err


async def test_a_source_behind_the_head_revision_is_refused(tmp_path):
    source = sqlite_url(tmp_path / "old.sqlite3")
    await upgrade_database(source, revision="0005")
    with pytest.raises(CopyError, match="upgrade it first"):
        await copy_database(source, database_url(tmp_path / "target.sqlite3", empty=True))
