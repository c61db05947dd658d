"""Keeping the bot token out of logs, stored errors and messages.

A Bot API request URL is `…/bot<TOKEN>/<method>`, and aiohttp's errors quote the URL: any
exception of a failed request carries the token. `redact` removes it from a text; the logging
filter applies it to every record (message, arguments, traceback), the sender to what it
stores in `outbox.last_error`, `describe_error` to exception text meant for people.
Kept free of heavy imports: logging is set up before anything else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "<redacted>"

# `bot<id>:<secret>` in a Bot API URL path (any length: local servers take short tokens);
# the colon may come percent-encoded
_URL_TOKEN = re.compile(r"(?<=/)bot\d+(?::|%3[Aa])[A-Za-z0-9_-]+")
# a BotFather token anywhere (8–10 digit id, 35-character secret; a little slack both ways)
_BARE_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without bot tokens: the given `secrets` (as written or percent-encoded), any
    token in a Bot API URL (`/bot<redacted>/…`) and anything shaped like a BotFather token."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
    text = _URL_TOKEN.sub("bot" + REDACTED, text)
    return _BARE_TOKEN.sub(REDACTED, text)


def describe_error(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """`TypeName: message` of an exception, token-free: for storing or showing to people."""
    message = getattr(exc, "message", None) or str(exc)
    return redact(f"{type(exc).__name__}: {message}", secrets)


class RedactingFilter(logging.Filter):
    """Redacts every record passing a handler: the formatted message (arguments included),
    the traceback and the stack. Install it on handlers, not loggers: a logger's filters do
    not see records propagated from its children."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)
        self._formatter = logging.Formatter()

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(dict.fromkeys([*self.secrets, *(s for s in secrets if s)]))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it itself
            return True
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            # format the traceback now, redacted; a later formatter uses this text and never
            # sees the exception object (whose arguments hold the URL)
            record.exc_text = redact(
                self._formatter.formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install_redaction(handlers: Iterable[logging.Handler], secrets: Iterable[str] = ()) -> None:
    """Give each handler the redacting filter (once; later calls add secrets)."""
    secrets = tuple(secrets)
    for handler in handlers:
        existing = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if existing:
            existing[0].add_secrets(secrets)
        else:
            handler.addFilter(RedactingFilter(secrets))
