"""People and their roles: who writes to the bot, invitations, memberships, language.

Plain async functions taking a session; the caller commits. Errors are `ServiceError` with the
codes listed in each docstring.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, bindparam, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.roles import NOBODY, Roles, roles_from_memberships
from bot.services.errors import ServiceError
from bot.storage.db import insert_unless_exists
from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    SOURCE_INVITE,
    Invite,
    Membership,
    Person,
    Plan,
    Unit,
)
from bot.storage.next_at import touch_membership
from bot.storage.typed_sql import select_rows, table_of

INVITE_ROLES = (ROLE_LIAISON, ROLE_LEADER, ROLE_COORDINATOR)
TOKEN_BYTES = 16  # token_urlsafe(16) → 22 characters of [A-Za-z0-9_-]: fits a deep link (≤ 64)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back what was stored; make sure comparisons see aware UTC instants."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _insert_of(model: type[SQLModel]) -> tuple[Insert, tuple[str, ...]]:
    """A constant INSERT of a row of `model` (every column but the key) and those columns."""
    table = table_of(model)
    columns = tuple(c.name for c in table.columns if not c.primary_key)
    values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    return insert(table).values(values), columns


# compiled once per process (SQLAlchemy's statement cache), not built at every call
_INSERTS = {model: _insert_of(model) for model in (Person, Membership, Invite)}


def _new_person_of(dialect: str) -> Insert:
    """INSERT a person unless their Telegram id has one, returning the new row's id."""
    person = table_of(Person)
    values = {name: bindparam(name, type_=person.c[name].type) for name in _INSERTS[Person][1]}
    return (
        insert_unless_exists(person, dialect, key=["telegram_id"])
        .values(values)
        .returning(person.c.id)
    )


_NEW_PERSON = {dialect: _new_person_of(dialect) for dialect in ("sqlite", "postgresql")}


async def _insert(session: AsyncSession, row: Person | Membership | Invite) -> None:
    """Store the new `row` by one constant INSERT (no unit-of-work flush) and make it the
    session's object, as a flush would."""
    statement, columns = _INSERTS[type(row)]
    done = await session.exec(statement, params={name: getattr(row, name) for name in columns})
    key = done.inserted_primary_key
    assert key is not None  # a single-row INSERT
    row.id = key[0]
    make_transient_to_detached(row)
    session.add(row)


# --- people ----------------------------------------------------------------------------------


_PERSON_BY_TELEGRAM_ID = select(Person).where(Person.telegram_id == bindparam("telegram_id"))


async def person_by_telegram_id(session: AsyncSession, telegram_id: int) -> Person | None:
    result = await session.exec(_PERSON_BY_TELEGRAM_ID, params={"telegram_id": telegram_id})
    return result.first()


async def ensure_person(
    session: AsyncSession,
    *,
    telegram_id: int,
    at: datetime,
    name: str = "",
    username: str = "",
) -> Person:
    """The person with `telegram_id`, created when new; fills an empty name/username."""
    person = await person_by_telegram_id(session, telegram_id)
    if person is None:
        return await _new_person(session, telegram_id, at=at, name=name, username=username)
    changed = False
    if name and not person.name:
        person.name, changed = name, True
    if username and person.username != username:
        person.username, changed = username, True
    if not person.active:
        person.active, changed = True, True
    if changed:
        session.add(person)
    return person


async def _new_person(
    session: AsyncSession, telegram_id: int, *, at: datetime, name: str, username: str
) -> Person:
    person = Person(telegram_id=telegram_id, name=name, username=username, created_at=at)
    await _insert(session, person)
    return person


async def _person_unless_exists(
    session: AsyncSession, telegram_id: int, *, at: datetime, name: str, username: str
) -> Person | None:
    """The new person of `telegram_id`, made by one INSERT … ON CONFLICT DO NOTHING (no
    read first: whoever opens an invitation is mostly new); None when they already exist."""
    statement = _NEW_PERSON.get(session.sync_session.get_bind().dialect.name)
    if statement is None:  # pragma: no cover - SQLite and PostgreSQL are the backends
        if await person_by_telegram_id(session, telegram_id) is not None:
            return None
        return await _new_person(session, telegram_id, at=at, name=name, username=username)
    person = Person(telegram_id=telegram_id, name=name, username=username, created_at=at)
    columns = _INSERTS[Person][1]
    row = (await session.exec(statement, params={c: getattr(person, c) for c in columns})).first()
    if row is None:
        return None
    person.id = row[0]
    make_transient_to_detached(person)
    session.add(person)
    return person


async def set_locale(session: AsyncSession, person: Person, locale: str | None) -> Person:
    person.locale = locale
    session.add(person)
    return person


# --- roles -----------------------------------------------------------------------------------


async def active_memberships(session: AsyncSession, person_id: int) -> list[Membership]:
    result = await session.exec(
        select(Membership).where(
            Membership.person_id == person_id,
            col(Membership.revoked_at).is_(None),
        )
    )
    return list(result.all())


async def roles_of(session: AsyncSession, person: Person | None) -> Roles:
    if person is None or person.id is None:
        return NOBODY
    rows = await active_memberships(session, person.id)
    return roles_from_memberships([(m.role, m.unit_id, m.plan_id) for m in rows])


async def add_membership(
    session: AsyncSession,
    person: Person,
    *,
    role: str,
    at: datetime,
    unit_id: int | None = None,
    plan_id: int | None = None,
    source: str = SOURCE_INVITE,
    new_person: bool = False,
) -> Membership:
    """Give `person` a role (idempotent: an identical active membership is returned as is,
    whatever its source). `new_person`: created by this transaction, so without memberships
    to look at. The assignments the role may address are recomputed at the next tick
    (bot.storage.next_at)."""
    if role not in INVITE_ROLES:
        raise ServiceError("unknown_role", role=role)
    assert person.id is not None
    if not new_person:
        for m in await active_memberships(session, person.id):
            if m.role == role and m.unit_id == unit_id and m.plan_id == plan_id:
                return m
    membership = Membership(
        person_id=person.id,
        role=role,
        unit_id=unit_id,
        plan_id=plan_id,
        created_at=at,
        source=source,
    )
    await _insert(session, membership)
    await touch_membership(await session.connection(), membership)
    return membership


async def revoke_membership(
    session: AsyncSession,
    membership: Membership,
    *,
    at: datetime,
    by: Person | None = None,
    note: str = "",
) -> None:
    """End a membership; the row stays, saying when, by whom (`by`, None: not a person) and
    how (`note`: ADMIN_IDS, cli, revoke_access)."""
    membership.revoked_at = at
    membership.revoked_by = by.id if by is not None else None
    membership.revoke_note = note
    session.add(membership)


async def coordinators(session: AsyncSession, *, plan_id: int | None = None) -> list[Person]:
    """Active people with a coordinator role (of all plans or some), by id; with `plan_id`,
    those of that plan and those of all plans."""
    query = (
        select(Person)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(
            Membership.role == ROLE_COORDINATOR,
            col(Membership.revoked_at).is_(None),
            col(Person.active).is_(True),
        )
        .distinct()
        .order_by(col(Person.id))
    )
    if plan_id is not None:
        query = query.where(
            (col(Membership.plan_id) == plan_id) | col(Membership.plan_id).is_(None)
        )
    result = await session.exec(query)
    return list(result.all())


async def liaisons_of_units(
    session: AsyncSession, unit_ids: Sequence[int]
) -> dict[int, list[Person]]:
    """The active liaisons of each unit (units without one are absent)."""
    if not unit_ids:
        return {}
    result = await session.exec(
        select(Membership.unit_id, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(
            Membership.role == ROLE_LIAISON,
            col(Membership.revoked_at).is_(None),
            col(Membership.unit_id).in_(list(unit_ids)),
        )
        .order_by(col(Person.id))
    )
    out: dict[int, list[Person]] = {}
    for unit_id, person in result.all():
        if unit_id is not None:  # always: the query asks for these units
            out.setdefault(unit_id, []).append(person)
    return out


# --- invitations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Redeemed:
    person: Person
    membership: Membership
    invite: Invite
    unit: Unit | None
    plan: Plan | None


async def create_invite(
    session: AsyncSession,
    *,
    role: str,
    at: datetime,
    ttl_days: int,
    unit_id: int | None = None,
    plan_id: int | None = None,
    name: str = "",
    created_by: Person | None = None,
) -> Invite:
    """A one-time invitation, valid `ttl_days` from `at`.

    Codes: unknown_role, unit_required (a liaison invite names a unit), target_required (a
    leader invite names a unit or a plan).
    """
    if role not in INVITE_ROLES:
        raise ServiceError("unknown_role", role=role)
    if role == ROLE_LIAISON and unit_id is None:
        raise ServiceError("unit_required")
    if role == ROLE_LEADER and unit_id is None and plan_id is None:
        raise ServiceError("target_required")
    invite = Invite(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        role=role,
        unit_id=unit_id,
        plan_id=plan_id,
        name=name.strip()[:100],
        created_by=created_by.id if created_by else None,
        created_at=at,
        expires_at=at + timedelta(days=ttl_days),
    )
    await _insert(session, invite)
    return invite


async def invite_by_token(session: AsyncSession, token: str) -> Invite | None:
    result = await session.exec(select(Invite).where(Invite.token == token.strip()))
    return result.first()


async def revoke_invite(session: AsyncSession, token: str, *, at: datetime) -> Invite:
    """Codes: invite_unknown, invite_used, invite_revoked. Like redemption, one conditional
    update decides: an invitation redeemed meanwhile is not also revoked."""
    invite = await invite_by_token(session, token)
    if invite is None:
        raise ServiceError("invite_unknown")
    if invite.used_at is not None:
        raise ServiceError("invite_used")
    if invite.revoked_at is not None:
        raise ServiceError("invite_revoked")
    result = await session.exec(
        update(Invite)
        .where(*_still_open(invite))
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(invite)
    if result.rowcount != 1:
        raise ServiceError("invite_used" if invite.used_at is not None else "invite_revoked")
    return invite


def _still_open(invite: Invite) -> tuple[Any, ...]:
    """The conditions under which `invite` is neither used nor revoked, checked by the database
    in the same statement that changes it (redemption and revocation race each other)."""
    return (
        col(Invite.id) == invite.id,
        col(Invite.used_at).is_(None),
        col(Invite.revoked_at).is_(None),
    )


def _refusal(invite: Invite, at: datetime) -> ServiceError | None:
    """Why `invite` cannot be redeemed at `at`, or None."""
    if invite.revoked_at is not None:
        return ServiceError("invite_revoked")
    if invite.used_at is not None:
        return ServiceError("invite_used")
    expires_at = _aware(invite.expires_at)
    assert expires_at is not None
    if at >= expires_at:
        return ServiceError("invite_expired", expired=expires_at)
    return None


async def _claim(session: AsyncSession, invite: Invite, at: datetime) -> bool:
    """Mark `invite` used in one conditional update; False when it is no longer redeemable
    (someone else redeemed it, or it was revoked, since it was read).

    The database decides, not the earlier read: of several people opening the link at once,
    exactly one update matches the row (SQLite serialises writers; PostgreSQL re-checks the
    condition after the row lock). It is the transaction's first write, so a loser holds no
    half-made person or membership."""
    result = await session.exec(_CLAIM, params={"invite_id": invite.id, "at": at})
    if result.rowcount != 1:
        return False
    set_committed_value(invite, "used_at", at)  # as stored: not written again
    return True


_INVITE = table_of(Invite)
# _still_open's conditions and not expired (a constant statement: compiled once per process)
_CLAIM = (
    update(_INVITE)
    .where(
        _INVITE.c.id == bindparam("invite_id"),
        _INVITE.c.used_at.is_(None),
        _INVITE.c.revoked_at.is_(None),
        _INVITE.c.expires_at > bindparam("at", type_=_INVITE.c.expires_at.type),
    )
    .values(used_at=bindparam("at"))
)
_USED_BY = (
    update(_INVITE)
    .where(_INVITE.c.id == bindparam("invite_id"))
    .values(used_by=bindparam("person_id"))
)
_INVITE_TARGETS = (
    select_rows(Invite, Unit, Plan)
    .outerjoin(Unit, col(Unit.id) == Invite.unit_id)
    .outerjoin(Plan, col(Plan.id) == Invite.plan_id)
    .where(Invite.token == bindparam("token"))
)


async def redeem_invite(
    session: AsyncSession,
    token: str,
    *,
    telegram_id: int,
    at: datetime,
    telegram_name: str = "",
    username: str = "",
) -> Redeemed:
    """Bind whoever opened `/start TOKEN` to the invitation's role.

    The invitation is claimed by one conditional update inside the caller's transaction, which
    also creates the person and the membership: the caller commits once, and two people
    opening the same link at once give one membership and one `invite_used`.
    The invitation's name (a real name, given by the coordinator) wins over the Telegram name.
    Codes: invite_unknown, invite_used, invite_revoked, invite_expired.
    """
    # the invitation with its unit and plan, in one statement
    found = (await session.exec(_INVITE_TARGETS, params={"token": token.strip()})).first()
    if found is None:
        raise ServiceError("invite_unknown")
    invite, unit, plan = found
    refusal = _refusal(invite, at)
    if refusal is not None:
        raise refusal
    if not await _claim(session, invite, at):
        await session.refresh(invite)
        raise _refusal(invite, at) or ServiceError("invite_used")
    # a new person is named at once (the invitation's name wins over the Telegram name)
    person = await _person_unless_exists(
        session, telegram_id, at=at, name=invite.name or telegram_name, username=username
    )
    new_person = person is not None
    if person is None:
        person = await ensure_person(
            session,
            telegram_id=telegram_id,
            at=at,
            name=telegram_name,
            username=username,
        )
    if invite.name and person.name != invite.name:
        person.name = invite.name
        session.add(person)
    membership = await add_membership(
        session,
        person,
        role=invite.role,
        at=at,
        unit_id=invite.unit_id,
        plan_id=invite.plan_id,
        new_person=new_person,
    )
    await session.exec(_USED_BY, params={"invite_id": invite.id, "person_id": person.id})
    set_committed_value(invite, "used_by", person.id)
    return Redeemed(
        person=person,
        membership=membership,
        invite=invite,
        unit=unit if invite.unit_id else None,
        plan=plan if invite.plan_id else None,
    )


async def pending_invites(session: AsyncSession, *, at: datetime) -> list[Invite]:
    """Invitations neither used, revoked nor expired."""
    result = await session.exec(
        select(Invite).where(
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
            Invite.expires_at > at,
        )
    )
    return list(result.all())
