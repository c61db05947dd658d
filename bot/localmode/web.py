"""The web chat's routes, added to the local Bot API server's application.

`/` is the page, `/web/…` its static files (served by the server's own `static_dir`),
`/control/local` what the page needs to start (people, groups, clock, event position) and
`/control/clock` moves the bot's clock. The rest of the page's traffic is the server's own
control API (send, press, read, download, `/control/events/stream`).

The server's guard lets the page load only with this start's key (the printed `?key=`, then
its cookie); the page carries the key in a meta tag, and its JavaScript sends it in the
`X-Control-Key` header of every request.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clock import VirtualClock
from bot.localmode.clockctl import clock_routes, clock_view
from bot.localmode.people import LOCAL_GROUPS, LOCAL_PEOPLE, LocalGroup, LocalPerson

STATIC_DIR = Path(__file__).resolve().parent / "static"
BOT_DISPLAY_NAME = "督办助手"
KEY_SLOT = '<meta name="control-key" content="">'
PAGE_HEADERS = {
    "Cache-Control": "no-store",  # the page carries the key
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # no other page (another port of 127.0.0.1 too) frames it
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def page_with_key(template: str, control_key: str) -> str:
    """The page's HTML with this start's key in its `control-key` meta tag."""
    if KEY_SLOT not in template:
        raise ValueError("index.html lost its control-key meta tag")
    filled = f'<meta name="control-key" content="{html.escape(control_key, quote=True)}">'
    return template.replace(KEY_SLOT, filled, 1)


def add_webchat_routes(
    app: web.Application,
    world: Any,
    clock: VirtualClock,
    zone: ZoneInfo,
    *,
    control_key: str,
    people: tuple[LocalPerson, ...] = LOCAL_PEOPLE,
    groups: tuple[LocalGroup, ...] = LOCAL_GROUPS,
) -> None:
    """Mount the page and the local-mode control routes on the server's `app` (before start);
    `control_key` is the server's (the page sends it back)."""
    page_html = page_with_key((STATIC_DIR / "index.html").read_text("utf-8"), control_key)

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=page_html, content_type="text/html", headers=PAGE_HEADERS)

    async def local_info(_request: web.Request) -> web.Response:
        result = {
            "bot_name": BOT_DISPLAY_NAME,
            "people": [p.to_json() for p in people],
            "groups": [
                {"id": g.chat_id, "title": g.title, "member_ids": list(g.member_ids)}
                for g in groups
            ],
            "clock": clock_view(clock, zone),
            "last_event_seq": world.last_event_seq,
        }
        return web.json_response({"ok": True, "result": result})

    def announce(view: dict[str, Any]) -> None:
        world.emit("clock", clock=view)

    app.router.add_get("/", page)
    app.router.add_get("/control/local", local_info)
    app.add_routes(clock_routes(clock, zone, announce))
