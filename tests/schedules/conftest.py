"""Fixtures shared by the scheduler tests: the default policy and a staffed ledger."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.core.policy import load_policy
from tests.schedules.sched_world import staffed_world


@pytest.fixture(scope="module")
def policy():
    """The default policy with each item's own overdue cycle (no weekly chase day) and one
    message per item and stage (no brief): the scheduler tests pin the dates of that cycle and
    look at the per-item rows; tests/schedules/test_planner.py covers the weekly day and
    tests/schedules/test_brief.py the brief."""
    return load_policy(overrides=PER_ITEM)


# the policy of the scheduler tests, over the defaults
PER_ITEM = {"overdue": {"liaison_weekday": 0}, "brief": {"audiences": []}}


@pytest_asyncio.fixture
async def world(tmp_path):
    w = await staffed_world(tmp_path / "ledger.sqlite3")
    yield w
    await w.engine.dispose()
