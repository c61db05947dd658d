"""Drive the real dispatcher with real aiogram Updates; a session records every Bot API call
instead of sending it and answers with plausible results. Like Telegram, it refuses a message
whose HTML does not parse or whose text is too long (the local Bot API server's own checks)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    Update,
    User,
)

from bot.localserver.errors import ApiError
from bot.localserver.limits import message_text

BOT_ID = 42
BOT_USER = User(id=BOT_ID, is_bot=True, first_name="督办助手", username="duban_bot")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self.refused: list[TelegramMethod[Any]] = []  # what Telegram would have answered 400
        self.blocked: set[int] = set()  # chats whose user blocked the bot (403 on sending)
        self.message_ids: dict[int, int] = {}  # id(SendMessage call) → message id given
        self._ids = itertools.count(1000)

    async def close(self) -> None:
        return None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self._check_text(bot, method)
        self.calls.append(method)
        if isinstance(method, SendMessage):
            message_id = next(self._ids)
            self.message_ids[id(method)] = message_id
            markup = method.reply_markup
            return Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=Chat(id=int(method.chat_id), type="private"),
                from_user=BOT_USER,
                text=method.text,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            return True
        if isinstance(method, AnswerCallbackQuery):
            return True
        return True

    def _check_text(self, bot: Bot, method: TelegramMethod[Any]) -> None:
        """Refuse what Telegram refuses: HTML that does not parse, a text over 4096 characters,
        a message to someone who blocked the bot (the refused call goes to `refused`, not to
        `calls`: it never reached anyone)."""
        if not isinstance(method, SendMessage | EditMessageText):
            return
        if isinstance(method, SendMessage) and int(method.chat_id) in self.blocked:
            self.refused.append(method)
            raise TelegramForbiddenError(method=method, message="bot was blocked by the user")
        mode = method.parse_mode
        if isinstance(mode, Default):
            mode = bot.default[mode.name]
        entities = [e.model_dump(exclude_none=True) for e in method.entities or []]
        try:
            message_text(method.text, mode, entities)
        except ApiError as error:
            self.refused.append(method)
            raise TelegramBadRequest(method=method, message=error.description) from error

    def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError


@dataclass
class Sent:
    """What the bot did in answer to one update."""

    calls: list[TelegramMethod[Any]]
    session: RecordingSession | None = None

    @property
    def last_id(self) -> int:
        """The message id of the last message sent (to reply to it)."""
        assert self.session is not None and self.messages
        return self.session.message_ids[id(self.messages[-1])]

    @property
    def messages(self) -> list[SendMessage]:
        return [c for c in self.calls if isinstance(c, SendMessage)]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def alerts(self) -> list[str]:
        return [c.text or "" for c in self.calls if isinstance(c, AnswerCallbackQuery)]

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button sent, in order."""
        out = []
        for m in self.messages:
            markup = m.reply_markup
            for row in getattr(markup, "inline_keyboard", None) or []:
                out += [(b.text, b.callback_data) for b in row]
        return out

    def button(self, label: str) -> str:
        for text, data in self.buttons():
            if label in text:
                return data
        raise AssertionError(f"no button {label!r} in {self.buttons()}")


@dataclass
class Harness:
    bot: Bot
    dispatcher: Any
    session: RecordingSession
    _update_ids: Any = field(default_factory=lambda: itertools.count(1))
    _message_ids: Any = field(default_factory=lambda: itertools.count(1))

    def user(self, user_id: int, language_code: str | None = "zh-hans") -> User:
        return User(
            id=user_id, is_bot=False, first_name=f"U{user_id}", language_code=language_code
        )

    async def _feed(self, update: Update) -> Sent:
        before = len(self.session.calls)
        await self.dispatcher.feed_update(self.bot, update)
        return Sent(self.session.calls[before:], self.session)

    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        photo: bool = False,
        document: tuple[str, int] | tuple[str, int, str] | None = None,
        caption: str | None = None,
        language_code: str | None = "zh-hans",
        chat_type: str = "private",
        sticker: bool = False,
    ) -> Message:
        chat = Chat(id=user_id if chat_type == "private" else -100, type=chat_type)
        kw: dict[str, Any] = {}
        if reply_to is not None:
            kw["reply_to_message"] = Message(
                message_id=reply_to,
                date=datetime.now(UTC),
                chat=chat,
                from_user=BOT_USER,
                text="…",
            )
        if photo:
            kw["photo"] = [
                PhotoSize(file_id="small", file_unique_id="s", width=90, height=90),
                PhotoSize(file_id="PHOTO-BIG", file_unique_id="b", width=800, height=800),
            ]
        if document:
            name, size, *mime = document  # the MIME type the client declares, if given
            kw["document"] = Document(
                file_id="DOC-1",
                file_unique_id="d1",
                file_name=name,
                file_size=size,
                mime_type=mime[0] if mime else None,
            )
        if sticker:
            from aiogram.types import Sticker

            kw["sticker"] = Sticker(
                file_id="st",
                file_unique_id="st",
                type="regular",
                width=1,
                height=1,
                is_animated=False,
                is_video=False,
            )
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=chat,
            from_user=self.user(user_id, language_code),
            text=text,
            caption=caption,
            **kw,
        )

    async def send(self, user_id: int, text: str | None = None, **kw: Any) -> Sent:
        message = self.message(user_id, text, **kw)
        return await self._feed(Update(update_id=next(self._update_ids), message=message))

    async def press(
        self, user_id: int, data: str, *, message_id: int = 999, language_code: str = "zh-hans"
    ) -> Sent:
        chat = Chat(id=user_id, type="private")
        callback = CallbackQuery(
            id=str(next(self._update_ids)),
            from_user=self.user(user_id, language_code),
            chat_instance="ci",
            data=data,
            message=Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=chat,
                from_user=BOT_USER,
                text="card",
            ),
        )
        return await self._feed(Update(update_id=next(self._update_ids), callback_query=callback))


def make_bot(session: RecordingSession) -> Bot:
    from bot.telegram.middlewares import CommitBeforeAnswer

    # every flow driven through the harness fails if it answers before committing
    session.middleware(CommitBeforeAnswer(strict=True))
    return Bot(
        token=f"{BOT_ID}:TEST",
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
