"""A record of every Bot API call, for tests and the web chat to inspect."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

_MAX_VALUE_CHARS = 200
DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True)
class CallRecord:
    """One Bot API request and how it was answered."""

    seq: int
    at: float  # server monotonic clock when the request arrived
    method: str
    params: dict[str, Any]
    status: int
    description: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "description": self.description,
        }


def summarize(params: dict[str, Any]) -> dict[str, Any]:
    """Shorten long values and describe uploads, so the log stays small and JSON-safe."""
    summary: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, bytes):
            summary[key] = f"<{len(value)} bytes>"
        elif isinstance(value, str) and len(value) > _MAX_VALUE_CHARS:
            summary[key] = value[:_MAX_VALUE_CHARS] + f"…(+{len(value) - _MAX_VALUE_CHARS})"
        elif isinstance(value, (str, int, float, bool)) or value is None:
            summary[key] = value
        else:
            text = repr(value)
            summary[key] = text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS]
    return summary


class CallLog:
    """Keeps the latest ``capacity`` calls and counters over all calls since the last reset."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._records: deque[CallRecord] = deque(maxlen=capacity)
        self._seq = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.by_method_status: Counter[tuple[str, int]] = Counter()

    def record(
        self, at: float, method: str, params: dict[str, Any], status: int, description: str | None
    ) -> CallRecord:
        self._seq += 1
        entry = CallRecord(self._seq, at, method, summarize(params), status, description)
        self._records.append(entry)
        self.by_method[method] += 1
        self.by_status[status] += 1
        self.by_method_status[(method, status)] += 1
        return entry

    def calls(self, method: str | None = None, after: int = 0) -> list[CallRecord]:
        """Calls with ``seq > after``, optionally only one method (case-insensitive)."""
        wanted = method.lower() if method else None
        return [
            r
            for r in self._records
            if r.seq > after and (wanted is None or r.method.lower() == wanted)
        ]

    def stats(self) -> dict[str, Any]:
        per_method: dict[str, dict[str, int]] = {}
        for (method, status), count in self.by_method_status.items():
            per_method.setdefault(method, {})[str(status)] = count
        return {
            "total": sum(self.by_method.values()),
            "last_seq": self._seq,
            "by_method": dict(self.by_method),
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "by_method_status": per_method,
        }

    def clear(self) -> None:
        self._records.clear()
        self.by_method.clear()
        self.by_status.clear()
        self.by_method_status.clear()
