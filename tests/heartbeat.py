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
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType


class Heartbeat:
    def __init__(self, period: float = 0.001) -> None:
        self.period = period
        self.max_gap = 0.0  # wall clock
        self.max_stall = 0.0  # CPU time of this process during a gap, at most the gap
        self.beats = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = False

    async def _beat(self) -> None:
        last, last_cpu = time.perf_counter(), time.process_time()
        while not self._stop:
            await asyncio.sleep(self.period)
            now, cpu = time.perf_counter(), time.process_time()
            gap = now - last
            self.max_gap = max(self.max_gap, gap)
            self.max_stall = max(self.max_stall, min(gap, cpu - last_cpu))
            self.beats += 1
            last, last_cpu = now, cpu

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
