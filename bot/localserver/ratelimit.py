"""Telegram-like flood limits as token buckets on an injectable monotonic clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
_EPSILON = 1e-9  # float refill arithmetic must not turn "exactly one token" into a refusal


@dataclass(frozen=True)
class RateLimits:
    """Bucket sizes and refill rates; the defaults mirror Telegram's published guidance."""

    global_per_second: float = 30.0
    global_burst: float = 30.0
    private_per_second: float = 1.0
    private_burst: float = 3.0  # Telegram tolerates short bursts in a private chat
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    limited_methods: frozenset[str] = field(
        default_factory=lambda: frozenset({"sendmessage", "senddocument", "sendphoto"})
    )


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        missing = 1 - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.per_second


class RateLimiter:
    """Decides whether a sending call may proceed now; off unless ``enabled``.

    ``clock`` returns monotonic seconds; tests pass a fake one so no test sleeps.
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        enabled: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limits = limits or RateLimits()
        self.enabled = enabled
        self._clock = clock
        self._global: _Bucket | None = None
        self._chats: dict[int, _Bucket] = {}

    def reset(self) -> None:
        """Forget all spent allowance."""
        self._global = None
        self._chats.clear()

    def check(self, method: str, chat_id: int | None, *, is_group: bool) -> int | None:
        """Consume allowance for one call; return None if allowed, else retry_after seconds.

        A refused call consumes nothing, as with Telegram.
        """
        if not self.enabled or method.lower() not in self.limits.limited_methods:
            return None
        now = self._clock()
        buckets = [self._global_bucket(now)]
        if chat_id is not None:
            buckets.append(self._chat_bucket(chat_id, is_group, now))
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None

    def _global_bucket(self, now: float) -> _Bucket:
        if self._global is None:
            limits = self.limits
            self._global = _Bucket(
                limits.global_burst, limits.global_per_second, limits.global_burst, now
            )
        return self._global

    def _chat_bucket(self, chat_id: int, is_group: bool, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            limits = self.limits
            if is_group:
                capacity, rate = limits.group_burst, limits.group_per_minute / 60
            else:
                capacity, rate = limits.private_burst, limits.private_per_second
            bucket = self._chats[chat_id] = _Bucket(capacity, rate, capacity, now)
        return bucket
