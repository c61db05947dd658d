"""The withdraw story, as the operator lives it: a plan's file leaves tasks_data, the bot
restarts (the start-up reload), and nothing of that plan is sent any more while the other plan
goes on; the file comes back, the bot restarts, and the plan is there again with its history
and progress, chased again by the planner."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.app import load_tasks_data
from bot.clock import VirtualClock
from bot.config import load_settings
from bot.core.policy import load_policy
from bot.importer.yaml_io import write_plan_yaml
from bot.services.admins import sync_admins
from bot.services.plan_loading import reload_folder
from bot.services.planning import plan_due
from bot.storage.models import (
    ROLE_LIAISON,
    Assignment,
    Membership,
    Milestone,
    Outbox,
    Person,
    Plan,
    PlanEvent,
    StatusEvent,
    Task,
    Unit,
)
from bot.storage.outbox.delivery import as_rendered

from .conftest import AT, HEALTH, make_plan

ADMIN = 7
LIAISON = 8
WITHDRAWN_AT = AT + timedelta(days=2, hours=1)


async def _plan_assignments(session_maker, code: str) -> set[int]:
    async with session_maker() as s:
        rows = await s.exec(
            select(Assignment.id)
            .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
            .join(Task, col(Task.id) == Milestone.task_id)
            .join(Plan, col(Plan.id) == Task.plan_id)
            .where(Plan.code == code)
        )
        return {int(i) for i in rows.all() if i is not None}


async def _waiting(session_maker, ids: set[int]) -> list[Outbox]:
    """The rows of these assignments that wait to be sent: on their own (pending) or for a
    liaison's next brief (held)."""
    async with session_maker() as s:
        rows = await s.exec(
            select(Outbox).where(
                col(Outbox.status).in_(("pending", "held")), col(Outbox.assignment_id).in_(ids)
            )
        )
        return list(rows.all())


async def _planned(session_maker, ids: set[int], after=None) -> list[Outbox]:
    """The rows planned for these assignments (after `after`), whatever became of them."""
    async with session_maker() as s:
        query = select(Outbox).where(col(Outbox.assignment_id).in_(ids))
        if after is not None:
            query = query.where(col(Outbox.created_at) > after)
        return list((await s.exec(query)).all())


async def _briefs_after(session_maker, at) -> list[str]:
    """The payloads of the briefs planned after `at`, as text, as the sender renders them
    (a brief refers to its items: their refs are the ledger's)."""
    async with session_maker() as s:
        rows = await s.exec(
            select(Outbox).where(Outbox.kind == "brief", col(Outbox.created_at) > at)
        )
        return [
            json.dumps((await as_rendered(s, r)).payload, ensure_ascii=False) for r in rows.all()
        ]


async def _history(session_maker, ids: set[int]) -> list[tuple[int, str, str | None]]:
    async with session_maker() as s:
        rows = await s.exec(
            select(StatusEvent.id, StatusEvent.kind, StatusEvent.note)
            .where(col(StatusEvent.assignment_id).in_(ids))
            .order_by(col(StatusEvent.id))
        )
        return [(int(i or 0), k, n) for i, k, n in rows.all()]


@pytest.fixture
async def bot_files(tmp_path, session_maker, directory):
    settings = load_settings(
        env_file=None, bot_token="42:TEST", admin_ids=[ADMIN], tasks_data=tmp_path / "td"
    )
    plans = settings.data.tasks_data / "plans"
    write_plan_yaml(make_plan("SR"), plans / "sr.yaml")
    write_plan_yaml(make_plan("LN"), plans / "ln.yaml")
    clock = VirtualClock(AT, rate=0)

    async def restart(at=None) -> None:
        if at is not None:
            clock.set(at)
        await load_tasks_data(settings, session_maker, directory, clock)

    await restart()
    async with session_maker() as s:
        await sync_admins(s, [ADMIN], at=AT)
        unit = (await s.exec(select(Unit).where(Unit.name == HEALTH))).one()
        person = Person(telegram_id=LIAISON, name="张联络", created_at=AT)
        s.add(person)
        await s.flush()
        s.add(Membership(person_id=person.id, role=ROLE_LIAISON, unit_id=unit.id, created_at=AT))
        await s.commit()
    return plans, restart


@pytest.mark.parametrize(
    "overrides",
    [{}, {"brief": {"audiences": []}}],
    ids=["liaisons-briefed", "one-message-per-item"],
)
async def test_a_plan_whose_file_is_removed_is_no_longer_chased_and_comes_back_whole(
    bot_files, session_maker, caplog, overrides
):
    plans, restart = bot_files
    policy = load_policy(overrides=overrides)
    sr = await _plan_assignments(session_maker, "SR")
    ln = await _plan_assignments(session_maker, "LN")
    day = AT + timedelta(days=2)
    await plan_due(session_maker, day, policy)
    assert await _planned(session_maker, sr) and await _planned(session_maker, ln)
    if not overrides:  # the liaison's brief lists SR's items, until the withdrawal
        assert any("SR-" in b for b in await _briefs_after(session_maker, AT))
    # progress reported on SR before the file goes
    async with session_maker() as s:
        first = await s.get(Assignment, min(sr))
        assert first is not None
        first.status, first.progress = "in_progress", 60
        s.add(first)
        s.add(
            StatusEvent(
                assignment_id=first.id, at=day, kind="report", new_status="in_progress", note="x"
            )
        )
        await s.commit()
    history = await _history(session_maker, sr)

    (plans / "sr.yaml").unlink()
    with caplog.at_level(logging.WARNING):
        await restart(WITHDRAWN_AT)

    assert any("SR withdrawn" in r.getMessage() for r in caplog.records)
    assert await _waiting(session_maker, sr) == []  # what waited is cancelled
    async with session_maker() as s:
        notice = (await s.exec(select(Outbox).where(Outbox.stage == "plan_withdrawn"))).one()
        assert notice.chat_id == ADMIN and "SR" in notice.payload["text"]
    for later in (day + timedelta(days=1), day + timedelta(days=30)):
        await plan_due(session_maker, later, policy)
    # nothing of SR is planned again, alone or in a liaison's brief; the other plan goes on
    assert await _planned(session_maker, sr, after=WITHDRAWN_AT) == []
    assert await _waiting(session_maker, sr) == []
    assert not any("SR-" in b for b in await _briefs_after(session_maker, WITHDRAWN_AT))
    assert await _planned(session_maker, ln, after=WITHDRAWN_AT)

    back = day + timedelta(days=31)
    write_plan_yaml(make_plan("SR"), plans / "sr.yaml")
    await restart(back)

    assert await _plan_assignments(session_maker, "SR") == sr  # the same rows, not new ones
    after = await _history(session_maker, sr)
    assert after[: len(history)] == history  # nothing of the history rewritten
    # the withdrawal and the loads are the plan's events; the rows the reload brought back
    # each get their "restore"
    assert {k for _, k, _ in after[len(history) :]} == {"restore"}
    async with session_maker() as s:
        acts = (
            await s.exec(
                select(PlanEvent.kind, PlanEvent.note, PlanEvent.at, PlanEvent.assignments)
                .join(Plan, col(Plan.id) == PlanEvent.plan_id)
                .where(Plan.code == "SR")
                .order_by(col(PlanEvent.id))
            )
        ).all()
        assert acts == [
            ("load", "", AT, len(sr)),
            ("withdraw", "plan file removed", WITHDRAWN_AT, len(sr)),
            ("load", "", back, 0),  # no assignment created: all came back
        ]
    async with session_maker() as s:
        first = await s.get(Assignment, min(sr))
        assert first is not None and (first.status, first.progress) == ("in_progress", 60)
        assert first.archived_at is None
    await plan_due(session_maker, back, policy)
    assert await _planned(session_maker, sr, after=back - timedelta(seconds=1))  # chased again


def _edit_by_hand(path) -> None:
    """A comment after a value: a file only PyYAML reads."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n  title:", "  # edited by hand\n  title:", 1), "utf-8")


async def test_the_reload_runs_in_a_worker_thread(tmp_path, session_maker, directory):
    folder = tmp_path / "plans"
    write_plan_yaml(make_plan("SR"), folder / "sr.yaml")
    loaded = await reload_folder(
        session_maker, folder, directory, at=AT, default_locale="zh_CN", process_bytes=0
    )
    assert loaded.in_process and [r.code for r in loaded.results if r.new_plan] == ["SR"]


async def test_a_long_file_only_pyyaml_reads_is_reloaded_in_a_child_process(
    tmp_path, session_maker, directory, caplog
):
    """The same reload, in the child process when a file over the limit is edited beyond what
    the writer writes (libyaml would hold the GIL): the ledger and the log lines are the same
    as in this process."""
    folder = tmp_path / "plans"
    write_plan_yaml(make_plan("SR"), folder / "sr.yaml")
    write_plan_yaml(make_plan("LN"), folder / "ln.yaml")
    _edit_by_hand(folder / "ln.yaml")
    first = await reload_folder(
        session_maker, folder, directory, at=AT, default_locale="zh_CN", process_bytes=0
    )
    assert not first.in_process and first.files == 2
    assert sorted(r.code for r in first.results if r.new_plan) == ["LN", "SR"]
    (folder / "sr.yaml").unlink()
    with caplog.at_level(logging.WARNING):
        second = await reload_folder(
            session_maker, folder, directory, at=AT, default_locale="zh_CN", process_bytes=0
        )
    assert [w.code for w in second.withdrawn] == ["SR"]
    assert any(
        r.name == "bot.services.plan_withdraw" and "SR withdrawn" in r.getMessage()
        for r in caplog.records
    )
    assert await _waiting(session_maker, await _plan_assignments(session_maker, "SR")) == []
    async with session_maker() as s:
        sr = (await s.exec(select(Plan).where(Plan.code == "SR"))).one()
        assert sr.archived_at == AT


async def test_an_empty_plans_folder_withdraws_nothing(tmp_path, session_maker, directory):
    folder = tmp_path / "plans"
    write_plan_yaml(make_plan("SR"), folder / "sr.yaml")
    await reload_folder(session_maker, folder, directory, at=AT, default_locale="zh_CN")
    (folder / "sr.yaml").unlink()  # e.g. the volume was not mounted
    out = await reload_folder(session_maker, folder, directory, at=AT, default_locale="zh_CN")
    assert out.files == 0 and out.withdrawn == []
    async with session_maker() as s:
        sr = (await s.exec(select(Plan).where(Plan.code == "SR"))).one()
        assert sr.archived_at is None
