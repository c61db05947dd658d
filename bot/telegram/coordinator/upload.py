"""/import [CODE]: a coordinator of all plans sends a plan (any format of
bot.importer.reader.SUPPORTED, at most 5 MB) as a document captioned /import or as the next
document after /import. The bot parses it out of process (the injected `plan_parser`, with a
timeout) and answers with the summary per family and buttons: Confirm / Cancel, Year / Default
unit / Plan code (or a reply such as `年份 2024`), and — when the plan's code is taken — an
explicit "Replace plan SR (N assignments)?". Every fix parses again and shows a new summary.
The review lives in the database (bot.services.import_review): handlers only parse the update,
call the service and render."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.core.roles import Roles
from bot.i18n import gettext
from bot.services import import_review as ir
from bot.services import plan_upload as up
from bot.services.assignments import local_date
from bot.services.errors import ServiceError
from bot.storage.loader import LoadError
from bot.telegram.coordinator import upload_render as ui
from bot.telegram.coordinator.callbacks import ImportAct
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import esc

ASK = {"y": "year", "u": "unit", "k": "code"}


def import_code(text: str | None) -> str | None:
    """The CODE of `/import CODE` (or of a caption `/import CODE`), upper-cased ASCII."""
    words = (text or "").split()
    if words and words[0].lower().startswith("/import"):
        words = words[1:]
    if not words:
        return None
    code = words[0].strip().upper()
    return code if code.isascii() and code.replace("-", "").isalnum() else None


def reviews(data: dict[str, Any]) -> ir.ImportReviews:
    """The review service for this update, from the dispatcher's dependencies."""
    settings, clock = data["settings"], data["clock"]
    now = clock.now()
    parse = ir.parse_out_of_process(
        data["plan_parser"],
        directory=data.get("directory"),
        today=local_date(now, settings.clock.zone),
    )
    return ir.ImportReviews(
        data["session"],
        parse=parse,
        tasks_data=settings.data.tasks_data,
        now=now,
        loader=data.get("plan_loader"),
    )


class WaitingForPlanFile(Filter):
    """The sender said /import and the bot waits for their document."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        user = data.get("event_from_user")
        if user is None:
            return False
        row = await reviews(data).waiting_for_file(user.id)
        return {"waiting_import": row} if row is not None else False


class AnswersImport(Filter):
    """A plain text that answers a review: a reply to its summary or question, or the next
    text after a Year / Unit / Code button."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        user = data.get("event_from_user")
        if user is None or not isinstance(event, Message):
            return False
        reply = event.reply_to_message
        row = await reviews(data).answer_target(
            owner=user.id, reply_to=reply.message_id if reply else None
        )
        return {"import_row": row} if row is not None else False


def only_all_plans(locale: str) -> str:
    return gettext("Only a coordinator of all plans can import a new plan.", locale=locale)


async def show(
    target: Message, service: ir.ImportReviews, review: ir.Review, locale: str, bot: Bot
) -> None:
    """Send the summary; the previous summary of the upload loses its (outdated) buttons."""
    markup = ui.review_keyboard(review, locale=locale)
    sent = await target.answer(ui.summary_text(review, locale=locale), reply_markup=markup)
    previous = await service.remember_message(review.token, sent.message_id, summary=True)
    if previous is not None:
        with contextlib.suppress(TelegramAPIError):  # gone or already without buttons
            await bot.edit_message_reply_markup(
                chat_id=target.chat.id, message_id=previous, reply_markup=None
            )


# --- the buttons of a summary: ask a question, cancel, replace or not, confirm -------------

Act = Callable[[CallbackQuery, ImportAct, ir.ImportReviews, dict[str, Any]], Awaitable[None]]


def _summary_message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


async def _ask(
    query: CallbackQuery, cb: ImportAct, service: ir.ImportReviews, data: dict[str, Any]
) -> None:
    field = ASK[cb.act]
    await service.ask(cb.token, owner=query.from_user.id, version=cb.v, field=field)
    await query.answer()
    if (target := _summary_message(query)) is not None:
        text, markup = ui.question(field, locale=data["locale"])
        sent = await target.answer(text, reply_markup=markup)
        await service.remember_message(cb.token, sent.message_id)


async def _cancel(
    query: CallbackQuery, cb: ImportAct, service: ir.ImportReviews, data: dict[str, Any]
) -> None:
    await service.cancel(cb.token, owner=query.from_user.id, version=cb.v)
    await query.answer()
    if (target := _summary_message(query)) is not None:
        await target.edit_reply_markup(reply_markup=None)
        await target.answer(gettext("Discarded; nothing was loaded.", locale=data["locale"]))


async def _replace(
    query: CallbackQuery, cb: ImportAct, service: ir.ImportReviews, data: dict[str, Any]
) -> None:
    review = await service.set_replace(
        cb.token, owner=query.from_user.id, version=cb.v, on=cb.act == "r"
    )
    await query.answer()
    if (target := _summary_message(query)) is not None:
        await target.edit_reply_markup(reply_markup=None)
        await show(target, service, review, data["locale"], data["bot"])


async def _confirm(
    query: CallbackQuery, cb: ImportAct, service: ir.ImportReviews, data: dict[str, Any]
) -> None:
    outcome = await service.confirm(
        cb.token,
        owner=query.from_user.id,
        version=cb.v,
        session_maker=data["session_maker"],
        directory=data.get("directory"),
    )
    await query.answer()
    if (target := _summary_message(query)) is None:
        return
    await target.edit_reply_markup(reply_markup=None)
    if isinstance(outcome, ir.Review):  # the code was taken meanwhile: look again
        await show(target, service, outcome, data["locale"], data["bot"])
        return
    await target.answer(ui.loaded_text(outcome, locale=data["locale"]))


ACTS: dict[str, Act] = {
    "y": _ask,
    "u": _ask,
    "k": _ask,
    "x": _cancel,
    "r": _replace,
    "n": _replace,
    "c": _confirm,
}


async def receive(
    message: Message,
    bot: Bot,
    data: dict[str, Any],
    *,
    code: str | None,
    waiting: Any = None,
) -> None:
    locale = data["locale"]
    document = message.document
    assert document is not None and message.from_user is not None
    service = reviews(data)
    try:
        up.check_upload(document.file_name, document.file_size)
        buffer = io.BytesIO()
        await bot.download(document, destination=buffer)
        review = await service.receive(
            owner=message.from_user.id,
            chat_id=message.chat.id,
            file_name=document.file_name or "",
            data=buffer.getvalue(),
            code=code,
            waiting=waiting,
        )
    except ServiceError as exc:
        await message.answer(ui.import_error(exc, locale=locale))
        return
    await show(message, service, review, locale, bot)


async def import_with_file(message: Message, bot: Bot, roles: Roles, **data: Any) -> None:
    if not roles.coordinator_all:
        await message.answer(only_all_plans(data["locale"]))
        return
    await receive(message, bot, data, code=import_code(message.caption))


async def import_cmd(message: Message, command: CommandObject, roles: Roles, **data: Any) -> None:
    locale = data["locale"]
    if not roles.coordinator_all or message.from_user is None:
        await message.answer(only_all_plans(locale))
        return
    await reviews(data).open(
        owner=message.from_user.id, chat_id=message.chat.id, code=import_code(command.args)
    )
    await message.answer(ui.send_file_prompt(locale=locale))


# a reply with a document is evidence for an item (the liaison side), not a plan
async def file_after_import(
    message: Message, bot: Bot, roles: Roles, waiting_import: Any, **data: Any
) -> None:
    if not roles.coordinator_all:
        await message.answer(only_all_plans(data["locale"]))
        return
    await receive(message, bot, data, code=None, waiting=waiting_import)


async def answer(message: Message, bot: Bot, import_row: Any, **data: Any) -> None:
    locale = data["locale"]
    service = reviews(data)
    try:
        review = await service.fix(import_row, message.text or "")
    except ServiceError as exc:
        await message.answer(ui.import_error(exc, locale=locale))
        return
    await show(message, service, review, locale, bot)


async def act(query: CallbackQuery, callback_data: ImportAct, **data: Any) -> None:
    locale = data["locale"]
    handle = ACTS.get(callback_data.act)
    try:
        if handle is None:
            raise ServiceError("upload_expired")
        await handle(query, callback_data, reviews(data), data)
    except ServiceError as exc:
        await query.answer(ui.import_error(exc, locale=locale)[:200], show_alert=True)
    except (LoadError, OSError) as exc:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                gettext("Could not load the plan: %(error)s", locale=locale)
                % {"error": esc(str(exc))}
            )


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.callback_query.filter(IsCoordinator())
    router.message.register(import_with_file, Command("import"), F.document)
    router.message.register(import_cmd, Command("import"))
    router.message.register(
        file_after_import, F.document, F.reply_to_message.is_(None), WaitingForPlanFile()
    )
    router.message.register(answer, F.text, ~F.text.startswith("/"), AnswersImport())
    router.callback_query.register(act, ImportAct.filter())
