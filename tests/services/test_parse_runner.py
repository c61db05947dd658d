"""The importer out of process: results and refusals come back, a parse over the timeout is
killed, a memory hog ends in its own process, and the event loop stays free meanwhile."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from bot.services.errors import ServiceError
from bot.services.parse_runner import ParseFailed, ParseRejected, ParseTimeout, ProcessParser


def add(a, b):
    return {"sum": a + b, "pid": os.getpid()}


def refuse(message):
    raise ServiceError("plan_input", message=message, line=3)


def write_pid_and_block(path):
    with open(path, "w") as out:
        out.write(str(os.getpid()))
    threading.Event().wait()


def hog_memory():
    return len(bytearray(2 * 1024**3))


def die():
    os._exit(3)


async def test_the_result_comes_from_another_process():
    answer = await ProcessParser().run(add, 2, 3)
    assert answer["sum"] == 5 and answer["pid"] != os.getpid()


async def test_a_service_error_comes_back_with_its_code():
    with pytest.raises(ParseRejected) as exc:
        await ProcessParser().run(refuse, "no tasks")
    assert exc.value.code == "plan_input"
    assert exc.value.params == {"message": "no tasks", "line": "3"}


async def test_a_parse_over_the_timeout_is_killed(tmp_path):
    pid_file = tmp_path / "pid"
    with pytest.raises(ParseTimeout):
        await ProcessParser(timeout=2).run(write_pid_and_block, str(pid_file))
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process any more
        os.kill(pid, 0)


async def test_memory_is_capped_in_the_child():
    with pytest.raises(ParseFailed, match="memory"):
        await ProcessParser(memory_limit=512 * 1024**2).run(hog_memory)


async def test_a_child_that_dies_is_a_failure():
    with pytest.raises(ParseFailed):
        await ProcessParser().run(die)


async def test_the_loop_runs_while_the_child_works(tmp_path):
    parser = ProcessParser(timeout=30)
    job = asyncio.create_task(parser.run(write_pid_and_block, str(tmp_path / "pid")))
    ticks = 0
    while not (tmp_path / "pid").exists() or ticks < 3:  # the loop is free: we keep running
        await asyncio.sleep(0.01)
        ticks += 1
    assert not job.done()
    job.cancel()  # cancelling the caller kills the child too
    with pytest.raises(asyncio.CancelledError):
        await job
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
