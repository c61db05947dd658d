"""Telegram's flood limits on the sending side: when may the next message go to a chat.

Pure bookkeeping on an injectable monotonic clock (seconds), so tests move time instead of
sleeping. The sender asks `wait(chat_id)` before a send, calls `sent(chat_id)` right before it
goes out, and reports 429s with `retry_after(...)`. Exponential back-off with jitter for 5xx and
network errors is `backoff_delay(...)`.

The limits are Telegram's published guidance: sends are spaced evenly (on average at most
`global_per_second` overall, with a burst of `global_burst` to catch up after a late wake-up; one
per `private_interval` in a private chat, one per `group_interval` in a group, i.e. 20 a minute),
so a server enforcing token buckets with the same rates never answers 429. On top of that even
spacing, a strict cap: no `global_per_second` + 1 sends within `global_window` seconds (the
last 30 send instants are kept), so however the burst and late wake-ups fall, no second of the
server's clock ever sees more than 30 messages (the window is a little over one second for the
network's and a busy server's jitter between the sender and the server).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Monotonic = Callable[[], float]

GLOBAL = "global"


@dataclass(frozen=True)
class Limits:
    global_per_second: float = 30.0
    # up to this many messages may go back to back when the sender fell behind the 30/s
    # schedule (a late wake-up, a slow commit), so pauses that overshoot do not add up
    global_burst: int = 3
    # any `global_per_second` + 1 consecutive sends span more than this many seconds (a strict
    # cap for every one-second window, with 100 ms for jitter on the way to the server)
    global_window: float = 1.1
    private_interval: float = 1.0  # seconds between two messages to one private chat
    group_interval: float = 3.0  # 20 per minute per group, spaced evenly
    # `flood_chats` chats answering 429 within `global_flood_window` seconds means the bot as a
    # whole is flooding, not one chat
    global_flood_window: float = 1.0
    flood_chats: int = 3


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids; users positive ones."""
    return chat_id < 0


class Throttle:
    """Earliest next-send instants per chat and overall, on a monotonic clock.

    Not thread-safe; one sender uses one throttle from the event loop.
    """

    def __init__(self, limits: Limits | None = None, *, monotonic: Monotonic = time.monotonic):
        self.limits = limits or Limits()
        self._now = monotonic
        self._global_next = 0.0  # the 30/s schedule (GCRA: theoretical arrival time)
        self._global_hold = 0.0  # nothing at all before this (429 flood, outage)
        # the latest sends (as many as one window may hold): the strict cap
        self._recent: deque[float] = deque(maxlen=max(1, int(self.limits.global_per_second)))
        self._chat_next: dict[int, float] = {}
        self._recent_429: dict[int, float] = {}  # chat → when it last answered 429
        self._sent_since_prune = 0

    # --- asking -----------------------------------------------------------------------------
    def chat_wait(self, chat_id: int) -> float:
        """Seconds before this chat may receive another message (0: now)."""
        return max(0.0, self._chat_next.get(chat_id, 0.0) - self._now())

    def global_wait(self) -> float:
        """Seconds before the bot may send anything (0: now)."""
        interval = 1.0 / self.limits.global_per_second
        slack = (self.limits.global_burst - 1) * interval
        now = self._now()
        held = self._global_hold - now
        recent = self._recent
        full = recent[0] + self.limits.global_window - now if len(recent) == recent.maxlen else 0
        return max(0.0, self._global_next - slack - now, held, full)

    def wait(self, chat_id: int) -> float:
        """Seconds before a message may go to this chat, counting both limits."""
        return max(self.chat_wait(chat_id), self.global_wait())

    def held_chats(self) -> list[int]:
        """Chats that may not receive a message now."""
        now = self._now()
        return [chat for chat, until in self._chat_next.items() if until > now]

    # --- telling ----------------------------------------------------------------------------
    def sent(self, chat_id: int) -> None:
        """A message to `chat_id` is going out now: spend the allowance."""
        now = self._now()
        limits = self.limits
        interval = limits.group_interval if is_group(chat_id) else limits.private_interval
        self._global_next = max(self._global_next, now) + 1.0 / limits.global_per_second
        self._recent.append(now)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + interval)
        self._sent_since_prune += 1
        if self._sent_since_prune >= 1000:
            self._prune(now)

    def retry_after(self, chat_id: int | None, seconds: float) -> bool:
        """Telegram answered 429 "retry after `seconds`" for a message to `chat_id`.

        The chat is held for `seconds`. Telegram does not say whether the limit hit was the
        chat's or the bot's, so when `flood_chats` different chats answer 429 within
        `global_flood_window` (or no chat is known) the whole bot is held too. Returns True
        when held globally.
        """
        now = self._now()
        seconds = max(0.0, float(seconds))
        until = now + seconds
        if chat_id is None:
            self.hold_all(seconds)
            return True
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)
        window = self.limits.global_flood_window
        others = [c for c, at in self._recent_429.items() if c != chat_id and now - at <= window]
        self._recent_429 = {c: at for c, at in self._recent_429.items() if now - at <= window}
        self._recent_429[chat_id] = now
        if len(others) + 1 >= self.limits.flood_chats:
            self.hold_all(seconds)
            return True
        return False

    def hold(self, chat_id: int, seconds: float) -> None:
        """Send nothing to this chat for `seconds` (back-off after an error)."""
        until = self._now() + max(0.0, seconds)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)

    def hold_all(self, seconds: float) -> None:
        """Send nothing at all for `seconds`."""
        self._global_hold = max(self._global_hold, self._now() + max(0.0, seconds))

    def _prune(self, now: float) -> None:
        self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        self._sent_since_prune = 0


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 900.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (1-based): exponential, capped, with
    "equal jitter" (half fixed, half random) so many failed rows do not retry in lockstep."""
    if attempt < 1:
        attempt = 1
    ceiling = min(cap, base * (2 ** min(attempt - 1, 30)))
    return ceiling / 2 + rng() * ceiling / 2
