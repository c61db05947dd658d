"""Plan files: written atomically; a file that lost items never shrinks the ledger silently at
start-up (a warning to the coordinators, or no reload at all when it lost a large share)."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.app import load_tasks_data
from bot.clock import VirtualClock
from bot.config import load_settings
from bot.importer.yaml_io import plan_files, read_plan_yaml, write_plan_yaml
from bot.services.admins import sync_admins
from bot.storage.loader import load_plans
from bot.storage.models import Outbox, Task

from .conftest import AT, make_plan

ADMIN = 7


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "plans" / "sr.yaml"
    write_plan_yaml(make_plan(), path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_plan_yaml(make_plan(items=make_plan().tasks[:1]), path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["sr.yaml"]  # no temp file left


def test_a_write_replaces_the_file_in_one_rename(tmp_path, monkeypatch):
    path = tmp_path / "sr.yaml"
    write_plan_yaml(make_plan(), path)
    renames = []
    real = os.replace

    def spy(src, dst):
        renames.append((os.path.dirname(src), os.fspath(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_plan_yaml(make_plan(items=make_plan().tasks[:1]), path)
    assert renames == [(str(tmp_path), str(path))]  # a temp file in the same folder
    assert [t.ref for t in read_plan_yaml(path).tasks] == ["SR-1"]


def test_plan_files_maps_codes_to_files(tmp_path):
    write_plan_yaml(make_plan("SR"), tmp_path / "shangrao.yaml")
    write_plan_yaml(make_plan("LN2"), tmp_path / "ln.yaml")
    (tmp_path / "notes.yaml").write_text("hello: 1\n", encoding="utf-8")
    assert plan_files(tmp_path) == {"SR": tmp_path / "shangrao.yaml", "LN2": tmp_path / "ln.yaml"}


def test_plan_file_reads_the_file_named_after_the_code_first(tmp_path, monkeypatch):
    """One file head read when the file is named after its code (as uploads name it); any
    other name, or a file of that name declaring another plan, is found by the scan."""
    from bot.importer import yaml_io

    write_plan_yaml(make_plan("SR"), tmp_path / "sr.yaml")
    write_plan_yaml(make_plan("LN2"), tmp_path / "ln.yaml")  # named otherwise: scanned
    write_plan_yaml(make_plan("PX"), tmp_path / "jd.yaml")  # named after another code
    for n in range(5):
        write_plan_yaml(make_plan(f"Q{n}"), tmp_path / f"q{n}.yaml")
    read: list[str] = []
    head_code = yaml_io._head_code
    monkeypatch.setattr(
        yaml_io, "_head_code", lambda path: read.append(path.name) or head_code(path)
    )

    assert yaml_io.plan_file(tmp_path, "sr") == tmp_path / "sr.yaml"
    assert read == ["sr.yaml"]
    assert yaml_io.plan_file(tmp_path, "LN2") == tmp_path / "ln.yaml"
    assert yaml_io.plan_file(tmp_path, "JD") is None  # jd.yaml is PX's
    assert yaml_io.plan_file(tmp_path, "PX") == tmp_path / "jd.yaml"
    assert yaml_io.plan_file(tmp_path, "ZZ") is None


async def test_a_dry_run_reports_and_writes_nothing(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    short = make_plan(items=make_plan().tasks[:1])
    report = await load_plans(session_maker, [short], directory, at=AT, dry_run=True)
    result = report.plans[0]
    assert result.items.archived == 4
    assert result.archived_refs == ["SR-2", "SR-3", "SR-P1", "SR-I1"]
    async with session_maker() as s:
        archived = select(func.count()).select_from(Task).where(Task.archived_at.is_not(None))
        assert (await s.exec(archived)).one() == 0


# --- start-up ---------------------------------------------------------------------------


@pytest.fixture
async def startup(tmp_path, session_maker, directory):
    settings = load_settings(
        env_file=None,
        bot_token="42:TEST",
        admin_ids=[ADMIN],
        tasks_data=tmp_path / "tasks_data",
    )
    plans = settings.data.tasks_data / "plans"
    write_plan_yaml(make_plan(), plans / "sr.yaml")
    clock = VirtualClock(AT, rate=0)
    await load_tasks_data(settings, session_maker, directory, clock)
    async with session_maker() as s:
        await sync_admins(s, [ADMIN], at=AT)
        await s.commit()

    async def restart(plan) -> None:
        write_plan_yaml(plan, plans / "sr.yaml")
        await load_tasks_data(settings, session_maker, directory, clock)

    return restart


async def active_refs(session_maker) -> list[str]:
    async with session_maker() as s:
        rows = await s.exec(select(Task.ref).where(Task.archived_at.is_(None)).order_by(Task.id))
        return list(rows.all())


async def notices(session_maker) -> list[Outbox]:
    async with session_maker() as s:
        return list((await s.exec(select(Outbox).where(Outbox.kind == "notice"))).all())


async def test_a_file_that_lost_an_item_loads_with_a_warning_to_coordinators(
    startup, session_maker, caplog
):
    plan = make_plan()
    shorter = replace(plan, tasks=plan.tasks[:2])  # SR-3 gone: 1 of 5 items
    with caplog.at_level(logging.WARNING):
        await startup(shorter)
    assert "SR-3" not in await active_refs(session_maker)
    assert any(r.levelno == logging.WARNING and "SR-3" in r.getMessage() for r in caplog.records)
    [notice] = await notices(session_maker)
    assert notice.chat_id == ADMIN and "SR-3" in notice.payload["text"]


async def test_a_truncated_file_is_not_loaded_at_start_up(startup, session_maker, caplog):
    """Also what makes restoring a database backup work: the newer file cannot undo it."""
    before = await active_refs(session_maker)
    truncated = make_plan(items=make_plan().tasks[:1])  # 4 of 5 items gone
    with caplog.at_level(logging.WARNING):
        await startup(truncated)
    assert await active_refs(session_maker) == before  # nothing archived
    assert any("python -m bot load" in r.getMessage() for r in caplog.records)
    [notice] = await notices(session_maker)
    assert "python -m bot load" in notice.payload["text"] and "SR-2" in notice.payload["text"]
    await startup(truncated)  # the next start says it once, not again
    assert len(await notices(session_maker)) == 1
    await startup(make_plan())  # the file restored: loads as before, nothing to say
    assert await active_refs(session_maker) == before
    assert len(await notices(session_maker)) == 1
