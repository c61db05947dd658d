"""The control API under ``/control/``: play users, read what the bot did, steer the server.

JSON in, JSON out: success is ``{"ok": true, "result": ...}``, failure is
``{"ok": false, "error": "..."}`` with HTTP 400 (bad request), 404 (unknown route or
object) or 408 (a wait timed out). Usable from Python (:mod:`.client`) and from a browser.

Every request needs the server's control key (``X-Control-Key``) and writes need a JSON body;
the server's guard answers 401, 403 (another Host or Origin) or 415 before a route runs (see
:mod:`.guard`). GET routes only read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .calllog import CallLog
from .faults import FaultInjector
from .ratelimit import RateLimiter
from .world import World, WorldError

JsonHandler = Callable[[web.Request], Awaitable[Any]]
MAX_WAIT_SECONDS = 300.0
SSE_KEEPALIVE_SECONDS = 15.0
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\]')  # would end or split the header


class ControlError(Exception):
    """A control request failed; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json_route(handler: JsonHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def route(request: web.Request) -> web.Response:
        try:
            result = await handler(request)
        except ControlError as error:
            return web.json_response({"ok": False, "error": str(error)}, status=error.status)
        except (WorldError, ValueError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.json_response({"ok": True, "result": result})

    return route


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError as error:
        raise ControlError(400, f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def _opt_int(value: Any, name: str) -> int | None:
    return None if value is None or value == "" else _int(value, name)


def _seconds(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return min(max(float(value), 0.0), MAX_WAIT_SECONDS)
    except ValueError:
        raise ControlError(400, "timeout must be a number of seconds") from None


def _flag(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"} if value is not None else False


class ControlApi:
    """Routes of the control API over the server's world, limiter, faults and call log."""

    def __init__(
        self,
        world: World,
        *,
        limiter: RateLimiter,
        faults: FaultInjector,
        calls: CallLog,
        base_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.limiter = limiter
        self.faults = faults
        self.calls = calls
        self._base_url = base_url

    def routes(self) -> list[web.RouteDef]:
        j = _json_route
        return [
            web.get("/control/state", j(self.state)),
            web.post("/control/reset", j(self.reset)),
            web.get("/control/bot", j(self.bot_info)),
            web.get("/control/users", j(self.list_users)),
            web.post("/control/users", j(self.create_user)),
            web.get("/control/users/{user_id}", j(self.get_user)),
            web.post("/control/users/{user_id}/messages", j(self.user_sends_text)),
            web.post("/control/users/{user_id}/files", j(self.user_sends_file)),
            web.post("/control/users/{user_id}/press", j(self.user_presses)),
            web.post("/control/users/{user_id}/block", j(self.block)),
            web.post("/control/users/{user_id}/unblock", j(self.unblock)),
            web.get("/control/chats", j(self.list_chats)),
            web.post("/control/chats", j(self.create_group)),
            web.get("/control/chats/{chat_id}", j(self.get_chat)),
            web.post("/control/chats/{chat_id}/members", j(self.add_member)),
            web.get("/control/chats/{chat_id}/messages", j(self.chat_messages)),
            web.get("/control/chats/{chat_id}/messages/{message_id}", j(self.chat_message)),
            web.get("/control/chats/{chat_id}/messages/{message_id}/wait", j(self.wait_edit)),
            web.get("/control/chats/{chat_id}/next", j(self.next_bot_message)),
            web.get("/control/callbacks/{callback_id}", j(self.callback_answer)),
            web.get("/control/files/{file_id}", self.download_file),
            web.get("/control/rate-limits", j(self.get_rate_limits)),
            web.post("/control/rate-limits", j(self.set_rate_limits)),
            web.get("/control/faults", j(self.list_faults)),
            web.post("/control/faults", j(self.add_fault)),
            web.delete("/control/faults", j(self.clear_faults)),
            web.delete("/control/faults/{fault_id}", j(self.clear_faults)),
            web.post("/control/faults/release", j(self.release_faults)),
            web.get("/control/calls", j(self.list_calls)),
            web.delete("/control/calls", j(self.clear_calls)),
            web.get("/control/stats", j(self.stats)),
            web.get("/control/events", j(self.events)),
            web.get("/control/events/stream", self.event_stream),
        ]

    # -- world overview -----------------------------------------------------------------------

    async def state(self, request: web.Request) -> dict[str, Any]:
        world = self.world
        return {
            "base_url": self._base_url(),
            "bot": world.bot.to_api() if world.bot else None,
            "users": [u.to_json() for u in world.users.values()],
            "chats": [c.to_json() for c in world.chats.values()],
            "rate_limits": self.limiter.enabled,
            "pending_updates": len(world.updates),
            "webhook": world.webhook.info() if world.webhook else None,
            "last_event_seq": world.last_event_seq,
        }

    async def reset(self, request: web.Request) -> bool:
        """Forget users, chats, messages, files, faults, calls; rate limits back to off."""
        self.faults.clear()
        self.calls.clear()
        self.limiter.reset()
        self.limiter.enabled = False
        self.world.reset()
        return True

    async def bot_info(self, request: web.Request) -> dict[str, Any]:
        profile = self.world.profile
        return {
            "bot": self.world.bot.to_api() if self.world.bot else None,
            "commands": [
                {"scope": json.loads(scope), "language_code": lang, "commands": commands}
                for (scope, lang), commands in profile.commands.items()
            ],
            "descriptions": profile.descriptions,
            "short_descriptions": profile.short_descriptions,
            "names": profile.names,
        }

    # -- users --------------------------------------------------------------------------------

    async def list_users(self, request: web.Request) -> list[dict[str, Any]]:
        return [u.to_json() for u in self.world.users.values()]

    async def create_user(self, request: web.Request) -> dict[str, Any]:
        body = await _body(request)
        user = self.world.add_user(
            str(body.get("first_name") or "User"),
            user_id=_opt_int(body.get("id"), "id"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code"),
        )
        return user.to_json()

    async def get_user(self, request: web.Request) -> dict[str, Any]:
        return self.world.user(_int(request.match_info["user_id"], "user_id")).to_json()

    async def user_sends_text(self, request: web.Request) -> dict[str, Any]:
        body = await _body(request)
        message = self.world.user_sends_text(
            _int(request.match_info["user_id"], "user_id"),
            str(body.get("text") or ""),
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
            reply_to=_opt_int(body.get("reply_to_message_id"), "reply_to_message_id"),
        )
        return self.world.message_view(message)

    async def user_sends_file(self, request: web.Request) -> dict[str, Any]:
        """Multipart (``file`` part + fields) or JSON with ``data_base64``."""
        fields: dict[str, Any]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            upload = form.get("file")
            if not isinstance(upload, web.FileField):
                raise ControlError(400, "multipart body needs a 'file' part")
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            data = upload.file.read()
            fields.setdefault("file_name", upload.filename)
            fields.setdefault("mime_type", upload.content_type)
        else:
            fields = await _body(request)
            try:
                data = base64.b64decode(str(fields.get("data_base64") or ""), validate=True)
            except ValueError:
                raise ControlError(400, "data_base64 is not base64") from None
        message = self.world.user_sends_file(
            _int(request.match_info["user_id"], "user_id"),
            data,
            kind=str(fields.get("kind") or "document"),
            file_name=fields.get("file_name"),
            mime_type=fields.get("mime_type"),
            caption=fields.get("caption") or None,
            chat_id=_opt_int(fields.get("chat_id"), "chat_id"),
            reply_to=_opt_int(fields.get("reply_to_message_id"), "reply_to_message_id"),
        )
        return self.world.message_view(message)

    async def user_presses(self, request: web.Request) -> dict[str, Any]:
        """Press a button; with ``wait_answer`` seconds, wait for answerCallbackQuery."""
        body = await _body(request)
        record = self.world.press_button(
            _int(request.match_info["user_id"], "user_id"),
            _int(body.get("message_id"), "message_id"),
            str(body.get("callback_data") or ""),
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
        )
        wait = _seconds(body.get("wait_answer"), 0.0)
        if wait > 0:
            try:
                await asyncio.wait_for(record.answered.wait(), wait)
            except TimeoutError:
                raise ControlError(
                    408, f"bot did not answer callback query {record.id} within {wait}s"
                ) from None
        return {"callback_query_id": record.id, "answer": record.answer}

    async def callback_answer(self, request: web.Request) -> dict[str, Any]:
        record = self.world.callbacks.get(request.match_info["callback_id"])
        if record is None:
            raise ControlError(404, "unknown callback query")
        wait = _seconds(request.query.get("timeout"), 0.0)
        if wait > 0 and record.answer is None:
            try:
                await asyncio.wait_for(record.answered.wait(), wait)
            except TimeoutError:
                raise ControlError(408, "callback query not answered in time") from None
        return {"callback_query_id": record.id, "answer": record.answer}

    async def block(self, request: web.Request) -> dict[str, Any]:
        user_id = _int(request.match_info["user_id"], "user_id")
        return self.world.set_blocked(user_id, True).to_json()

    async def unblock(self, request: web.Request) -> dict[str, Any]:
        user_id = _int(request.match_info["user_id"], "user_id")
        return self.world.set_blocked(user_id, False).to_json()

    # -- chats and messages -------------------------------------------------------------------

    async def list_chats(self, request: web.Request) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.world.chats.values()]

    async def create_group(self, request: web.Request) -> dict[str, Any]:
        body = await _body(request)
        members = [_int(m, "member_ids[]") for m in body.get("member_ids") or []]
        chat = self.world.add_group(
            str(body.get("title") or "Group"),
            members,
            chat_id=_opt_int(body.get("id"), "id"),
            supergroup=bool(body.get("supergroup")),
        )
        return chat.to_json()

    async def get_chat(self, request: web.Request) -> dict[str, Any]:
        return self.world.chat(_int(request.match_info["chat_id"], "chat_id")).to_json()

    async def add_member(self, request: web.Request) -> dict[str, Any]:
        body = await _body(request)
        chat_id = _int(request.match_info["chat_id"], "chat_id")
        return self.world.add_member(chat_id, _int(body.get("user_id"), "user_id")).to_json()

    async def chat_messages(self, request: web.Request) -> list[dict[str, Any]]:
        messages = self.world.chat_messages(
            _int(request.match_info["chat_id"], "chat_id"),
            after=_opt_int(request.query.get("after"), "after") or 0,
            only_bot=_flag(request.query.get("only_bot")),
        )
        return [self.world.message_view(m) for m in messages]

    async def chat_message(self, request: web.Request) -> dict[str, Any]:
        chat = self.world.chat(_int(request.match_info["chat_id"], "chat_id"))
        message = chat.messages.get(_int(request.match_info["message_id"], "message_id"))
        if message is None:
            raise ControlError(404, "unknown message")
        return self.world.message_view(message)

    async def next_bot_message(self, request: web.Request) -> dict[str, Any]:
        """Wait for the first bot message with id > ``after`` in the chat."""
        chat_id = _int(request.match_info["chat_id"], "chat_id")
        self.world.chat(chat_id)
        after = _opt_int(request.query.get("after"), "after") or 0
        timeout = _seconds(request.query.get("timeout"), 5.0)
        message = await self.world.wait_until(
            lambda: self.world.next_bot_message(chat_id, after), timeout
        )
        if message is None:
            raise ControlError(
                408, f"no bot message after {after} in chat {chat_id} within {timeout}s"
            )
        return self.world.message_view(message)

    async def wait_edit(self, request: web.Request) -> dict[str, Any]:
        """Wait until the message's version exceeds ``version`` (edited or deleted)."""
        chat = self.world.chat(_int(request.match_info["chat_id"], "chat_id"))
        message = chat.messages.get(_int(request.match_info["message_id"], "message_id"))
        if message is None:
            raise ControlError(404, "unknown message")
        version = _opt_int(request.query.get("version"), "version") or message.version
        timeout = _seconds(request.query.get("timeout"), 5.0)
        changed = await self.world.wait_until(
            lambda: message.version > version or message.deleted, timeout
        )
        if not changed:
            raise ControlError(408, f"message {message.message_id} unchanged within {timeout}s")
        return self.world.message_view(message)

    async def download_file(self, request: web.Request) -> web.Response:
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            return web.json_response({"ok": False, "error": "unknown file_id"}, status=404)
        mime_type = stored.mime_type or "application/octet-stream"
        # a user's upload is served from the page's own origin: never as a page that runs
        headers = {
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
        }
        if mime_type not in INLINE_IMAGE_TYPES:
            headers["Content-Disposition"] = "attachment"
        if stored.file_name:
            name = _UNSAFE_IN_FILENAME.sub("_", stored.file_name)
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return web.Response(body=stored.data, headers=headers, content_type=mime_type)

    # -- limits, faults, calls ----------------------------------------------------------------

    async def get_rate_limits(self, request: web.Request) -> dict[str, Any]:
        return {"enabled": self.limiter.enabled}

    async def set_rate_limits(self, request: web.Request) -> dict[str, Any]:
        body = await _body(request)
        self.limiter.enabled = bool(body.get("enabled"))
        if body.get("reset"):
            self.limiter.reset()
        return {"enabled": self.limiter.enabled}

    async def list_faults(self, request: web.Request) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.faults.list()]

    async def add_fault(self, request: web.Request) -> dict[str, Any]:
        body = await _body(request)
        if not body.get("method"):
            raise ControlError(400, "method is required")
        fault = self.faults.add(
            str(body["method"]),
            str(body.get("kind") or "server_error"),
            count=_opt_int(body.get("count"), "count") or 1,
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
            retry_after=_opt_int(body.get("retry_after"), "retry_after") or 1,
            hang_seconds=_seconds(body.get("hang_seconds"), 30.0),
        )
        return fault.to_json()

    async def clear_faults(self, request: web.Request) -> dict[str, int]:
        fault_id = _opt_int(request.match_info.get("fault_id"), "fault_id")
        return {"removed": self.faults.clear(fault_id)}

    async def release_faults(self, request: web.Request) -> dict[str, int]:
        body = await _body(request)
        return {"released": self.faults.release(_opt_int(body.get("fault_id"), "fault_id"))}

    async def list_calls(self, request: web.Request) -> list[dict[str, Any]]:
        calls = self.calls.calls(
            request.query.get("method"), _opt_int(request.query.get("after"), "after") or 0
        )
        return [c.to_json() for c in calls]

    async def clear_calls(self, request: web.Request) -> bool:
        self.calls.clear()
        return True

    async def stats(self, request: web.Request) -> dict[str, Any]:
        return {
            **self.calls.stats(),
            "hanging": self.faults.hanging,
            "pending_updates": len(self.world.updates),
        }

    # -- events for the web chat --------------------------------------------------------------

    async def events(self, request: web.Request) -> dict[str, Any]:
        """Long poll: events with ``seq > after``, waiting up to ``timeout`` for the first."""
        after = _opt_int(request.query.get("after"), "after") or 0
        timeout = _seconds(request.query.get("timeout"), 0.0)
        await self.world.wait_until(lambda: self.world.last_event_seq > after, timeout)
        events, truncated = self.world.events_after(after)
        return {"events": events, "last_seq": self.world.last_event_seq, "truncated": truncated}

    async def event_stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events from ``after`` (or the ``Last-Event-ID`` header) onwards."""
        after = (
            _opt_int(request.headers.get("Last-Event-ID") or request.query.get("after"), "after")
            or 0
        )
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            while not self.world.closing:
                events, _ = self.world.events_after(after)
                for event in events:
                    payload = json.dumps(event, ensure_ascii=False)
                    await response.write(
                        f"id: {event['seq']}\nevent: {event['type']}\ndata: {payload}\n\n".encode()
                    )
                    after = event["seq"]
                if not events:
                    await response.write(b": keepalive\n\n")

                def advanced(seen: int = after) -> bool:
                    return self.world.last_event_seq > seen

                await self.world.wait_until(advanced, SSE_KEEPALIVE_SECONDS)
        except ConnectionResetError:
            pass
        return response
