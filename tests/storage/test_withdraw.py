"""Withdrawing a plan archives all of it at once and cancels what was waiting to be sent; a
restore (or its file loaded again) brings back exactly what the withdrawal took, with its
history and progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.services.errors import ServiceError
from bot.services.plan_withdraw import restore, withdraw
from bot.storage.loader import load_plans
from bot.storage.models import (
    Assignment,
    Milestone,
    Outbox,
    Plan,
    PlanEvent,
    StatusEvent,
    Task,
)
from bot.storage.withdraw import WITHDRAWN

from .conftest import AT, make_plan

LATER = AT + timedelta(days=3)


async def _active(session_maker, code: str) -> tuple[int, int, int]:
    """(items, milestones, assignments) of the plan that are not archived."""
    async with session_maker() as s:
        plan = (await s.exec(select(Plan).where(Plan.code == code))).one()
        items = (
            await s.exec(
                select(func.count())
                .select_from(Task)
                .where(Task.plan_id == plan.id, col(Task.archived_at).is_(None))
            )
        ).one()
        milestones = (
            await s.exec(
                select(func.count())
                .select_from(Milestone)
                .join(Task, col(Task.id) == Milestone.task_id)
                .where(Task.plan_id == plan.id, col(Milestone.archived_at).is_(None))
            )
        ).one()
        assignments = (
            await s.exec(
                select(func.count())
                .select_from(Assignment)
                .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
                .join(Task, col(Task.id) == Milestone.task_id)
                .where(Task.plan_id == plan.id, col(Assignment.archived_at).is_(None))
            )
        ).one()
        return items, milestones, assignments


async def _assignment_ids(session_maker, code: str) -> list[int]:
    async with session_maker() as s:
        rows = await s.exec(
            select(Assignment.id)
            .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
            .join(Task, col(Task.id) == Milestone.task_id)
            .join(Plan, col(Plan.id) == Task.plan_id)
            .where(Plan.code == code)
            .order_by(col(Assignment.id))
        )
        return [int(i) for i in rows.all() if i is not None]


async def _outbox(session_maker, key: str, assignment_id: int | None, status: str = "pending"):
    async with session_maker() as s:
        s.add(
            Outbox(
                key=key,
                kind="reminder" if assignment_id else "escalation_batch",
                chat_id=1,
                assignment_id=assignment_id,
                status=status,
                created_at=AT,
                not_before=AT,
            )
        )
        await s.commit()


async def _statuses(session_maker) -> dict[str, str]:
    async with session_maker() as s:
        rows = (await s.exec(select(Outbox.key, Outbox.status))).all()
        return dict(rows)


async def test_withdraw_archives_the_whole_plan_and_only_it(session_maker, directory):
    await load_plans(session_maker, [make_plan("SR"), make_plan("LN")], directory, at=AT)
    sr, ln = await _assignment_ids(session_maker, "SR"), await _assignment_ids(session_maker, "LN")
    await _outbox(session_maker, f"reminder:{sr[0]}:d7|1", sr[0])
    await _outbox(session_maker, f"reminder:{sr[1]}:d7|1", sr[1], status="sent")
    await _outbox(session_maker, f"reminder:{sr[2]}:d7|1", sr[2], status="held")  # for a brief
    await _outbox(session_maker, f"reminder:{ln[0]}:d7|1", ln[0])
    await _outbox(session_maker, "escalation_batch:SR:2025-01-09|1", None)
    await _outbox(session_maker, "escalation_batch:SR2:2025-01-09|1", None)  # another plan
    before = await _active(session_maker, "LN")

    done = await withdraw(session_maker, "sr", at=LATER, actor_label="cli", note="test")

    archive = done.archive
    assert (archive.code, archive.items, archive.assignments, archive.outbox) == (
        "SR",
        5,
        len(sr),
        3,
    )
    assert await _active(session_maker, "SR") == (0, 0, 0)
    assert await _active(session_maker, "LN") == before
    assert await _statuses(session_maker) == {
        f"reminder:{sr[0]}:d7|1": "cancelled",  # pending: never sent now
        f"reminder:{sr[1]}:d7|1": "sent",  # history: untouched
        f"reminder:{sr[2]}:d7|1": "cancelled",
        f"reminder:{ln[0]}:d7|1": "pending",
        "escalation_batch:SR:2025-01-09|1": "cancelled",
        "escalation_batch:SR2:2025-01-09|1": "pending",
    }
    async with session_maker() as s:
        plan = (await s.exec(select(Plan).where(Plan.code == "SR"))).one()
        assert plan.archived_at == LATER
        # the plan's history holds the act, once; the assignments' history is left alone
        acts = (await s.exec(select(PlanEvent).order_by(col(PlanEvent.id)))).all()
        assert [
            (e.kind, e.actor_label, e.note, e.at, e.assignments)
            for e in acts
            if e.plan_id == plan.id
        ] == [("load", "import", "", AT, len(sr)), ("withdraw", "cli", "test", LATER, len(sr))]
        kinds = (await s.exec(select(StatusEvent.kind).distinct())).all()
        assert "archive" not in kinds
        cancelled = (await s.exec(select(Outbox).where(Outbox.status == "cancelled"))).all()
        assert {r.last_error for r in cancelled} == {WITHDRAWN}
    with pytest.raises(ServiceError) as again:
        await withdraw(session_maker, "SR", at=LATER)
    assert again.value.code == "plan_already_withdrawn"
    with pytest.raises(ServiceError) as unknown:
        await withdraw(session_maker, "XX", at=LATER)
    assert unknown.value.code == "unknown_plan"


async def test_restore_brings_back_what_the_withdrawal_took_and_nothing_else(
    session_maker, directory
):
    plan = make_plan()
    await load_plans(session_maker, [plan], directory, at=AT)
    # SR-3 left the plan earlier: archived by a reload, it must stay archived
    shorter = make_plan(items=[*plan.tasks[:2]])
    await load_plans(session_maker, [shorter], directory, at=AT + timedelta(hours=1))
    before = await _active(session_maker, "SR")
    ids = await _assignment_ids(session_maker, "SR")
    async with session_maker() as s:
        first = await s.get(Assignment, ids[0])
        assert first is not None
        first.status, first.progress = "in_progress", 60
        s.add(first)
        await s.commit()
    await _outbox(session_maker, f"reminder:{ids[0]}:d7|1", ids[0])
    await withdraw(session_maker, "SR", at=LATER)

    back = await restore(session_maker, "SR", at=LATER + timedelta(days=1))

    assert back.archive.assignments == before[2] and back.archive.outbox == 1
    assert await _active(session_maker, "SR") == before
    async with session_maker() as s:
        again = await s.get(Assignment, ids[0])
        assert again is not None and (again.status, again.progress) == ("in_progress", 60)
        kinds = (
            await s.exec(
                select(StatusEvent.kind)
                .where(StatusEvent.assignment_id == ids[0])
                .order_by(col(StatusEvent.id))
            )
        ).all()
        assert kinds == []  # the assignment's history as it was: nothing but its load
        acts = await s.exec(select(PlanEvent.kind, PlanEvent.at).order_by(col(PlanEvent.id)))
        assert acts.all() == [
            ("load", AT),
            ("load", AT + timedelta(hours=1)),
            ("withdraw", LATER),
            ("restore", LATER + timedelta(days=1)),
        ]
        # the cancelled reminder is forgotten: the planner plans afresh what is due now
        assert (await s.exec(select(Outbox))).all() == []
        plan_row = (await s.exec(select(Plan).where(Plan.code == "SR"))).one()
        assert plan_row.archived_at is None
    with pytest.raises(ServiceError) as active:
        await restore(session_maker, "SR", at=LATER)
    assert active.value.code == "plan_not_withdrawn"


async def test_loading_the_file_again_restores_a_withdrawn_plan(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    before = await _active(session_maker, "SR")
    ids = await _assignment_ids(session_maker, "SR")
    await _outbox(session_maker, f"reminder:{ids[0]}:d7|1", ids[0])
    await withdraw(session_maker, "SR", at=LATER)
    # the same file, unchanged: its content hash alone must not skip a withdrawn plan
    report = await load_plans(session_maker, [make_plan()], directory, at=LATER)
    assert not report.plans[0].skipped
    assert report.plans[0].assignment_changes.restored == before[2]
    assert await _active(session_maker, "SR") == before
    assert await _statuses(session_maker) == {}


async def test_withdraw_moves_the_file_out_of_tasks_data_and_restore_moves_it_back(
    tmp_path, session_maker, directory
):
    from bot.importer.yaml_io import write_plan_yaml

    tasks_data = tmp_path / "tasks_data"
    write_plan_yaml(make_plan(), tasks_data / "plans" / "shangrao.yaml")
    await load_plans(session_maker, [make_plan()], directory, at=AT)

    done = await withdraw(session_maker, "SR", at=LATER, tasks_data=tasks_data)
    assert done.file == tasks_data / "withdrawn" / "shangrao.yaml" and done.file.exists()
    assert not (tasks_data / "plans" / "shangrao.yaml").exists()

    back = await restore(session_maker, "SR", at=LATER, tasks_data=tasks_data)
    assert back.file == tasks_data / "plans" / "shangrao.yaml" and back.file.exists()
    assert not (tasks_data / "withdrawn" / "shangrao.yaml").exists()

    await withdraw(session_maker, "SR", at=LATER, tasks_data=tasks_data)
    (tasks_data / "withdrawn" / "shangrao.yaml").unlink()
    with pytest.raises(ServiceError) as missing:
        await restore(session_maker, "SR", at=LATER, tasks_data=tasks_data)
    assert missing.value.code == "plan_file_missing"
    assert await _active(session_maker, "SR") == (0, 0, 0)  # nothing changed
