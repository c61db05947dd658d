"""Who may use the control API and the web chat: this start's key, our Host, our Origin.

Other web pages open in the user's browser can send "simple" requests to a loopback server
(cross-origin form posts, ``text/plain`` bodies, images) and, through DNS rebinding, even read
its answers. The guard refuses, before any handler runs:

- a ``Host`` that is not this server: a loopback name or address, or the bound host (bound to
  every interface: any IP address), with the server's port (a rebound DNS name never matches);
- an ``Origin`` other than the server's own (or one of the configured CORS origins);
- on everything but the Bot API (which has its own token) and the page's static files, a
  request without this start's key: the ``X-Control-Key`` header (what scripts and the page's
  JavaScript send), the ``?key=`` of the printed address (the page only; it becomes an
  HttpOnly SameSite=Strict cookie), or that cookie on a same-origin read (images, downloads
  and the event stream cannot send headers). A write always needs the header;
- a write whose body is not ``application/json`` (``multipart/form-data`` for file uploads).

GET routes never change anything; the only side effect of a GET is the page's cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from aiohttp import web

KEY_HEADER = "X-Control-Key"
KEY_QUERY = "key"
PAGE_PATHS = frozenset({"/"})  # where the printed address with ?key= may be opened
OPEN_PREFIXES = ("/bot", "/file/bot", "/web/")  # Bot API (token in the path), static files
LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
READS = frozenset({"GET", "HEAD"})
UPLOAD_SUFFIX = "/files"
# a cookie alone proves nothing on a request another page started (same-site is not enough:
# every port of 127.0.0.1 is the same site)
COOKIE_FETCH_SITES = frozenset({"", "same-origin", "none"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, and with which HTTP status."""

    status: int
    reason: str


def split_host(value: str) -> tuple[str, int | None] | None:
    """``Host`` header → (lower-case name without brackets, port or None); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, colon, port_text = value.rpartition(":")
        if not colon:
            name, port_text = value, None
        elif ":" in name:  # an IPv6 address must be bracketed
            return None
    if not name:
        return None
    if port_text is None:
        return name, None
    if not port_text.isdigit():
        return None
    return name, int(port_text)


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def host_allowed(host_header: str | None, bind_host: str, port: int) -> bool:
    """Is ``Host`` this server? Loopback names and addresses, the bound host, and (bound to
    every interface) any IP address: all with our port. A DNS name other than ``localhost``
    or the bound one never is, so a page whose name was rebound to 127.0.0.1 is refused."""
    parsed = split_host(host_header or "")
    if parsed is None:
        return False
    name, given_port = parsed
    if (given_port if given_port is not None else 80) != port:
        return False
    bind = bind_host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name == bind:
        return True
    address = _ip(name)
    if address is None:
        return False
    return address.is_loopback or bind in WILDCARD_HOSTS


def origin_allowed(origin: str | None, host_header: str, cors_origins: Collection[str]) -> bool:
    """No Origin (not a browser, or a same-origin read), our own, or a configured one."""
    if origin is None:
        return True
    if origin.lower() == f"http://{host_header.strip().lower()}":
        return True
    return origin != "null" and ("*" in cors_origins or origin in cors_origins)


def _same(given: str | None, key: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), key.encode())


class ControlGuard:
    """The checks above as an aiohttp middleware (``guard.middleware``).

    ``port`` is read at request time (a server bound to port 0 learns it on start).
    """

    def __init__(
        self,
        key: str,
        *,
        bind_host: str,
        port: Callable[[], int],
        cors_origins: Collection[str] = (),
    ) -> None:
        if not key:
            raise ValueError("the control key must not be empty")
        self.key = key
        self._bind_host = bind_host
        self._port = port
        self._cors_origins = frozenset(cors_origins)

    @property
    def cookie_name(self) -> str:
        # cookies ignore the port: two servers on one machine must not overwrite each other's
        return f"control_key_{self._port()}"

    def refusal(self, request: web.Request) -> Refusal | None:
        """Why ``request`` must not reach a handler, or None."""
        host = request.headers.get("Host", "")
        if not host_allowed(host, self._bind_host, self._port()):
            return Refusal(403, f"Host {host!r} is not this server (use {self._home_hint()})")
        if not origin_allowed(request.headers.get("Origin"), host, self._cors_origins):
            return Refusal(403, "requests from other web pages are refused")
        if request.path.startswith(OPEN_PREFIXES):
            return None
        if request.method == "OPTIONS" and request.headers.get("Origin") is not None:
            return None  # a CORS preflight: answered by the server, changes nothing
        if not self._has_key(request):
            return Refusal(
                401,
                f"this start's key is missing: send the {KEY_HEADER} header, or open the "
                "address local mode printed",
            )
        if request.method not in READS and not self._body_type_allowed(request):
            return Refusal(415, "the body must be JSON (Content-Type: application/json)")
        return None

    def logs_in(self, request: web.Request) -> bool:
        """Does this request open the page with the printed ``?key=`` (then set the cookie)?"""
        return (
            request.method in READS
            and request.path in PAGE_PATHS
            and _same(request.query.get(KEY_QUERY), self.key)
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = self.refusal(request)
        if refusal is not None:
            return self.refuse(request, refusal)
        response = await handler(request)
        if self.logs_in(request) and not response.prepared:
            response.set_cookie(
                self.cookie_name, self.key, httponly=True, samesite="Strict", path="/"
            )
        return response

    def refuse(self, request: web.Request, refusal: Refusal) -> web.Response:
        if request.method in READS and request.path in PAGE_PATHS:
            return web.Response(
                status=refusal.status,
                text=_REFUSED_PAGE,
                content_type="text/html",
                headers={"Cache-Control": "no-store"},
            )
        body = {
            "ok": False,
            "error": refusal.reason,
            "error_code": refusal.status,
            "description": refusal.reason,
        }
        return web.Response(
            status=refusal.status,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )

    def _has_key(self, request: web.Request) -> bool:
        if _same(request.headers.get(KEY_HEADER), self.key):
            return True
        if self.logs_in(request):
            return True
        return (
            request.method in READS
            and request.headers.get("Sec-Fetch-Site", "") in COOKIE_FETCH_SITES
            and _same(request.cookies.get(self.cookie_name), self.key)
        )

    def _body_type_allowed(self, request: web.Request) -> bool:
        if not request.body_exists:
            return True  # a bodiless action (block, reset…): nothing is parsed
        allowed = {"application/json"}
        if request.path.endswith(UPLOAD_SUFFIX):
            allowed.add("multipart/form-data")
        return request.content_type in allowed

    def _home_hint(self) -> str:
        return f"http://127.0.0.1:{self._port()}"


_REFUSED_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>督办助手 · 本地模式</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.6">
<h1>请打开启动时打印的完整地址</h1>
<p>本地模式每次启动都会生成一个新的密钥。请打开 <code>python -m bot</code> 在终端里打印的那一行地址
（形如 <code>http://127.0.0.1:8080/?key=…</code>）。重新启动后，旧的地址和已打开的页面都会失效。</p>
<h2>Open the full address printed at start-up</h2>
<p>Local mode makes a new key at every start. Open the address <code>python -m bot</code> printed
in the terminal (like <code>http://127.0.0.1:8080/?key=…</code>). After a restart, old addresses
and open pages stop working.</p>
</body></html>
"""
