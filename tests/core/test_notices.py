"""Outbox payloads: one model per kind, stored as the JSON earlier releases wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.notices import (
    PAYLOADS,
    Audience,
    BatchItem,
    BatchMarker,
    BatchNotice,
    ChasedBrief,
    ChaseRecord,
    DecisionItem,
    DecisionNotice,
    DigestItem,
    DigestNotice,
    DigestPlan,
    ItemNotice,
    OutboxKind,
    OutboxStatus,
    ScoreRow,
    TextNotice,
    UnitRef,
    read_payload,
)

AT = datetime(2025, 3, 24, 1, 0, tzinfo=UTC)


def test_the_enums_are_the_stored_strings():
    assert [k.value for k in OutboxKind] == [
        "reminder",
        "ack_chase",
        "overdue",
        "escalation",
        "escalation_batch",
        "overdue_batch",
        "periodic",
        "digest",
        "chase",
        "notice",
        "decision",
        "brief",
    ]
    assert f"{OutboxKind.ESCALATION}:7:od7@2025-03-01" == "escalation:7:od7@2025-03-01"
    assert OutboxStatus.BATCHED == "batched" and Audience.LIAISONS == "liaisons"
    assert set(PAYLOADS) == set(OutboxKind)  # every kind has its model


EXAMPLES = [
    ItemNotice(
        plan="SR",
        plan_title="深化改革",
        ref="SR-1",
        title="建立机制",
        item_kind="task",
        target="年底前完成",
        original_due=date(2025, 3, 1),
        unit="市卫健委",
        unit_id=3,
        role="lead",
        status="in_progress",
        acknowledged=False,
        units=(UnitRef("市卫健委", "lead"), UnitRef("市财政局", "support")),
        chased=(ChaseRecord("reminder", "d7@2025-03-01", AT, "张联络", "liaisons", True),),
        audience=Audience.COORDINATORS,
        stage="od7@2025-03-01",
        due=date(2025, 3, 1),
        days=7,
        ladder="due",
    ),
    ItemNotice(ref="SR-2", due=date(2025, 4, 1), days=8, note="请尽快", by="赵督办"),
    BatchNotice(
        plan="SR",
        plan_title="深化改革",
        date=date(2025, 3, 24),
        audience=Audience.LEADERS,
        total=2,
        counts={"due": 1, "ack": 1},
        items=(
            BatchItem(
                1,
                "SR-1",
                "x",
                "市卫健委",
                "blocked",
                "escalation",
                "due",
                9,
                None,
                "od7",
                ChasedBrief(2, AT, "overdue", ("张联络",)),
            ),
            BatchItem(2, "SR-2", "y", "市财政局", days=5, ladder="ack", chased=ChasedBrief()),
        ),
        more=0,
        follow_up=2,
    ),
    DigestNotice(
        week="2025-W13",
        week_start=date(2025, 3, 24),
        today=date(2025, 3, 24),
        audience=Audience.GROUPS,
        unit_ids=(3,),
        plans=(
            DigestPlan(
                "SR",
                "深化改革",
                {
                    "completed": (),
                    "newly_overdue": (),
                    "overdue": (DigestItem(1, "SR-1", "x", "市卫健委", "2025-03-01", 23),),
                    "due_soon": (),
                },
                {"overdue": 4},
                {"completed": 0, "newly_overdue": 0, "overdue": 5, "due_soon": 0},
                (ScoreRow(1, 3, "市卫健委", 5, 1, 4, 4, (1, 2), (3, 5), True),),
            ),
        ),
    ),
    TextNotice("<b>hi</b>"),
    DecisionNotice(
        (DecisionItem("extension", 4, 1, "SR", "SR-1", "市卫健委", date(2025, 5, 1), AT, "n"),)
    ),
]


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_a_payload_reads_back_as_written(payload):
    assert type(payload).from_json(payload.to_json()) == payload


def test_rows_of_earlier_releases_read_with_defaults():
    old = {"ref": "SR-1", "due": "2025-03-01", "days": 3, "units": [{"name": "市卫健委"}]}
    notice = read_payload("reminder", old)
    assert isinstance(notice, ItemNotice)
    assert notice.due == date(2025, 3, 1) and notice.acknowledged and notice.chased is None
    assert notice.units == (UnitRef("市卫健委", ""),)
    assert read_payload("notice", None) == TextNotice("")
    with pytest.raises(LookupError):
        read_payload("telegram", {})


def test_a_liaison_list_item_has_no_chase_history_and_a_marker_names_its_batches():
    item = BatchItem(1, "SR-1", "x", "市卫健委", kind="overdue").to_json()
    assert "chased" not in item
    assert BatchMarker(("k|1",)).to_json() == {"audience": "batched", "batches": ["k|1"]}
