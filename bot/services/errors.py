"""The one error type of the services: a `code` naming what went wrong and its `params`.

Handlers translate the code into one line in the user's language (bot.telegram.errors).
`bot.core.status.TransitionError` has the same shape and is translated the same way.
"""

from __future__ import annotations

from bot.core.errors import CodedError


class ServiceError(CodedError):
    """A request the service refuses; nothing was changed."""
