"""The small ledger of the service and handler tests, written with `tests.builders`.

Plan SR (上饶市) with SR-1 (two milestones; 市卫健委 leads, 市财政局 co-operates) and SR-2
(due soon, 市卫健委 only); plan LN (龙南市) with LN-1 for 龙南's 市卫健委. The clock of the
tests reads 2025-12-20 09:00 in Shanghai.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.core.lights import LightPolicy
from tests.builders import LedgerBuilder

NOW = datetime(2025, 12, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
TODAY = date(2025, 12, 20)
POLICY = LightPolicy()

Ledger = LedgerBuilder


async def build_ledger(path: Path) -> Ledger:
    ledger = await LedgerBuilder.create(path, at=NOW)
    await ledger.unit(
        "sr_health", "上饶市卫生健康委员会", short_name="市卫健委", jurisdiction="上饶市"
    )
    await ledger.unit("sr_finance", "上饶市财政局", short_name="市财政局", jurisdiction="上饶市")
    await ledger.unit(
        "ln_health", "龙南市卫生健康委员会", short_name="市卫健委", jurisdiction="龙南市"
    )
    await ledger.plan(
        "SR",
        "上饶市实施意见",
        issuer="上饶市人民政府",
        start=date(2023, 1, 1),
        end=date(2025, 12, 31),
    )
    await ledger.plan(
        "LN",
        "龙南市三年行动计划",
        issuer="龙南市人民政府",
        start=date(2024, 1, 1),
        end=date(2026, 12, 31),
    )
    await ledger.item(
        "SR-1",
        "SR",
        "设立公共卫生科 <b>&",
        [(date(2024, 12, 31), "60%"), (date(2026, 3, 31), "100%")],
        [("sr_health", "lead"), ("sr_finance", "co")],
    )
    await ledger.item(
        "SR-2", "SR", "建设区域医疗中心", [(date(2026, 1, 10), "")], [("sr_health", "lead")]
    )
    await ledger.item(
        "LN-1", "LN", "建设紧密型医共体", [(date(2026, 6, 30), "")], [("ln_health", "lead")]
    )
    return ledger


# tests/telegram calls it as a function, add_person(ledger, telegram_id, …), until it moves
add_person = LedgerBuilder.person


def open_ledger(path: Path, template: Ledger) -> Ledger:
    """A ledger over a copy of `template`'s file (same ids)."""
    return template.reopen(path)
