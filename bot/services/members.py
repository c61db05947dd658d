"""Memberships as people read them: who holds which role over which unit or plan, since when,
and for ended ones when, by whom and how (bot.services.access ends them)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import scope as rules
from bot.storage.models import Membership, Person, Plan, Unit
from bot.storage.typed_sql import select_rows


@dataclass(frozen=True)
class Member:
    """One membership as people read it."""

    membership_id: int
    person_id: int
    telegram_id: int | None
    name: str
    role: str
    unit_id: int | None
    unit_name: str
    plan_id: int | None
    plan_code: str
    source: str
    since: datetime
    ended_at: datetime | None = None
    ended_by: str = ""  # the name of who ended it, else its note
    revoke_note: str = ""

    @property
    def grant(self) -> rules.Grant:
        return rules.Grant(self.role, self.unit_id, self.plan_id)


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip().lstrip("@")


def name_matches(member: Member, name: str, username: str = "") -> bool:
    """Whether `name` (part of a name, or a @username) points at the member."""
    key = _key(name)
    return bool(key) and (key in _key(member.name) or key == _key(username))


async def member_rows(
    session: AsyncSession,
    *,
    include_ended: bool = False,
    membership_id: int | None = None,
    person_id: int | None = None,
    unit_id: int | None = None,
    plan_id: int | None = None,
) -> list[tuple[Member, str]]:
    """(member, username) pairs in a stable order: unit, role, name."""
    revoker = aliased(Person)
    query = (
        select_rows(Membership, Person, Unit, Plan, revoker)
        .join(Person, col(Person.id) == Membership.person_id)
        .join(Unit, col(Unit.id) == Membership.unit_id, isouter=True)
        .join(Plan, col(Plan.id) == Membership.plan_id, isouter=True)
        .join(revoker, col(revoker.id) == Membership.revoked_by, isouter=True)
    )
    if not include_ended:
        query = query.where(col(Membership.revoked_at).is_(None))
    if membership_id is not None:
        query = query.where(Membership.id == membership_id)
    if person_id is not None:
        query = query.where(Membership.person_id == person_id)
    if unit_id is not None:
        query = query.where(Membership.unit_id == unit_id)
    if plan_id is not None:
        query = query.where(Membership.plan_id == plan_id)
    out = []
    for m, p, u, plan, by in (await session.exec(query)).all():
        member = Member(
            membership_id=m.id,
            person_id=p.id,
            telegram_id=p.telegram_id,
            name=p.name,
            role=m.role,
            unit_id=m.unit_id,
            unit_name=u.name if u else "",
            plan_id=m.plan_id,
            plan_code=plan.code if plan else "",
            source=m.source,
            since=m.created_at,
            ended_at=m.revoked_at,
            ended_by=(by.name if by else "") or m.revoke_note,
            revoke_note=m.revoke_note,
        )
        out.append((member, p.username))
    out.sort(
        key=lambda pair: (
            pair[0].unit_name,
            pair[0].plan_code,
            pair[0].role,
            pair[0].name,
            pair[0].membership_id,
        )
    )
    return out


async def member(session: AsyncSession, membership_id: int) -> Member | None:
    """An active membership by id."""
    pairs = await member_rows(session, membership_id=membership_id)
    return pairs[0][0] if pairs else None


async def everyone(session: AsyncSession, *, include_ended: bool = False) -> list[Member]:
    """Every membership (active ones, or all with `include_ended`), by person then role."""
    members = [m for m, _ in await member_rows(session, include_ended=include_ended)]
    return sorted(
        members,
        key=lambda m: (
            m.telegram_id or 0,
            m.ended_at is not None,
            m.role,
            m.unit_name,
            m.plan_code,
        ),
    )
