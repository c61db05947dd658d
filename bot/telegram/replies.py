"""Replies understood: a liaison's text reply to any bot message about an item, or a plain
message naming refs, is read (bot.core.replies); so is the caption of a photo or file, which
then goes with what is recorded as evidence. An unambiguous reading is recorded at once and the
answer shows what was recorded with a 撤销 button; an ambiguous one is asked back with a button
per meaning and "只记为备注", and nothing is recorded until answered. Text that reports nothing
falls through: a reply stays a note (bot.telegram.report), other text gets the hint."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.clock import Clock
from bot.config import Settings
from bot.core.replies import Candidate, Reading, Status, named_refs, read_reply
from bot.core.roles import Roles
from bot.core.status import TransitionError
from bot.i18n import format_date, gettext
from bot.services.assignments import assignment_row, message_subject, remember_message
from bot.services.errors import ServiceError
from bot.services.replies import (
    NOTE_ONLY,
    Recorded,
    Target,
    answer,
    keep,
    load_targets,
    next_question,
    plan_codes,
    record_targets,
    resolve_targets,
    undo,
)
from bot.storage.models import Person, ReplyReading
from bot.telegram.common import Moment, moment, tell_after_commit
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.render import echo, esc, extend_prompt, progress_text, report_ack
from bot.telegram.report import EXTEND_PROMPT, _evidence

log = logging.getLogger(__name__)

UNDO = "u"
NOTE = "n"
QUOTE_MAX = 120  # characters of the reply quoted back in a question


class ReplyChoice(CallbackData, prefix="rr"):
    """An answer to a question about a reply (`choice`: candidate index or n), or 撤销 (u)."""

    record_id: int
    choice: str


class ReadsAsReport(Filter):
    """Text from a liaison that reports something: a reply to a bot message about an item
    (not the extension date prompt), or a private message naming refs. Injects `readings` and
    `subject_assignment_id`. Anything else falls through to the routers after this one."""

    async def __call__(
        self,
        message: Message,
        bot: Bot,
        roles: Roles | None = None,
        session: Any = None,
        settings: Settings | None = None,
        clock: Clock | None = None,
    ) -> Any:
        text = message.text
        if text is None and (message.photo or message.document):
            text = message.caption  # a photo or file with "已完成" under it
        if not text or text.startswith("/") or session is None or roles is None:
            return False
        if not roles.liaison or settings is None or clock is None:
            return False
        subject_id: int | None = None
        target = message.reply_to_message
        if target is not None:
            if target.from_user is not None and target.from_user.id != bot.id:
                return False
            subject = await message_subject(
                session, chat_id=message.chat.id, message_id=target.message_id
            )
            if subject is None or subject.kind == EXTEND_PROMPT:
                return False
            subject_id = subject.assignment_id
        elif message.chat.type != ChatType.PRIVATE:
            return False
        codes = await plan_codes(session)
        if subject_id is None and not named_refs(text, codes):
            return False
        readings = read_reply(text, today=moment(settings, clock).today, plan_codes=codes)
        if not readings:
            return False
        return {"readings": readings, "subject_assignment_id": subject_id}


def _status_word(c: Candidate, locale: str) -> str:
    if c.status is Status.DONE:
        return gettext("Done", locale=locale)
    if c.status is Status.DOING:
        return gettext("In progress", locale=locale) + progress_text(c.percent)
    if c.status is Status.BLOCKED:
        return gettext("Blocked", locale=locale)
    if c.status is Status.ACK:
        return gettext("Acknowledge", locale=locale)
    if c.date is None:
        return gettext("Request an extension", locale=locale)
    return gettext("Extension to %(date)s", locale=locale) % {
        "date": format_date(c.date, locale=locale)
    }


def question_view(
    record: ReplyReading, target: Target, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    text = gettext(
        "<b>%(ref)s</b>: “%(text)s” — which do you mean? Nothing is recorded until you choose.",
        locale=locale,
    ) % {"ref": esc(target.ref), "text": echo(record.text, QUOTE_MAX)}
    assert record.id is not None
    rows = [
        [
            InlineKeyboardButton(
                text=_status_word(c, locale),
                callback_data=ReplyChoice(record_id=record.id, choice=str(i)).pack(),
            )
        ]
        for i, c in enumerate(target.reading.candidates)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=gettext("Only keep it as a note", locale=locale),
                callback_data=ReplyChoice(record_id=record.id, choice=NOTE).pack(),
            )
        ]
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def recorded_view(
    record: ReplyReading, done: Recorded, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [report_ack(o, locale=locale) for o in done.outcomes]
    lines += [error_line(e, locale) for e in done.errors]
    if done.needs_date:
        lines.append(
            gettext("The extension needs a new date: reply to the next message.", locale=locale)
        )
    markup = None
    if done.undoable and record.id is not None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=gettext("Undo (撤销)", locale=locale),
                        callback_data=ReplyChoice(record_id=record.id, choice=UNDO).pack(),
                    )
                ]
            ]
        )
    return "\n".join(lines) or gettext("Nothing was recorded.", locale=locale), markup


async def _finish(
    bot: Bot,
    chat_id: int,
    record: ReplyReading,
    targets: list[Target],
    *,
    session: Any,
    m: Moment,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    """Record the settled readings, commit, then tell the liaison (and ask the new date of an
    extension that came without one)."""
    done = await record_targets(
        session,
        record,
        targets,
        person=person,
        roles=roles,
        at=m.now,
        today=m.today,
        policy=m.policy,
    )
    await session.commit()
    text, markup = recorded_view(record, done, locale)
    sent = await tell_after_commit(
        bot.send_message(chat_id, text, reply_markup=markup), what=f"reply reading {record.id}"
    )
    remember: list[tuple[int, int, str]] = []  # (message id, assignment id, kind)
    first = next((o.row.assignment_id for o in done.outcomes), None)
    if sent is not None and first is not None:
        remember.append((sent.message_id, first, "ack"))
    for aid in done.needs_date:
        row = await assignment_row(session, aid, today=m.today, now=m.now, policy=m.policy)
        prompt = await tell_after_commit(
            bot.send_message(
                chat_id,
                extend_prompt(row, locale=locale),
                reply_markup=ForceReply(input_field_placeholder="2026-03-31"),
            ),
            what=f"reply reading {record.id}: date prompt",
        )
        if prompt is not None:
            remember.append((prompt.message_id, aid, EXTEND_PROMPT))
    for message_id, aid, kind in remember:
        await remember_message(
            session, chat_id=chat_id, message_id=message_id, assignment_id=aid, kind=kind, at=m.now
        )
    await session.commit()


async def _ask(
    bot: Bot, chat_id: int, record: ReplyReading, target: Target, *, session: Any, locale: str
) -> None:
    await session.commit()
    text, markup = question_view(record, target, locale)
    await tell_after_commit(
        bot.send_message(chat_id, text, reply_markup=markup),
        what=f"reply reading {record.id}: question",
    )


async def read_reply_text(
    message: Message,
    readings: list[Reading],
    subject_assignment_id: int | None,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    m = moment(settings, clock)
    text = message.text or message.caption or ""
    evidence: dict[str, Any] | None = None
    if message.photo or message.document:
        try:
            evidence = {k: v for k, v in _evidence(message).items() if k != "note"}
        except ServiceError as exc:
            await message.answer(error_line(exc, locale))
            return
    targets = await resolve_targets(
        session,
        readings,
        subject_assignment_id=subject_assignment_id,
        roles=roles,
        today=m.today,
        now=m.now,
        policy=m.policy,
    )
    chat_id = message.chat.id
    record = await keep(
        session,
        person=person,
        chat_id=chat_id,
        text=text,
        targets=targets,
        at=m.now,
        evidence=evidence,
    )
    question = next_question(targets)
    if question is not None:
        await _ask(bot, chat_id, record, question, session=session, locale=locale)
        return
    await _finish(
        bot,
        chat_id,
        record,
        targets,
        session=session,
        m=m,
        person=person,
        roles=roles,
        locale=locale,
    )


async def choice_button(
    callback: CallbackQuery,
    callback_data: ReplyChoice,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    m = moment(settings, clock)
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    if callback_data.choice == UNDO:
        try:
            undone = await undo(
                session,
                record_id=callback_data.record_id,
                person=person,
                at=m.now,
                today=m.today,
                policy=m.policy,
            )
        except ServiceError as exc:
            await session.rollback()
            await callback.answer(error_line(exc, locale), show_alert=True)
            return
        await session.commit()
        await tell_after_commit(callback.answer(), what="undo: button answer")
        await _drop_buttons(callback)
        what = f"reply reading {callback_data.record_id}: undone"
        await tell_after_commit(bot.send_message(chat_id, undone_view(undone, locale)), what=what)
        return
    choice = NOTE_ONLY if callback_data.choice == NOTE else _int(callback_data.choice)
    try:
        record, targets = await answer(
            session, record_id=callback_data.record_id, person=person, choice=choice
        )
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    question = next_question(targets)
    if question is not None:
        await _ask(bot, chat_id, record, question, session=session, locale=locale)
    else:
        await _finish(
            bot,
            chat_id,
            record,
            load_targets(record),
            session=session,
            m=m,
            person=person,
            roles=roles,
            locale=locale,
        )
    await _drop_buttons(callback)
    await tell_after_commit(callback.answer(), what="reply choice: button answer")


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsRegistered())
    router.callback_query.filter(IsRegistered())
    router.message.register(read_reply_text, ReadsAsReport())
    router.callback_query.register(choice_button, ReplyChoice.filter())


async def _drop_buttons(callback: CallbackQuery) -> None:
    """The question is answered (or the undo done): its buttons go, the text stays."""
    if callback.message is not None:
        await tell_after_commit(
            callback.message.edit_reply_markup(reply_markup=None),  # type: ignore[union-attr]
            what="reply reading: buttons removed",
        )


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -2  # refused by the service as bad_choice


def undone_view(undone: list, locale: str) -> str:
    lines = []
    for u in undone:
        if u.restored:
            lines.append(
                gettext("↩️ <b>%(ref)s</b>: undone, back to what it was.", locale=locale)
                % {"ref": esc(u.ref)}
            )
        else:
            lines.append(
                gettext("<b>%(ref)s</b> changed since; it was left as it is.", locale=locale)
                % {"ref": esc(u.ref)}
            )
    return "\n".join(lines) or gettext("Nothing to undo.", locale=locale)
