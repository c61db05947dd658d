"""Taking access away: ending memberships (a coordinator within their scope with
/revoke_access, or the operator with `python -m bot people remove`) and withdrawing invitations
within scope. ADMIN_IDS ends admin roles itself (bot.services.admins).

Memberships end, they are never deleted: the row keeps when, by whom and how (`revoke_note`:
revoke_access, cli, ADMIN_IDS). A person whose last membership ended is a stranger to the bot;
invitations they created stay valid until withdrawn. Plain async functions taking a session;
the caller commits. Errors are ServiceError with the codes in each docstring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import scope as rules
from bot.services.errors import ServiceError
from bot.services.lookup import plan_by_code
from bot.services.members import Member, member, member_rows, name_matches
from bot.services.people import (
    invite_by_token,
    person_by_telegram_id,
    revoke_invite,
    revoke_membership,
)
from bot.services.scope import PlanScope
from bot.storage.models import (
    SOURCE_ADMIN,
    Assignment,
    Invite,
    Membership,
    Milestone,
    Outbox,
    Person,
    Plan,
    Task,
    Unit,
)

log = logging.getLogger(__name__)

NOTE_BOT = "revoke_access"  # ended by a coordinator in the chat
NOTE_CLI = "cli"  # ended by `python -m bot people remove`
NOTE_ADMIN_IDS = "ADMIN_IDS"  # the id left ADMIN_IDS
OUTBOX_CANCELLED = "cancelled"  # the sender's status of a row it will not send


async def removable(
    session: AsyncSession,
    reach: PlanScope,
    *,
    by: Person,
    unit_id: int | None = None,
    plan_id: int | None = None,
    name: str = "",
) -> list[Member]:
    """Active memberships the coordinator may end: within their scope, not their own, not an
    admin's (ADMIN_IDS governs those), optionally of one unit or plan and matching `name`."""
    pairs = await member_rows(session, unit_id=unit_id, plan_id=plan_id)
    pairs = [
        (m, username)
        for m, username in pairs
        if m.person_id != by.id
        and m.source != SOURCE_ADMIN
        and (not name or name_matches(m, name, username))
    ]
    units = [m.unit_id for m, _ in pairs if m.unit_id is not None]
    plans: dict[int, frozenset[int]] = {}
    if not reach.roles.coordinator_all:
        plans = await reach.plans_of_units(session, list(dict.fromkeys(units)))
    return [
        m
        for m, _ in pairs
        if rules.reaches_grant(
            reach.roles, m.grant, plans.get(m.unit_id, ()) if m.unit_id is not None else ()
        )
    ]


@dataclass(frozen=True)
class Ended:
    member: Member
    still_registered: bool  # the person keeps other roles
    pending_invites: int  # invitations they created that still work


async def cancel_pending(
    session: AsyncSession,
    m: Member | Membership,
    telegram_id: int | None,
    *,
    remaining: list[Member],
) -> int:
    """Messages already queued for the person because of the ended role are not sent: all of
    them when no role is left, else those about the ended role's unit or plan (unless another
    of their roles covers it). Returns how many were cancelled."""
    mine = or_(col(Outbox.person_id) == m.person_id, col(Outbox.chat_id) == (telegram_id or 0))
    query = update(Outbox).where(col(Outbox.status) == "pending", mine)
    if remaining:
        if any((r.unit_id, r.plan_id) == (m.unit_id, m.plan_id) for r in remaining):
            return 0  # another role over the same unit or plan: its messages still apply
        about = select(Assignment.id).join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        if m.unit_id is not None:
            about = about.where(Assignment.unit_id == m.unit_id)
        elif m.plan_id is not None:
            about = about.join(Task, col(Task.id) == Milestone.task_id).where(
                Task.plan_id == m.plan_id
            )
        else:
            return 0  # a coordinator of all plans who keeps another role: nothing is only theirs
        query = query.where(col(Outbox.assignment_id).in_(about))
    result = await session.exec(
        query.values(status=OUTBOX_CANCELLED, last_error="the recipient's access ended")
    )
    return int(result.rowcount or 0)


async def _outcome(session: AsyncSession, m: Member, *, at: datetime) -> Ended:
    remaining = [r for r, _ in await member_rows(session, person_id=m.person_id)]
    await cancel_pending(session, m, m.telegram_id, remaining=remaining)
    pending = await session.exec(
        select(Invite.id).where(
            Invite.created_by == m.person_id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
            col(Invite.expires_at) > at,
        )
    )
    return Ended(m, bool(remaining), len(pending.all()))


async def _removable_row(
    session: AsyncSession, reach: PlanScope, membership_id: int, *, by: Person
) -> tuple[Membership, Member]:
    row = await session.get(Membership, membership_id)
    m = await member(session, membership_id)
    if row is None or m is None:
        raise ServiceError("member_unknown")
    await reach.require_membership(session, row)
    if row.person_id == by.id:
        raise ServiceError("member_is_self")
    if row.source == SOURCE_ADMIN:
        raise ServiceError("member_is_admin", name=m.name or str(m.telegram_id))
    return row, m


async def removal_candidate(
    session: AsyncSession, reach: PlanScope, membership_id: int, *, by: Person
) -> Member:
    """The membership a coordinator asks to end, checked as `end_membership` checks it."""
    return (await _removable_row(session, reach, membership_id, by=by))[1]


async def end_membership(
    session: AsyncSession, reach: PlanScope, membership_id: int, *, by: Person, at: datetime
) -> Ended:
    """A coordinator ends someone's membership (`/revoke_access`). Codes: member_unknown
    (no such active membership: ended meanwhile, or forged), member_out_of_scope,
    member_is_self, member_is_admin."""
    row, m = await _removable_row(session, reach, membership_id, by=by)
    await revoke_membership(session, row, at=at, by=by, note=NOTE_BOT)
    await session.flush()
    log.info(
        "access: %s (person %s) ended membership %s of %s (person %s): %s %s",
        by.name,
        by.id,
        row.id,
        m.name,
        m.person_id,
        m.role,
        m.unit_name or m.plan_code or "*",
    )
    return await _outcome(session, m, at=at)


async def withdraw_invite(
    session: AsyncSession, reach: PlanScope, token: str, *, at: datetime
) -> Invite:
    """`/revoke TOKEN` within the coordinator's scope. Codes: invite_unknown,
    invite_out_of_scope, and bot.services.people.revoke_invite's."""
    invite = await invite_by_token(session, token)
    if invite is None:
        raise ServiceError("invite_unknown")
    await reach.require_invite(session, invite)
    return await revoke_invite(session, token, at=at)


# --- the operator's command line ------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    ended: list[Member]
    kept_admin: list[Member]  # admin roles left alone: ADMIN_IDS governs them


async def remove_person(
    session: AsyncSession,
    telegram_id: int,
    *,
    at: datetime,
    role: str | None = None,
    unit_id: int | None = None,
    plan_id: int | None = None,
) -> Removal:
    """End a person's active memberships (those matching role / unit / plan when given); an
    admin role is kept (remove the id from ADMIN_IDS). Codes: person_unknown,
    nothing_to_remove, member_is_admin (only admin roles matched)."""
    person = await person_by_telegram_id(session, telegram_id)
    if person is None:
        raise ServiceError("person_unknown", telegram_id=telegram_id)
    matching = [
        m
        for m, _ in await member_rows(session, person_id=person.id)
        if (role is None or m.role == role)
        and (unit_id is None or m.unit_id == unit_id)
        and (plan_id is None or m.plan_id == plan_id)
    ]
    if not matching:
        raise ServiceError("nothing_to_remove", telegram_id=telegram_id)
    kept = [m for m in matching if m.source == SOURCE_ADMIN]
    ended = [m for m in matching if m.source != SOURCE_ADMIN]
    if not ended:
        raise ServiceError("member_is_admin", name=person.name or str(telegram_id))
    for m in ended:
        row = await session.get(Membership, m.membership_id)
        assert row is not None
        await revoke_membership(session, row, at=at, note=NOTE_CLI)
        log.info("access: command line ended membership %s of %s", row.id, telegram_id)
    await session.flush()
    for m in ended:
        await _outcome(session, m, at=at)
    return Removal(ended, kept)


# --- choosing whom to remove (/revoke_access) ------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What `/revoke_access [UNIT|PLAN] [NAME]` points at: members to choose from, or (an
    ambiguous unit) units to choose first. `unit_id` / `plan_id`: the unit or plan searched;
    `by_name`: narrowed by a name (a list buttons cannot page through again)."""

    members: list[Member]
    units: list[tuple[int, str]] = field(default_factory=list)
    where: str = ""
    unit_id: int | None = None
    plan_id: int | None = None
    by_name: bool = False


async def find_removable(
    session: AsyncSession, directory: Any, reach: PlanScope, *, by: Person, text: str
) -> Found:
    """The memberships `text` names within reach: nothing → everyone removable; a plan code
    → its leaders and coordinators; a unit → its liaisons and leaders; either followed by
    part of a name or a @username to narrow; a text naming no unit → people of that name.
    Codes: not_your_plan, unit_out_of_scope, member_not_found."""
    words = text.split()
    if not words:
        return Found(await removable(session, reach, by=by))
    head, name = words[0], " ".join(words[1:])
    plan = await plan_by_code(session, head)
    if plan is not None:
        reach.require_plan(plan)
        found = await removable(session, reach, by=by, plan_id=plan.id, name=name)
        return _or_not_found(
            Found(found, where=plan.code, plan_id=plan.id, by_name=bool(name)), text
        )
    try:
        unit = await reach.resolve_unit(session, directory, head)
    except ServiceError as exc:
        if exc.code == "ambiguous_unit":
            return Found([], units=list(exc.params["units"]))
        if exc.code != "unknown_unit":
            raise
        found = await removable(session, reach, by=by, name=text)
        return _or_not_found(Found(found, by_name=True), text)
    found = await removable(session, reach, by=by, unit_id=unit.id, name=name)
    return _or_not_found(Found(found, where=unit.name, unit_id=unit.id, by_name=bool(name)), text)


async def removable_page(
    session: AsyncSession,
    reach: PlanScope,
    *,
    by: Person,
    unit_id: int | None,
    plan_id: int | None,
) -> Found:
    """The list behind a page button (ids from the client: checked again). Codes:
    unknown_unit, unknown_plan, unit_out_of_scope, not_your_plan."""
    where = ""
    if unit_id is not None:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise ServiceError("unknown_unit", unit=str(unit_id))
        await reach.require_unit(session, unit)
        where = unit.name
    if plan_id is not None:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            raise ServiceError("unknown_plan", plan=str(plan_id))
        reach.require_plan(plan)
        where = plan.code
    members = await removable(session, reach, by=by, unit_id=unit_id, plan_id=plan_id)
    return Found(members, where=where, unit_id=unit_id, plan_id=plan_id)


def _or_not_found(found: Found, text: str) -> Found:
    if not found.members:
        raise ServiceError("member_not_found", text=text)
    return found
