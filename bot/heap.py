"""The process's heap after start-up, frozen: the garbage collector's full passes skip it.

Start-up (SQLAlchemy, SQLModel, pydantic, aiogram, the catalogs, the app) leaves hundreds of
thousands of long-lived objects. A full (generation 2) collection walks every tracked object;
set off by the allocations of an ordinary update (a plan upload under review, a /status), it
held the event loop 57-100 ms in benchmarks/story_bench.py at 10,000 assignments (17 ms with
the heap frozen). `gc.freeze()` moves what exists now to a permanent generation that
collections leave alone; objects made later are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then freeze what is left (called once the app is built). Returns how many
    objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
