"""How the JSON columns are written: UTF-8 text without escapes or spaces (a Chinese title
costs 3 bytes, not the 6 of "\\uXXXX"; a lean payload's arrays no ", " between numbers).
The engine's serializer (`bot.storage.db.make_engine`) and the set-based inserts of the
Outbox and stage marks (`bot.storage.outbox.raw`, `bot.storage.outbox.marks`) use it; what is
read back is the same value."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_json(value: Any) -> str:
    """`value` as stored in a JSON column."""
    return _ENCODER.encode(value)
