from __future__ import annotations

import pytest

from bot.app import load_deployment_policy
from bot.clock import VirtualClock
from bot.config import load_settings
from bot.core.units import load_unit_directory
from bot.i18n import make_i18n
from bot.services.admins import sync_admins
from bot.telegram.setup import build_dispatcher
from tests.services.conftest import ledger, ledger_template  # noqa: F401  (shared fixtures)
from tests.services.factories import NOW, add_person

from .harness import Harness, RecordingSession, make_bot

COORDINATOR = 1
LIAISON = 100  # 张三, liaison of 上饶市卫生健康委员会
FINANCE = 200  # 李四, liaison of 上饶市财政局
STRANGER = 999


@pytest.fixture(scope="session")
def i18n():
    return make_i18n()


@pytest.fixture(scope="session")
def directory():
    return load_unit_directory()


def make_harness(ledger, i18n, directory, *, session_maker=None) -> Harness:  # noqa: F811
    """A dispatcher over `ledger` (or another session maker on its database) and a recording
    Bot API session."""
    settings = load_settings(env_file=None, bot_token="42:TEST", admin_ids=[COORDINATOR])
    clock = VirtualClock(NOW, rate=0)
    dp = build_dispatcher(
        settings=settings,
        policy=load_deployment_policy(settings),
        tz=settings.clock.zone,
        clock=clock,
        session_maker=session_maker or ledger.session_maker,
        directory=directory,
        i18n=i18n,
    )
    session = RecordingSession()
    harness = Harness(bot=make_bot(session), dispatcher=dp, session=session)
    harness.ledger = ledger  # type: ignore[attr-defined]
    harness.clock = clock  # type: ignore[attr-defined]
    return harness


@pytest.fixture
async def h(ledger, i18n, directory) -> Harness:  # noqa: F811
    async with ledger.session_maker() as s:
        await sync_admins(s, [COORDINATOR], at=NOW)
        await s.commit()
    await add_person(ledger, LIAISON, "张三", role="liaison", unit="sr_health")
    await add_person(ledger, FINANCE, "李四", role="liaison", unit="sr_finance")
    return make_harness(ledger, i18n, directory)
