"""The bot token never reaches the logs nor `outbox.last_error` (issue 10, finding 8).

aiohttp's errors quote the request URL, `…/bot<TOKEN>/sendMessage`; the local Bot API server
answers with bytes that are not HTTP (the "malformed" fault) to make aiohttp raise one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.clock import VirtualClock
from bot.localserver import LocalBotApiServer
from bot.logs import configure_logging
from bot.redact import REDACTED, RedactingFilter, describe_error, redact
from bot.storage.db import create_all, make_engine, make_session_maker
from tests.dbs import database_url
from tests.schedules.test_sender import START, Env, FakeMonotonic, make_bot

# shaped like a BotFather token: a 10-digit id and a 35-character secret
TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = TOKEN.split(":", 1)[1]


@pytest.fixture
def redacted_logs(caplog):
    """Logging as `python -m bot run` sets it up (the redacting filter on every handler of the
    root logger, pytest's capture included); removed again afterwards."""
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG", secrets=[TOKEN])
    yield caplog
    for handler in logging.getLogger().handlers:
        for f in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(f)


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    mono = FakeMonotonic()
    clock = VirtualClock(START, monotonic=mono)
    engine = make_engine(database_url(tmp_path / "sender.sqlite3"))
    await create_all(engine)
    async with LocalBotApiServer(token=TOKEN, clock=mono) as server:
        bot = make_bot(server.base_url, TOKEN)
        try:
            yield Env(mono, clock, server, bot, make_session_maker(engine))
        finally:
            await bot.session.close()
            await engine.dispose()


async def test_a_malformed_answer_leaves_no_token_in_logs_or_the_outbox(env, redacted_logs):
    alice = env.user("Alice")
    env.server.faults.add("sendMessage", "malformed")
    row_id = await env.notice(alice, "hello")
    sender = env.sender()

    report = await sender.drain()

    row = await env.row(row_id)
    assert report.retried == 1 and row.status == "pending"
    assert f"bot{REDACTED}/sendMessage" in row.last_error  # the URL was there, without token
    assert SECRET not in row.last_error
    assert "outbox" in redacted_logs.text and f"bot{REDACTED}" in redacted_logs.text
    assert SECRET not in redacted_logs.text
    assert all(SECRET not in (r.exc_text or "") for r in redacted_logs.records)
    assert all(SECRET not in r.getMessage() for r in redacted_logs.records)

    env.mono.advance(3600)
    env.clock.advance(timedelta(hours=1))
    await sender.drain()
    assert (await env.row(row_id)).status == "sent" and env.texts(alice) == ["hello"]


async def test_a_traceback_logged_with_the_exception_is_redacted(env, redacted_logs):
    env.server.faults.add("getMe", "malformed")
    log = logging.getLogger("bot.test")
    try:
        await env.bot.get_me()
    except Exception:
        log.exception("getMe failed for %s", f"/bot{TOKEN}/getMe")

    text = redacted_logs.text
    assert "ClientResponseError" in text and "Traceback" in text
    assert SECRET not in text


@pytest.mark.parametrize(
    "text",
    [
        f"url='http://127.0.0.1:8081/bot{TOKEN}/sendMessage'",
        f"POST /bot{TOKEN.replace(':', '%3A')}/getUpdates",
        f"token {TOKEN} is wrong",
        f"https://api.telegram.org/file/bot{TOKEN}/photos/1.jpg",
    ],
)
def test_redact_removes_the_token_in_every_shape(text):
    assert SECRET not in redact(text)  # by its shape alone
    assert SECRET not in redact(text, [TOKEN])
    assert REDACTED in redact(text)


def test_redact_knows_short_local_tokens_in_urls_and_keeps_other_text():
    assert redact("GET /bot100000:LOCAL/getMe 200") == f"GET /bot{REDACTED}/getMe 200"
    assert redact("plain 12:30 text, ref SR-12") == "plain 12:30 text, ref SR-12"
    assert redact("custom secret abc", ["secret"]) == f"custom {REDACTED} abc"


def test_describe_error_is_redacted():
    exc = RuntimeError(f"failed: http://h/bot{TOKEN}/sendMessage")
    assert describe_error(exc) == f"RuntimeError: failed: http://h/bot{REDACTED}/sendMessage"
