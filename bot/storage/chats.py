"""Per-chat settings: a group chat's own language (table `chat_setting`, migration 0012).

`chat_locale` is the one lookup of a chat's language: the sender (bot.storage.outbox.delivery
.locale_of) and the locale middleware ask it for group chats. The caller commits writes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ChatSetting


async def chat_locale(session: AsyncSession, chat_id: int) -> str | None:
    """The language set for the chat (`/lang` in a group), or None when none was set."""
    found = await session.exec(
        select(ChatSetting.locale).where(col(ChatSetting.chat_id) == chat_id)
    )
    return found.first()


async def set_chat_locale(
    session: AsyncSession, chat_id: int, locale: str, *, by: int | None, at: datetime
) -> ChatSetting:
    found = await session.exec(select(ChatSetting).where(col(ChatSetting.chat_id) == chat_id))
    setting = found.first()
    if setting is None:
        setting = ChatSetting(chat_id=chat_id, locale=locale, set_by=by, set_at=at)
    setting.locale, setting.set_by, setting.set_at = locale, by, at
    session.add(setting)
    return setting


__all__ = ["chat_locale", "set_chat_locale"]
