"""Fixtures shared by the scheduler tests: the default policy and a staffed ledger."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.core.policy import load_policy
from tests.schedules.sched_world import staffed_world


@pytest.fixture(scope="module")
def policy():
    """The default policy with each item's own overdue cycle (no weekly chase day): the
    scheduler tests pin the dates of that cycle; tests/schedules/test_planner.py covers the
    weekly day."""
    return load_policy(overrides={"overdue": {"liaison_weekday": 0}})


@pytest_asyncio.fixture
async def world(tmp_path):
    w = await staffed_world(tmp_path / "ledger.sqlite3")
    yield w
    await w.engine.dispose()
