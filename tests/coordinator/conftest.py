from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import GetFile, SendDocument, TelegramMethod
from aiogram.types import File

from bot.app import load_deployment_policy
from bot.clock import VirtualClock
from bot.config import load_settings
from bot.services.admins import sync_admins
from bot.telegram.setup import build_dispatcher
from tests.services.conftest import ledger, ledger_template  # noqa: F401  (shared fixtures)
from tests.services.factories import NOW
from tests.telegram.conftest import directory, i18n  # noqa: F401
from tests.telegram.harness import Harness, RecordingSession, make_bot

COORDINATOR = 1
LIAISON = 100  # 张三, liaison of 上饶市卫生健康委员会 (zh_CN)
FINANCE = 200  # 李四, liaison of 上饶市财政局 (en)
STRANGER = 999


class FileSession(RecordingSession):
    """Also serves getFile and the file's bytes (`files[file_id]`), for uploads."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if isinstance(method, GetFile):
            self.calls.append(method)
            data = self.files.get(method.file_id, b"")
            return File(
                file_id=method.file_id,
                file_unique_id="u",
                file_size=len(data),
                file_path=f"documents/{method.file_id}",
            )
        if isinstance(method, SendDocument):
            self.calls.append(method)
            return True
        return await super().make_request(bot, method, timeout)

    async def stream_content(  # type: ignore[override]
        self,
        url: str,
        headers: Any = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        file_id = url.rsplit("/", 1)[-1]
        yield self.files.get(file_id, b"")


@pytest.fixture
async def hc(ledger, i18n, directory, tmp_path) -> Harness:  # noqa: F811
    settings = load_settings(
        env_file=None,
        bot_token="42:TEST",
        admin_ids=[COORDINATOR],
        tasks_data=tmp_path / "tasks_data",
    )
    async with ledger.session_maker() as s:
        await sync_admins(s, [COORDINATOR], at=NOW)
        await s.commit()
    await ledger.person(LIAISON, "张三", role="liaison", unit="sr_health")
    await ledger.person(FINANCE, "李四", role="liaison", unit="sr_finance", locale="en")
    clock = VirtualClock(NOW, rate=0)
    dp = build_dispatcher(
        settings=settings,
        policy=load_deployment_policy(settings),
        tz=settings.clock.zone,
        clock=clock,
        session_maker=ledger.session_maker,
        directory=directory,
        i18n=i18n,
    )
    session = FileSession()
    harness = Harness(bot=make_bot(session), dispatcher=dp, session=session)
    harness.ledger = ledger  # type: ignore[attr-defined]
    harness.clock = clock  # type: ignore[attr-defined]
    harness.settings = settings  # type: ignore[attr-defined]
    return harness
