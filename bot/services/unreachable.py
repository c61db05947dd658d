"""A recipient Telegram refused (403: blocked the bot, or never started it).

`recipient_unreachable` marks the row failed, the person inactive (a group's digest
subscription paused) and queues a notice to the plan's coordinators saying who could not be
reached; the sender (`bot.telegram.delivery.sender`) calls it and commits. The person is active
again once they write /start.
"""

from __future__ import annotations

import html
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.notices import OutboxKind, OutboxStatus, TextNotice
from bot.i18n import gettext
from bot.services.people import coordinators
from bot.storage.models import Outbox, Person
from bot.storage.outbox import delivery
from bot.storage.typed_sql import stored_id


async def recipient_unreachable(
    session: AsyncSession, row: Outbox, reason: str, *, now: datetime, default_locale: str
) -> list[int]:
    """Fail the row, deactivate its recipient and queue the coordinators' notices (the
    caller commits); returns the ids of the coordinators notified. `reason`: Telegram's
    words, already without the bot token."""
    fresh = await session.get(Outbox, row.id)
    assert fresh is not None
    fresh.status = OutboxStatus.FAILED
    fresh.attempts += 1
    fresh.last_error = f"403: {reason}"[:1000]
    who: str
    person: Person | None = None
    if row.chat_id < 0:
        sub = await delivery.group(session, row.chat_id)
        if sub is not None:
            sub.active = False
        who = html.escape(sub.title if sub is not None and sub.title else str(row.chat_id))
    else:
        person = await delivery.recipient(session, row)
        if person is not None:
            person.active = False
            who = html.escape(person.name or person.username or str(row.chat_id))
            if person.username:
                who += f" (@{html.escape(person.username)})"
        else:
            who = str(row.chat_id)
    plan_id, ref = await delivery.plan_of(session, row)
    notified: list[int] = []
    for coordinator in await coordinators(session, plan_id=plan_id):
        if person is not None and coordinator.id == person.id:
            continue
        if coordinator.telegram_id is None or coordinator.telegram_id == row.chat_id:
            continue
        locale = coordinator.locale or default_locale
        session.add(
            Outbox(
                key=f"unreachable:{row.id}:{coordinator.id}",
                kind=OutboxKind.NOTICE,
                chat_id=coordinator.telegram_id,
                person_id=coordinator.id,
                stage="unreachable",
                locale=locale,
                payload=TextNotice(unreachable_text(who, reason, ref, locale=locale)).to_json(),
                created_at=now,
                not_before=now,
            )
        )
        notified.append(stored_id(coordinator.id))
    return notified


def unreachable_text(who: str, reason: str, ref: str, *, locale: str) -> str:
    """The coordinator's notice about a recipient Telegram refused (HTML; `who` escaped)."""
    text = gettext(
        "⚠️ Could not deliver a message to {who}: Telegram says “{reason}”. "
        "They are marked inactive and get no more messages until they write /start to the "
        "bot. Please contact them another way.",
        locale=locale,
    ).format(who=who, reason=html.escape(reason))
    if ref:
        text += "\n" + gettext("Undelivered message about: {ref}", locale=locale).format(
            ref=html.escape(ref)
        )
    return text
