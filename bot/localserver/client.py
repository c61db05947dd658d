"""A thin async client for the local server's control API (what tests use to play users).

Every method maps to one ``/control/...`` endpoint. Failures raise :class:`ControlError`;
waits that time out raise :class:`ControlTimeout` (also a ``TimeoutError``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

from .guard import KEY_HEADER

_WAIT_SLACK = 5.0  # HTTP timeout beyond the server-side wait, so the server answers first


class ControlError(RuntimeError):
    """The control API refused a request; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ControlTimeout(ControlError, TimeoutError):
    """A wait (next bot message, edit, callback answer) ended without the awaited event."""


@dataclass(frozen=True)
class ChatMessage:
    """A message as the control API reports it; ``message`` is the Bot API Message dict."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    text: str | None
    caption: str | None
    reply_markup: dict[str, Any] | None
    version: int
    deleted: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    message: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatMessage:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.message.get("entities") or self.message.get("caption_entities") or [])

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Inline keyboard rows (empty when there is none)."""
        return list((self.reply_markup or {}).get("inline_keyboard") or [])

    def button_data(self, text: str) -> str:
        """callback_data of the inline button whose text contains ``text``."""
        for row in self.buttons:
            for button in row:
                if text in button.get("text", "") and "callback_data" in button:
                    return str(button["callback_data"])
        raise KeyError(f"no inline button with text containing {text!r}")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.message.get("document")

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.message.get("photo")


@dataclass(frozen=True)
class CallbackResult:
    """A button press: the callback query id and the bot's answer (None if not answered)."""

    callback_query_id: str
    answer: dict[str, Any] | None

    @property
    def text(self) -> str | None:
        return (self.answer or {}).get("text")


class LocalServerClient:
    """Async client for ``/control/``: ``async with LocalServerClient(url, key=key) as c:``.

    ``key`` is the server's control key (``LocalBotApiServer.control_key``), sent in the
    ``X-Control-Key`` header of every request. Pass ``session`` to share an aiohttp session
    (it is then not closed by this client).
    """

    def __init__(
        self,
        base_url: str,
        *,
        key: str | None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {KEY_HEADER: key} if key else {}
        self._session = session
        self._own_session = session is None
        self._timeout = timeout

    async def __aenter__(self) -> LocalServerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        wait: float = 0.0,
    ) -> Any:
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        timeout = aiohttp.ClientTimeout(total=max(self._timeout, wait + _WAIT_SLACK))
        async with self._http().request(
            method,
            self.base_url + path,
            json=json,
            data=data,
            params=query,
            timeout=timeout,
            headers=self._headers,
        ) as response:
            body = await response.json()
        if body.get("ok"):
            return body["result"]
        error_type = ControlTimeout if response.status == 408 else ControlError
        raise error_type(response.status, str(body.get("error")))

    # -- world --------------------------------------------------------------------------------

    async def state(self) -> dict[str, Any]:
        return await self._call("GET", "/control/state")

    async def reset(self) -> None:
        """Forget all users, chats, messages, files, faults and calls."""
        await self._call("POST", "/control/reset")

    async def bot_info(self) -> dict[str, Any]:
        """The bot's identity, commands per scope/language and descriptions."""
        return await self._call("GET", "/control/bot")

    async def create_user(
        self,
        first_name: str = "User",
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """Create a person; their private chat id equals the returned ``id``."""
        body = {
            "first_name": first_name,
            "id": user_id,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        return await self._call("POST", "/control/users", json=body)

    async def users(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/control/users")

    async def create_group(
        self,
        title: str,
        member_ids: list[int],
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
    ) -> dict[str, Any]:
        body = {"title": title, "member_ids": member_ids, "id": chat_id, "supergroup": supergroup}
        return await self._call("POST", "/control/chats", json=body)

    async def add_member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        return await self._call(
            "POST", f"/control/chats/{chat_id}/members", json={"user_id": user_id}
        )

    async def chats(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/control/chats")

    # -- what users do ------------------------------------------------------------------------

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> ChatMessage:
        """The user writes ``text`` (private chat unless ``chat_id``); returns their message."""
        body = {"text": text, "chat_id": chat_id, "reply_to_message_id": reply_to}
        return ChatMessage.from_json(
            await self._call("POST", f"/control/users/{user_id}/messages", json=body)
        )

    async def send_file(
        self,
        user_id: int,
        data: bytes,
        *,
        kind: str = "document",
        file_name: str = "file.bin",
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> ChatMessage:
        """The user sends a document or (``kind="photo"``, image bytes) a photo."""
        body = {
            "data_base64": base64.b64encode(data).decode(),
            "kind": kind,
            "file_name": file_name,
            "mime_type": mime_type,
            "caption": caption,
            "chat_id": chat_id,
            "reply_to_message_id": reply_to,
        }
        return ChatMessage.from_json(
            await self._call("POST", f"/control/users/{user_id}/files", json=body)
        )

    async def press(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        wait_answer: float = 0.0,
    ) -> CallbackResult:
        """Press an inline button; with ``wait_answer`` > 0 wait for answerCallbackQuery."""
        body = {
            "message_id": message_id,
            "callback_data": callback_data,
            "chat_id": chat_id,
            "wait_answer": wait_answer,
        }
        result = await self._call(
            "POST", f"/control/users/{user_id}/press", json=body, wait=wait_answer
        )
        return CallbackResult(result["callback_query_id"], result["answer"])

    async def callback_answer(
        self, callback_query_id: str, *, timeout: float = 5.0
    ) -> CallbackResult:
        result = await self._call(
            "GET",
            f"/control/callbacks/{callback_query_id}",
            params={"timeout": timeout},
            wait=timeout,
        )
        return CallbackResult(result["callback_query_id"], result["answer"])

    async def block(self, user_id: int) -> dict[str, Any]:
        return await self._call("POST", f"/control/users/{user_id}/block")

    async def unblock(self, user_id: int) -> dict[str, Any]:
        return await self._call("POST", f"/control/users/{user_id}/unblock")

    # -- what the bot did ---------------------------------------------------------------------

    async def messages(
        self, chat_id: int, *, after: int = 0, only_bot: bool = False
    ) -> list[ChatMessage]:
        """Messages in the chat with id > ``after`` (current content plus edit history)."""
        result = await self._call(
            "GET",
            f"/control/chats/{chat_id}/messages",
            params={"after": after, "only_bot": int(only_bot)},
        )
        return [ChatMessage.from_json(item) for item in result]

    async def message(self, chat_id: int, message_id: int) -> ChatMessage:
        return ChatMessage.from_json(
            await self._call("GET", f"/control/chats/{chat_id}/messages/{message_id}")
        )

    async def next_bot_message(
        self, chat_id: int, *, after: int = 0, timeout: float = 5.0
    ) -> ChatMessage:
        """Wait for the first bot message in the chat with id > ``after``."""
        result = await self._call(
            "GET",
            f"/control/chats/{chat_id}/next",
            params={"after": after, "timeout": timeout},
            wait=timeout,
        )
        return ChatMessage.from_json(result)

    async def wait_edit(
        self, chat_id: int, message_id: int, *, version: int, timeout: float = 5.0
    ) -> ChatMessage:
        """Wait until the message's version exceeds ``version`` (an edit or deletion)."""
        result = await self._call(
            "GET",
            f"/control/chats/{chat_id}/messages/{message_id}/wait",
            params={"version": version, "timeout": timeout},
            wait=timeout,
        )
        return ChatMessage.from_json(result)

    async def download(self, file_id: str) -> bytes:
        """The bytes stored under a file_id (sent by the bot or a user)."""
        url = f"{self.base_url}/control/files/{file_id}"
        async with self._http().get(url, headers=self._headers) as response:
            if response.status != 200:
                raise ControlError(response.status, await response.text())
            return await response.read()

    # -- limits, faults, calls, events --------------------------------------------------------

    async def set_rate_limits(self, enabled: bool, *, reset: bool = False) -> None:
        await self._call("POST", "/control/rate-limits", json={"enabled": enabled, "reset": reset})

    async def add_fault(
        self,
        method: str,
        kind: str,
        *,
        count: int = 1,
        chat_id: int | None = None,
        retry_after: int = 1,
        hang_seconds: float = 30.0,
    ) -> dict[str, Any]:
        """Make the next ``count`` calls of ``method`` fail.

        ``kind``: "retry_after" (429), "server_error" (500), "blocked" (403, user marked
        blocked), "hang" (held until :meth:`release_hangs` or ``hang_seconds``) or
        "malformed" (bytes that are not HTTP: the client's error quotes the request URL).
        """
        body = {
            "method": method,
            "kind": kind,
            "count": count,
            "chat_id": chat_id,
            "retry_after": retry_after,
            "hang_seconds": hang_seconds,
        }
        return await self._call("POST", "/control/faults", json=body)

    async def faults(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/control/faults")

    async def clear_faults(self, fault_id: int | None = None) -> int:
        path = "/control/faults" if fault_id is None else f"/control/faults/{fault_id}"
        return (await self._call("DELETE", path))["removed"]

    async def release_hangs(self, fault_id: int | None = None) -> int:
        return (await self._call("POST", "/control/faults/release", json={"fault_id": fault_id}))[
            "released"
        ]

    async def calls(self, method: str | None = None, *, after: int = 0) -> list[dict[str, Any]]:
        """Recorded Bot API calls: seq, at, method, params, status, description."""
        return await self._call("GET", "/control/calls", params={"method": method, "after": after})

    async def clear_calls(self) -> None:
        await self._call("DELETE", "/control/calls")

    async def stats(self) -> dict[str, Any]:
        """Counters: total, by_method, by_status, by_method_status, hanging, pending_updates."""
        return await self._call("GET", "/control/stats")

    async def events(self, *, after: int = 0, timeout: float = 0.0) -> dict[str, Any]:
        """Events with seq > ``after``: ``{"events": [...], "last_seq": N, "truncated": b}``."""
        return await self._call(
            "GET", "/control/events", params={"after": after, "timeout": timeout}, wait=timeout
        )
