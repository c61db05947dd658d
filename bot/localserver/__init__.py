"""A local Telegram Bot API server for end-to-end tests and the local web chat.

``LocalBotApiServer`` speaks the Bot API wire format (aiogram cannot tell it from Telegram)
and a JSON control API under ``/control/``; ``LocalServerClient`` drives that control API.
"""

from .client import (
    CallbackResult,
    ChatMessage,
    ControlError,
    ControlTimeout,
    LocalServerClient,
)
from .ratelimit import RateLimits
from .server import LocalBotApiServer

__all__ = [
    "CallbackResult",
    "ChatMessage",
    "ControlError",
    "ControlTimeout",
    "LocalBotApiServer",
    "LocalServerClient",
    "RateLimits",
]
