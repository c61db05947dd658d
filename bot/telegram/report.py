"""Reports: `/report REF STATUS [note]`, the status buttons (进行中 / 已完成 / 有困难 / 申请延期 /
签收) on /my cards, /task cards and reminders, and replies with text, a photo or a document to
any bot message about an assignment. Every report is committed first, then acknowledged in
one line (a failed acknowledgement is logged and undoes nothing); bad input gets one line and
changes nothing."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, ForceReply, Message
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock
from bot.config import Settings
from bot.core.evidence import accepted_list, evidence_allowed
from bot.core.roles import Roles
from bot.core.status import Action, TransitionError
from bot.services.assignments import (
    ReportOutcome,
    assignment_for_task,
    assignment_row,
    message_subject,
    remember_message,
    report,
)
from bot.services.errors import ServiceError
from bot.storage.models import Person, SentMessage
from bot.telegram.callbacks import ACTION_CODES, AssignmentAction
from bot.telegram.common import Moment, moment, tell_after_commit
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.keyboards import assignment_keyboard
from bot.telegram.limits import MAX_DOWNLOAD
from bot.telegram.parsing import parse_date, parse_report
from bot.telegram.render import extend_prompt, report_ack

EXTEND_PROMPT = "extend_prompt"

log = logging.getLogger(__name__)


class ReplyToAssignment(Filter):
    """A reply to a bot message that is about an assignment; injects `subject` (SentMessage).
    Replies to other messages fall through to later routers."""

    async def __call__(self, message: Message, bot: Bot, session: Any = None) -> Any:
        target = message.reply_to_message
        if target is None or session is None:
            return False
        if target.from_user is not None and target.from_user.id != bot.id:
            return False
        subject = await message_subject(
            session, chat_id=message.chat.id, message_id=target.message_id
        )
        return {"subject": subject} if subject is not None else False


async def _acknowledge(
    bot: Bot, chat_id: int, outcome: ReportOutcome, *, session: Any, at: Any, locale: str
) -> Message | None:
    """Tell the liaison their report is stored (it is committed already: `_record`), and
    remember the message so that a reply to it adds a note. A failure of either is logged and
    changes nothing stored."""
    what = f"report {outcome.event.id} on assignment {outcome.row.assignment_id}"
    sent = await tell_after_commit(
        bot.send_message(chat_id, report_ack(outcome, locale=locale)),
        what=f"{what}: acknowledgement",
    )
    if sent is None:
        return None
    try:
        await remember_message(
            session,
            chat_id=chat_id,
            message_id=sent.message_id,
            assignment_id=outcome.row.assignment_id,
            kind="ack",
            at=at,
        )
        await session.commit()
    except SQLAlchemyError:  # replies to this one message will not add notes; the report holds
        await session.rollback()
        log.exception("%s is stored; remembering its acknowledgement failed", what)
    return sent


async def _record(
    session: Any,
    m: Moment,
    person: Person,
    roles: Roles,
    assignment_id: int,
    action: Action,
    **kw: Any,
) -> ReportOutcome:
    """Store a report: it is committed when this returns, so that nobody is told "recorded"
    about a report a crash or a failed send could still lose."""
    outcome = await report(
        session,
        assignment_id=assignment_id,
        person=person,
        roles=roles,
        action=action,
        at=m.now,
        today=m.today,
        policy=m.policy,
        **kw,
    )
    await session.commit()
    return outcome


async def report_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    if not roles.liaison:
        await message.answer(error_line(ServiceError("not_liaison"), locale))
        return
    m = moment(settings, clock)
    try:
        args = parse_report(command.args)
        row = await assignment_for_task(
            session, ref=args.ref, roles=roles, today=m.today, now=m.now, policy=m.policy
        )
        outcome = await _record(
            session,
            m,
            person,
            roles,
            row.assignment_id,
            args.action,
            progress=args.progress,
            new_due=args.new_due,
            note=args.note,
        )
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await message.answer(error_line(exc, locale))
        return
    await _acknowledge(bot, message.chat.id, outcome, session=session, at=m.now, locale=locale)


async def status_button(
    callback: CallbackQuery,
    callback_data: AssignmentAction,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    m = moment(settings, clock)
    code = ACTION_CODES.get(callback_data.code)
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    if code is None:
        await callback.answer()
        return
    action = Action(code)
    aid = callback_data.assignment_id
    if action is Action.EXTEND:
        try:
            row = await assignment_row(session, aid, today=m.today, now=m.now, policy=m.policy)
            if not roles.answers_for(row.unit_id):
                raise ServiceError("not_your_unit", ref=row.ref, unit=row.unit_name)
        except ServiceError as exc:
            await callback.answer(error_line(exc, locale), show_alert=True)
            return
        sent = await bot.send_message(
            chat_id,
            extend_prompt(row, locale=locale),
            reply_markup=ForceReply(input_field_placeholder="2026-03-31"),
        )
        await remember_message(
            session,
            chat_id=chat_id,
            message_id=sent.message_id,
            assignment_id=aid,
            kind=EXTEND_PROMPT,
            at=m.now,
        )
        await session.commit()
        await callback.answer()
        return
    try:
        outcome = await _record(session, m, person, roles, aid, action)
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    what = f"report {outcome.event.id} on assignment {aid}"
    await tell_after_commit(callback.answer(), what=f"{what}: button answer")
    if outcome.transition.acknowledge and callback.message is not None:
        # the 签收 button has done its job: redraw the keyboard without it (before the
        # acknowledgement, so whoever reads that line sees the card already redrawn)
        keyboard = assignment_keyboard(aid, acknowledged=True, locale=locale)
        await tell_after_commit(
            callback.message.edit_reply_markup(reply_markup=keyboard),  # type: ignore[union-attr]
            what=f"{what}: keyboard",
        )
    await _acknowledge(bot, chat_id, outcome, session=session, at=m.now, locale=locale)


async def reply_note(
    message: Message,
    subject: SentMessage,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    m = moment(settings, clock)
    try:
        kw = _evidence(message)
        action = Action.NOTE
        if subject.kind == EXTEND_PROMPT and message.text:
            first, _, rest = message.text.strip().partition(" ")
            action, kw = Action.EXTEND, {"new_due": parse_date(first), "note": rest.strip()}
        outcome = await _record(session, m, person, roles, subject.assignment_id, action, **kw)
    except (ServiceError, TransitionError) as exc:
        await session.rollback()
        await message.answer(error_line(exc, locale))
        return
    await _acknowledge(bot, message.chat.id, outcome, session=session, at=m.now, locale=locale)


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsRegistered())
    router.callback_query.filter(IsRegistered())
    router.message.register(report_command, Command("report"))
    router.callback_query.register(status_button, AssignmentAction.filter())
    router.message.register(reply_note, ReplyToAssignment(), ~F.text.startswith("/"))


def _evidence(message: Message) -> dict[str, Any]:
    """The note and evidence of a reply. Codes: unsupported_upload, file_too_large,
    evidence_type (a file type outside the allow-list of bot.core.evidence)."""
    if message.photo:
        largest = message.photo[-1]
        return {
            "note": message.caption or "",
            "evidence_kind": "photo",
            "evidence_file_id": largest.file_id,
        }
    if message.document:
        doc = message.document
        if not evidence_allowed(doc.file_name, doc.mime_type):
            raise ServiceError("evidence_type", name=doc.file_name or "", accepted=accepted_list())
        if doc.file_size is not None and doc.file_size > MAX_DOWNLOAD:
            raise ServiceError("file_too_large")
        return {
            "note": message.caption or "",
            "evidence_kind": "document",
            "evidence_file_id": doc.file_id,
            "evidence_name": doc.file_name or "",
        }
    if message.text:
        return {"note": message.text}
    raise ServiceError("unsupported_upload")
