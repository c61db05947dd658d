"""Injected failures for Bot API calls: 429, 500, 403 blocked, a hung request, or an answer
that is not valid HTTP at all (a broken proxy, a truncated connection)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .errors import blocked_by_user, server_error, too_many_requests

FaultKind = Literal["retry_after", "server_error", "blocked", "hang", "malformed"]
FAULT_KINDS: tuple[str, ...] = ("retry_after", "server_error", "blocked", "hang", "malformed")

# an HTTP answer no client can parse: aiohttp's error then names the request URL (token and all)
MALFORMED_ANSWER = b"HTTP/1.1 200 OK\r\nContent Type: broken\r\n\r\n"


class MalformedResponse(Exception):
    """Raised by a "malformed" fault; the route answers with `answer_malformed`."""


def answer_malformed(request: web.Request) -> web.Response:
    """Write bytes that are not valid HTTP and close the connection. The returned response is
    never written (the connection is gone); it only ends the handler."""
    transport = request.transport
    if transport is not None:
        transport.write(MALFORMED_ANSWER)
        transport.close()
    return web.Response()


@dataclass
class Fault:
    """The next ``count`` calls of ``method`` (in ``chat_id`` if set) fail with ``kind``.

    ``retry_after`` is used by "retry_after"; ``hang_seconds`` bounds a "hang", after which
    (or after :meth:`FaultInjector.release`) the call is processed normally.
    """

    id: int
    method: str
    kind: str
    count: int = 1
    chat_id: int | None = None
    retry_after: int = 1
    hang_seconds: float = 30.0
    hits: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.count <= 0 or self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "kind": self.kind,
            "remaining": self.count,
            "chat_id": self.chat_id,
            "retry_after": self.retry_after,
            "hang_seconds": self.hang_seconds,
            "hits": self.hits,
        }


class FaultInjector:
    """Holds fault rules; the Bot API route consults it before running a method."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        """``on_change`` is called when the number of hung requests changes (to wake waiters)."""
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._on_change = on_change or (lambda: None)
        self.hanging = 0  # requests currently held by a hang fault

    def add(
        self,
        method: str,
        kind: str,
        *,
        count: int = 1,
        chat_id: int | None = None,
        retry_after: int = 1,
        hang_seconds: float = 30.0,
    ) -> Fault:
        """Register a fault; raises ValueError for an unknown kind or a non-positive count."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count <= 0:
            raise ValueError("count must be positive")
        fault = Fault(
            next(self._ids), method, kind, count, chat_id, max(1, retry_after), hang_seconds
        )
        self._faults.append(fault)
        return fault

    def list(self) -> list[Fault]:
        return list(self._faults)

    def clear(self, fault_id: int | None = None) -> int:
        """Remove one fault or all; hung requests are released. Returns how many were removed."""
        removed = [f for f in self._faults if fault_id is None or f.id == fault_id]
        for fault in removed:
            fault.release.set()
            self._faults.remove(fault)
        return len(removed)

    def release(self, fault_id: int | None = None) -> int:
        """Let requests held by hang faults (one fault or all) proceed. Returns faults released."""
        released = 0
        for fault in self._faults:
            if fault.kind == "hang" and (fault_id is None or fault.id == fault_id):
                fault.release.set()
                released += 1
        return released

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """Consume one use of the first fault matching this call, if any."""
        for fault in self._faults:
            if fault.matches(method, chat_id):
                fault.count -= 1
                fault.hits += 1
                return fault
        return None

    async def apply(self, fault: Fault) -> None:
        """Raise the fault's error, or hold the request until released or timed out."""
        if fault.kind == "retry_after":
            raise too_many_requests(fault.retry_after)
        if fault.kind == "server_error":
            raise server_error()
        if fault.kind == "blocked":
            raise blocked_by_user()
        if fault.kind == "malformed":
            raise MalformedResponse(fault.method)
        self.hanging += 1
        self._on_change()
        try:
            await asyncio.wait_for(fault.release.wait(), fault.hang_seconds)
        except TimeoutError:
            pass
        finally:
            self.hanging -= 1
            self._on_change()
