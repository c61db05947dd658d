"""/import [CODE]: a coordinator sends a plan (.txt / .md / .docx / .xlsx / .pdf, at most
5 MB), as a document captioned /import or as the next document after /import. The bot runs the
importer and answers with a summary and Confirm / Cancel buttons; only Confirm writes the YAML to
tasks_data/plans and loads it (bot.services.plan_upload; pending uploads live in memory, in
the store this router was built with)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Settings
from bot.core.roles import Roles
from bot.i18n import format_number, gettext, ngettext
from bot.services import plan_upload as up
from bot.services.errors import ServiceError
from bot.storage.loader import LoadError
from bot.telegram.coordinator.callbacks import UploadChoice
from bot.telegram.coordinator.texts import error_line
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import esc, short

SHOWN_WARNINGS = 5


class ImportFlow(StatesGroup):
    waiting_file = State()


def import_code(text: str | None) -> str | None:
    """The CODE of `/import CODE` (or of a caption `/import CODE`), upper-cased ASCII."""
    words = (text or "").split()
    if words and words[0].lower().startswith("/import"):
        words = words[1:]
    if not words:
        return None
    code = words[0].strip().upper()
    return code if code.isascii() and code.replace("-", "").isalnum() else None


def summary_text(summary: up.PlanSummary, file_name: str, *, locale: str) -> str:
    n = lambda v: format_number(v, locale=locale)  # noqa: E731
    lines = [
        gettext("<b>%(code)s</b> %(title)s", locale=locale)
        % {"code": esc(summary.code), "title": esc(short(summary.title, 80))},
        gettext("From %(file)s", locale=locale) % {"file": esc(file_name)},
        gettext(
            "Tasks %(tasks)s · key projects %(projects)s · indicators %(indicators)s · "
            "units %(units)s",
            locale=locale,
        )
        % {
            "tasks": n(summary.tasks),
            "projects": n(summary.projects),
            "indicators": n(summary.indicators),
            "units": n(summary.units),
        },
    ]
    if summary.milestones_per_year:
        per_year = ", ".join(f"{y}: {n(c)}" for y, c in summary.milestones_per_year.items())
        lines.append(
            gettext("Milestones per year: %(years)s", locale=locale) % {"years": per_year}
        )
    if summary.warnings:
        lines.append(
            ngettext("%(n)s warning:", "%(n)s warnings:", len(summary.warnings), locale=locale)
            % {"n": n(len(summary.warnings))}
        )
        lines += [f"• {esc(short(w, 160))}" for w in summary.warnings[:SHOWN_WARNINGS]]
        more = len(summary.warnings) - SHOWN_WARNINGS
        if more > 0:
            lines.append(
                ngettext("…and %(n)s more", "…and %(n)s more", more, locale=locale)
                % {"n": n(more)}
            )
    lines.append(gettext("Load this plan into the ledger?", locale=locale))
    return "\n".join(lines)


def confirm_keyboard(token: str, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=gettext("Confirm and load", locale=locale),
        callback_data=UploadChoice(token=token, ok=True),
    )
    builder.button(
        text=gettext("Cancel", locale=locale), callback_data=UploadChoice(token=token, ok=False)
    )
    builder.adjust(2)
    return builder.as_markup()


def only_all_plans(locale: str) -> str:
    return gettext("Only a coordinator of all plans can import a new plan.", locale=locale)


def router(pending: up.PendingUploads | None = None) -> Router:
    store = pending if pending is not None else up.PendingUploads()
    r = Router(name="coordinator-upload")
    r.message.filter(IsCoordinator())
    r.callback_query.filter(IsCoordinator())

    async def receive(
        message: Message, bot: Bot, code: str | None, settings: Settings, clock: Clock,
        directory: Any, locale: str,
    ) -> None:  # fmt: skip
        document = message.document
        assert document is not None
        try:
            up.check_upload(document.file_name, document.file_size)
            buffer = io.BytesIO()
            await bot.download(document, destination=buffer)
            plan = await asyncio.to_thread(
                up.parse_upload, buffer.getvalue(), file_name=document.file_name or "",
                code=code, directory=directory,
            )  # fmt: skip
        except ServiceError as exc:
            if exc.code == "plan_input":
                await message.answer(
                    gettext("The importer could not read this plan: %(message)s", locale=locale)
                    % {"message": esc(exc.params.get("message", ""))}
                )
                return
            await message.answer(error_line(exc, locale))
            return
        token = store.add(
            up.PendingPlan(
                plan=plan, owner=message.from_user.id if message.from_user else 0,
                created_at=clock.now(), file_name=document.file_name or "",
            )
        )  # fmt: skip
        text = summary_text(up.summarize(plan), document.file_name or "", locale=locale)
        await message.answer(text, reply_markup=confirm_keyboard(token, locale))

    @r.message(Command("import"), F.document)
    async def import_with_file(
        message: Message, bot: Bot, state: FSMContext, settings: Settings, clock: Clock,
        directory: Any, locale: str, roles: Roles,
    ) -> None:  # fmt: skip
        await state.clear()
        if not roles.coordinator_all:
            await message.answer(only_all_plans(locale))
            return
        await receive(message, bot, import_code(message.caption), settings, clock, directory,
                      locale)  # fmt: skip

    @r.message(Command("import"))
    async def import_cmd(
        message: Message, command: CommandObject, state: FSMContext, locale: str, roles: Roles
    ) -> None:
        if not roles.coordinator_all:
            await message.answer(only_all_plans(locale))
            return
        await state.set_state(ImportFlow.waiting_file)
        await state.update_data(code=import_code(command.args))
        await message.answer(
            gettext(
                "Send the plan as a .txt, .md, .docx, .xlsx or .pdf file (at most %(mb)s MB).",
                locale=locale,
            )
            % {"mb": up.MAX_BYTES // (1024 * 1024)}
        )

    # a reply with a document is evidence for an item (the liaison side), not a plan
    @r.message(StateFilter(ImportFlow.waiting_file), F.document, F.reply_to_message.is_(None))
    async def file_after_import(
        message: Message, bot: Bot, state: FSMContext, settings: Settings, clock: Clock,
        directory: Any, locale: str,
    ) -> None:  # fmt: skip
        data = await state.get_data()
        await state.clear()
        await receive(message, bot, data.get("code"), settings, clock, directory, locale)

    @r.callback_query(UploadChoice.filter())
    async def choose(
        query: CallbackQuery, callback_data: UploadChoice, settings: Settings, clock: Clock,
        session_maker: Any, directory: Any, locale: str,
    ) -> None:  # fmt: skip
        now = clock.now()
        try:
            item = store.take(callback_data.token, owner=query.from_user.id, now=now)
        except ServiceError as exc:
            await query.answer(error_line(exc, locale), show_alert=True)
            return
        target = query.message if isinstance(query.message, Message) else None
        if not callback_data.ok:
            if target:
                await target.edit_reply_markup(reply_markup=None)
                await target.answer(gettext("Discarded; nothing was loaded.", locale=locale))
            await query.answer()
            return
        try:
            result = await up.commit_plan(
                item.plan, session_maker=session_maker, directory=directory,
                tasks_data=settings.tasks_data, at=now,
            )  # fmt: skip
        except (LoadError, OSError) as exc:
            await query.answer()
            if target:
                await target.answer(
                    gettext("Could not load the plan: %(error)s", locale=locale)
                    % {"error": esc(str(exc))}
                )
            return
        if target:
            await target.edit_reply_markup(reply_markup=None)
            await target.answer(
                gettext(
                    "Loaded %(code)s: %(items)s items, %(assignments)s assignments. "
                    "See /status %(code)s.",
                    locale=locale,
                )
                % {
                    "code": esc(result.code),
                    "items": format_number(
                        result.tasks + result.key_projects + result.indicators, locale=locale
                    ),
                    "assignments": format_number(result.assignments, locale=locale),
                }
            )
        await query.answer()

    return r
