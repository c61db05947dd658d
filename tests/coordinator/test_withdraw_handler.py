"""/withdraw CODE through the real dispatcher: the coordinator is asked first, the button
withdraws (or keeps) the plan, /plans marks it, and nobody else can."""

from __future__ import annotations

from aiogram.methods import EditMessageText
from sqlmodel import col, select

from bot.storage.models import Assignment, Plan, PlanEvent

from .conftest import COORDINATOR, LIAISON


def edits(sent) -> list[str]:
    return [c.text for c in sent.calls if isinstance(c, EditMessageText)]


async def plan_row(hc, code: str) -> Plan:
    async with hc.ledger.session_maker() as s:
        return (await s.exec(select(Plan).where(Plan.code == code))).one()


async def test_withdraw_asks_then_withdraws_and_plans_marks_it(hc):
    asked = await hc.send(COORDINATOR, "/withdraw sr")
    assert "SR" in asked.text and "python -m bot restore SR" in asked.text
    assert len(asked.buttons()) == 2
    assert (await plan_row(hc, "SR")).archived_at is None  # asking changes nothing

    kept = await hc.press(COORDINATOR, asked.buttons()[1][1])
    assert edits(kept) and (await plan_row(hc, "SR")).archived_at is None

    done = await hc.press(COORDINATOR, asked.button("SR"))
    assert edits(done) and "SR" in edits(done)[0]
    plan = await plan_row(hc, "SR")
    assert plan.archived_at is not None
    async with hc.ledger.session_maker() as s:
        live = (
            await s.exec(
                select(Assignment.id).where(
                    col(Assignment.id).in_(list(hc.ledger.assignments.values())),
                    col(Assignment.archived_at).is_(None),
                )
            )
        ).all()
        acts = (await s.exec(select(PlanEvent).where(PlanEvent.kind == "withdraw"))).all()
        assert [e.actor_id is not None for e in acts] == [True]  # who did it is recorded
    assert live  # LN's assignments stay

    plans = await hc.send(COORDINATOR, "/plans")
    assert "LN" in plans.text and "已撤回" in plans.text  # SR is marked as withdrawn
    again = await hc.send(COORDINATOR, "/withdraw SR")
    assert "已撤回" in again.text and not again.buttons()
    status = await hc.send(COORDINATOR, "/status SR")
    assert "SR-1" not in status.text


async def test_only_coordinators_may_withdraw(hc):
    sent = await hc.send(LIAISON, "/withdraw SR")
    assert len(sent.messages) == 1 and not sent.buttons()
    usage = await hc.send(COORDINATOR, "/withdraw")
    assert "/withdraw" in usage.text and not usage.buttons()
    unknown = await hc.send(COORDINATOR, "/withdraw XX")
    assert "XX" in unknown.text and not unknown.buttons()
    assert (await plan_row(hc, "SR")).archived_at is None
