"""`/control/clock`: read and move the bot's virtual clock from the web chat.

GET answers the current instant; POST moves it forward with one of
`{"advance": seconds}`, `{"to": "<ISO instant>"}` or `{"next": "monday_0900" | "workday_0900"}`.
The clock never moves backwards (400, as the VirtualClock refuses it). Every move is announced
on the server's event stream (`type: "clock"`), so every open page follows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clock import VirtualClock

log = logging.getLogger(__name__)

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
MORNING = time(9, 0)
MAX_ADVANCE = timedelta(days=3660)


def is_working_day(day: date) -> bool:
    """Official working day (holidays and 调休); Monday to Friday past the calendar's data."""
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (ImportError, NotImplementedError):
        warnings.warn(f"no official calendar for {day.year}; using Monday to Friday", stacklevel=2)
        return day.weekday() < 5


def next_monday_morning(now: datetime, zone: ZoneInfo) -> datetime:
    """The next Monday 09:00 local time strictly after `now`."""
    local = now.astimezone(zone)
    days = (7 - local.weekday()) % 7
    candidate = datetime.combine(local.date() + timedelta(days=days), MORNING, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(candidate.date() + timedelta(days=7), MORNING, tzinfo=zone)
    return candidate


def next_working_morning(
    now: datetime, zone: ZoneInfo, working: Callable[[date], bool] = is_working_day
) -> datetime:
    """09:00 local time of the first working day whose 09:00 is strictly after `now`."""
    local = now.astimezone(zone)
    day = local.date()
    for _ in range(60):
        candidate = datetime.combine(day, MORNING, tzinfo=zone)
        if candidate > local and working(day):
            return candidate
        day += timedelta(days=1)
    raise ValueError("no working day within 60 days")


def clock_view(clock: VirtualClock, zone: ZoneInfo) -> dict[str, Any]:
    now = clock.now()
    local = now.astimezone(zone)
    return {
        "now": now.isoformat(),
        "local": local.isoformat(),
        "zone": str(zone),
        "weekday": WEEKDAYS_ZH[local.weekday()],
        "working_day": is_working_day(local.date()),
    }


def target_of(body: dict[str, Any], now: datetime, zone: ZoneInfo) -> datetime:
    """Where a POST body asks the clock to go; ValueError with a message for the page."""
    if "advance" in body:
        seconds = body["advance"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError("advance must be a number of seconds")
        delta = timedelta(seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        if delta > MAX_ADVANCE:
            raise ValueError("advance is limited to ten years")
        return now + delta
    if "to" in body:
        try:
            instant = datetime.fromisoformat(str(body["to"]))
        except ValueError:
            raise ValueError("to must be an ISO instant, e.g. 2025-12-29T09:00:00+08:00") from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=zone)
        return instant
    if body.get("next") == "monday_0900":
        return next_monday_morning(now, zone)
    if body.get("next") == "workday_0900":
        return next_working_morning(now, zone)
    raise ValueError('give "advance" (seconds), "to" (ISO instant) or "next"')


def clock_routes(
    clock: VirtualClock, zone: ZoneInfo, announce: Callable[[dict[str, Any]], None]
) -> list[web.RouteDef]:
    """GET/POST `/control/clock`; `announce(view)` is called after every move."""

    async def get_clock(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": clock_view(clock, zone)})

    async def post_clock(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error("the body must be a JSON object")
        try:
            target = target_of(body, clock.now(), zone)
            clock.set(target)
        except ValueError as exc:
            return _error(str(exc))
        view = clock_view(clock, zone)
        log.info("local mode: clock moved to %s", view["local"])
        announce(view)
        return web.json_response({"ok": True, "result": view})

    return [web.get("/control/clock", get_clock), web.post("/control/clock", post_clock)]


def _error(description: str) -> web.Response:
    return web.json_response({"ok": False, "error": description}, status=400)
