"""ADMIN_IDS as the source of truth for admins (at every start-up), and the operator's own
coordinators of all plans (`python -m bot people add-admin`), which ADMIN_IDS does not govern."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.access import NOTE_ADMIN_IDS, cancel_pending
from bot.services.members import member_rows
from bot.services.people import add_membership, ensure_person, revoke_membership
from bot.storage.models import ROLE_COORDINATOR, SOURCE_ADMIN, SOURCE_CLI, Membership, Person

log = logging.getLogger(__name__)


@dataclass
class AdminSync:
    added: list[Person] = field(default_factory=list)  # got the admin coordinator role
    removed: list[Person] = field(default_factory=list)  # lost it: no longer in ADMIN_IDS


def _coordinates_all(m: Membership) -> bool:
    return m.role == ROLE_COORDINATOR and m.plan_id is None and m.unit_id is None


async def sync_admins(
    session: AsyncSession, admin_ids: Iterable[int], *, at: datetime
) -> AdminSync:
    """Make ADMIN_IDS the truth about admins: every id listed is a coordinator of all plans;
    every admin role of an id no longer listed ends (logged). Roles from invitations or the
    CLI are left alone. Idempotent."""
    wanted = list(dict.fromkeys(admin_ids))
    outcome = AdminSync()
    for telegram_id in wanted:
        person = await ensure_person(session, telegram_id=telegram_id, at=at)
        active = await session.exec(
            select(Membership).where(
                Membership.person_id == person.id, col(Membership.revoked_at).is_(None)
            )
        )
        if not any(_coordinates_all(m) for m in active.all()):
            await add_membership(
                session, person, role=ROLE_COORDINATOR, at=at, source=SOURCE_ADMIN
            )
            outcome.added.append(person)
            log.info("ADMIN_IDS: %s is a coordinator of all plans", telegram_id)
    stale = await session.exec(
        select(Membership, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(
            Membership.source == SOURCE_ADMIN,
            col(Membership.revoked_at).is_(None),
            col(Person.telegram_id).not_in(wanted),
        )
    )
    for membership, person in stale.all():
        await revoke_membership(session, membership, at=at, note=NOTE_ADMIN_IDS)
        await session.flush()
        others = [m for m, _ in await member_rows(session, person_id=person.id)]
        await cancel_pending(session, membership, person.telegram_id, remaining=others)
        outcome.removed.append(person)
        log.warning(
            "ADMIN_IDS: %s (%s) is no longer listed: their admin coordinator role ended",
            person.telegram_id,
            person.name or "no name",
        )
    await session.flush()
    return outcome


async def former_coordinators(session: AsyncSession) -> list[int]:
    """Telegram ids of reachable people whose coordinator role ended and who coordinate
    nothing now (their chats may still show the coordinator's command menu)."""
    current = select(Membership.person_id).where(
        Membership.role == ROLE_COORDINATOR, col(Membership.revoked_at).is_(None)
    )
    result = await session.exec(
        select(Person.telegram_id)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(
            Membership.role == ROLE_COORDINATOR,
            col(Membership.revoked_at).is_not(None),
            col(Person.id).not_in(current),
            col(Person.active).is_(True),
            col(Person.telegram_id).is_not(None),
        )
        .distinct()
    )
    return sorted(t for t in result.all() if t is not None)


async def add_admin(
    session: AsyncSession, telegram_id: int, *, at: datetime, name: str = ""
) -> tuple[Person, bool]:
    """Make `telegram_id` a coordinator of all plans from the command line (kept across
    restarts; ADMIN_IDS does not govern it). Returns (person, whether the role is new)."""
    person = await ensure_person(session, telegram_id=telegram_id, at=at, name=name.strip())
    active = await session.exec(
        select(Membership).where(
            Membership.person_id == person.id, col(Membership.revoked_at).is_(None)
        )
    )
    if any(_coordinates_all(m) for m in active.all()):
        return person, False
    await add_membership(session, person, role=ROLE_COORDINATOR, at=at, source=SOURCE_CLI)
    log.info("access: command line made %s a coordinator of all plans", telegram_id)
    return person, True
