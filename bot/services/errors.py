"""The one error type of the services: a `code` naming what went wrong and its `params`.

Handlers translate the code into one line in the user's language (bot.telegram.render).
`bot.core.status.TransitionError` has the same shape and is translated the same way.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request the service refuses; nothing was changed."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.params!r})"
