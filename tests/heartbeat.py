"""The event loop's heartbeat: how long the loop went without running, because of this process.

    async with Heartbeat() as hb:
        await work()
    hb.assert_no_stall(0.050)

An asyncio task wakes every `period` seconds and measures each gap between consecutive
wake-ups twice, with time.perf_counter (the wall clock: `max_gap`) and with time.process_time
(the CPU time all threads of THIS process used meanwhile: `max_stall`, never more than the wall
gap). Work run on the loop without yielding, or a worker thread holding the GIL (C code such as
libyaml or json), makes both as long as the work. But on a loaded machine (two cores, several
test runs) the operating system also leaves the whole process waiting for a core, 50–100 ms at
a time, while it runs nothing: the wall gap grows and the CPU time does not. So `max_stall`,
what this process kept the loop from running while it was itself running, is what the tests
assert (`assert_no_stall`); `max_gap` is reported. Work done in a child process counts in
neither, since it never holds this process's loop. The figures depend on how the work yields,
not on the machine's speed.

With a worker thread, the CPU time alone still over-counts on a loaded machine: the operating
system may leave the loop's thread waiting for a core while the worker runs on the other one,
and the process's CPU time then grows by the worker's. Linux says, per thread, how long it
waited runnable for a core (/proc/thread-self/schedstat, second field), so a gap is counted
only as far as the loop's thread was not waiting for a core: a thread blocked on the GIL or
running the work itself is not runnable-and-waiting, and still counts in full.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import TracebackType

_SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _runqueue_wait() -> float:
    """Seconds the calling thread has waited runnable for a core (0 where Linux does not say)."""
    try:
        return int(_SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class Heartbeat:
    def __init__(self, period: float = 0.001) -> None:
        self.period = period
        self.max_gap = 0.0  # wall clock
        # CPU time of this process during a gap, at most the gap less the loop thread's wait
        # for a core
        self.max_stall = 0.0
        self.beats = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = False

    async def _beat(self) -> None:
        last, last_cpu, last_wait = time.perf_counter(), time.process_time(), _runqueue_wait()
        while not self._stop:
            await asyncio.sleep(self.period)
            now, cpu, wait = time.perf_counter(), time.process_time(), _runqueue_wait()
            gap = now - last
            self.max_gap = max(self.max_gap, gap)
            held = gap - (wait - last_wait)  # the gap less the loop thread's wait for a core
            self.max_stall = max(self.max_stall, min(gap, cpu - last_cpu, held))
            self.beats += 1
            last, last_cpu, last_wait = now, cpu, wait

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        await asyncio.sleep(0)  # the task runs before the work starts
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop = True
        if self._task is not None:
            await self._task

    def assert_no_stall(self, limit: float = 0.050) -> None:
        assert self.beats > 0, "the heartbeat never ran"
        assert self.max_stall <= limit, (
            f"the event loop stalled {self.max_stall * 1000:.0f} ms "
            f"(limit {limit * 1000:.0f} ms; wall-clock gap {self.max_gap * 1000:.0f} ms)"
        )
