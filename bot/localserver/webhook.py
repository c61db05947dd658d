"""Webhook delivery as Telegram does it.

While a webhook is set (``setWebhook``), pending updates are POSTed to its URL one at a time in
``update_id`` order, as JSON, with the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret
was given. An update leaves the queue only when the webhook answers 2xx; a non-2xx answer, a
connection error or a timeout is recorded (``last_error_date`` / ``last_error_message`` in
``getWebhookInfo``) and the same update is posted again after a growing delay, so nothing is
lost while the bot is down or restarting. ``getUpdates`` answers 409 while a webhook is set.

A 2xx answer may carry a Bot API method (Telegram's "reply in the webhook response": a JSON
object, a urlencoded form or a multipart form with a ``method`` field, the way aiogram's
``SimpleRequestHandler`` answers with ``handle_in_background=False``); it is executed as if the
bot had called it, and its result or error goes nowhere, as with Telegram.

Simplification: one update is in flight at a time (Telegram may use up to ``max_connections``
connections); ``max_connections`` is validated and reported only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlparse

import aiohttp

from .errors import bad_request
from .params import Params, Upload
from .world import World

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
DEFAULT_MAX_CONNECTIONS = 40
MAX_CONNECTIONS = 100

Execute = Callable[[str, Params], Awaitable[None]]


@dataclass
class Webhook:
    """The webhook the bot set, and how its delivery went lately."""

    url: str
    secret_token: str | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self) -> dict[str, Any]:
        """The webhook part of getWebhookInfo (optional fields only when set)."""
        info: dict[str, Any] = {"url": self.url, "max_connections": self.max_connections}
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message or ""
        return info


def webhook_from(params: Params) -> Webhook | None:
    """The webhook a setWebhook call asks for (None: an empty url removes it); Telegram's 400s.

    Unlike Telegram, plain http and any port are accepted: the bot runs next to this server.
    """
    url = (params.string("url") or "").strip()
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.string("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    connections = params.integer("max_connections", DEFAULT_MAX_CONNECTIONS)
    if connections is None or not 1 <= connections <= MAX_CONNECTIONS:
        raise bad_request("bad max_connections")
    return Webhook(url=url, secret_token=secret or None, max_connections=connections)


@dataclass(frozen=True)
class Backoff:
    """Delay before posting a failed update again: ``first``, times ``factor`` per failure,
    at most ``cap`` seconds."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 10.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.first * self.factor ** max(0, failures - 1))


class WebhookDelivery:
    """Posts the world's pending updates to its webhook; run it as one task of the server."""

    def __init__(
        self,
        world: World,
        *,
        execute: Execute,
        backoff: Backoff | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.world = world
        self.execute = execute
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.delivered = 0  # updates the webhook accepted
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="webhook delivery")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _next(self) -> tuple[Webhook, dict[str, Any]] | None:
        webhook = self.world.webhook
        if webhook is None:
            return None
        update = self.world.next_deliverable_update()
        return (webhook, update) if update is not None else None

    async def _run(self) -> None:
        world = self.world
        failures = 0
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not world.closing:
                target = await world.wait_until(self._next, 3600.0)
                if target is None:
                    continue
                webhook, update = target
                try:
                    delivered = await self._post(http, webhook, update)
                except Exception:  # a bug here must not end delivery for good
                    logger.exception("webhook delivery of update %s failed", update["update_id"])
                    self._failed(webhook, "Internal error of the local server")
                    delivered = False
                if delivered:
                    failures = 0
                    self._confirm(update)
                    continue
                failures += 1
                delay = self.backoff.delay(failures)
                # wait out the delay, unless the webhook is changed or deleted meanwhile
                if await world.wait_until(partial(_replaced, world, webhook), delay):
                    failures = 0

    def _confirm(self, update: dict[str, Any]) -> None:
        updates = self.world.updates
        if updates and updates[0] is update:
            updates.popleft()
        else:
            with contextlib.suppress(ValueError):  # gone already: deleteWebhook dropped it
                updates.remove(update)
        self.delivered += 1
        self.world.changed()

    async def _post(
        self, http: aiohttp.ClientSession, webhook: Webhook, update: dict[str, Any]
    ) -> bool:
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_HEADER] = webhook.secret_token
        reply: tuple[str, Params] | None = None
        try:
            async with http.post(webhook.url, data=json.dumps(update), headers=headers) as answer:
                if not 200 <= answer.status < 300:
                    self._failed(
                        webhook,
                        f"Wrong response from the webhook: {answer.status} {answer.reason}",
                    )
                    return False
                try:
                    reply = await read_reply(answer)
                except (aiohttp.ClientPayloadError, ValueError, AssertionError):
                    # accepted all the same: only the status says whether an update arrived
                    logger.info("webhook answer to update %s unreadable", update["update_id"])
        except TimeoutError:
            self._failed(webhook, "Read timeout expired")
            return False
        except aiohttp.ClientConnectorError:
            self._failed(webhook, "Connection refused")
            return False
        except aiohttp.ClientError as exc:
            self._failed(webhook, f"Connection failed: {type(exc).__name__}")
            return False
        if reply is not None:
            method, params = reply
            await self.execute(method, params)
        return True

    def _failed(self, webhook: Webhook, message: str) -> None:
        webhook.last_error_date = self.world.timestamp()
        webhook.last_error_message = message
        logger.info("webhook delivery to %s failed: %s", webhook.url, message)
        self.world.changed()


def _replaced(world: World, webhook: Webhook) -> bool:
    return world.webhook is not webhook


async def read_reply(answer: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """The Bot API method a webhook answer carries, with its parameters, if any."""
    values: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    kind = answer.content_type
    if kind == "application/json":
        body = await answer.json()
        if isinstance(body, dict):
            values = body
    elif kind == "application/x-www-form-urlencoded":
        values = dict(parse_qsl(await answer.text()))
    elif kind == "multipart/form-data":
        reader = aiohttp.MultipartReader.from_response(answer)
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                continue
            if part.filename is not None:
                data = bytes(await part.read(decode=True))
                uploads[part.name] = Upload(data, part.filename, part.headers.get("Content-Type"))
            else:
                values[part.name] = await part.text()
    method = values.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, Params(values, uploads)
