"""Less to scroll (issue 14, item 4): /my one line per item, grouped by plan and urgency;
/overdue one entry per item with its late units; a short name that several units share
(市卫健委 of 上饶 and of 龙南) gets buttons with the full names in /status, /overdue and /unit,
and lists name such units by their full (jurisdiction-qualified) name."""

from __future__ import annotations

import re

from aiogram.methods import EditMessageText, SendMessage

from bot.services.people import add_membership
from bot.storage.models import Person
from tests.coordinator.conftest import COORDINATOR, LIAISON

SR_HEALTH = "上饶市卫生健康委员会"
LN_HEALTH = "龙南市卫生健康委员会"
BOTH = 300  # liaison of 上饶's and 龙南's 市卫健委


async def test_my_shows_one_line_per_item_grouped_by_plan_and_urgency(hc):
    person_id = await hc.ledger.person(BOTH, "王五", role="liaison", unit="sr_health")
    async with hc.ledger.session_maker() as s:
        person = await s.get(Person, person_id)
        await add_membership(
            s, person, role="liaison", at=hc.ledger.at, unit_id=hc.ledger.units["ln_health"]
        )
        await s.commit()
    listing = (await hc.send(BOTH, "/my")).text
    # SR-1 has two milestones for 上饶: one line (the late one), the other counted
    assert len(re.findall(r"<b>SR-1</b>", listing)) == 1, listing
    assert "另有 1 个节点" in listing
    assert "共 3 项" in listing or "3 项" in listing
    # grouped: plan SR (its item is the most urgent) before LN, a light heading in each
    sr, ln = listing.index("<b>SR</b>"), listing.index("<b>LN</b>")
    assert sr < listing.index("SR-1") < listing.index("SR-2") < ln < listing.index("LN-1")
    assert "🔴 <i>" in listing and "🟡 <i>" in listing
    # two units that share a short name: each line names its unit in full
    assert SR_HEALTH in listing and LN_HEALTH in listing
    # a liaison of one unit: the unit goes unsaid
    single = (await hc.send(LIAISON, "/my")).text
    assert SR_HEALTH not in single and "市卫健委" not in single


async def test_overdue_groups_by_item_with_its_late_units(hc):
    text = (await hc.send(COORDINATOR, "/overdue")).text
    # SR-1's first milestone is late for both of its units: one entry naming both
    assert text.count("<b>SR-1</b>") == 1, text
    assert "2 个单位逾期" in text
    entry = text[text.index("<b>SR-1</b>") :]
    assert SR_HEALTH in entry and "市财政局" in entry


async def pick(hc, command: str, full_name: str) -> str:
    """Send `command`, press the button of `full_name`; what the bot then shows."""
    answer = await hc.send(COORDINATOR, command)
    labels = [label for label, _ in answer.buttons()]
    assert SR_HEALTH in labels and LN_HEALTH in labels, (command, answer.text, labels)
    shown = await hc.press(COORDINATOR, answer.button(full_name))
    return "\n".join(c.text for c in shown.calls if isinstance(c, EditMessageText | SendMessage))


async def test_an_ambiguous_unit_gets_buttons_with_the_full_names(hc):
    status = await pick(hc, "/status 市卫健委", LN_HEALTH)
    assert f"督办进展：{LN_HEALTH}" in status  # its summary
    overdue = await pick(hc, "/overdue 市卫健委", SR_HEALTH)
    assert SR_HEALTH in overdue and "SR-1" in overdue
    unit = await pick(hc, "/unit 市卫健委", SR_HEALTH)
    assert "张三" in unit and f"督办进展：{SR_HEALTH}" in unit  # /unit's liaisons


async def test_units_and_lists_qualify_a_shared_short_name(hc):
    units = (await hc.send(COORDINATOR, "/units")).text
    assert SR_HEALTH in units and LN_HEALTH in units
    assert "市财政局" in units and "上饶市财政局" not in units  # unique: the short name
    await hc.send(LIAISON, "/report SR-2 已完成")
    pending = (await hc.send(COORDINATOR, "/pending")).text
    assert f"SR-2 · {SR_HEALTH}" in pending


async def test_invite_offers_the_full_names_of_an_ambiguous_unit(hc):
    answer = await hc.send(COORDINATOR, "/invite 市卫健委 王五")
    labels = [label for label, _ in answer.buttons()]
    assert SR_HEALTH in labels and LN_HEALTH in labels, labels
