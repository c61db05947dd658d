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
    BriefItem,
    BriefNotice,
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
    RankingBlock,
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


def test_a_lean_summary_stores_what_the_days_do_not_say_and_reads_back_the_rest():
    chased = ChasedBrief(2, datetime(2025, 3, 20, 1, tzinfo=UTC), "overdue", ("张联络",))
    items = (
        # overdue 9 days on the summary's date: due and stage follow from the days
        BatchItem(7, "SR-1", "", "", "", "escalation", "due", 9, date(2025, 3, 15)),
        # a stage that is not the days' (an older stage listed late): stored as it is
        BatchItem(8, "SR-2", "", "", "", "overdue", "due", 4, date(2025, 3, 20), "od3@2025-03-20"),
        # the acknowledgement ladder: its due date is the item's, stored
        BatchItem(
            9, "SR-3", "", "", "", "escalation", "ack", 5, date(2025, 4, 30), "ack5", chased
        ),
    )
    items[0].stage = "od9@2025-03-15"
    notice = BatchNotice("SR", "", date(2025, 3, 24), "leaders", 3, {"due": 2}, items)
    stored = notice.to_json(lean=True)
    assert "plan_title" not in stored
    assert stored["items"][0] == [7, "SR-1", 1, 9]
    assert stored["items"][1] == [8, "SR-2", 0, 4, 0, "od3@2025-03-20"]
    assert stored["items"][2][4:7] == ["2025-04-30", 0, "ack"]
    assert BatchNotice.from_json(stored) == notice


def test_lean_digests_briefs_and_rankings_read_back_as_written():
    today = date(2025, 3, 24)
    digest = DigestNotice(
        "2025-W13",
        date(2025, 3, 24),
        today,
        "leaders",
        (1,),
        (
            DigestPlan(
                "SR",
                "",
                {
                    "completed": (),
                    "newly_overdue": (DigestItem(3, "", "", "", "2025-03-20", 4),),
                    "overdue": (DigestItem(4, "", "", "", "2025-01-01", 9),),  # not 9 days
                    "due_soon": (DigestItem(5, "", "", "", "2025-03-27", 3),),
                },
                {"overdue": 12},
                {"completed": 0, "newly_overdue": 1, "overdue": 13, "due_soon": 1},
            ),
        ),
        RankingBlock(
            datetime(2025, 3, 24, 1, tzinfo=UTC),
            (("SR", ""),),
            (
                ScoreRow(1, 11, "", 50, 2, 3, 3, (1, 3), (4, 5)),
                ScoreRow(None, 12, "", 1, 0, 0, 1, (0, 0), (0, 0), True),
            ),
        ),
    )
    stored = digest.to_json(lean=True)
    part = stored["plans"][0]
    assert "title" not in part and "completed" not in part
    assert part["newly_overdue"] == [[3, 4]] and part["due_soon"] == [[5, 3]]
    assert part["overdue"] == [[4, 9, "2025-01-01"]]
    assert stored["ranking"]["plans"] == ["SR"]
    assert stored["ranking"]["rows"] == [
        [1, 11, 50, 2, 3, 1, 3, 4, 5],
        [None, 12, 1, 0, 0, 0, 0, 0, 0, 1, 1],
    ]
    assert DigestNotice.from_json(stored) == digest

    brief = BriefNotice(
        today,
        (
            BriefItem(1, "", "", "", "", "od", 9, date(2025, 3, 15), True, True),
            BriefItem(2, "", "", "", "", "d7", 3, date(2025, 3, 27), False, False, (5, 6)),
            BriefItem(3, "", "", "", "", "ack", 4, date(2025, 6, 30), False),
        ),
        stages=4,
    )
    stored = brief.to_json(lean=True)
    assert stored["items"] == [
        [1, "od", 9, 2],
        [2, "d7", 3, 1, 0, [5, 6]],
        [3, "ack", 4, 1, "2025-06-30"],
    ]
    assert BriefNotice.from_json(stored) == brief
