"""Loading plans into the ledger: idempotent, history-preserving, all-or-nothing."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlmodel import select

from bot.core.history import DueChange, read_due_change
from bot.storage import loader
from bot.storage.db import SessionMaker
from bot.storage.loader import LoadError, load_plans
from bot.storage.models import (
    IN_PROGRESS,
    Assignment,
    Milestone,
    Plan,
    PlanEvent,
    StatusEvent,
    Task,
    Unit,
)

from .conftest import AT, DRC, FINANCE, GROUP, HEALTH, FakeDirectory, item, make_plan

LATER = AT + timedelta(days=30)


async def rows(session_maker: SessionMaker, model: type) -> list:
    async with session_maker() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def assignments_by_task(session_maker: SessionMaker) -> dict[str, list[tuple]]:
    """ref → [(seq, unit name, role, due, archived?)]"""
    query = (
        select(Task.ref, Milestone.seq, Unit.name, Assignment)
        .join(Milestone, Milestone.task_id == Task.id)
        .join(Assignment, Assignment.milestone_id == Milestone.id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .order_by(Task.ref, Milestone.seq, Unit.name)
    )
    out: dict[str, list[tuple]] = {}
    async with session_maker() as session:
        for ref, seq, name, a in (await session.exec(query)).all():
            out.setdefault(ref, []).append((seq, name, a.role, a.due, a.archived_at is not None))
    return {ref: sorted(values) for ref, values in out.items()}


async def test_first_load_creates_the_ledger(session_maker, directory):
    report = await load_plans(session_maker, [make_plan()], directory, at=AT)

    result = report.plans[0]
    assert (result.tasks, result.key_projects, result.indicators) == (3, 1, 1)
    assert result.new_plan and not result.skipped
    assert result.assignment_changes.created == result.assignments == 12
    assignments = await rows(session_maker, Assignment)
    assert len(assignments) == 12
    assert all(a.assigned_at == AT and a.status == "not_started" for a in assignments)
    # the load is the plan's event, once, not each assignment's (their assigned_at says it)
    assert await rows(session_maker, StatusEvent) == []
    plan = (await rows(session_maker, Plan))[0]
    assert plan.content_hash and plan.loaded_at == AT
    loads = [
        (e.plan_id, e.kind, e.at, e.assignments) for e in await rows(session_maker, PlanEvent)
    ]
    assert loads == [(plan.id, "load", AT, 12)]


async def test_each_load_of_a_plan_is_one_plan_event(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    more = make_plan()
    more.tasks.append(item("SR-9", [HEALTH, FINANCE], [date(2024, 6, 30), date(2024, 12, 31)]))

    await load_plans(session_maker, [more], directory, at=LATER)
    skipped = await load_plans(session_maker, [more], directory, at=LATER + timedelta(1))
    await load_plans(session_maker, [more], directory, at=LATER + timedelta(2), dry_run=True)

    assert skipped.plans[0].skipped
    events = await rows(session_maker, PlanEvent)
    assert [(e.kind, e.at, e.assignments, e.actor_label) for e in events] == [
        ("load", AT, 12, "import"),
        ("load", LATER, 4, "import"),  # SR-9: 2 milestones × 2 units created
    ]
    assert await rows(session_maker, StatusEvent) == []  # nothing per assignment
    new = [a for a in await rows(session_maker, Assignment) if a.assigned_at == LATER]
    assert len(new) == 4


async def test_reload_is_idempotent(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    before = [
        [r.model_dump() for r in await rows(session_maker, m)]
        for m in (Task, Milestone, Assignment, StatusEvent, Unit)
    ]

    again = await load_plans(session_maker, [make_plan()], directory, at=LATER)
    forced = await load_plans(session_maker, [make_plan()], directory, at=LATER, force=True)

    assert again.plans[0].skipped
    changes = forced.plans[0].assignment_changes
    assert (changes.created, changes.updated, changes.archived, changes.restored) == (0, 0, 0, 0)
    assert forced.plans[0].items.unchanged == 5
    after = [
        [r.model_dump() for r in await rows(session_maker, m)]
        for m in (Task, Milestone, Assignment, StatusEvent, Unit)
    ]
    assert after == before


async def test_reported_progress_and_history_survive_a_reload(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    async with session_maker() as session, session.begin():
        a = (await session.exec(select(Assignment).order_by(Assignment.id))).first()
        a.status, a.progress, a.last_report_at = IN_PROGRESS, 40, AT
        session.add(a)
        session.add(
            StatusEvent(
                assignment_id=a.id,
                at=AT,
                actor_label="王联络员",
                kind="report",
                old_status="not_started",
                new_status=IN_PROGRESS,
                progress=40,
                note="已开工",
            )
        )
    changed = make_plan()
    changed.tasks[0].title = "新标题"

    report = await load_plans(session_maker, [changed], directory, at=LATER)

    assert report.plans[0].items.updated == 1
    kept = next(x for x in await rows(session_maker, Assignment) if x.id == a.id)
    assert (kept.status, kept.progress, kept.last_report_at) == (IN_PROGRESS, 40, AT)
    reports = [e for e in await rows(session_maker, StatusEvent) if e.kind == "report"]
    assert [(e.assignment_id, e.note) for e in reports] == [(a.id, "已开工")]
    assert (await rows(session_maker, Task))[0].title == "新标题"


async def test_removed_item_is_archived_then_restored(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    ids_before = {a.id for a in await rows(session_maker, Assignment)}
    shorter = make_plan()
    removed = shorter.tasks.pop(0)  # SR-1: 2 milestones × 2 units

    report = await load_plans(session_maker, [shorter], directory, at=LATER)

    result = report.plans[0]
    assert (result.items.archived, result.milestone_changes.archived) == (1, 2)
    assert result.assignment_changes.archived == 4
    tasks = {t.ref: t for t in await rows(session_maker, Task)}
    assert tasks[removed.ref].archived_at == LATER  # still there, archived
    archived = [a for a in await rows(session_maker, Assignment) if a.archived_at]
    assert len(archived) == 4
    events = await rows(session_maker, StatusEvent)
    assert sorted(e.assignment_id for e in events if e.kind == "archive") == sorted(
        a.id for a in archived
    )

    back = await load_plans(session_maker, [make_plan()], directory, at=LATER + timedelta(1))

    assert back.plans[0].items.restored == 1
    assert back.plans[0].assignment_changes.restored == 4
    assert {a.id for a in await rows(session_maker, Assignment)} == ids_before  # same rows
    assert all(a.archived_at is None for a in await rows(session_maker, Assignment))
    assert all(t.archived_at is None for t in await rows(session_maker, Task))
    restores = [e for e in await rows(session_maker, StatusEvent) if e.kind == "restore"]
    assert sorted(e.assignment_id for e in restores) == sorted(a.id for a in archived)


async def test_dropped_milestone_and_unit_are_archived(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    plan = make_plan()
    plan.tasks[0] = item("SR-1", [HEALTH], [date(2023, 12, 31)])  # FINANCE and 2024 gone

    report = await load_plans(session_maker, [plan], directory, at=LATER)

    assert report.plans[0].milestone_changes.archived == 1
    ledger = await assignments_by_task(session_maker)
    assert ledger["SR-1"] == sorted(
        [
            (0, FINANCE, "co", date(2023, 12, 31), True),
            (0, HEALTH, "lead", date(2023, 12, 31), False),
            (1, FINANCE, "co", date(2024, 12, 31), True),
            (1, HEALTH, "lead", date(2024, 12, 31), True),
        ]
    )


async def test_changed_deadline_keeps_original_and_moves_due(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    # An approved extension of the finance bureau beyond the new deadline must stay.
    async with session_maker() as session, session.begin():
        query = (
            select(Assignment)
            .join(Milestone)
            .join(Task)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Task.ref == "SR-2", Unit.name == DRC)
        )
        extended = (await session.exec(query)).one()
        extended.due = date(2025, 12, 31)
        session.add(extended)
    plan = make_plan()
    plan.tasks[1].milestones[0] = dataclasses.replace(
        plan.tasks[1].milestones[0], due=date(2025, 6, 30), phrase="2025年6月底前"
    )

    report = await load_plans(session_maker, [plan], directory, at=LATER)

    assert report.plans[0].due_changes == 2
    milestone = next(
        m for m in await rows(session_maker, Milestone) if m.phrase == "2025年6月底前"
    )
    assert (milestone.due, milestone.original_due) == (date(2025, 6, 30), date(2024, 12, 31))
    ledger = await assignments_by_task(session_maker)
    dues = {name: due for _, name, _, due, _ in ledger["SR-2"]}
    assert dues == {DRC: date(2025, 12, 31), "市不存在局": date(2025, 6, 30)}
    changes = [e for e in await rows(session_maker, StatusEvent) if e.kind == "due_change"]
    assert sorted((e.due_before, e.due_after) for e in changes) == [
        (date(2024, 12, 31), date(2025, 6, 30)),
        (date(2025, 12, 31), date(2025, 12, 31)),
    ]
    # the note stays machine-readable: /task renders it in the reader's language
    assert sorted((read_due_change(e.note) for e in changes), key=repr) == [
        DueChange(date(2024, 12, 31), date(2025, 6, 30)),
        DueChange(date(2024, 12, 31), date(2025, 6, 30), kept=date(2025, 12, 31)),
    ]


async def test_group_unit_expands_to_members(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)

    ledger = await assignments_by_task(session_maker)
    assert ledger["SR-P1"] == sorted(
        [
            (0, HEALTH, "co", date(2025, 6, 30), False),
            (0, "广丰区人民政府", "lead", date(2025, 6, 30), False),
            (0, "玉山县人民政府", "lead", date(2025, 6, 30), False),
            (0, "信州区人民政府", "lead", date(2025, 6, 30), False),
        ]
    )
    units = {u.name: u for u in await rows(session_maker, Unit)}
    assert units[GROUP].is_group and units["玉山县人民政府"].level == "县级"
    assert not units["市不存在局"].known and units[HEALTH].known
    assert units[HEALTH].short_name == "市卫健委" and units[HEALTH].jurisdiction == "上饶市"


async def test_marked_roles_are_kept_and_duplicates_merge(session_maker, directory):
    plan = make_plan(items=[item("SR-1", [HEALTH, FINANCE], [date(2024, 12, 31)])])
    plan.tasks[0].units = [
        loader.UnitRef(FINANCE, "市财政局", "co"),
        loader.UnitRef(HEALTH, "市卫健委", "lead"),
        loader.UnitRef("市卫健委", "市卫健委", "co"),  # same unit again, weaker role
    ]

    await load_plans(session_maker, [plan], directory, at=AT)

    ledger = await assignments_by_task(session_maker)
    assert {name: role for _, name, role, _, _ in ledger["SR-1"]} == {
        FINANCE: "co",
        HEALTH: "lead",
    }


async def test_indicator_fields(session_maker, directory):
    await load_plans(session_maker, [make_plan()], directory, at=AT)

    task = next(t for t in await rows(session_maker, Task) if t.ref == "SR-I1")
    assert (task.kind, task.title, task.domain, task.measure_unit) == (
        "indicator",
        "人均预期寿命",
        "健康水平",
        "岁",
    )
    assert (task.baseline, task.target, task.nature, task.binding) == (
        "77.5",
        "78.5",
        "预期性",
        False,
    )
    kinds = sorted(t.kind for t in await rows(session_maker, Task))
    assert kinds == ["indicator", "project", "task", "task", "task"]


async def test_failure_midway_writes_nothing(session_maker, directory, monkeypatch):
    original = loader._insert

    async def failing_insert(conn, table, values):
        if table is loader.EVENT:
            raise RuntimeError("disk full")
        await original(conn, table, values)

    monkeypatch.setattr(loader, "_insert", failing_insert)
    with pytest.raises(RuntimeError):
        await load_plans(session_maker, [make_plan(), make_plan("LN")], directory, at=AT)

    for model in (Plan, Unit, Task, Milestone, Assignment, StatusEvent):
        assert await rows(session_maker, model) == []


async def test_failed_reload_keeps_the_previous_state(session_maker, directory, monkeypatch):
    await load_plans(session_maker, [make_plan()], directory, at=AT)
    before = [a.model_dump() for a in await rows(session_maker, Assignment)]
    shorter = make_plan()
    shorter.tasks.pop()

    async def boom(self, *args):
        raise RuntimeError("crash before the assignments")

    monkeypatch.setattr(loader._PlanWriter, "_assignments", boom)
    with pytest.raises(RuntimeError):
        await load_plans(session_maker, [shorter], directory, at=LATER)

    assert [a.model_dump() for a in await rows(session_maker, Assignment)] == before
    assert all(t.archived_at is None for t in await rows(session_maker, Task))


async def test_duplicate_ref_is_refused_before_writing(session_maker, directory):
    plan = make_plan()
    plan.tasks[1].ref = plan.tasks[0].ref

    with pytest.raises(LoadError, match="SR-1 appears twice"):
        await load_plans(session_maker, [plan], directory, at=AT)

    assert await rows(session_maker, Plan) == []


async def test_several_plans_share_units(session_maker):
    directory = FakeDirectory()
    report = await load_plans(session_maker, [make_plan("SR"), make_plan("LN")], directory, at=AT)

    assert [p.code for p in report.plans] == ["SR", "LN"]
    names = [u.name for u in await rows(session_maker, Unit)]
    assert len(names) == len(set(names))
    assert len(await rows(session_maker, Assignment)) == 24
