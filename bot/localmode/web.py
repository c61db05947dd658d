"""The web chat's routes, added to the local Bot API server's application.

`/` is the page, `/web/…` its static files (served by the server's own `static_dir`),
`/control/local` what the page needs to start (people, groups, clock, event position) and
`/control/clock` moves the bot's clock. The rest of the page's traffic is the server's own
control API (send, press, read, download, `/control/events/stream`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clock import VirtualClock
from bot.localmode.clockctl import clock_routes, clock_view
from bot.localmode.people import LOCAL_GROUPS, LOCAL_PEOPLE, LocalGroup, LocalPerson

STATIC_DIR = Path(__file__).resolve().parent / "static"
BOT_DISPLAY_NAME = "督办助手"


def add_webchat_routes(
    app: web.Application,
    world: Any,
    clock: VirtualClock,
    zone: ZoneInfo,
    *,
    people: tuple[LocalPerson, ...] = LOCAL_PEOPLE,
    groups: tuple[LocalGroup, ...] = LOCAL_GROUPS,
) -> None:
    """Mount the page and the local-mode control routes on the server's `app` (before start)."""

    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

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
