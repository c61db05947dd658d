"""The people of local mode: who the web chat lets you be.

The same people, with the same Telegram ids, exist on every start: as users of the local Bot
API server (each has started a private chat with the bot, so the bot may message them) and as
persons with memberships in the database (coordinator, liaisons of several units, a leader).
Seeding is idempotent: a restart adds nothing that is already there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.services.people import add_membership, ensure_person
from bot.storage.db import SessionMaker
from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    SOURCE_LOCAL,
    ChatSubscription,
    Unit,
)

log = logging.getLogger(__name__)

ROLE_LABELS = {ROLE_COORDINATOR: "督办员", ROLE_LIAISON: "联络员", ROLE_LEADER: "分管领导"}


@dataclass(frozen=True)
class LocalPerson:
    """A person of local mode. `units` are canonical unit names (tasks_data/units.yaml)."""

    telegram_id: int
    name: str
    role: str  # coordinator | liaison | leader
    units: tuple[str, ...] = ()
    office: str = ""  # where a coordinator works, shown in the web chat
    username: str = ""

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.telegram_id,
            "name": self.name,
            "role": self.role,
            "role_label": self.role_label,
            "units": list(self.units),
            "unit_label": self.office or "、".join(self.units),
            "username": self.username,
        }


@dataclass(frozen=True)
class LocalGroup:
    """A group chat the bot is in; subscribed to the weekly digest."""

    chat_id: int
    title: str
    member_ids: tuple[int, ...]


COORDINATOR_ID = 7_000_001

LOCAL_PEOPLE: tuple[LocalPerson, ...] = (
    LocalPerson(
        COORDINATOR_ID,
        "张督办",
        ROLE_COORDINATOR,
        office="上饶市卫生健康委员会 督办科（全部计划）",
        username="zhang_duban",
    ),
    LocalPerson(
        7_000_002, "李晓梅", ROLE_LIAISON, ("上饶市卫生健康委员会",), username="li_xiaomei"
    ),
    LocalPerson(7_000_003, "王建国", ROLE_LIAISON, ("上饶市财政局",), username="wang_jianguo"),
    LocalPerson(7_000_004, "赵敏", ROLE_LIAISON, ("信州区人民政府",), username="zhao_min"),
    LocalPerson(7_000_005, "刘洋", ROLE_LIAISON, ("龙南市卫生健康委员会",), username="liu_yang"),
    LocalPerson(
        7_000_006,
        "陈志强",
        ROLE_LEADER,
        ("上饶市卫生健康委员会", "上饶市财政局"),
        username="chen_zhiqiang",
    ),
)

LOCAL_GROUPS: tuple[LocalGroup, ...] = (
    LocalGroup(
        -1_001_000_000_001,
        "上饶市卫健督办工作群",
        (COORDINATOR_ID, 7_000_002, 7_000_003, 7_000_004, 7_000_006),
    ),
)


def seed_world(
    world: Any,
    people: Iterable[LocalPerson] = LOCAL_PEOPLE,
    groups: Iterable[LocalGroup] = LOCAL_GROUPS,
) -> None:
    """Create the people (each having started the bot) and the groups in the server's world."""
    for person in people:
        user = world.users.get(person.telegram_id)
        if user is None:
            user = world.add_user(
                person.name,
                user_id=person.telegram_id,
                username=person.username or None,
                language_code="zh-hans",
            )
        if not user.started:
            user.started = True  # as if they had sent /start: the bot may write to them
            world.emit("user", user=user.to_json())
    for group in groups:
        if group.chat_id not in world.chats:
            world.add_group(
                group.title, list(group.member_ids), chat_id=group.chat_id, supergroup=True
            )


async def seed_database(
    session_maker: SessionMaker,
    *,
    at: datetime,
    people: Iterable[LocalPerson] = LOCAL_PEOPLE,
    groups: Iterable[LocalGroup] = LOCAL_GROUPS,
) -> list[str]:
    """Register the people and their roles (idempotent). Returns the unit names that are not in
    the database (their memberships are skipped, with a warning)."""
    missing: list[str] = []
    async with session_maker() as session:
        units = {u.name: u.id for u in (await session.exec(select(Unit))).all()}
        for local in people:
            person = await ensure_person(
                session,
                telegram_id=local.telegram_id,
                at=at,
                name=local.name,
                username=local.username,
            )
            if local.role == ROLE_COORDINATOR:
                await add_membership(
                    session, person, role=ROLE_COORDINATOR, at=at, source=SOURCE_LOCAL
                )
            for name in local.units:
                if units.get(name) is None:
                    missing.append(name)
                    continue
                await add_membership(
                    session,
                    person,
                    role=local.role,
                    at=at,
                    unit_id=units[name],
                    source=SOURCE_LOCAL,
                )
        for group in groups:
            found = (
                await session.exec(
                    select(ChatSubscription).where(ChatSubscription.chat_id == group.chat_id)
                )
            ).first()
            if found is None:
                session.add(
                    ChatSubscription(chat_id=group.chat_id, title=group.title, created_at=at)
                )
        await session.commit()
    for name in dict.fromkeys(missing):
        log.warning("local mode: unit %s is not in the database; its people get no role", name)
    return list(dict.fromkeys(missing))
