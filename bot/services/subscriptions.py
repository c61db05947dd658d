"""Weekly digest subscriptions of groups: `/subscribe [CODE]` and `/unsubscribe`, by a
coordinator, in a group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.roles import Roles
from bot.storage.models import ChatSubscription, Plan


@dataclass(frozen=True)
class DigestPlan:
    """Which plan a /subscribe names. `code`: chosen | unknown | which | not_yours; `plan`
    None with "chosen": every plan."""

    code: str
    plan: Plan | None = None


async def digest_plan(session: AsyncSession, roles: Roles, code: str) -> DigestPlan:
    """The plan `code` names (upper case; empty: the coordinator's only plan, or every plan
    for a coordinator of all plans)."""
    plan: Plan | None = None
    if code:
        plan = (await session.exec(select(Plan).where(Plan.code == code))).first()
        if plan is None:
            return DigestPlan("unknown")
    elif not roles.coordinator_all:
        if len(roles.coordinator_plan_ids) != 1:
            return DigestPlan("which")
        plan = await session.get(Plan, next(iter(roles.coordinator_plan_ids)))
    if plan is not None and not roles.coordinates(plan.id or 0):
        return DigestPlan("not_yours", plan)
    return DigestPlan("chosen", plan)


async def subscribe_chat(
    session: AsyncSession,
    *,
    chat_id: int,
    title: str,
    locale: str | None,
    plan_id: int | None,
    at: datetime,
) -> ChatSubscription:
    found = await session.exec(select(ChatSubscription).where(ChatSubscription.chat_id == chat_id))
    sub = found.first()
    if sub is None:
        sub = ChatSubscription(chat_id=chat_id, created_at=at)
    sub.title, sub.locale, sub.plan_id, sub.active = title, locale, plan_id, True
    session.add(sub)
    return sub


async def unsubscribe_chat(session: AsyncSession, *, chat_id: int) -> bool:
    found = await session.exec(
        select(ChatSubscription).where(
            ChatSubscription.chat_id == chat_id, col(ChatSubscription.active).is_(True)
        )
    )
    sub = found.first()
    if sub is None:
        return False
    sub.active = False
    session.add(sub)
    return True
