"""The one place that knows Telegram's limits, and the checks that enforce them.

Every check raises :class:`~bot.localserver.errors.ApiError` with Telegram's own description.
"""

from __future__ import annotations

import re
from typing import Any

from .entities import (
    Entity,
    EntityParseError,
    detect_entities,
    parse_html,
    trim,
    utf16_len,
)
from .errors import ApiError, bad_request

MAX_TEXT_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # what a bot may upload
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # what getFile will hand out
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def formatted_text(
    raw: str | None,
    parse_mode: str | None,
    entities: list[Entity] | None,
    *,
    max_length: int,
    empty_error: str | None,
    too_long_error: str,
) -> tuple[str, list[Entity]]:
    """Turn the bot's text + parse_mode/entities into Telegram's stored (text, entities).

    ``empty_error`` None means empty is allowed (captions). Raises ApiError on Telegram's
    failures: bad HTML, unsupported parse mode, empty text, too long.
    """
    text = raw or ""
    found: list[Entity]
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            text, found = parse_html(text)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from error
    elif mode in {"markdown", "markdownv2"}:
        # MarkdownV2 is not implemented; accept the text literally rather than mis-parse it
        found = []
    elif mode:
        raise bad_request(f"unsupported parse_mode: {parse_mode}")
    else:
        found = _checked_entities(entities or [], text)
    text, found = trim(text, found)
    if not text and empty_error is not None:
        raise bad_request(empty_error)
    if utf16_len(text) > max_length:
        raise bad_request(too_long_error)
    return text, detect_entities(text, found)


def message_text(
    raw: str | None, parse_mode: str | None, entities: list[Entity] | None
) -> tuple[str, list[Entity]]:
    """Text of sendMessage/editMessageText: 1..4096 UTF-16 units after parsing."""
    return formatted_text(
        raw,
        parse_mode,
        entities,
        max_length=MAX_TEXT_LENGTH,
        empty_error="message text is empty",
        too_long_error="message is too long",
    )


def caption_text(
    raw: str | None, parse_mode: str | None, entities: list[Entity] | None
) -> tuple[str, list[Entity]]:
    """Caption of a media message: 0..1024 UTF-16 units after parsing."""
    return formatted_text(
        raw,
        parse_mode,
        entities,
        max_length=MAX_CAPTION_LENGTH,
        empty_error=None,
        too_long_error="message caption is too long",
    )


def _checked_entities(entities: Any, text: str) -> list[Entity]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    size = utf16_len(text)
    checked: list[Entity] = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be of type Number')
        if offset < 0 or length <= 0 or offset + length > size:
            continue  # Telegram silently drops entities outside the text
        checked.append(dict(entity))
    return checked


def reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup object (inline keyboard, reply keyboard, remove, force reply)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "inline_keyboard" must be of type Array'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not any(key in button for key in _BUTTON_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                callback_data = button["callback_data"]
                if (
                    not isinstance(callback_data, str)
                    or not callback_data
                    or len(callback_data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not _plausible_url(button["url"]):
                raise bad_request("BUTTON_URL_INVALID")


def _plausible_url(url: Any) -> bool:
    return isinstance(url, str) and bool(re.match(r"^(https?|tg)://\S+$", url))


def bot_commands(commands: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' list; return it as plain {command, description} dicts."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("too many commands specified")
    result = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not _COMMAND_RE.match(command.lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description.strip() or len(description) > MAX_COMMAND_DESCRIPTION:
            raise bad_request("command description must be non-empty")
        result.append({"command": command.lower(), "description": description})
    return result


def callback_answer_text(text: str | None) -> str | None:
    """answerCallbackQuery's text: at most 200 characters."""
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    return text


def description_text(text: str | None, limit: int) -> str:
    """setMyDescription/setMyShortDescription text, empty clears."""
    text = text or ""
    if len(text) > limit:
        raise bad_request("description is too long")
    return text


def upload_size(size: int, *, photo: bool) -> None:
    """Reject an upload Telegram would refuse for its size."""
    if size == 0:
        raise bad_request("file must be non-empty")
    if size > MAX_UPLOAD_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    if photo and size > MAX_PHOTO_BYTES:
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
