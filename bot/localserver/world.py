"""The in-memory world the server simulates: the bot, users, chats, messages, files, updates.

Everything here is synchronous and runs on the event loop; waiting is done with
:meth:`World.wait_until`, which wakes on every change (no polling loops).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import media
from .entities import Entity, detect_entities
from .errors import bad_request, blocked_by_user, cant_initiate, chat_not_found

if TYPE_CHECKING:
    from .webhook import Webhook

# Update kinds Telegram delivers when the bot never said which it wants
DEFAULT_UPDATE_KINDS = frozenset({"message", "edited_message", "callback_query", "my_chat_member"})
FIRST_USER_ID = 1_000_001
FIRST_GROUP_ID = -1_000_001
DEFAULT_EVENT_CAPACITY = 50_000


class WorldError(ValueError):
    """A control request that makes no sense in the world (unknown user, missing button...)."""


@dataclass
class BotIdentity:
    id: int
    first_name: str
    username: str

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass
class UserRecord:
    """A simulated person. ``started``: has written to the bot; ``blocked``: blocked it."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False
    blocked: bool = False

    def to_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user

    def to_json(self) -> dict[str, Any]:
        return {**self.to_api(), "started": self.started, "blocked": self.blocked}


@dataclass
class StoredFile:
    """Bytes known to the server under a file_id (uploaded by the bot or by a user)."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # "photo" or "document"
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    photo_group: list[StoredFile] = field(default_factory=list, repr=False)

    def document_api(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def photo_size_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width,
            "height": self.height,
        }


@dataclass
class ChatRecord:
    """A private chat (id = user id) or a group (negative id) the bot is in."""

    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    member_ids: list[int] = field(default_factory=list)
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "title": self.title,
            "member_ids": list(self.member_ids),
            "reply_keyboard": self.reply_keyboard,
            "message_count": len(self.messages),
        }


@dataclass
class MessageRecord:
    """A message in a chat; bot messages keep every earlier version in ``history``."""

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    document: StoredFile | None = None
    photo: list[StoredFile] | None = None
    edit_date: int | None = None
    version: int = 1
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    def content(self) -> dict[str, Any]:
        """The editable part, as stored in the edit history."""
        return {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
            "version": self.version,
        }


@dataclass
class CallbackRecord:
    """A button press waiting for (or having received) the bot's answerCallbackQuery."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


@dataclass
class BotProfile:
    """What the bot set about itself: commands per (scope, language), descriptions."""

    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


class World:
    """All simulated state. Not thread-safe: use it from the server's event loop only."""

    def __init__(
        self,
        *,
        bot_username: str = "local_test_bot",
        bot_first_name: str = "Local Test Bot",
        now: Callable[[], float] = time.time,
        event_capacity: int = DEFAULT_EVENT_CAPACITY,
    ) -> None:
        self._bot_username = bot_username
        self._bot_first_name = bot_first_name
        self._now = now
        self._event_capacity = event_capacity
        self.bot: BotIdentity | None = None
        self._signal = asyncio.Event()
        self.closing = False
        self._event_seq = 0  # not reset with the state: a web chat's "after" stays meaningful
        self.webhook: Webhook | None = None  # set by setWebhook; kept by reset() like the bot
        self._init_state()

    def _init_state(self) -> None:
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.profile = BotProfile()
        self.updates: deque[dict[str, Any]] = deque()
        self.allowed_updates: frozenset[str] | None = None
        self.poll_generation = 0
        self.events: deque[dict[str, Any]] = deque(maxlen=self._event_capacity)
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(FIRST_USER_ID)
        self._group_ids = itertools.count(FIRST_GROUP_ID, -1)
        self._file_numbers = itertools.count(1)
        self._callback_ids = itertools.count(4_000_000_000_001)

    # -- waiting ------------------------------------------------------------------------------

    def changed(self) -> None:
        """Wake every waiter; call after any mutation."""
        self._signal.set()
        self._signal = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Return the first truthy ``predicate()`` value, or None after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while not (result := predicate()):
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closing:
                return None
            signal = self._signal
            try:
                await asyncio.wait_for(signal.wait(), remaining)
            except TimeoutError:
                pass
        return result

    def reset(self) -> None:
        """Forget users, chats, messages, files, updates; the bot identity stays."""
        for callback in self.callbacks.values():
            callback.answered.set()
        self._init_state()
        self.emit("reset")

    # -- events for the web chat --------------------------------------------------------------

    def emit(self, kind: str, **data: Any) -> dict[str, Any]:
        self._event_seq += 1
        event = {"seq": self._event_seq, "type": kind, **data}
        self.events.append(event)
        self.changed()
        return event

    def events_after(self, after: int) -> tuple[list[dict[str, Any]], bool]:
        """Events with ``seq > after`` and whether older ones were dropped for capacity."""
        if not self.events:
            return [], False
        first = self.events[0]["seq"]
        # seqs in the deque are consecutive, so the start index is arithmetic, not a scan
        start = max(0, after - first + 1)
        return list(itertools.islice(self.events, start, None)), first > after + 1

    @property
    def last_event_seq(self) -> int:
        return self._event_seq

    # -- bot identity -------------------------------------------------------------------------

    def adopt_bot(self, bot_id: int) -> BotIdentity:
        if self.bot is None or self.bot.id != bot_id:
            self.bot = BotIdentity(bot_id, self._bot_first_name, self._bot_username)
        return self.bot

    def _bot(self) -> BotIdentity:
        if self.bot is None:
            raise WorldError("no bot has connected yet")
        return self.bot

    # -- users and chats ----------------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> UserRecord:
        """Create a person and their private chat with the bot (id = user id)."""
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users:
                user_id = next(self._user_ids)
        if user_id <= 0:
            raise WorldError("user ids are positive")
        if user_id in self.users:
            raise WorldError(f"user {user_id} already exists")
        if not first_name:
            raise WorldError("first_name is required")
        user = UserRecord(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        self.chats[user_id] = ChatRecord(user_id, "private")
        self.emit("user", user=user.to_json())
        return user

    def user(self, user_id: int) -> UserRecord:
        try:
            return self.users[user_id]
        except KeyError:
            raise WorldError(f"unknown user {user_id}") from None

    def chat(self, chat_id: int) -> ChatRecord:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise WorldError(f"unknown chat {chat_id}") from None

    def add_group(
        self,
        title: str,
        member_ids: list[int],
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
    ) -> ChatRecord:
        """Create a group the bot is a member of; members must be existing users."""
        for member_id in member_ids:
            self.user(member_id)
        if chat_id is None:
            chat_id = next(self._group_ids)
            if supergroup:
                chat_id = -1_000_000_000_000 + chat_id
        if chat_id >= 0 or chat_id in self.chats:
            raise WorldError(f"group id {chat_id} must be negative and unused")
        chat = ChatRecord(
            chat_id,
            "supergroup" if supergroup else "group",
            title,
            list(dict.fromkeys(member_ids)),
        )
        self.chats[chat_id] = chat
        self.emit("chat", chat=chat.to_json())
        return chat

    def add_member(self, chat_id: int, user_id: int) -> ChatRecord:
        chat = self.chat(chat_id)
        self.user(user_id)
        if not chat.is_group:
            raise WorldError("members can only be added to groups")
        if user_id not in chat.member_ids:
            chat.member_ids.append(user_id)
        self.emit("chat", chat=chat.to_json())
        return chat

    def set_blocked(self, user_id: int, blocked: bool) -> UserRecord:
        """Block or unblock the bot; the bot gets a my_chat_member update as from Telegram."""
        user = self.user(user_id)
        if user.blocked == blocked:
            return user
        user.blocked = blocked
        if blocked or user.started:
            self._queue_member_update(user, blocked)
        self.emit("user", user=user.to_json())
        return user

    def _queue_member_update(self, user: UserRecord, blocked: bool) -> None:
        if self.bot is None:
            return
        bot = self.bot.to_api()
        member = {"status": "member", "user": bot}
        kicked = {"status": "kicked", "user": bot, "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        self.queue_update(
            "my_chat_member",
            {
                "chat": self.chat_api(self.chats[user.id]),
                "from": user.to_api(),
                "date": self.timestamp(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    def timestamp(self) -> int:
        return int(self._now())

    # -- API shapes ---------------------------------------------------------------------------

    def chat_api(self, chat: ChatRecord) -> dict[str, Any]:
        if chat.type == "private":
            user = self.users[chat.id]
            data: dict[str, Any] = {
                "id": chat.id,
                "type": "private",
                "first_name": user.first_name,
            }
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            return data
        return {"id": chat.id, "type": chat.type, "title": chat.title or ""}

    def sender_api(self, message: MessageRecord) -> dict[str, Any]:
        if message.from_bot:
            return self._bot().to_api()
        return self.users[message.sender_id].to_api()

    def message_api(self, message: MessageRecord, *, with_reply: bool = True) -> dict[str, Any]:
        """The message as a Bot API Message object."""
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.sender_api(message),
            "chat": self.chat_api(chat),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        reply = chat.messages.get(message.reply_to_message_id or 0)
        if with_reply and reply is not None and not reply.deleted:
            data["reply_to_message"] = self.message_api(reply, with_reply=False)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.document is not None:
            data["document"] = message.document.document_api()
        if message.photo:
            data["photo"] = [size.photo_size_api() for size in message.photo]
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        markup = message.reply_markup
        if markup and any(markup.get("inline_keyboard") or []):
            data["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        return data

    def message_view(self, message: MessageRecord) -> dict[str, Any]:
        """The message for the control API: Bot API form plus version, history and flags."""
        return {
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "from_bot": message.from_bot,
            "sender_id": message.sender_id,
            "text": message.text,
            "caption": message.caption,
            "reply_markup": message.reply_markup,
            "version": message.version,
            "deleted": message.deleted,
            "history": list(message.history),
            "message": self.message_api(message),
        }

    # -- updates ------------------------------------------------------------------------------

    def queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self.changed()
        return update

    def wanted_kinds(self) -> frozenset[str]:
        return self.allowed_updates or DEFAULT_UPDATE_KINDS

    def confirm_updates(self, offset: int | None) -> None:
        """Forget updates before ``offset`` (negative: keep only the last ``-offset``)."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()
            return
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()

    def pending_update_count(self) -> int:
        wanted = self.wanted_kinds()
        return sum(1 for u in self.updates if _update_kind(u) in wanted)

    def next_deliverable_update(self) -> dict[str, Any] | None:
        """The oldest pending update the bot wants (unwanted ones before it are dropped)."""
        wanted = self.wanted_kinds()
        while self.updates and _update_kind(self.updates[0]) not in wanted:
            self.updates.popleft()
        return self.updates[0] if self.updates else None

    def deliverable_updates(self, limit: int) -> list[dict[str, Any]]:
        """Pending updates the bot wants, oldest first; unwanted ones are dropped."""
        wanted = self.wanted_kinds()
        kept = deque(u for u in self.updates if _update_kind(u) in wanted)
        self.updates = kept
        return list(itertools.islice(kept, limit))

    # -- what users do ------------------------------------------------------------------------

    def _user_chat(self, user_id: int, chat_id: int | None) -> tuple[UserRecord, ChatRecord]:
        user = self.user(user_id)
        chat = self.chat(user_id if chat_id is None else chat_id)
        if chat.is_group and user_id not in chat.member_ids:
            raise WorldError(f"user {user_id} is not a member of chat {chat.id}")
        if not chat.is_group and chat.id != user_id:
            raise WorldError("a user can only write in their own private chat")
        if not chat.is_group:
            if user.blocked:
                self.set_blocked(user_id, False)  # writing to a blocked bot unblocks it first
            user.started = True
        return user, chat

    def _new_message(self, chat: ChatRecord, sender_id: int, from_bot: bool) -> MessageRecord:
        message = MessageRecord(
            chat.id, chat.next_message_id, sender_id, from_bot, self.timestamp()
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def _reply_target(self, chat: ChatRecord, reply_to: int | None) -> int | None:
        if reply_to is None:
            return None
        target = chat.messages.get(reply_to)
        if target is None or target.deleted:
            raise WorldError(f"message {reply_to} not found in chat {chat.id}")
        return reply_to

    def user_sends_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> MessageRecord:
        """A user writes ``text``; commands get bot_command entities. Queues a message update."""
        if not text.strip():
            raise WorldError("text is empty")
        _, chat = self._user_chat(user_id, chat_id)
        reply_to = self._reply_target(chat, reply_to)
        message = self._new_message(chat, user_id, from_bot=False)
        message.text = text
        message.entities = detect_entities(text, [])
        message.reply_to_message_id = reply_to
        return self._publish_user_message(message)

    def user_sends_file(
        self,
        user_id: int,
        data: bytes,
        *,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> MessageRecord:
        """A user sends a photo (``kind="photo"``) or a document; queues a message update."""
        if kind not in {"photo", "document"}:
            raise WorldError("kind must be 'photo' or 'document'")
        if not data:
            raise WorldError("file is empty")
        _, chat = self._user_chat(user_id, chat_id)
        reply_to = self._reply_target(chat, reply_to)
        if kind == "photo":
            photo = self.store_photo(data)
            if photo is None:
                raise WorldError("photo bytes are not a PNG, JPEG, GIF or WebP image")
        message = self._new_message(chat, user_id, from_bot=False)
        if kind == "photo":
            message.photo = photo
        else:
            message.document = self.store_document(data, file_name, mime_type)
        if caption:
            message.caption = caption
            message.caption_entities = detect_entities(caption, [])
        message.reply_to_message_id = reply_to
        return self._publish_user_message(message)

    def _publish_user_message(self, message: MessageRecord) -> MessageRecord:
        self.queue_update("message", self.message_api(message))
        self.emit("message", chat_id=message.chat_id, message=self.message_view(message))
        return message

    def press_button(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> CallbackRecord:
        """A user presses an inline button carrying ``callback_data`` on a bot message."""
        user, chat = self._user_chat(user_id, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise WorldError(f"message {message_id} not found in chat {chat.id}")
        rows = (message.reply_markup or {}).get("inline_keyboard") or []
        if not any(b.get("callback_data") == callback_data for row in rows for b in row):
            raise WorldError(f"message {message_id} has no button with data {callback_data!r}")
        record = CallbackRecord(
            str(next(self._callback_ids)), user_id, chat.id, message_id, callback_data
        )
        self.callbacks[record.id] = record
        instance = hashlib.sha1(str(chat.id).encode(), usedforsecurity=False).hexdigest()[:16]
        self.queue_update(
            "callback_query",
            {
                "id": record.id,
                "from": user.to_api(),
                "message": self.message_api(message),
                "chat_instance": str(int(instance, 16)),
                "data": callback_data,
            },
        )
        self.emit(
            "callback_query",
            chat_id=chat.id,
            message_id=message_id,
            callback_query_id=record.id,
            data=callback_data,
            user_id=user_id,
        )
        return record

    # -- files --------------------------------------------------------------------------------

    def _store(
        self,
        data: bytes,
        kind: str,
        file_name: str | None,
        mime: str | None,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        file_id, unique_id = media.new_file_id(kind)
        folder = "photos" if kind == "photo" else "documents"
        ext = "jpg" if kind == "photo" else media.extension(file_name, mime or "")
        path = f"{folder}/file_{next(self._file_numbers)}.{ext}"
        stored = StoredFile(
            file_id, unique_id, data, kind, path, file_name, mime, *(size or (None, None))
        )
        self.files[file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def store_document(
        self, data: bytes, file_name: str | None, declared_mime: str | None
    ) -> StoredFile:
        return self._store(data, "document", file_name, media.guess_mime(file_name, declared_mime))

    def store_photo(self, data: bytes) -> list[StoredFile] | None:
        """Store a photo as Telegram's size ladder; None if the bytes are not an image."""
        size = media.image_size(data)
        if size is None:
            return None
        # Without an image library every size holds the original bytes; only dimensions differ
        group = [
            self._store(data, "photo", None, "image/jpeg", (w, h))
            for _, w, h in media.photo_ladder(*size)
        ]
        for stored in group:
            stored.photo_group = group
        return group

    # -- what the bot does --------------------------------------------------------------------

    def chat_for_bot(self, chat_id: int | str | None) -> ChatRecord:
        """Resolve a chat the bot addresses, with Telegram's 400/403 answers."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise chat_not_found() from None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise chat_not_found()
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise blocked_by_user()
            if not user.started:
                raise cant_initiate()
        return chat

    def bot_message(
        self,
        chat: ChatRecord,
        *,
        text: str | None = None,
        entities: list[Entity] | None = None,
        caption: str | None = None,
        caption_entities: list[Entity] | None = None,
        document: StoredFile | None = None,
        photo: list[StoredFile] | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> MessageRecord:
        """Store a message the bot sent (already validated) and announce it."""
        message = self._new_message(chat, self._bot().id, from_bot=True)
        message.text = text
        message.entities = entities or []
        message.caption = caption or None
        message.caption_entities = caption_entities or []
        message.document = document
        message.photo = photo
        message.reply_to_message_id = reply_to
        message.reply_markup = reply_markup
        self._apply_keyboard(chat, reply_markup)
        self.emit("message", chat_id=chat.id, message=self.message_view(message))
        return message

    def _apply_keyboard(self, chat: ChatRecord, markup: dict[str, Any] | None) -> None:
        if markup is None or "inline_keyboard" in markup:
            return
        chat.reply_keyboard = markup if "keyboard" in markup else None
        self.emit("chat", chat=chat.to_json())

    def bot_reply_target(
        self, chat: ChatRecord, reply_to: int | None, allow_missing: bool
    ) -> int | None:
        if reply_to is None:
            return None
        target = chat.messages.get(reply_to)
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return reply_to

    def message_for_edit(self, chat: ChatRecord, message_id: int | None) -> MessageRecord:
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def edit_message(self, message: MessageRecord, **changes: Any) -> MessageRecord:
        """Apply an edit (text/entities/caption/caption_entities/reply_markup) or raise
        Telegram's "message is not modified"."""
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.history.append(message.content())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = self.timestamp()
        message.version += 1
        self.emit("edit", chat_id=message.chat_id, message=self.message_view(message))
        return message

    def delete_message(self, chat: ChatRecord, message_id: int | None) -> None:
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if not message.from_bot and chat.is_group:
            raise bad_request("message can't be deleted")
        message.deleted = True
        self.emit("delete", chat_id=chat.id, message_id=message.message_id)

    def answer_callback(self, callback_id: str | None, answer: dict[str, Any]) -> None:
        record = self.callbacks.get(callback_id or "")
        if record is None or record.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        record.answer = answer
        record.answered.set()
        self.emit(
            "callback_answer",
            chat_id=record.chat_id,
            message_id=record.message_id,
            callback_query_id=record.id,
            **answer,
        )

    # -- queries for the control API ----------------------------------------------------------

    def chat_messages(
        self, chat_id: int, *, after: int = 0, only_bot: bool = False
    ) -> list[MessageRecord]:
        chat = self.chat(chat_id)
        return [
            m
            for m in chat.messages.values()
            if m.message_id > after and (m.from_bot or not only_bot)
        ]

    def next_bot_message(self, chat_id: int, after: int) -> MessageRecord | None:
        """The first bot message in the chat with id > ``after`` (deleted ones included)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return None
        for message in chat.messages.values():
            if message.message_id > after and message.from_bot:
                return message
        return None


def _update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")
