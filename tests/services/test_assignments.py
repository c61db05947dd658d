from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.core.lights import Light
from bot.core.roles import Roles
from bot.core.status import (
    BLOCKED,
    DONE_REPORTED,
    IN_PROGRESS,
    NOT_STARTED,
    Action,
    TransitionError,
)
from bot.services import assignments as svc
from bot.services.errors import ServiceError
from bot.services.people import person_by_telegram_id, roles_of
from bot.storage.models import Assignment, StatusEvent

from .factories import NOW, POLICY, TODAY


@pytest.fixture
async def liaison(ledger):
    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    async with ledger.session_maker() as s:
        person = await person_by_telegram_id(s, 100)
        return person, await roles_of(s, person)


def test_local_date_uses_the_zone():
    from zoneinfo import ZoneInfo

    assert svc.local_date(NOW.replace(hour=17), ZoneInfo("Asia/Shanghai")) == date(2025, 12, 21)


async def test_my_assignments_one_row_per_item_most_urgent_first_and_paginated(ledger, liaison):
    """SR-1 has two milestones for the unit: one line, its red (late) one, the other counted."""
    _, roles = liaison
    async with ledger.session_maker() as s:
        page = await svc.my_assignments(
            s, unit_ids=sorted(roles.liaison_unit_ids), today=TODAY, now=NOW, policy=POLICY
        )
    assert [(r.ref, r.milestone_seq) for r in page.items] == [("SR-1", 0), ("SR-2", 0)]
    assert [r.light for r in page.items] == [Light.RED, Light.YELLOW]
    assert page.more == {page.items[0].assignment_id: 1}
    assert page.items[0].days_left == (date(2024, 12, 31) - TODAY).days < 0
    assert page.total == 2 and page.pages == 1 and page.counts[Light.RED] == 1
    assert page.units == 1
    async with ledger.session_maker() as s:
        second = await svc.my_assignments(
            s,
            unit_ids=list(roles.liaison_unit_ids),
            today=TODAY,
            now=NOW,
            policy=POLICY,
            page=5,
            page_size=1,
        )
    assert second.page == 1 and second.pages == 2 and [r.ref for r in second.items] == ["SR-2"]
    assert second.more == {}


async def test_my_assignments_empty(ledger):
    async with ledger.session_maker() as s:
        page = await svc.my_assignments(s, unit_ids=[], today=TODAY, now=NOW, policy=POLICY)
    assert page.items == [] and page.pages == 1


async def test_task_detail_for_liaison(ledger, liaison):
    _, roles = liaison
    async with ledger.session_maker() as s:
        detail = await svc.task_detail(
            s, ref="sr-1", roles=roles, today=TODAY, now=NOW, policy=POLICY
        )
    assert detail.task.ref == "SR-1" and detail.plan.code == "SR"
    assert [m.target for m in detail.milestones] == ["60%", "100%"]
    assert detail.units == [("上饶市卫生健康委员会", "lead"), ("上饶市财政局", "co")]
    assert detail.current.milestone_seq == 0 and detail.current.unit_name == "上饶市卫生健康委员会"
    assert len(detail.mine) == 2


async def test_task_detail_refuses_other_units_and_strangers(ledger, liaison):
    _, roles = liaison
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError, match="not_your_task"):
            await svc.task_detail(s, ref="LN-1", roles=roles, today=TODAY, now=NOW, policy=POLICY)
        with pytest.raises(ServiceError, match="not_your_task"):
            await svc.task_detail(
                s, ref="SR-1", roles=Roles(), today=TODAY, now=NOW, policy=POLICY
            )
        detail = await svc.task_detail(
            s,
            task_id=ledger.tasks["LN-1"],
            roles=Roles(coordinator_all=True),
            today=TODAY,
            now=NOW,
            policy=POLICY,
        )
        assert detail.current is None and detail.mine == []


async def _report(ledger, liaison, action, key=("SR-1", 0, "sr_health"), **kw):
    person, roles = liaison
    async with ledger.session_maker() as s:
        outcome = await svc.report(
            s,
            assignment_id=ledger.assignments[key],
            person=person,
            roles=roles,
            action=action,
            at=NOW,
            today=TODAY,
            policy=POLICY,
            **kw,
        )
        await s.commit()
        return outcome


async def _events(ledger, key=("SR-1", 0, "sr_health")):
    from sqlmodel import select

    async with ledger.session_maker() as s:
        rows = await s.exec(
            select(StatusEvent).where(StatusEvent.assignment_id == ledger.assignments[key])
        )
        return list(rows.all())


@pytest.mark.parametrize(
    ("action", "kw", "status", "progress"),
    [
        (Action.PROGRESS, {}, IN_PROGRESS, None),
        (Action.PROGRESS, {"progress": 60}, IN_PROGRESS, 60),
        (Action.PROGRESS, {"progress": 100}, DONE_REPORTED, 100),
        (Action.BLOCKED, {"note": "缺资金"}, BLOCKED, None),
        (Action.DONE, {}, DONE_REPORTED, 100),
        (Action.EXTEND, {"new_due": date(2026, 3, 1)}, NOT_STARTED, None),
        (Action.ACK, {}, NOT_STARTED, None),
        (Action.NOTE, {"note": "已召开会议"}, NOT_STARTED, None),
    ],
)
async def test_liaison_transitions(ledger, liaison, action, kw, status, progress):
    outcome = await _report(ledger, liaison, action, **kw)
    assert outcome.row.status == status and outcome.row.progress == progress
    assert outcome.row.acknowledged  # any liaison action counts as 签收
    events = await _events(ledger)
    assert len(events) == 1 and events[0].actor_label == "张三"
    assert events[0].note == kw.get("note", "")
    if action is Action.EXTEND:
        assert outcome.row.extension_requested_to == date(2026, 3, 1)
        assert outcome.row.due == date(2024, 12, 31)  # waits for approval


async def test_note_with_evidence(ledger, liaison):
    outcome = await _report(
        ledger, liaison, Action.NOTE, evidence_kind="photo", evidence_file_id="F1"
    )
    assert outcome.event.evidence_file_id == "F1" and outcome.row.last_report_at == NOW


@pytest.mark.parametrize(
    ("first", "then", "kw", "code"),
    [
        (Action.DONE, Action.DONE, {}, "waiting_confirmation"),
        (Action.DONE, Action.EXTEND, {"new_due": date(2026, 5, 1)}, "waiting_confirmation"),
        (None, Action.EXTEND, {}, "extension_date_required"),
        (None, Action.EXTEND, {"new_due": TODAY}, "extension_date_past"),
        (None, Action.PROGRESS, {"progress": 101}, "progress_range"),
        (Action.ACK, Action.ACK, {}, "already_acknowledged"),
        (None, Action.NOTE, {"note": "  "}, "empty_note"),
        (None, Action.CONFIRM, {}, "wrong_role"),
    ],
)
async def test_refused_reports_change_nothing(ledger, liaison, first, then, kw, code):
    if first is not None:
        await _report(ledger, liaison, first)
    before = await _events(ledger)
    with pytest.raises((ServiceError, TransitionError)) as err:
        await _report(ledger, liaison, then, **kw)
    assert err.value.code == code
    assert len(await _events(ledger)) == len(before)


async def test_extension_must_be_later_than_due(ledger, liaison):
    key = ("SR-1", 1, "sr_health")  # due 2026-03-31
    with pytest.raises(TransitionError, match="extension_not_later"):
        await _report(ledger, liaison, Action.EXTEND, key=key, new_due=date(2026, 1, 1))


async def test_cannot_touch_another_units_item(ledger, liaison):
    with pytest.raises(ServiceError) as err:
        await _report(ledger, liaison, Action.DONE, key=("SR-1", 0, "sr_finance"))
    assert err.value.code == "not_your_unit" and err.value.params["ref"] == "SR-1"
    with pytest.raises(ServiceError, match="unknown_assignment"):
        person, roles = liaison
        async with ledger.session_maker() as s:
            await svc.report(
                s,
                assignment_id=9999,
                person=person,
                roles=roles,
                action=Action.DONE,
                at=NOW,
                today=TODAY,
                policy=POLICY,
            )


async def test_closed_items_take_notes_only(ledger, liaison):
    async with ledger.session_maker() as s:
        a = await s.get(Assignment, ledger.assignments[("SR-2", 0, "sr_health")])
        a.status = "closed"
        s.add(a)
        await s.commit()
    with pytest.raises(TransitionError, match="closed"):
        await _report(ledger, liaison, Action.PROGRESS, key=("SR-2", 0, "sr_health"))
    await _report(ledger, liaison, Action.NOTE, key=("SR-2", 0, "sr_health"), note="补充材料")


async def test_assignment_for_task_picks_the_current_milestone(ledger, liaison):
    _, roles = liaison
    await _report(ledger, liaison, Action.DONE)
    async with ledger.session_maker() as s:
        row = await svc.assignment_for_task(
            s, ref="sr-1", roles=roles, today=TODAY, now=NOW, policy=POLICY
        )
        assert (row.ref, row.milestone_seq) == ("SR-1", 0)  # done but not closed: still open
        with pytest.raises(ServiceError, match="not_your_task"):
            await svc.assignment_for_task(
                s, ref="LN-1", roles=roles, today=TODAY, now=NOW, policy=POLICY
            )


async def test_history_on_the_task_card(ledger, liaison):
    await _report(ledger, liaison, Action.PROGRESS, progress=40, note="推进中")
    _person, roles = liaison
    async with ledger.session_maker() as s:
        detail = await svc.task_detail(
            s, ref="SR-1", roles=roles, today=TODAY, now=NOW + timedelta(hours=1), policy=POLICY
        )
    assert detail.history[0].note == "推进中" and detail.history[0].progress == 40


async def test_remember_and_find_messages(ledger):
    async with ledger.session_maker() as s:
        aid = ledger.assignments[("SR-2", 0, "sr_health")]
        await svc.remember_message(
            s, chat_id=5, message_id=10, assignment_id=aid, kind="task", at=NOW
        )
        await s.commit()
        await svc.remember_message(
            s, chat_id=5, message_id=10, assignment_id=aid, kind="extend_prompt", at=NOW
        )
        await s.commit()
        found = await svc.message_subject(s, chat_id=5, message_id=10)
        assert found.assignment_id == aid and found.kind == "extend_prompt"
        assert await svc.message_subject(s, chat_id=5, message_id=11) is None
