"""The /import review in the chat: fix the year, the default unit and the code with a button or a
reply; never replace a plan without saying so and asking; the review survives a restart; a parse
that takes too long is stopped while the bot keeps answering."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from aiogram.methods import EditMessageReplyMarkup
from sqlalchemy import func
from sqlmodel import select

from bot.app import load_deployment_policy
from bot.services.parse_runner import ProcessParser
from bot.storage.models import Assignment, Milestone, PendingImport, Plan, Task
from bot.telegram.setup import build_dispatcher
from tests.telegram.harness import Harness

from .conftest import COORDINATOR

NO_YEAR = """关于推进测试工作的实施意见

一、重点任务
（一）建设测试中心。年底前建成测试中心。（责任单位：市财政局）
（二）完善测试机制。持续完善测试机制。（责任单位：市卫健委）
"""

SHANGRAO = """上饶市人民政府关于推进测试工作的实施意见

一、重点任务
（一）建设测试中心。到2026年底，建成测试中心。（责任单位：市财政局）
（二）完善测试机制。2027年6月底前完善机制。（责任单位：市卫健委）
"""


def upload(hc, text: str, name: str = "plan.txt"):
    hc.session.files["DOC-1"] = text.encode("utf-8")
    return hc.send(COORDINATOR, caption="/import", document=(name, len(text.encode())))


async def active_assignments(hc, code: str) -> int:
    async with hc.ledger.session_maker() as s:
        return (
            await s.exec(
                select(func.count())
                .select_from(Assignment)
                .join(Milestone, Assignment.milestone_id == Milestone.id)
                .join(Task, Milestone.task_id == Task.id)
                .join(Plan, Task.plan_id == Plan.id)
                .where(Plan.code == code, Assignment.archived_at.is_(None))
            )
        ).one()


async def test_summary_shows_each_family_and_the_year_can_be_fixed_by_button(hc):
    summary = await upload(hc, NO_YEAR)
    text = summary.text
    assert "重点任务 2" in text or "Tasks 2" in text
    assert "2025" in text  # no year in the text: the bot's current year, with a warning
    assert "1 item has no deadline of its own" in text or "1 项" in text
    asked = await hc.press(COORDINATOR, summary.button("年份"))
    assert asked.messages and "2024" in asked.text
    fixed = await hc.send(COORDINATOR, "2024")  # the next plain text answers the question
    assert "2024" in fixed.text and "2025" not in fixed.text.split("\n")[1]
    loaded = await hc.press(COORDINATOR, fixed.button("确认导入"))
    assert "P" in loaded.text
    async with hc.ledger.session_maker() as s:
        plan = (await s.exec(select(Plan).where(Plan.code == "P"))).one()
    assert plan.period_start.year == 2024 and plan.period_end.year == 2024


async def test_reply_to_the_summary_sets_the_default_unit_and_the_code(hc):
    summary = await upload(hc, NO_YEAR)
    unit = await hc.send(COORDINATOR, "单位 市卫健委", reply_to=summary.last_id)
    assert "市卫健委" in unit.text and len(unit.messages) == 1
    cleared = [c for c in unit.calls if isinstance(c, EditMessageReplyMarkup)]
    assert [c.message_id for c in cleared] == [summary.last_id]  # its buttons are out of date
    await hc.press(COORDINATOR, unit.button("年份"))  # a question, then a reply to the summary
    code = await hc.send(COORDINATOR, "代码 jj", reply_to=unit.last_id)
    assert "<b>JJ</b>" in code.text and "市卫健委" in code.text
    bad = await hc.send(COORDINATOR, "代码 这不是代码", reply_to=code.last_id)
    assert not bad.buttons() and "JJ" in bad.text  # says what to send instead


async def test_older_summary_buttons_are_refused(hc):
    first = await upload(hc, NO_YEAR)
    await hc.send(COORDINATOR, "年份 2024", reply_to=first.last_id)
    stale = await hc.press(COORDINATOR, first.button("确认导入"))
    assert stale.alerts and stale.alerts[0]
    assert not (hc.settings.data.tasks_data / "plans" / "p.yaml").exists()


async def test_a_taken_code_gets_a_free_one_and_replacing_asks_with_the_count(hc):
    before = await active_assignments(hc, "SR")
    assert before == 5
    summary = await upload(hc, SHANGRAO)
    assert "<b>SR2</b>" in summary.text
    replace = summary.button("SR")  # "替换计划 SR（5 项分工）？" — the count is on the button
    label = next(t for t, d in summary.buttons() if d == replace)
    assert "5" in label
    loaded = await hc.press(COORDINATOR, summary.button("确认导入"))
    assert "SR2" in loaded.text
    assert await active_assignments(hc, "SR") == before  # the existing plan is untouched
    assert await active_assignments(hc, "SR2") == 2

    again = await upload(hc, SHANGRAO)
    assert "<b>SR3</b>" in again.text
    asked = await hc.press(
        COORDINATOR, next(d for t, d in again.buttons() if "SR (" in t or "SR（" in t)
    )
    assert "<b>SR</b>" in asked.text and "5" in asked.text  # says what replacing archives
    replaced = await hc.press(COORDINATOR, asked.button("SR"))
    assert "SR" in replaced.text
    assert await active_assignments(hc, "SR") == 2  # replaced by the two new items


async def test_the_review_survives_a_restart(hc, i18n, directory):
    summary = await upload(hc, NO_YEAR)
    async with hc.ledger.session_maker() as s:
        assert (await s.exec(select(func.count()).select_from(PendingImport))).one() == 1
    other = restarted(hc, i18n, directory)  # another process: nothing shared but the database
    fixed = await other.send(COORDINATOR, "年份 2024", reply_to=summary.last_id)
    assert "2024" in fixed.text
    loaded = await other.press(COORDINATOR, fixed.button("确认导入"))
    assert "P" in loaded.text
    assert (hc.settings.data.tasks_data / "plans" / "p.yaml").is_file()
    async with hc.ledger.session_maker() as s:
        assert (await s.exec(select(func.count()).select_from(PendingImport))).one() == 0


async def test_waiting_for_the_file_survives_a_restart(hc, i18n, directory):
    await hc.send(COORDINATOR, "/import JJ")
    other = restarted(hc, i18n, directory)
    hc.session.files["DOC-1"] = NO_YEAR.encode()
    summary = await other.send(COORDINATOR, document=("plan.txt", 100))
    assert "<b>JJ</b>" in summary.text


@pytest.mark.parametrize("name", ["plan.pdf", "PLAN.XLSX"])
async def test_every_reader_suffix_is_accepted(hc, name, monkeypatch):
    from aiogram.methods import GetFile

    from bot.importer import reader

    monkeypatch.setattr(reader, "SUPPORTED", (*reader.SUPPORTED, Path(name).suffix.lower()))
    hc.session.files["DOC-1"] = b"%PDF-1.4 not really"
    answer = await hc.send(COORDINATOR, caption="/import", document=(name, 100))
    assert any(isinstance(c, GetFile) for c in answer.calls)  # taken in to be parsed
    assert len(answer.messages) == 1


# --- parsing out of process --------------------------------------------------------------


def block_forever(*args):
    threading.Event().wait()


def block_until_fifo(fifo: str, *args):
    from bot.services.plan_upload import parse_job

    with open(fifo) as handle:  # blocks until the test opens the other end
        handle.read()
    return parse_job(*args)


class Slow(ProcessParser):
    """Runs `blocker` in the child instead of the importer (then the importer, if it returns)."""

    def __init__(self, blocker, *extra, **kw) -> None:
        super().__init__(**kw)
        self.blocker, self.extra = blocker, extra
        self.started = asyncio.Event()

    async def run(self, func, *args):
        self.started.set()
        return await super().run(self.blocker, *self.extra, *args)


def restarted(hc, i18n, directory, parser=None) -> Harness:
    dp = build_dispatcher(
        settings=hc.settings,
        policy=load_deployment_policy(hc.settings),
        tz=hc.settings.clock.zone,
        clock=hc.clock,
        session_maker=hc.ledger.session_maker,
        directory=directory,
        i18n=i18n,
        plan_parser=parser,
    )
    harness = Harness(bot=hc.bot, dispatcher=dp, session=hc.session)
    harness._update_ids = hc._update_ids
    harness._message_ids = hc._message_ids
    return harness


async def test_a_parse_over_the_timeout_is_stopped_with_a_polite_answer(hc, i18n, directory):
    bot = restarted(hc, i18n, directory, Slow(block_forever, timeout=0.5))
    answer = await upload(bot, NO_YEAR)
    assert len(answer.messages) == 1 and not answer.buttons()
    assert "太久" in answer.text or "too long" in answer.text
    async with hc.ledger.session_maker() as s:
        assert (await s.exec(select(func.count()).select_from(PendingImport))).one() == 0


async def test_the_bot_answers_others_while_a_plan_is_parsed(hc, i18n, directory, tmp_path):
    fifo = str(tmp_path / "gate")
    os.mkfifo(fifo)
    parser = Slow(block_until_fifo, fifo, timeout=60)
    bot = restarted(hc, i18n, directory, parser)
    parsing = asyncio.create_task(upload(bot, NO_YEAR))
    await parser.started.wait()
    other = await bot.send(COORDINATOR, "/status")  # answered while the parse is blocked
    assert other.messages and not parsing.done()
    with open(fifo, "w") as gate:  # let the child go on
        gate.write("go")
    summary = await parsing
    assert summary.buttons()


async def test_unfinished_uploads_expire(hc):
    from datetime import timedelta

    from bot.services.import_review import TTL, purge_expired

    await upload(hc, NO_YEAR)
    assert await purge_expired(hc.ledger.session_maker, now=hc.clock.now()) == 0
    later = hc.clock.now() + TTL + timedelta(minutes=1)
    assert await purge_expired(hc.ledger.session_maker, now=later) == 1


async def test_replacing_can_be_taken_back_before_confirming(hc):
    summary = await upload(hc, SHANGRAO)
    replacing = await hc.press(COORDINATOR, summary.button("SR（"))
    assert "<b>SR</b>" in replacing.text
    kept = await hc.press(COORDINATOR, replacing.button("新计划"))  # "keep it a new plan"
    assert "<b>SR2</b>" in kept.text and "替换计划 SR" in str(kept.buttons())
    await hc.press(COORDINATOR, kept.button("确认导入"))
    assert await active_assignments(hc, "SR") == 5 and await active_assignments(hc, "SR2") == 2
