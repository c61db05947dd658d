"""/find WORD…: the items of the viewer's reach (a coordinator's plans, a leader's plans and
units) whose title or full text holds every word; parse → bot.services.search → find_view."""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.roles import Roles
from bot.core.textsearch import MAX_QUERY, MIN_QUERY, query_words
from bot.i18n import gettext
from bot.services.search import find_items, reach_of
from bot.telegram.callbacks import FindPage
from bot.telegram.coordinator.render import PAGE_SIZE
from bot.telegram.filters import IsRegistered
from bot.telegram.find_view import find_keyboard, find_text


def usage(locale: str) -> str:
    return gettext(
        "Usage: /find WORD [WORD…] — items whose title or text contains every word "
        "(%(min)s to %(max)s characters in all).",
        locale=locale,
    ) % {"min": MIN_QUERY, "max": MAX_QUERY}


def refusal(locale: str) -> str:
    return gettext("/find is for coordinators and leaders; use /my for your items.", locale=locale)


async def find_screen(
    session: AsyncSession, *, query: str, words: list[str], roles: Roles, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    result = await find_items(
        session, words=words, reach=reach_of(roles), page=page, page_size=PAGE_SIZE
    )
    return find_text(result, query=query, words=words, locale=locale), find_keyboard(result, words)


async def find_cmd(
    message: Message, command: CommandObject, session, roles: Roles, locale: str
) -> None:
    if not (roles.coordinator or roles.leader):
        await message.answer(refusal(locale))
        return
    query = " ".join((command.args or "").split())
    words = query_words(query)
    if not words:
        await message.answer(usage(locale))
        return
    text, keyboard = await find_screen(
        session, query=query, words=words, roles=roles, page=0, locale=locale
    )
    await message.answer(text, reply_markup=keyboard)


async def find_page(
    callback: CallbackQuery, callback_data: FindPage, session, roles: Roles, locale: str
) -> None:
    words = query_words(callback_data.q)
    if not (roles.coordinator or roles.leader) or not words:
        await callback.answer(usage(locale), show_alert=True)
        return
    text, keyboard = await find_screen(
        session,
        query=callback_data.q,
        words=words,
        roles=roles,
        page=callback_data.page,
        locale=locale,
    )
    if callback.message is not None:
        with contextlib.suppress(TelegramBadRequest):  # "message is not modified"
            await callback.message.edit_text(text, reply_markup=keyboard)  # type: ignore[union-attr]
    await callback.answer()


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsRegistered())
    router.callback_query.filter(IsRegistered())
    router.message.register(find_cmd, Command("find"))
    router.callback_query.register(find_page, FindPage.filter())
