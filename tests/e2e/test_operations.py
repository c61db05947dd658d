"""Operating the real `python -m bot run` process (issue 10): the bot token stays out of its
log when the Bot API answers garbage, and a second process on the same database waits for
the first instead of sending beside it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from .world import REPO, START_TIMEOUT, World

# shaped like a BotFather token: a 10-digit id and a 35-character secret
TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = TOKEN.split(":", 1)[1]


async def log_shows(read, text: str, *, timeout: float) -> str:
    """Wait until the log `read()` returns contains `text` (a line the process writes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in (log := read()):
        if loop.time() > deadline:
            raise AssertionError(f"no {text!r} in the log within {timeout}s:\n{log[-3000:]}")
        await asyncio.sleep(0.1)  # polling a file for a line, not waiting for time to pass
    return log


async def test_garbage_from_the_bot_api_leaves_no_token_in_the_log(make_world) -> None:
    world: World = await make_world(env={"BOT_TOKEN": TOKEN})
    coordinator = world.coordinator
    assert coordinator is not None
    await world.client.add_fault("getUpdates", "malformed", count=2)
    await world.client.add_fault("sendMessage", "malformed", count=1)

    await coordinator.send("/help")  # its answer fails: the handler's error is logged

    apology = await coordinator.next_message("抱歉")
    assert apology is not None
    log = await log_shows(world.log, "Failed to fetch updates", timeout=30)
    log = await log_shows(world.log, "handler failed", timeout=30)
    assert "ClientResponseError" in log and "bot<redacted>/" in log
    assert SECRET not in log


async def test_a_second_process_on_the_same_database_waits_for_the_first(make_world) -> None:
    world: World = await make_world(env={"SENDER_LEASE_SECONDS": "4"})
    log_path = world.tmp / "second.log"
    with log_path.open("wb") as out:
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=str(REPO),
            env={**os.environ, **world.env},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )

    def second_log() -> str:
        return Path(log_path).read_text(encoding="utf-8", errors="replace")

    try:
        log = await log_shows(second_log, "is the sender of this database", timeout=START_TIMEOUT)
        assert "another instance" in log
        assert "requeued" not in log  # it left the first one's sends alone
        assert "interrupted message(s) requeued" in world.log()  # the first did take it

        assert await world.stop() == 0  # a clean stop releases the lease

        await log_shows(second_log, "this process is the sender of the database now", timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            second.terminate()
        await second.wait()
