"""Fixtures of the storage tests: a temp-file SQLite ledger, a tiny unit directory, plans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.plan import Indicator, Item, ItemKind, Milestone, Plan, PlanInfo, Role, UnitRef
from bot.storage.db import SessionMaker, create_all, make_engine, make_session_maker
from tests.dbs import database_url, sqlite_url

AT = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeEntry:
    name: str
    short_name: str = ""
    jurisdiction: str = "上饶市"
    level: str = "市直"
    is_group: bool = False
    members: tuple[str, ...] = ()


class FakeDirectory:
    """Resolves canonical names and short names; "12+3" expands to three counties."""

    def __init__(self) -> None:
        entries = [
            FakeEntry("上饶市卫生健康委员会", "市卫健委"),
            FakeEntry("上饶市财政局", "市财政局"),
            FakeEntry("上饶市发展和改革委员会", "市发改委"),
            FakeEntry("信州区人民政府", "信州区政府", level="县级"),
            FakeEntry("广丰区人民政府", "广丰区政府", level="县级"),
            FakeEntry("玉山县人民政府", "玉山县政府", level="县级"),
            FakeEntry(
                "“12+3”人民政府（管委会）",
                "“12+3”人民政府（管委会）",
                level="其他",
                is_group=True,
                members=("信州区人民政府", "广丰区人民政府", "玉山县人民政府"),
            ),
        ]
        self.by_name = {e.name: e for e in entries}
        self.by_short = {e.short_name: e for e in entries}
        self.codes = {"上饶市": "SR"}

    def resolve(self, text: str, jurisdiction: str | None) -> FakeEntry | None:
        return self.by_name.get(text) or self.by_short.get(text)

    def members(self, entry: FakeEntry) -> list[FakeEntry]:
        if not entry.is_group:
            return [entry]
        return [self.by_name[m] for m in entry.members]


HEALTH = "上饶市卫生健康委员会"
FINANCE = "上饶市财政局"
DRC = "上饶市发展和改革委员会"
GROUP = "“12+3”人民政府（管委会）"


def unit(name: str, role: Role = "lead") -> UnitRef:
    return UnitRef(name=name, as_written=name, role=role)


def item(
    ref: str,
    units: list[str],
    dues: list[date],
    *,
    kind: ItemKind = "task",
    title: str | None = None,
) -> Item:
    return Item(
        ref=ref,
        number=ref.split("-")[-1],
        section="公共卫生能力提升行动",
        title=title or f"任务 {ref}",
        text=f"{ref} 的全文",
        units=[unit(u) for u in units],
        milestones=[Milestone(due=d, phrase=f"{d.year}年底", target="") for d in dues],
        kind=kind,
    )


def make_plan(code: str = "SR", *, items: list[Item] | None = None) -> Plan:
    """A small plan: 3 tasks, 1 key project (group units), 1 indicator."""
    info = PlanInfo(
        code=code,
        title="上饶市关于加强公共卫生体系建设的实施意见",
        issuer="上饶市人民政府",
        issued=date(2023, 3, 1),
        start=date(2023, 1, 1),
        end=date(2025, 12, 31),
        source=f"tasks_data/plans/{code}.yaml",
    )
    tasks = items or [
        item(f"{code}-1", [HEALTH, FINANCE], [date(2023, 12, 31), date(2024, 12, 31)]),
        item(f"{code}-2", [DRC, "市不存在局"], [date(2024, 12, 31)]),
        item(f"{code}-3", [HEALTH], [date(2025, 12, 31)]),
    ]
    projects = (
        []
        if items
        else [
            item(f"{code}-P1", [GROUP, HEALTH], [date(2025, 6, 30)], kind="project"),
        ]
    )
    indicators = (
        []
        if items
        else [
            Indicator(
                ref=f"{code}-I1",
                number="1",
                domain="健康水平",
                name="人均预期寿命",
                unit="岁",
                baseline="77.5",
                target="78.5",
                nature="预期性",
                binding=False,
                units=[unit(HEALTH)],
                milestones=[Milestone(due=date(2025, 12, 31), target="78.5")],
            )
        ]
    )
    return Plan(info=info, tasks=tasks, key_projects=projects, indicators=indicators)


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return database_url(tmp_path / "ledger.sqlite3")


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    """For the tests of an existing SQLite file (rows written as SQLite stores them, read back
    with sqlite3, its own index SQL): SQLite in both runs."""
    return sqlite_url(tmp_path / "existing.sqlite3")


@pytest.fixture
async def session_maker(db_url: str) -> AsyncIterator[SessionMaker]:
    engine = make_engine(db_url)
    await create_all(engine)
    yield make_session_maker(engine)
    await engine.dispose()
