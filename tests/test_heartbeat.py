"""The heartbeat (tests/heartbeat.py) sees what stalls the loop and only that: work on the
loop and a thread holding the GIL in C code count; waiting, and a process left without a
core by the machine, do not."""

from __future__ import annotations

import asyncio
import time

import yaml

from tests.heartbeat import Heartbeat


async def test_work_on_the_loop_is_a_stall():
    async with Heartbeat() as hb:
        await asyncio.sleep(0.01)
        end = time.process_time() + 0.12
        while time.process_time() < end:  # 120 ms of CPU without yielding
            pass
    assert hb.max_stall >= 0.1 and hb.max_gap >= 0.1


async def test_libyaml_in_a_thread_is_a_stall():
    """Why the plan loader uses a process: the C parser never lets go of the GIL."""
    text = "".join(
        f"- ref: X-{i}\n  title: {'任务' * 10}\n  units: [甲, 乙]\n" for i in range(8_000)
    )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    async with Heartbeat() as hb:
        await asyncio.to_thread(yaml.compose, text, Loader=loader)
    assert hb.max_stall > 0.05, hb.max_stall


async def test_waiting_is_no_stall():
    async with Heartbeat() as hb:
        await asyncio.sleep(0.2)
        await asyncio.to_thread(time.sleep, 0.2)
    hb.assert_no_stall(0.05)
