"""The server's guard: other web pages in the user's browser cannot drive the control API.

Attacks tried over real HTTP: no key, a wrong key, the key in a cookie on a write (CSRF from
another port of 127.0.0.1, which is the same site), another Host (DNS rebinding), another
Origin, and "simple" bodies (text/plain, form) that a page may post without a preflight.
Each must be refused with a 4xx and change nothing.
"""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiogram import Bot

from bot.localserver import LocalBotApiServer, LocalServerClient
from bot.localserver.guard import KEY_HEADER, host_allowed, origin_allowed, split_host

PAYLOAD = json.dumps({"first_name": "Mallory"})


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("LOCALHOST:8080", ("localhost", 8080)),
        ("[::1]:8080", ("::1", 8080)),
        ("[::1]", ("::1", None)),
        ("example.org", ("example.org", None)),
        ("::1:8080", None),
        ("[::1:8080", None),
        ("127.0.0.1:80a", None),
        (":8080", None),
        ("", None),
    ],
)
def test_split_host(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parsed


@pytest.mark.parametrize(
    ("host", "bind", "allowed"),
    [
        ("127.0.0.1:8080", "127.0.0.1", True),
        ("localhost:8080", "127.0.0.1", True),
        ("[::1]:8080", "127.0.0.1", True),
        ("127.0.0.2:8080", "127.0.0.1", True),  # an address cannot be rebound
        ("127.0.0.1:8081", "127.0.0.1", False),  # another server's port
        ("127.0.0.1", "127.0.0.1", False),  # port 80 implied
        ("attacker.example:8080", "127.0.0.1", False),  # DNS rebinding
        ("localhost.attacker.example:8080", "127.0.0.1", False),
        ("localhost.:8080", "127.0.0.1", False),
        ("192.168.1.5:8080", "127.0.0.1", False),
        ("192.168.1.5:8080", "192.168.1.5", True),  # the configured LOCAL_HOST
        ("duban.lan:8080", "duban.lan", True),
        ("192.168.1.5:8080", "0.0.0.0", True),  # every interface: any address, no name
        ("duban.attacker.example:8080", "0.0.0.0", False),
        (None, "127.0.0.1", False),
    ],
)
def test_host_allowed(host: str | None, bind: str, allowed: bool) -> None:
    assert host_allowed(host, bind, 8080) is allowed


def test_origin_allowed() -> None:
    host = "127.0.0.1:8080"
    assert origin_allowed(None, host, ())
    assert origin_allowed("http://127.0.0.1:8080", host, ())
    for other in (
        "http://127.0.0.1:3000",
        "http://localhost:8080",
        "https://127.0.0.1:8080",
        "http://evil.example",
        "null",
    ):
        assert not origin_allowed(other, host, ()), other
    assert origin_allowed("http://127.0.0.1:3000", host, {"http://127.0.0.1:3000"})
    assert not origin_allowed("null", host, {"*"})


async def _users(server: LocalBotApiServer) -> set[str]:
    return {u.first_name for u in server.world.users.values()}


async def test_no_key_or_a_wrong_key_changes_nothing(server: LocalBotApiServer) -> None:
    users = f"{server.base_url}/control/users"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {KEY_HEADER: "guess"}, {KEY_HEADER: server.control_key[:-1]}):
            async with http.post(
                users, data=PAYLOAD, headers={**headers, "Content-Type": "application/json"}
            ) as response:
                assert response.status == 401
                assert "key" in (await response.json())["error"]
            async with http.post(f"{server.base_url}/control/reset", headers=headers) as reset:
                assert reset.status == 401
            async with http.get(users, headers=headers) as read:
                assert read.status == 401
    assert "Mallory" not in await _users(server)


async def test_the_cookie_alone_never_writes_nor_serves_another_site(
    server: LocalBotApiServer, client: LocalServerClient, alice: dict
) -> None:
    """Every port of 127.0.0.1 is the same site: a SameSite=Strict cookie reaches us from a
    page on 127.0.0.1:3000 too. It is enough for the page's own reads, never for a write."""
    sent = await client.send_file(alice["id"], b"secret ledger", file_name="x.txt")
    file_url = f"{server.base_url}/control/files/{sent.message['document']['file_id']}"
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        http.cookie_jar.update_cookies({server.guard.cookie_name: server.control_key})
        async with http.post(
            f"{server.base_url}/control/users",
            data=PAYLOAD,
            headers={"Content-Type": "application/json"},
        ) as write:
            assert write.status == 401
        for site, status in (("same-origin", 200), ("same-site", 401), ("cross-site", 401)):
            async with http.get(file_url, headers={"Sec-Fetch-Site": site}) as read:
                assert read.status == status, site
                if status == 200:
                    assert await read.read() == b"secret ledger"
    assert "Mallory" not in await _users(server)


async def test_another_host_or_origin_is_refused_even_with_the_key(
    server: LocalBotApiServer,
) -> None:
    url = f"{server.base_url}/control/users"
    key = {KEY_HEADER: server.control_key, "Content-Type": "application/json"}
    refused = [
        {"Host": f"attacker.example:{server.port}"},  # DNS rebinding: the page's own origin
        {"Host": f"127.0.0.1:{server.port + 1}"},
        {"Origin": "http://evil.example"},
        {"Origin": f"http://127.0.0.1:{server.port + 1}"},
        {"Origin": "null"},
    ]
    async with aiohttp.ClientSession() as http:
        for extra in refused:
            async with http.post(url, data=PAYLOAD, headers={**key, **extra}) as response:
                assert response.status == 403, extra
            async with http.get(url, headers={**key, **extra}) as read:
                assert read.status == 403, extra
        own = {"Host": f"localhost:{server.port}", "Origin": f"http://localhost:{server.port}"}
        async with http.get(url, headers={**key, **own}) as response:
            assert response.status == 200
    assert "Mallory" not in await _users(server)


async def test_simple_bodies_are_refused_with_415(server: LocalBotApiServer) -> None:
    """text/plain JSON, a form, multipart outside uploads: what a page posts without asking."""
    users = f"{server.base_url}/control/users"
    key = {KEY_HEADER: server.control_key}
    async with aiohttp.ClientSession(headers=key) as http:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"Content-Type": content_type} if content_type else {}
            async with http.post(users, data=PAYLOAD.encode(), headers=headers) as response:
                assert response.status == 415, content_type
        form = aiohttp.FormData({"first_name": "Mallory"})
        form.add_field("file", b"x", filename="x.txt")
        async with http.post(users, data=form) as response:
            assert response.status == 415
        async with http.post(users, json={"first_name": "Alright"}) as response:
            assert response.status == 200
        async with http.get(f"{server.base_url}/control/reset") as read:
            assert read.status == 405  # state changes are never a GET
    assert await _users(server) == {"Alright"}


async def test_the_bot_api_keeps_its_own_token_and_the_static_files_stay_open(
    server: LocalBotApiServer, bot: Bot
) -> None:
    assert (await bot.get_me()).username == "duban_test_bot"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.base_url}/bot1:guess/getMe") as wrong:
            assert wrong.status == 401
        host = {"Host": f"attacker.example:{server.port}"}
        async with http.get(f"{server.base_url}/bot{bot.token}/getMe", headers=host) as rebound:
            assert rebound.status == 403


async def test_cors_preflight_needs_no_key_and_the_key_header_is_allowed() -> None:
    origin = "http://127.0.0.1:9000"
    async with (
        LocalBotApiServer(cors_origins=[origin]) as server,
        aiohttp.ClientSession() as http,
    ):
        url = f"{server.base_url}/control/users"
        async with http.options(url, headers={"Origin": origin}) as preflight:
            assert preflight.status == 204
            assert KEY_HEADER in preflight.headers["Access-Control-Allow-Headers"]
        async with http.get(url, headers={"Origin": origin}) as keyless:
            assert keyless.status == 401
        headers = {"Origin": origin, KEY_HEADER: server.control_key}
        async with http.get(url, headers=headers) as allowed:
            assert allowed.status == 200
            assert allowed.headers["Access-Control-Allow-Origin"] == origin


async def test_each_server_makes_its_own_key() -> None:
    async with LocalBotApiServer() as one, LocalBotApiServer() as two:
        assert one.control_key != two.control_key and len(one.control_key) >= 32
        assert one.guard.cookie_name != two.guard.cookie_name


async def test_an_uploaded_page_is_never_served_as_a_page(
    server: LocalBotApiServer, client: LocalServerClient, alice: dict
) -> None:
    """A user's .html (or .svg) upload shares the web chat's origin: served as a page, its
    script could read the key from the chat page. It comes back inert and as a download."""
    script = b"<script>fetch('/').then(r => r.text())</script>"
    key = {KEY_HEADER: server.control_key}
    async with aiohttp.ClientSession(headers=key) as http:
        for name, mime in (("x.html", "text/html"), ("x.svg", "image/svg+xml"), (None, None)):
            sent = await client.send_file(
                alice["id"], script, file_name=name or "", mime_type=mime
            )
            file_id = sent.message["document"]["file_id"]
            async with http.get(f"{server.base_url}/control/files/{file_id}") as response:
                assert response.status == 200 and await response.read() == script
                assert "sandbox" in response.headers["Content-Security-Policy"]
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["Content-Disposition"].startswith("attachment")
        sent = await client.send_file(alice["id"], script, file_name='a"b\\c.txt')
        file_id = sent.message["document"]["file_id"]
        async with http.get(f"{server.base_url}/control/files/{file_id}") as response:
            assert response.headers["Content-Disposition"] == 'attachment; filename="a_b_c.txt"'
