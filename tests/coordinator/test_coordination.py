"""bot.services.coordination against the small hand-built ledger (tests/services/factories)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.core.roles import Roles
from bot.services import coordination as co
from bot.services.errors import ServiceError
from bot.storage.models import Assignment, Milestone, Outbox, StatusEvent, Task
from tests.services.factories import NOW, TODAY

ALL = Roles(coordinator_all=True)


async def set_status(ledger, key, **values) -> int:
    aid = ledger.assignments[key]
    async with ledger.session_maker() as s:
        a = await s.get(Assignment, aid)
        for k, v in values.items():
            setattr(a, k, v)
        s.add(a)
        await s.commit()
    return aid


async def test_targets_pick_the_pending_unit(ledger, directory):
    await set_status(ledger, ("SR-1", 0, "sr_finance"), status="done_reported", progress=100)
    async with ledger.session_maker() as s:
        t = await co.targets_for(s, directory, ALL, action="confirm", ref="sr-1", rest=())
        assert [c.unit_name for c in t.candidates] == ["市财政局"]
        # remind: each unit's earliest open milestone; SR-1's 市卫健委 is open on seq 0
        t = await co.targets_for(s, directory, ALL, action="remind", ref="SR-1", rest=())
        assert [(c.unit_name, c.seq) for c in t.candidates] == [
            ("上饶市卫生健康委员会", 0),
            ("市财政局", 1),
        ]
        t = await co.targets_for(
            s, directory, ALL, action="return", ref="SR-1", rest=("市财政局", "材料", "不全")
        )
        assert t.reason == "材料 不全" and t.unit_text == "市财政局"
        t = await co.targets_for(s, directory, ALL, action="return", ref="SR-1", rest=("不全",))
        assert t.reason == "不全" and t.unit_text is None
        for action, rest, code in (
            ("approve", (), "nothing_pending_approve"),
            ("confirm", ("上饶市卫健委",), "nothing_pending_confirm"),
            ("confirm", ("龙南市卫健委",), "unit_not_on_item"),
            ("deny", ("市教育局",), "unit_not_on_item"),
        ):
            with pytest.raises(ServiceError) as exc:
                await co.targets_for(s, directory, ALL, action=action, ref="SR-1", rest=rest)
            assert exc.value.code == code, (action, rest)
        with pytest.raises(ServiceError) as exc:
            await co.targets_for(s, directory, ALL, action="confirm", ref="XX-1", rest=())
        assert exc.value.code == "unknown_ref"


async def test_a_coordinator_of_one_plan_cannot_act_on_another(ledger, directory):
    only_ln = Roles(coordinator_plan_ids=frozenset({ledger.plans["LN"]}))
    aid = await set_status(ledger, ("SR-2", 0, "sr_health"), status="done_reported")
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError) as exc:
            await co.targets_for(s, directory, only_ln, action="confirm", ref="SR-2", rest=())
        assert exc.value.code == "not_your_plan"
        with pytest.raises(ServiceError):
            await co.act(
                s,
                assignment_id=aid,
                action="confirm",
                person=None,
                roles=only_ln,
                at=NOW,
                today=TODAY,
            )
        with pytest.raises(ServiceError):
            await co.resolve_scope(s, directory, only_ln, "SR")
        choice = await co.resolve_scope(s, directory, only_ln, None)
        assert choice.scope.plan_ids == frozenset({ledger.plans["LN"]})


async def test_approve_keeps_the_original_due_and_records_history(ledger):
    aid = await set_status(
        ledger, ("SR-2", 0, "sr_health"), extension_requested_to=date(2026, 4, 30)
    )
    async with ledger.session_maker() as s:
        out = await co.act(
            s, assignment_id=aid, action="approve", person=None, roles=ALL, at=NOW, today=TODAY
        )
        await s.commit()
        assert out.due_after == date(2026, 4, 30)
        a = await s.get(Assignment, aid)
        m = await s.get(Milestone, a.milestone_id)
        assert (a.due, m.due, m.original_due) == (date(2026, 4, 30),) + (date(2026, 1, 10),) * 2
        events = (await s.exec(select(StatusEvent).where(StatusEvent.assignment_id == aid))).all()
        assert [e.kind for e in events] == ["extension_approve"]
        assert events[0].due_before == date(2026, 1, 10)
        with pytest.raises(ServiceError) as exc:
            await co.act(
                s,
                assignment_id=aid,
                action="deny",
                person=None,
                roles=ALL,
                at=NOW,
                today=TODAY,
                reason="x",
            )
        assert exc.value.code == "already_decided"  # approved a moment ago: said politely
        assert exc.value.params["act"] == "extension_approve"


async def test_chase_is_one_row_per_liaison_and_idempotent(ledger):
    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    await ledger.person(101, "王五", role="liaison", unit="sr_health", locale="en")
    aid = ledger.assignments[("SR-2", 0, "sr_health")]
    async with ledger.session_maker() as s:
        out = await co.chase(
            s,
            assignment_id=aid,
            person=None,
            roles=ALL,
            at=NOW,
            today=TODAY,
            default_locale="zh_CN",
            note="请本周内报送",
        )
        await s.commit()
        assert out.queued == 2
        again = await co.chase(
            s,
            assignment_id=aid,
            person=None,
            roles=ALL,
            at=NOW,
            today=TODAY,
            default_locale="zh_CN",
        )
        await s.commit()
        assert again.queued == 0
        rows = (await s.exec(select(Outbox).order_by(Outbox.chat_id))).all()
    assert [(r.chat_id, r.locale) for r in rows] == [(100, "zh_CN"), (101, "en")]
    assert all(r.kind == "chase" and r.not_before == NOW for r in rows)
    assert rows[0].key == co.chase_key(aid, NOW, 100) == f"chase:{aid}:20251220010000|100"
    p = rows[0].payload
    assert (p["ref"], p["unit"], p["note"], p["days"]) == (
        "SR-2",
        "上饶市卫生健康委员会",
        "请本周内报送",
        21,
    )


async def test_chase_refuses_closed_items_and_units_without_liaison(ledger):
    closed = await set_status(ledger, ("SR-2", 0, "sr_health"), status="closed")
    lonely = ledger.assignments[("LN-1", 0, "ln_health")]
    async with ledger.session_maker() as s:
        for aid, code in ((closed, "nothing_pending_remind"), (lonely, "no_liaison")):
            with pytest.raises(ServiceError) as exc:
                await co.chase(
                    s,
                    assignment_id=aid,
                    person=None,
                    roles=ALL,
                    at=NOW,
                    today=TODAY,
                    default_locale="zh_CN",
                )
            assert exc.value.code == code


async def test_an_act_by_id_loads_that_one_assignment_not_the_items_others(ledger):
    """approve / deny / 办结 by button: an item may have hundreds of units; only the one
    assignment acted on is read (one statement, no ORM object of any assignment)."""
    aid = ledger.assignments[("SR-1", 0, "sr_health")]
    loaded: list[int] = []
    statements: list[str] = []

    def on_load(target, _context) -> None:
        loaded.append(target.id)

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    async with ledger.session_maker() as s:
        c = await co.candidate_by_id(s, aid)
        assert c.assignment_id == aid and c.unit_name == "上饶市卫生健康委员会"
        s.expunge_all()
        event.listen(Assignment, "load", on_load)
        event.listen(ledger.engine.sync_engine, "before_cursor_execute", on_execute)
        try:
            c = await co.candidate_by_id(s, aid)
        finally:
            event.remove(Assignment, "load", on_load)
            event.remove(ledger.engine.sync_engine, "before_cursor_execute", on_execute)
        siblings = await co.item_candidates(s, await s.get(Task, c.task_id))
        assert len(siblings) > 1  # the item has other assignments
    assert c.assignment_id == aid
    assert loaded == [] and len(statements) == 1
    assert "assignment.id = " in statements[0]


async def test_a_decision_nulls_next_at_of_its_item_and_updates_the_sessions_object(ledger):
    """approve moves the due date: the next tick recomputes the item's assignments (next_at
    NULL for all of SR-1's, the other items' kept); deny changes nothing the planner watches
    (next_at kept). The session's Assignment object, loaded before, sees the decision."""
    later = date(2026, 6, 30)
    aid = await set_status(
        ledger, ("SR-1", 0, "sr_finance"), extension_requested_to=later, status="in_progress"
    )
    denied = await set_status(
        ledger, ("SR-2", 0, "sr_health"), extension_requested_to=later, status="in_progress"
    )
    async with ledger.session_maker() as s:
        for a in (await s.exec(select(Assignment))).all():
            a.next_at = NOW
            s.add(a)
        await s.commit()
    async with ledger.session_maker() as s:
        mine = await s.get(Assignment, aid)
        out = await co.act(
            s, assignment_id=aid, action="approve", person=None, roles=ALL, at=NOW, today=TODAY
        )
        assert (mine.due, mine.extension_requested_to, mine.next_at) == (later, None, None)
        assert out.event.id is not None and out.event.due_after == later
        await co.act(
            s,
            assignment_id=denied,
            action="deny",
            person=None,
            roles=ALL,
            at=NOW,
            today=TODAY,
            reason="不行",
        )
        await s.commit()
    async with ledger.session_maker() as s:
        rows = (
            await s.exec(
                select(Task.ref, Assignment.id, Assignment.next_at)
                .join(Milestone, Milestone.id == Assignment.milestone_id)
                .join(Task, Task.id == Milestone.task_id)
            )
        ).all()
        stored = await s.get(Assignment, aid)
        assert (stored.due, stored.status) == (later, "in_progress")
        event_ids = (
            await s.exec(select(StatusEvent.id).where(StatusEvent.id == out.event.id))
        ).all()
    assert event_ids == [out.event.id]
    assert {ref for ref, _, at in rows if at is None} == {"SR-1"}
    assert len([1 for ref, _, _ in rows if ref == "SR-1"]) > 1
    assert all(at is not None for ref, _, at in rows if ref != "SR-1")
