"""/task REF: an item's card (full text, milestones and targets, each unit's status, recent
history); for the item's liaison it carries the report buttons and answers replies. The same
card opens from a button of a list (OpenTask, e.g. /find). Its 📎 button sends the item's
evidence again (photos and files, by their Telegram file_id)."""

from __future__ import annotations

import logging
from datetime import tzinfo

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.i18n import format_datetime, gettext, ngettext
from bot.services.assignments import task_detail
from bot.services.errors import ServiceError
from bot.services.evidence import MAX_SENT, EvidenceFile, evidence_count, task_evidence
from bot.telegram.callbacks import OpenEvidence, OpenTask
from bot.telegram.common import moment, send_card
from bot.telegram.errors import error_line
from bot.telegram.filters import IsRegistered
from bot.telegram.keyboards import assignment_keyboard
from bot.telegram.parsing import parse_single
from bot.telegram.render import co_units_folded, echo, esc, task_card

log = logging.getLogger(__name__)

CAPTION_NOTE = 600  # characters of the note under a photo or file (captions hold 1,024)


async def send_task(
    bot: Bot,
    chat_id: int,
    session,
    *,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
    ref: str | None = None,
    task_id: int | None = None,
    expand: bool = False,
) -> None:
    """Send an item's card (by ref or id) and commit. ServiceError when it is not to be seen.
    A card with co-operating units shown as counts gets a button to list them all."""
    m = moment(settings, clock)
    detail = await task_detail(
        session,
        ref=ref,
        task_id=task_id,
        roles=roles,
        today=m.today,
        now=m.now,
        policy=m.policy,
    )
    current = detail.current
    rows: list[list[InlineKeyboardButton]] = []
    if current is not None:
        rows = assignment_keyboard(
            current.assignment_id, acknowledged=current.acknowledged, locale=locale
        ).inline_keyboard
    evidence = await evidence_count(session, detail.task.id or 0)
    if evidence:
        data = OpenEvidence(task_id=detail.task.id or 0).pack()
        label = gettext("📎 Evidence (%(n)s)", locale=locale) % {"n": evidence}
        rows = [*rows, [InlineKeyboardButton(text=label, callback_data=data)]]
    if not expand and co_units_folded(detail):
        data = OpenTask(task_id=detail.task.id or 0, expand=True).pack()
        label = gettext("List every co-operating unit", locale=locale)
        rows = [*rows, [InlineKeyboardButton(text=label, callback_data=data)]]
    keyboard = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    await send_card(
        bot,
        chat_id,
        task_card(detail, locale=locale, zone=settings.clock.zone, expand=expand),
        session=session,
        at=m.now,
        assignment_id=current.assignment_id if current else None,
        reply_markup=keyboard,
    )
    await session.commit()


async def show_task(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    try:
        ref = parse_single(command.args, "task_usage")
        await send_task(
            bot,
            message.chat.id,
            session,
            settings=settings,
            clock=clock,
            roles=roles,
            locale=locale,
            ref=ref,
        )
    except ServiceError as exc:
        await message.answer(error_line(exc, locale))


async def open_task(
    callback: CallbackQuery,
    callback_data: OpenTask,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    try:
        await send_task(
            bot,
            chat_id,
            session,
            settings=settings,
            clock=clock,
            roles=roles,
            locale=locale,
            task_id=callback_data.task_id,
            expand=callback_data.expand,
        )
    except ServiceError as exc:
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    await callback.answer()


def evidence_caption(ref: str, e: EvidenceFile, *, locale: str, zone: tzinfo) -> str:
    """Whose evidence, when, and the note it came with (cut to fit a caption)."""
    head = " · ".join(
        part
        for part in (
            f"<b>{esc(ref)}</b>",
            esc(e.unit_name),
            format_datetime(e.at, locale=locale, zone=zone),
            esc(e.actor_label),
        )
        if part
    )
    return head + (f"\n{echo(e.note, CAPTION_NOTE)}" if e.note else "")


async def open_evidence(
    callback: CallbackQuery,
    callback_data: OpenEvidence,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    roles: Roles,
    locale: str,
) -> None:
    """Send the item's evidence again by its Telegram file_id: the photos as photos, the files
    as documents; only to someone who may see the item."""
    m = moment(settings, clock)
    try:
        detail = await task_detail(
            session,
            task_id=callback_data.task_id,
            roles=roles,
            today=m.today,
            now=m.now,
            policy=m.policy,
        )
    except ServiceError as exc:
        await callback.answer(error_line(exc, locale), show_alert=True)
        return
    total = await evidence_count(session, callback_data.task_id)
    files = await task_evidence(session, callback_data.task_id)
    if not files:
        await callback.answer(gettext("No evidence yet.", locale=locale), show_alert=True)
        return
    await callback.answer()
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    ref = detail.task.ref
    failed = 0
    for e in files:
        caption = evidence_caption(ref, e, locale=locale, zone=settings.clock.zone)
        try:
            if e.kind == "photo":
                await bot.send_photo(chat_id, e.file_id, caption=caption)
            else:
                await bot.send_document(chat_id, e.file_id, caption=caption)
        except TelegramBadRequest as exc:  # a file Telegram no longer has: say so, go on
            log.warning("evidence of %s could not be sent again: %s", ref, exc.message)
            failed += 1
    if total > len(files) or failed:
        lines = []
        if total > len(files):
            lines.append(
                gettext(
                    "The %(n)s most recent of %(total)s pieces of evidence of %(ref)s.",
                    locale=locale,
                )
                % {"n": MAX_SENT, "total": total, "ref": esc(ref)}
            )
        if failed:
            lines.append(
                ngettext(
                    "%(n)s file could not be sent again (Telegram no longer has it).",
                    "%(n)s files could not be sent again (Telegram no longer has them).",
                    failed,
                    locale=locale,
                )
                % {"n": failed}
            )
        await bot.send_message(chat_id, "\n".join(lines))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.register(show_task, Command("task"), IsRegistered())
    router.callback_query.register(open_task, OpenTask.filter(), IsRegistered())
    router.callback_query.register(open_evidence, OpenEvidence.filter(), IsRegistered())
