"""The brief's pure rules (bot.core.brief): sections, one line per item, the day's slots, the
brief time, and the policy's brief section."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.brief import (
    assignment_ids,
    brief_key,
    brief_time,
    items_of,
    merge,
    reminder_section,
    sections,
    slot,
    to_acknowledge,
)
from bot.core.notices import BatchItem, BatchNotice, BriefItem, ItemNotice
from bot.core.policy import PolicyError, load_policy

ZONE = ZoneInfo("Asia/Shanghai")


def _item(kind: str, aid: int, days: int, *, acknowledged: bool = True, **kw):
    notice = ItemNotice(
        plan="SR", plan_title="T", ref=f"SR-{aid}", title="x" * 40, days=days, **kw
    )
    notice.acknowledged = acknowledged
    return items_of(kind, notice.to_json(), aid)


@pytest.mark.parametrize(
    ("days", "section"), [(0, "d0"), (-1, "d0"), (1, "d1"), (2, "d7"), (7, "d7"), (30, "d30")]
)
def test_a_reminder_goes_in_the_section_of_its_days_left(days, section):
    assert reminder_section(days) == section


def test_one_line_per_item_in_its_most_urgent_section_most_urgent_first():
    found = [
        *_item("reminder", 1, 7, acknowledged=False),
        *_item("ack_chase", 1, 3, acknowledged=False),
        *_item("overdue", 2, 1),
        *_item("escalation", 3, 14),
        *_item("reminder", 4, 0),
        *_item("periodic", 5, 14, period_end=date(2025, 12, 31)),
        *_item("reminder", 6, 30),
    ]
    merged = merge(found)
    assert [(i.id, i.section) for i in merged] == [
        (3, "od"),
        (2, "od"),
        (4, "d0"),
        (1, "d7"),
        (6, "d30"),
        (5, "per"),
    ]
    assert merged[0].escalated and not merged[1].escalated
    assert len(merged[0].title) == 24 and merged[0].title.endswith("…")
    assert [i.id for i in to_acknowledge(merged)] == [1]
    assert list(sections(merged)) == ["od", "d0", "d7", "d30", "per"]
    stored = merged[3].to_json()  # a reference: the titles are read when it is rendered
    assert "title" not in stored and "plan_title" not in stored
    assert BriefItem.from_json(stored) == replace(merged[3], title="", plan_title="")


def test_an_items_milestones_make_one_line_and_all_of_them_are_acknowledged():
    a = _item("overdue", 1, 300, acknowledged=False)[0]
    b = _item("escalation", 2, 700)[0]
    c = _item("reminder", 3, 5)[0]
    same = [replace(x, ref="SR-9") for x in (a, b, c)]
    [line] = merge(same)
    assert (line.id, line.days, line.also, line.acknowledged) == (2, 700, (1, 3), False)
    assert sorted(assignment_ids([line])) == [1, 2, 3]


def test_a_liaisons_overdue_list_brings_each_of_its_items():
    listing = BatchNotice(
        plan="SR",
        plan_title="T",
        date=date(2025, 3, 24),
        audience="liaisons",
        total=2,
        counts={},
        items=(
            BatchItem(11, "SR-11", "a", "u", kind="escalation", days=9),
            BatchItem(12, "SR-12", "b", "u", kind="overdue", days=2),
        ),
    )
    found = items_of("overdue_batch", listing.to_json(), None)
    assert [(i.id, i.section, i.days, i.escalated) for i in found] == [
        (11, "od", 9, True),
        (12, "od", 2, False),
    ]


def test_the_morning_brief_then_one_follow_up_then_nothing_until_the_next_day():
    assert [slot(n) for n in range(4)] == [0, 1, None, None]
    assert brief_key(date(2025, 3, 24), 0, 7) == "brief:2025-03-24|7"
    assert brief_key(date(2025, 3, 24), 1, 7) == "brief:2025-03-24#2|7"


def test_the_brief_time_is_the_policys_on_the_next_working_day():
    policy = load_policy(overrides={"brief": {"time": "10:00"}})
    at = brief_time(date(2025, 10, 1), policy)  # 国庆: the first working day is 10-09
    assert at == datetime(2025, 10, 9, 10, 0, tzinfo=ZONE)
    early = load_policy(overrides={"brief": {"time": "07:00"}})  # not before the window
    assert brief_time(date(2025, 3, 24), early) == datetime(2025, 3, 24, 9, 0, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"brief": {"audiences": ["leaders"]}}, r"brief\.audiences\[0\]"),
        ({"brief": {"max_lines": 0}}, r"brief\.max_lines"),
        ({"brief": {"time": "9h"}}, r"brief\.time"),
        ({"plans": {"SR": {"brief": {"time": "10:00"}}}}, r"plans\.SR\.brief\.time"),
    ],
)
def test_a_bad_brief_section_names_the_field(overrides, field):
    with pytest.raises(PolicyError, match=field):
        load_policy(overrides=overrides)


def test_briefs_are_on_for_liaisons_by_default_and_can_be_switched_off_per_plan():
    assert load_policy().briefs("SR", "liaisons")
    assert not load_policy().briefs("SR", "leaders")
    policy = load_policy(overrides={"plans": {"LN": {"brief": {"audiences": False}}}})
    assert policy.briefs("SR", "liaisons") and not policy.briefs("LN", "liaisons")
    off = load_policy(overrides={"brief": {"audiences": []}})
    assert not off.briefs("SR", "liaisons")


def test_a_lean_list_gives_the_items_its_notice_reads_without_making_them(monkeypatch):
    """A planned list stores its items lean (`BatchItem.to_lean`): the brief composer reads
    tens of thousands of them after a first pass straight from the arrays (`lean_listed`),
    and gets the items the notice read gives (dates said by the days or stored, the
    acknowledgement ladder without a due date, kinds, an item without id left out)."""
    on = date(2025, 12, 1)
    items = (
        BatchItem(11, "SR-11", "a", "u", kind="escalation", days=9, due=date(2025, 11, 22)),
        BatchItem(12, "SR-12", "b", "u", kind="overdue", days=2, due=date(2025, 11, 20)),
        BatchItem(13, "SR-13", "c", "u", kind="overdue", days=2, due=date(2025, 11, 29)),
        BatchItem(14, "SR-14", "d", "u", kind="escalation", ladder="ack", days=4),
        BatchItem(15, "SR-15", "e", "u", kind="overdue", days=0, due=on, stage="od0@x"),
        BatchItem(0, "SR-0", "f", "u", kind="overdue", days=3, due=date(2025, 11, 28)),
    )
    for kind in ("overdue_batch", "escalation_batch"):
        listing = BatchNotice("SR", "T", on, "liaisons", len(items), {}, items)
        payload = listing.to_json(lean=True)
        assert all(isinstance(i, list) for i in payload["items"])
        notice = BatchNotice.from_json(payload)  # what the brief made of it so far
        wanted = [
            BriefItem(
                id=int(i.id or 0),
                ref=i.ref,
                title="",
                plan="SR",
                plan_title="",
                section="od",
                days=i.days,
                due=i.due,
                escalated=i.kind == "escalation",
            )
            for i in notice.items
            if i.id
        ]

        def unused(*_args, **_kw):
            raise AssertionError("a lean list is read without making its items")

        with monkeypatch.context() as patched:
            patched.setattr(BatchItem, "from_lean", unused)
            found = items_of(kind, payload, None)
        assert found == wanted
        assert [i.due for i in found] == [
            date(2025, 11, 22),
            date(2025, 11, 20),
            date(2025, 11, 29),
            None,
            on,
        ]


def test_merge_keeps_every_field_of_the_line_it_chooses():
    """`merge` builds each line with every field of `BriefItem` given (no
    `dataclasses.replace`, for speed): a field added to BriefItem must be added there."""
    from dataclasses import fields

    assert [f.name for f in fields(BriefItem)] == [
        "id",
        "ref",
        "title",
        "plan",
        "plan_title",
        "section",
        "days",
        "due",
        "acknowledged",
        "escalated",
        "also",
    ]
    first = BriefItem(7, "SR-7", "t", "SR", "T", "od", 5, date(2025, 3, 1), True, True)
    other = replace(first, id=8, section="d7", days=3, acknowledged=False, escalated=False)
    assert merge([first, other]) == (replace(first, acknowledged=False, also=(8,)),)


@pytest.mark.parametrize(
    ("kind", "days", "ladder", "period_end"),
    [
        ("reminder", 7, "due", None),
        ("reminder", None, "due", None),
        ("ack_chase", 3, "ack", None),
        ("overdue", 2, "due", None),
        ("escalation", 14, "due", None),
        ("periodic", 20, "periodic", date(2025, 12, 31)),
    ],
)
def test_a_planned_stage_row_gives_the_item_its_notice_reads_without_making_it(
    monkeypatch, kind, days, ladder, period_end
):
    """A planned stage row stores a lean payload (`stage_payload`): the brief composer reads
    its plan, days and dates straight from it (`lean_stage`), and gets the item the notice
    read gives; any other payload (a copy of the item, as earlier releases stored) is read
    as a notice."""
    from bot.core.notices import stage_payload

    payload = stage_payload("SR", "liaisons", date(2025, 12, 8), days, ladder, period_end)
    wanted = items_of(kind, {**payload, "ref": ""}, 42)  # not lean: read as a notice

    def unused(*_args, **_kw):
        raise AssertionError("a lean stage payload is read without making its notice")

    with monkeypatch.context() as patched:
        patched.setattr(ItemNotice, "from_json", unused)
        found = items_of(kind, payload, 42)
    assert found == wanted and len(found) == 1
    assert found[0].plan == "SR" and found[0].days == (days or 0)
    assert found[0].due == (period_end or date(2025, 12, 8))
