"""Local mode against other web pages in the user's browser (CSRF, DNS rebinding).

One local mode in process, spoken to over real HTTP on loopback. What an attacking page can
send (no key, a cookie on a write, another Host, another Origin, text/plain JSON) gets a 4xx
and changes nothing: the clock does not move, no command reaches the bot as the coordinator,
no fault is injected, the chats are not wiped, no chat or file is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.localmode import LocalMode, local_bot_token
from bot.localmode.people import COORDINATOR_ID
from bot.localmode.runner import address_lines
from bot.localserver.guard import KEY_HEADER

pytestmark = pytest.mark.asyncio(loop_scope="module")

MARKER = "/help from another page"
LIAISON = 7_000_002


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def raw(local: LocalMode) -> AsyncIterator[aiohttp.ClientSession]:
    """A session without the key: what another page's requests look like."""
    async with aiohttp.ClientSession(base_url=local.server.base_url) as session:
        yield session


def clock_moves(local: LocalMode, seq: int) -> list[dict[str, Any]]:
    events, _ = local.world.events_after(seq)
    return [e for e in events if e["type"] == "clock"]


def nothing_changed(local: LocalMode, seq: int, before: Any, users: int) -> None:
    assert clock_moves(local, seq) == []
    assert local.clock.now() - before < timedelta(hours=1)  # the requests asked for days
    sent = [m.text for m in local.world.chat_messages(COORDINATOR_ID, after=0)]
    assert MARKER not in sent, "a command reached the bot as the coordinator"
    assert local.server.faults.list() == []
    assert len(local.world.users) == users and local.world.chats, "the chats were wiped"


ATTACKS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/control/clock", {"advance": 7 * 86400}),
    ("POST", "/control/clock", {"next": "monday_0900"}),
    ("POST", f"/control/users/{COORDINATOR_ID}/messages", {"text": MARKER}),
    ("POST", "/control/faults", {"method": "sendMessage", "kind": "server_error", "count": 99}),
    ("POST", "/control/reset", {}),
]


async def test_requests_without_the_key_change_nothing(local: LocalMode, raw) -> None:  # type: ignore[no-untyped-def]
    seq, before, users = local.world.last_event_seq, local.clock.now(), len(local.world.users)
    for method, path, body in ATTACKS:
        for content_type in ("text/plain", "application/json"):
            async with raw.request(
                method, path, data=json.dumps(body), headers={"Content-Type": content_type}
            ) as response:
                assert response.status == 401, (path, content_type)
        async with raw.request(method, path, json=body, headers={KEY_HEADER: "x"}) as response:
            assert response.status == 401, path
    nothing_changed(local, seq, before, users)


async def test_nothing_is_read_without_the_key(local: LocalMode, raw, http) -> None:  # type: ignore[no-untyped-def]
    form = aiohttp.FormData()
    form.add_field("file", "报送材料".encode(), filename="材料.txt", content_type="text/plain")
    async with http.post(f"/control/users/{LIAISON}/files", data=form) as sent:
        assert sent.status == 200
        file_id = (await sent.json())["result"]["message"]["document"]["file_id"]
    for path in (
        "/",
        "/control/local",
        "/control/clock",
        "/control/state",
        f"/control/chats/{LIAISON}/messages",
        f"/control/files/{file_id}",
        "/control/events?after=0",
        "/control/events/stream?after=0",
    ):
        async with raw.get(path) as response:
            assert response.status == 401, path
            assert "材料" not in await response.text()


async def test_text_plain_json_is_refused_even_with_the_key(local: LocalMode, http) -> None:  # type: ignore[no-untyped-def]
    seq, before, users = local.world.last_event_seq, local.clock.now(), len(local.world.users)
    for method, path, body in ATTACKS:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            async with http.request(
                method, path, data=json.dumps(body), headers={"Content-Type": content_type}
            ) as response:
                assert response.status == 415, (path, content_type)
        async with http.get(path, params={k: str(v) for k, v in body.items()}) as response:
            assert response.status in (200, 405), path  # a GET only reads
    nothing_changed(local, seq, before, users)


async def test_another_host_or_origin_is_refused_even_with_the_key(local: LocalMode, http) -> None:  # type: ignore[no-untyped-def]
    port = local.server.port
    seq, before, users = local.world.last_event_seq, local.clock.now(), len(local.world.users)
    foreign = [
        {"Host": f"rebound.attacker.example:{port}"},  # DNS rebinding: the page's own origin
        {"Origin": "http://attacker.example"},
        {"Origin": f"http://127.0.0.1:{port + 1}"},  # another local server, same site
        {"Origin": "null"},  # a sandboxed frame or a file:// page
    ]
    for headers in foreign:
        for method, path, body in ATTACKS:
            async with http.request(method, path, json=body, headers=headers) as response:
                assert response.status == 403, (path, headers)
        async with http.get(f"/control/chats/{LIAISON}/messages", headers=headers) as read:
            assert read.status == 403, headers
        async with http.get("/", headers=headers) as page:
            assert page.status == 403 and local.server.control_key not in await page.text()
    nothing_changed(local, seq, before, users)


async def test_the_printed_address_opens_the_page_and_sets_a_strict_cookie(
    local: LocalMode,
) -> None:
    key = local.server.control_key
    line, _ = address_lines(local.url, "127.0.0.1")
    assert line == (
        f"督办助手 local mode: open http://127.0.0.1:{local.server.port}/?key={key} "
        "(loopback only, not a public server)"
    )
    assert len(key) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", key)
    jar = aiohttp.CookieJar(unsafe=True)  # an IP address host: keep its cookies
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        async with browser.get(f"{local.server.base_url}/?key=wrong") as stale:
            assert stale.status == 401
            text = await stale.text()
            assert "python -m bot" in text and key not in text
        async with browser.get(local.url) as page:
            assert page.status == 200
            html = await page.text()
            cookie = page.headers["Set-Cookie"]
        assert f'<meta name="control-key" content="{key}">' in html
        assert re.search(r"HttpOnly", cookie, re.I) and re.search(r"SameSite=Strict", cookie)
        assert page.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        # the page's own reads (images, downloads, the event stream) ride on the cookie…
        async with browser.get(f"{local.server.base_url}/control/clock") as read:
            assert read.status == 200
        async with browser.get(f"{local.server.base_url}/") as again:
            assert again.status == 200
        # …but a write needs the header the page's JavaScript sends
        before = local.clock.now()
        url = f"{local.server.base_url}/control/clock"
        async with browser.post(url, json={"advance": 86400}) as write:
            assert write.status == 401
        assert local.clock.now() - before < timedelta(hours=1)
        async with browser.post(url, json={"advance": 60}, headers={KEY_HEADER: key}) as ok:
            assert ok.status == 200


async def test_the_bot_api_token_is_made_for_this_start(local: LocalMode, raw) -> None:  # type: ignore[no-untyped-def]
    token = local.bot_settings.bot.token.get_secret_value()
    assert token == local.server.bot_api.token
    assert token not in ("100000:LOCAL", "123456:LOCAL")
    assert len(token.split(":", 1)[1]) >= 40
    assert local_bot_token() != local_bot_token()
    async with raw.get(f"/bot{token}/getMe") as mine:
        assert mine.status == 200
    for guess in ("100000:LOCAL", "123456:LOCAL", local_bot_token()):
        async with raw.get(f"/bot{guess}/getMe") as other:
            assert other.status == 401, guess
