"""Loading plans never stalls the bot: while a 10,000-item plan is reloaded at start-up and
while a 10,000-item upload is confirmed (its YAML written, the plan loaded), the event loop
never goes 50 ms without running (tests/heartbeat.py). Both run as the bot runs them: in a
worker thread with its own engine (bot.services.plan_loading), with the fast plan-file writer
and reader; done on the loop, the same work stalls it for seconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.app import load_tasks_data
from bot.clock import VirtualClock
from bot.config import load_settings
from bot.core.plan import plan_to_dict
from bot.importer.yaml_io import write_plan_yaml
from bot.services.import_review import ImportReviews, Loaded
from bot.services.plan_loading import load_runner
from bot.storage.models import Assignment, PendingImport
from tests.heartbeat import Heartbeat

from .conftest import AT, FINANCE, HEALTH, item, make_plan

N = 10_000
OWNER = 7


@pytest.fixture(scope="module")
def big_plan():
    items = [
        item(f"BG-{i}", [HEALTH, FINANCE][i % 2 :][:1], [date(2025, 12, 31)]) for i in range(N)
    ]
    return make_plan("BG", items=items)


async def _assignments(session_maker, code: str) -> int:
    async with session_maker() as s:
        return (
            await s.exec(
                select(func.count())
                .select_from(Assignment)
                .where(col(Assignment.archived_at).is_(None))
            )
        ).one()


async def test_the_start_up_reload_of_a_big_plan_does_not_stall_the_loop(
    tmp_path, session_maker, directory, big_plan
):
    settings = load_settings(env_file=None, bot_token="42:TEST", tasks_data=tmp_path / "td")
    plans = settings.data.tasks_data / "plans"
    write_plan_yaml(big_plan, plans / "bg.yaml")
    write_plan_yaml(make_plan("SR"), plans / "sr.yaml")
    clock = VirtualClock(AT, rate=0)

    class NoChild:  # the files are the writer's: read and loaded in a worker thread
        async def run(self, *args):
            raise AssertionError("no child process expected")

    async with Heartbeat() as first:
        assert await load_tasks_data(settings, session_maker, directory, clock, runner=NoChild())
    first.assert_no_stall(0.050)
    assert await _assignments(session_maker, "BG") == N + 12


async def test_confirming_a_big_upload_does_not_stall_the_loop(
    tmp_path, session_maker, directory, big_plan
):
    tasks_data = tmp_path / "td"
    plan = replace(big_plan, info=replace(big_plan.info, code="UP"))
    async with session_maker() as s:
        s.add(
            PendingImport(
                token="tok",
                owner=OWNER,
                chat_id=OWNER,
                file_name="big.txt",
                data=b"-",
                options={},
                plan={"taken_code": None, "plan": plan_to_dict(plan)},
                version=1,
                created_at=AT,
                updated_at=AT,
            )
        )
        await s.commit()

    async def no_parse(*args):  # confirming parses nothing
        raise AssertionError("no parse expected")

    async with session_maker() as s:
        reviews = ImportReviews(
            s, parse=no_parse, tasks_data=tasks_data, now=AT, loader=load_runner()
        )
        async with Heartbeat() as hb:
            outcome = await reviews.confirm(
                "tok", owner=OWNER, version=1, session_maker=session_maker, directory=directory
            )
    hb.assert_no_stall(0.050)
    assert isinstance(outcome, Loaded) and outcome.result.new_plan
    assert outcome.result.assignments == N
    assert (tasks_data / "plans" / "up.yaml").exists()
    async with session_maker() as s:
        assert (await s.exec(select(PendingImport))).all() == []


async def test_a_code_taken_meanwhile_is_parsed_again_not_loaded(
    tmp_path, session_maker, directory
):
    """The child refuses to load over another plan (plan_code_taken): the review parses the
    file again under a free code, as it does in this process."""
    from bot.services import plan_upload as up
    from bot.services.import_review import Review
    from bot.storage.loader import load_plans

    await load_plans(session_maker, [make_plan("SR")], directory, at=AT)
    async with session_maker() as s:
        s.add(
            PendingImport(
                token="tok2",
                owner=OWNER,
                chat_id=OWNER,
                file_name="sr.txt",
                data=b"-",
                options={},
                plan={"taken_code": None, "plan": plan_to_dict(make_plan("SR"))},
                version=1,
                created_at=AT,
                updated_at=AT,
            )
        )
        await s.commit()
    parsed = []

    async def parse(data, file_name, options, taken):
        parsed.append(sorted(taken))
        return up.ParsedUpload(make_plan("SR2"), taken_code="SR")

    async with session_maker() as s:
        reviews = ImportReviews(
            s, parse=parse, tasks_data=tmp_path / "td", now=AT, loader=load_runner()
        )
        outcome = await reviews.confirm(
            "tok2", owner=OWNER, version=1, session_maker=session_maker, directory=directory
        )
    assert isinstance(outcome, Review) and parsed and "SR" in parsed[0]
    assert not (tmp_path / "td" / "plans").exists()  # nothing written, nothing loaded
