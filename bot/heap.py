"""The process's heap after start-up, frozen: the garbage collector's full passes skip it.

Start-up (SQLAlchemy, SQLModel, pydantic, aiogram, the catalogs, the app) leaves hundreds of
thousands of long-lived objects. A full (generation 2) collection walks every tracked object;
set off by the allocations of an ordinary update (a plan upload under review, a /status), it
held the event loop 57-100 ms in benchmarks/story_bench.py at 10,000 assignments (17 ms with
the heap frozen). `gc.freeze()` moves what exists now to a permanent generation that
collections leave alone; objects made later are collected as before.

Heavy work (a scheduler pass, a plan load in a worker thread) pauses the collector while it
runs (`collector_paused`): its full passes over the hundreds of thousands of objects such work
builds held the loop 54-300 ms. The collector is one per process, so the pauses are counted
process-wide: the first to start records whether it ran, the last to end brings it back, and
overlapping pieces of work (a tick during a load) do not switch it on under each other.

After heavy work, `release_free_memory` hands the C heap's free pages back to the system
(glibc keeps them otherwise: a bot at 100,000 assignments stayed megabytes above its size
after a weekly digest pass).
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_startup_heap() -> int:
    """Collect once, then freeze what is left (called once the app is built). Returns how many
    objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class _Pauses:
    """The collector's pauses in progress (one per process, as the collector is)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.resume = False  # whether the collector ran when the first pause began


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees what is dropped)."""
    with _PAUSES.lock:
        if _PAUSES.count == 0:
            _PAUSES.resume = gc.isenabled()
            gc.disable()
        _PAUSES.count += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.count -= 1
            if _PAUSES.count == 0 and _PAUSES.resume:
                gc.enable()


def release_free_memory() -> bool:
    """glibc's `malloc_trim(0)`: the free pages inside the C heap (freed Python objects over
    512 bytes, SQLite's page caches, the driver's buffers) go back to the system. True when
    done; other C libraries (musl, macOS, Windows) have no such call: nothing is done."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):  # no confstr, or no such name here
        glibc = None
    if not glibc or not glibc.startswith("glibc"):
        return False
    import ctypes  # only here: ~1.5 MB of the process at start-up otherwise

    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True
