"""The Bot API side: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` routes.

Each method handler reads :class:`Params`, changes the :class:`World` and returns the
``result`` value; failures are :class:`ApiError` and are answered in Telegram's format.
Every call is recorded in the :class:`CallLog` with the status it got.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import limits
from .calllog import CallLog
from .errors import (
    ApiError,
    bad_request,
    chat_not_found,
    conflict_other_poller,
    conflict_webhook_active,
    method_not_found,
    server_error,
    too_many_requests,
    unauthorized,
)
from .faults import FaultInjector, MalformedResponse, answer_malformed
from .params import Params, Upload, read_params
from .ratelimit import RateLimiter
from .webhook import webhook_from
from .world import ChatRecord, MessageRecord, StoredFile, World

Handler = Callable[[Params], Awaitable[Any]]
logger = logging.getLogger(__name__)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}
_MARKUP_ERROR = "can't parse reply keyboard markup JSON object"


def parse_token(token: str) -> int | None:
    """The bot id encoded in a well-formed token ``<digits>:<secret>``, else None."""
    left, sep, right = token.partition(":")
    if not sep or not left.isdigit() or not right or any(c.isspace() for c in token):
        return None
    return int(left)


class BotApi:
    """Serves the Bot API for one bot.

    ``token`` None adopts the first well-formed token presented; afterwards (or when given)
    any other token gets 401 Unauthorized.
    """

    def __init__(
        self,
        world: World,
        *,
        limiter: RateLimiter,
        faults: FaultInjector,
        calls: CallLog,
        token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.world = world
        self.limiter = limiter
        self.faults = faults
        self.calls = calls
        self.token = token
        self._clock = clock
        if token is not None:
            bot_id = parse_token(token)
            if bot_id is None:
                raise ValueError("token must look like '<digits>:<secret>'")
            world.adopt_bot(bot_id)
        self._methods: dict[str, Handler] = {
            name.lower(): handler for name, handler in self._handlers().items()
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/bot{token}/{method}", self.handle),
            web.get("/file/bot{token}/{path:.+}", self.download),
        ]

    # -- plumbing -----------------------------------------------------------------------------

    def authorize(self, token: str) -> None:
        """Accept the configured token (or adopt the first well-formed one), else 401."""
        bot_id = parse_token(token)
        if bot_id is None or (
            self.token is not None and not hmac.compare_digest(token.encode(), self.token.encode())
        ):
            raise unauthorized()
        if self.token is None:
            self.token = token
            self.world.adopt_bot(bot_id)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        # a call is logged at its arrival (as Telegram counts it against the flood limits), not
        # when an upload has been read and the answer is ready
        arrived = self._clock()
        params: Params | None = None
        try:
            self.authorize(request.match_info["token"])
            params = await read_params(request)
            result = await self._dispatch(method, params)
        except ApiError as error:
            failure = error
        except MalformedResponse:
            self.calls.record(
                arrived,
                method,
                params.summary() if params else {},
                0,
                "malformed answer (injected fault)",
            )
            return answer_malformed(request)
        except Exception:  # a server bug must still look like Telegram's 500, not an HTML page
            logger.exception("Bot API method %s failed", method)
            failure = server_error()
        else:
            self.calls.record(arrived, method, params.summary(), 200, None)
            return web.json_response({"ok": True, "result": result})
        summary = params.summary() if params else {}
        self.calls.record(arrived, method, summary, failure.code, failure.description)
        return web.json_response(failure.to_json(), status=failure.code)

    async def run_webhook_reply(self, method: str, params: Params) -> None:
        """Execute a method a webhook answered with; recorded like a call, its result or
        error goes nowhere (as with Telegram)."""
        description: str | None
        try:
            await self._dispatch(method, params)
        except ApiError as error:
            status, description = error.code, error.description
        except MalformedResponse:
            status, description = 0, "malformed answer (injected fault)"
        except Exception:
            logger.exception("Bot API method %s in a webhook reply failed", method)
            status, description = 500, "Internal Server Error"
        else:
            status, description = 200, None
        self.calls.record(self._clock(), method, params.summary(), status, description)

    async def _dispatch(self, method: str, params: Params) -> Any:
        handler = self._methods.get(method.lower())
        if handler is None:
            raise method_not_found()
        chat_id = params.chat_id()
        numeric_chat = chat_id if isinstance(chat_id, int) else None
        fault = self.faults.take(method, numeric_chat)
        if fault is not None:
            if fault.kind == "blocked" and numeric_chat in self.world.users:
                self.world.set_blocked(numeric_chat, True)
            await self.faults.apply(fault)
        chat = self.world.chats.get(numeric_chat) if numeric_chat is not None else None
        if chat is not None:
            retry_after = self.limiter.check(method, chat.id, is_group=chat.is_group)
            if retry_after is not None:
                raise too_many_requests(retry_after)
        return await handler(params)

    async def download(self, request: web.Request) -> web.StreamResponse:
        try:
            self.authorize(request.match_info["token"])
        except ApiError as error:
            return web.json_response(error.to_json(), status=error.code)
        stored = self.world.files_by_path.get(request.match_info["path"])
        if stored is None or len(stored.data) > limits.MAX_DOWNLOAD_BYTES:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self.get_me,
            "logOut": self.ok,
            "close": self.ok,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "getUpdates": self.get_updates,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendDocument": self.send_document,
            "sendPhoto": self.send_photo,
            "getFile": self.get_file,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendChatAction": self.send_chat_action,
            "getChat": self.get_chat,
            "setMyDescription": self.set_my_description,
            "getMyDescription": self.get_my_description,
            "setMyShortDescription": self.set_my_short_description,
            "getMyShortDescription": self.get_my_short_description,
            "setMyName": self.set_my_name,
            "getMyName": self.get_my_name,
        }

    # -- identity and polling -----------------------------------------------------------------

    async def ok(self, params: Params) -> bool:
        return True

    async def get_me(self, params: Params) -> dict[str, Any]:
        assert self.world.bot is not None  # authorize() adopted it
        return {
            **self.world.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def set_webhook(self, params: Params) -> bool:
        """Set (or, with an empty url, remove) the webhook updates are posted to
        (bot.localserver.webhook); a waiting getUpdates ends with 409."""
        webhook = webhook_from(params)
        current = self.world.webhook
        if webhook is not None and current is not None and current.url == webhook.url:
            webhook.last_error_date = current.last_error_date
            webhook.last_error_message = current.last_error_message
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            self.world.allowed_updates = frozenset(map(str, allowed)) or None
        if params.flag("drop_pending_updates"):
            self.world.updates.clear()
        self.world.webhook = webhook
        self.world.changed()
        return True

    async def delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self.world.updates.clear()
        self.world.webhook = None
        self.world.changed()
        return True

    async def get_webhook_info(self, params: Params) -> dict[str, Any]:
        webhook = self.world.webhook
        info: dict[str, Any] = webhook.info() if webhook is not None else {"url": ""}
        info["has_custom_certificate"] = False
        info["pending_update_count"] = self.world.pending_update_count()
        if webhook is not None and self.world.allowed_updates is not None:
            info["allowed_updates"] = sorted(self.world.allowed_updates)
        return info

    async def get_updates(self, params: Params) -> list[dict[str, Any]]:
        """Long polling: confirm ``offset``, then hold until an update arrives or ``timeout``.

        A newer getUpdates call ends an older waiting one with 409 Conflict, as Telegram does;
        so does an active webhook (before or while waiting).
        """
        world = self.world
        if world.webhook is not None:
            raise conflict_webhook_active()
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.number("timeout", 0) or 0, 0)
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            world.allowed_updates = frozenset(map(str, allowed)) or None
        world.confirm_updates(params.integer("offset"))
        world.poll_generation += 1
        generation = world.poll_generation
        world.changed()

        def ready() -> Any:
            if world.webhook is not None:
                return "webhook"
            if world.poll_generation != generation:
                return "superseded"
            return world.deliverable_updates(limit)

        result = await world.wait_until(ready, timeout) if timeout else ready()
        if result == "webhook":
            raise conflict_webhook_active()
        if result == "superseded":
            raise conflict_other_poller()
        return result or []

    # -- messages -----------------------------------------------------------------------------

    def _chat(self, params: Params, *, sending: bool = True) -> ChatRecord:
        if sending:
            return self.world.chat_for_bot(params.chat_id())
        chat_id = params.chat_id()
        chat = self.world.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise chat_not_found()
        return chat

    def _reply_to(self, chat: ChatRecord, params: Params) -> int | None:
        reply = params.json("reply_parameters", "can't parse reply parameters JSON object")
        if isinstance(reply, dict):
            target, allow = reply.get("message_id"), bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.id):
                raise bad_request("message to be replied not found")
        else:
            target = params.integer("reply_to_message_id")
            allow = params.flag("allow_sending_without_reply")
        return self.world.bot_reply_target(
            chat, target if isinstance(target, int) else None, allow
        )

    def _markup(self, params: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = limits.reply_markup(params.json("reply_markup", _MARKUP_ERROR))
        if inline_only and markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return markup

    async def send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        text, entities = limits.message_text(
            params.string("text"), params.string("parse_mode"), params.json("entities")
        )
        markup = self._markup(params)
        reply_to = self._reply_to(chat, params)
        message = self.world.bot_message(
            chat, text=text, entities=entities, reply_markup=markup, reply_to=reply_to
        )
        return self.world.message_api(message)

    def _message_to_edit(self, params: Params) -> MessageRecord:
        if params.string("inline_message_id"):
            raise bad_request("message to edit not found")  # inline mode is not simulated
        chat = self._chat(params)
        return self.world.message_for_edit(chat, params.integer("message_id"))

    async def edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = limits.message_text(
            params.string("text"), params.string("parse_mode"), params.json("entities")
        )
        markup = self._markup(params, inline_only=True)
        self.world.edit_message(message, text=text, entities=entities, reply_markup=markup)
        return self.world.message_api(message)

    async def edit_message_caption(self, params: Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = limits.caption_text(
            params.string("caption"), params.string("parse_mode"), params.json("caption_entities")
        )
        markup = self._markup(params, inline_only=True)
        self.world.edit_message(
            message, caption=caption or None, caption_entities=entities, reply_markup=markup
        )
        return self.world.message_api(message)

    async def edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._message_to_edit(params)
        markup = self._markup(params, inline_only=True)
        self.world.edit_message(message, reply_markup=markup)
        return self.world.message_api(message)

    async def delete_message(self, params: Params) -> bool:
        chat = self._chat(params, sending=False)
        self.world.delete_message(chat, params.integer("message_id"))
        return True

    async def answer_callback_query(self, params: Params) -> bool:
        answer = {
            "text": limits.callback_answer_text(params.string("text")),
            "show_alert": params.flag("show_alert"),
            "url": params.string("url"),
            "cache_time": params.integer("cache_time", 0),
        }
        self.world.answer_callback(params.string("callback_query_id"), answer)
        return True

    # -- files --------------------------------------------------------------------------------

    def _known_file(self, file_id: str, kind: str) -> StoredFile:
        stored = self.world.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            names = {"photo": "Photo", "document": "Document"}
            raise bad_request(f"can't use file of type {names[stored.kind]} as {names[kind]}")
        return stored

    def _caption(self, params: Params) -> tuple[str, list[dict[str, Any]]]:
        return limits.caption_text(
            params.string("caption"), params.string("parse_mode"), params.json("caption_entities")
        )

    async def send_document(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        source = params.input_file("document")
        if source is None:
            raise bad_request("there is no document in the request")
        caption, caption_entities = self._caption(params)
        markup = self._markup(params)
        reply_to = self._reply_to(chat, params)
        if isinstance(source, Upload):
            limits.upload_size(len(source.data), photo=False)
            stored = self.world.store_document(source.data, source.filename, source.content_type)
        else:
            stored = self._known_file(source, "document")
        message = self.world.bot_message(
            chat,
            document=stored,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=markup,
            reply_to=reply_to,
        )
        return self.world.message_api(message)

    async def send_photo(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        source = params.input_file("photo")
        if source is None:
            raise bad_request("there is no photo in the request")
        caption, caption_entities = self._caption(params)
        markup = self._markup(params)
        reply_to = self._reply_to(chat, params)
        if isinstance(source, Upload):
            limits.upload_size(len(source.data), photo=True)
            group = self.world.store_photo(source.data)
            if group is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
        else:
            group = self._known_file(source, "photo").photo_group
        message = self.world.bot_message(
            chat,
            photo=group,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=markup,
            reply_to=reply_to,
        )
        return self.world.message_api(message)

    async def get_file(self, params: Params) -> dict[str, Any]:
        stored = self.world.files.get(params.string("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > limits.MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # -- bot profile --------------------------------------------------------------------------

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        scope = scope or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        if "chat_id" in scope and scope["chat_id"] not in self.world.chats:
            raise chat_not_found()
        return json.dumps(scope, sort_keys=True), params.string("language_code") or ""

    async def set_my_commands(self, params: Params) -> bool:
        commands = limits.bot_commands(params.json("commands"))
        key = self._commands_key(params)
        if commands:
            self.world.profile.commands[key] = commands
        else:
            self.world.profile.commands.pop(key, None)
        return True

    async def get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return self.world.profile.commands.get(self._commands_key(params), [])

    async def delete_my_commands(self, params: Params) -> bool:
        self.world.profile.commands.pop(self._commands_key(params), None)
        return True

    async def set_my_description(self, params: Params) -> bool:
        text = limits.description_text(params.string("description"), limits.MAX_DESCRIPTION)
        self.world.profile.descriptions[params.string("language_code") or ""] = text
        return True

    async def get_my_description(self, params: Params) -> dict[str, str]:
        lang = params.string("language_code") or ""
        return {"description": self.world.profile.descriptions.get(lang, "")}

    async def set_my_short_description(self, params: Params) -> bool:
        text = limits.description_text(
            params.string("short_description"), limits.MAX_SHORT_DESCRIPTION
        )
        self.world.profile.short_descriptions[params.string("language_code") or ""] = text
        return True

    async def get_my_short_description(self, params: Params) -> dict[str, str]:
        lang = params.string("language_code") or ""
        return {"short_description": self.world.profile.short_descriptions.get(lang, "")}

    async def set_my_name(self, params: Params) -> bool:
        self.world.profile.names[params.string("language_code") or ""] = (
            params.string("name") or ""
        )
        return True

    async def get_my_name(self, params: Params) -> dict[str, str]:
        lang = params.string("language_code") or ""
        assert self.world.bot is not None
        return {"name": self.world.profile.names.get(lang) or self.world.bot.first_name}

    # -- chats --------------------------------------------------------------------------------

    async def send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        action = params.string("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.world.emit("chat_action", chat_id=chat.id, action=action)
        return True

    async def get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params, sending=False)
        return {
            **self.world.chat_api(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict(_NO_GIFTS),
        }
