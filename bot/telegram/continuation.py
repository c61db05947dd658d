"""The second part of a long text that Telegram split: a plain message (no reply, no command)
from a liaison moments after they recorded a note that long is added to the same item as a
note of its own (history is append-only), and the answer says so. Anything else falls
through to the later routers."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Message

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.core.status import Action, TransitionError
from bot.services.assignments import remember_message, report
from bot.services.continuation import note_to_continue
from bot.services.errors import ServiceError
from bot.storage.models import Person, StatusEvent
from bot.telegram.common import moment, tell_after_commit
from bot.telegram.errors import error_line
from bot.telegram.filters import IsLiaison
from bot.telegram.render import continuation_ack


class ContinuesLongNote(Filter):
    """Injects `previous` (the StatusEvent whose note this text continues)."""

    async def __call__(
        self, message: Message, clock: Clock, session: Any = None, person: Person | None = None
    ) -> Any:
        if session is None or person is None or person.id is None:
            return False
        previous = await note_to_continue(session, person_id=person.id, now=clock.now())
        return {"previous": previous} if previous is not None else False


async def rest_of_long_note(
    message: Message,
    previous: StatusEvent,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    m = moment(settings, clock)
    try:
        outcome = await report(
            session,
            assignment_id=previous.assignment_id,
            person=person,
            roles=roles,
            action=Action.NOTE,
            at=m.now,
            today=m.today,
            policy=m.policy,
            note=message.text or "",
        )
        await session.commit()
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await message.answer(error_line(exc, locale))
        return
    what = f"continued note {outcome.event.id} on assignment {previous.assignment_id}"
    sent = await tell_after_commit(
        message.answer(continuation_ack(outcome.row, locale=locale)), what=what
    )
    if sent is not None:  # a reply to this answer adds a note to the same item
        await remember_message(
            session,
            chat_id=message.chat.id,
            message_id=sent.message_id,
            assignment_id=previous.assignment_id,
            kind="ack",
            at=m.now,
        )
        await session.commit()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(
        IsLiaison(),
        F.chat.type == ChatType.PRIVATE,
        F.text,
        ~F.text.startswith("/"),
        ~F.reply_to_message,
    )
    router.message.register(rest_of_long_note, ContinuesLongNote())
