"""Local mode in process: the page, the seeded people, the clock, the real bot behind it.

The tests share one running local mode (module scope) and run in file order: the first one
sees the clock where it started.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.localmode import DEFAULT_CLOCK_START
from bot.localmode.people import COORDINATOR_ID, LOCAL_GROUPS, LOCAL_PEOPLE, seed_database

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def control(http: aiohttp.ClientSession, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
    async with http.request(method, path, **kwargs) as response:
        return response.status, await response.json()


async def test_the_clock_starts_a_week_before_the_seed_milestones(local, http) -> None:  # type: ignore[no-untyped-def]
    assert local.clock_origin == "default"
    status, body = await control(http, "GET", "/control/clock")
    assert status == 200 and body["ok"]
    now = datetime.fromisoformat(body["result"]["local"])
    assert DEFAULT_CLOCK_START <= now < DEFAULT_CLOCK_START + timedelta(minutes=5)
    assert body["result"]["zone"] == "Asia/Shanghai"
    assert body["result"]["weekday"] == "周三" and body["result"]["working_day"] is True


async def test_the_page_answers_with_the_chat_ui(local, http) -> None:  # type: ignore[no-untyped-def]
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    for marker in ('id="people"', 'id="messages"', 'id="composer"', 'id="clock"', "督办助手"):
        assert marker in page
    for asset, kind in (("/web/app.js", "javascript"), ("/web/style.css", "text/css")):
        async with http.get(asset) as response:
            assert response.status == 200, asset
            assert kind in response.content_type


async def test_the_local_people_are_users_who_started_the_bot(local, http) -> None:  # type: ignore[no-untyped-def]
    status, body = await control(http, "GET", "/control/local")
    assert status == 200
    people = {p["id"]: p for p in body["result"]["people"]}
    assert set(people) == {p.telegram_id for p in LOCAL_PEOPLE}
    assert people[COORDINATOR_ID]["name"] == "张督办"
    assert {p["role"] for p in people.values()} == {"coordinator", "liaison", "leader"}
    for person in LOCAL_PEOPLE:
        user = local.world.users[person.telegram_id]
        assert user.first_name == person.name and user.started and not user.blocked
    group = LOCAL_GROUPS[0]
    assert local.world.chats[group.chat_id].title == group.title


async def test_the_local_people_are_registered_with_their_roles(local) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from bot.services.people import person_by_telegram_id, roles_of
    from bot.storage.models import Unit

    async with local.session_maker() as session:
        units = {u.id: u.name for u in (await session.exec(select(Unit))).all()}
        for local_person in LOCAL_PEOPLE:
            person = await person_by_telegram_id(session, local_person.telegram_id)
            assert person is not None and person.name == local_person.name
            roles = await roles_of(session, person)
            if local_person.role == "coordinator":
                assert roles.coordinator_all
            elif local_person.role == "liaison":
                assert {units[u] for u in roles.liaison_unit_ids} == set(local_person.units)
            else:
                assert {units[u] for u in roles.leader_unit_ids} == set(local_person.units)
    assert COORDINATOR_ID in local.bot_settings.bot.admin_ids


async def test_seeding_again_adds_nothing(local) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func
    from sqlmodel import select

    from bot.localmode.people import seed_world
    from bot.storage.models import ChatSubscription, Membership, Person

    async def counts() -> tuple[int, int, int]:
        async with local.session_maker() as session:
            found = []
            for table in (Person, Membership, ChatSubscription):
                found.append((await session.exec(select(func.count()).select_from(table))).one())
            return tuple(found)  # type: ignore[return-value]

    before = await counts()
    assert await seed_database(local.session_maker, at=local.clock.now()) == []
    users_before = dict(local.world.users)
    seed_world(local.world)
    assert await counts() == before
    assert local.world.users.keys() == users_before.keys()


async def test_the_bot_talks_only_to_the_local_server(local) -> None:  # type: ignore[no-untyped-def]
    assert local.bot_settings.bot.api_base == local.server.base_url
    assert local.bot_settings.bot.token.get_secret_value() == local.server.bot_api.token
    api = local.app.bot.session.api
    assert api.base.startswith(local.server.base_url)
    assert api.file.startswith(local.server.base_url)


async def test_the_coordinator_gets_help_from_the_real_bot(local, http) -> None:  # type: ignore[no-untyped-def]
    status, body = await control(
        http, "POST", f"/control/users/{COORDINATOR_ID}/messages", json={"text": "/help"}
    )
    assert status == 200, body
    sent = body["result"]["message_id"]
    status, body = await control(
        http, "GET", f"/control/chats/{COORDINATOR_ID}/next", params={"after": sent, "timeout": 15}
    )
    assert status == 200, body
    assert "/status" in body["result"]["text"]


async def test_bad_input_from_the_page_gets_telegram_like_answers(local, http) -> None:  # type: ignore[no-untyped-def]
    status, body = await control(
        http, "POST", "/control/users/7000002/messages", json={"text": "   "}
    )
    assert status == 400 and body == {"ok": False, "error": "text is empty"}
    form = aiohttp.FormData()
    form.add_field("kind", "document")
    form.add_field("file", b"", filename="empty.txt", content_type="text/plain")
    status, body = await control(http, "POST", "/control/users/7000002/files", data=form)
    assert status == 400 and body["error"] == "file is empty"


async def test_the_clock_moves_forward_only(local, http) -> None:  # type: ignore[no-untyped-def]
    seq = local.world.last_event_seq
    before = local.clock.now()
    status, body = await control(http, "POST", "/control/clock", json={"advance": 3600})
    assert status == 200, body
    moved = datetime.fromisoformat(body["result"]["now"])
    assert timedelta(hours=1) <= moved - before < timedelta(hours=1, seconds=30)
    events, _ = local.world.events_after(seq)
    assert any(e["type"] == "clock" and e["clock"]["now"] == body["result"]["now"] for e in events)

    status, body = await control(http, "POST", "/control/clock", json={"next": "monday_0900"})
    assert status == 200
    assert datetime.fromisoformat(body["result"]["local"]).replace(microsecond=0) == datetime(
        2025, 12, 29, 9, 0, tzinfo=SHANGHAI
    )
    assert local.clock.now() >= datetime(2025, 12, 29, 1, 0, tzinfo=ZoneInfo("UTC"))

    status, body = await control(
        http, "POST", "/control/clock", json={"to": "2025-12-31T18:30:00+08:00"}
    )
    assert status == 200
    status, body = await control(http, "POST", "/control/clock", json={"next": "workday_0900"})
    assert status == 200
    # 2026-01-01..03 are the New Year holiday; Sunday 2026-01-04 is a make-up working day
    assert body["result"]["local"].startswith("2026-01-04T09:00:00")

    for bad in ({"to": "2025-01-01T00:00:00+08:00"}, {"advance": -5}, {"advance": "x"}, {}, []):
        status, body = await control(http, "POST", "/control/clock", json=bad)
        assert status == 400 and body["ok"] is False and body["error"], bad
    assert local.clock.now() >= datetime(2026, 1, 4, 1, 0, tzinfo=ZoneInfo("UTC"))
