"""Bot API errors with Telegram's exact codes and descriptions.

Raise an :class:`ApiError` anywhere below a Bot API route; the route turns it into
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API failure answered to the bot exactly as Telegram would."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        """The response body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 carrying ``parameters.retry_after`` (whole seconds, at least 1)."""
    retry_after = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def method_not_found() -> ApiError:
    return ApiError(404, "Not Found: method not found")


def server_error() -> ApiError:
    return ApiError(500, "Internal Server Error")


def blocked_by_user() -> ApiError:
    return ApiError(403, "Forbidden: bot was blocked by the user")


def cant_initiate() -> ApiError:
    return ApiError(403, "Forbidden: bot can't initiate conversation with a user")


def chat_not_found() -> ApiError:
    return bad_request("chat not found")


def conflict_other_poller() -> ApiError:
    return ApiError(
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


def conflict_webhook_active() -> ApiError:
    return ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )
