"""Who receives what: active people with a Telegram id, by role, and subscribed groups.

`load_directory` reads every active membership once per planning pass (and per digest);
`audience_members` resolves a notification's audiences (liaisons, unit leaders, plan
coordinators) to one row per chat, each addressed by the first audience they are in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.notices import Audience
from bot.storage.models import ROLE_COORDINATOR, ROLE_LEADER, ROLE_LIAISON
from bot.storage.outbox.raw import fetch

# the audience a person is addressed as when they are in several (one row per chat)
AUDIENCE_ORDER = (Audience.LIAISONS, Audience.LEADERS, Audience.COORDINATORS, Audience.GROUPS)


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int | None
    chat_id: int
    locale: str | None
    name: str = ""


@dataclass
class Directory:
    """Who receives what: active people with a Telegram id, by role."""

    liaisons: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    unit_leaders: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    plan_leaders: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    coordinators: dict[int | None, list[Recipient]] = field(
        default_factory=lambda: defaultdict(list)
    )  # None: of every plan
    groups: list[tuple[Recipient, int | None]] = field(default_factory=list)  # (chat, plan_id)

    def coordinators_of(self, plan_id: int) -> list[Recipient]:
        return [*self.coordinators.get(None, ()), *self.coordinators.get(plan_id, ())]


async def load_directory(conn: AsyncConnection) -> Directory:
    rows = await fetch(
        conn,
        "SELECT ms.role, ms.unit_id, ms.plan_id, pe.id, pe.telegram_id, pe.locale, pe.name "
        "FROM membership ms JOIN person pe ON pe.id = ms.person_id "
        "WHERE ms.revoked_at IS NULL AND pe.active AND pe.telegram_id IS NOT NULL "
        "ORDER BY pe.id",
    )
    directory = Directory()
    for role, unit_id, plan_id, person_id, telegram_id, locale, name in rows:
        who = Recipient(person_id, telegram_id, locale, name or "")
        if role == ROLE_LIAISON and unit_id is not None:
            directory.liaisons[unit_id].append(who)
        elif role == ROLE_LEADER and unit_id is not None:
            directory.unit_leaders[unit_id].append(who)
        elif role == ROLE_LEADER and plan_id is not None:
            directory.plan_leaders[plan_id].append(who)
        elif role == ROLE_COORDINATOR:
            directory.coordinators[plan_id].append(who)
    groups = await fetch(
        conn, "SELECT chat_id, locale, plan_id, title FROM chatsubscription WHERE active"
    )
    for chat_id, locale, plan_id, title in groups:
        directory.groups.append((Recipient(None, chat_id, locale, title or ""), plan_id))
    return directory


def audience_members(
    audiences: Iterable[Audience], unit_id: int | None, directory: Directory, plan_id: int
) -> list[tuple[Audience, Recipient]]:
    """(audience, recipient) pairs, one per chat, addressed by the first audience they are in."""
    wanted = set(audiences)
    seen: set[int] = set()
    out: list[tuple[Audience, Recipient]] = []
    for audience in AUDIENCE_ORDER:
        if audience not in wanted:
            continue
        if audience == Audience.LIAISONS:
            people = directory.liaisons.get(unit_id or 0, [])
        elif audience == Audience.LEADERS:
            people = directory.unit_leaders.get(unit_id or 0, [])
        elif audience == Audience.COORDINATORS:
            people = directory.coordinators_of(plan_id)
        else:
            people = []
        for who in people:
            if who.chat_id not in seen:
                seen.add(who.chat_id)
                out.append((audience, who))
    return out
