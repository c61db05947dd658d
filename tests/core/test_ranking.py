"""The unit ranking of a 通报: the order of the rules, ties, units with nothing due yet."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from bot.core.lights import Light
from bot.core.ranking import UnitScore, most_overdue, rank_units, unit_light
from bot.core.stats import Rate


def unit(uid, name, on_time=(0, 0), ack=(0, 0), overdue=0, total=4, closed=0) -> UnitScore:
    return UnitScore(uid, name, total, closed, overdue, Rate(*on_time), Rate(*ack))


def order(rows):
    return [(r.rank, r.name) for r in rows]


def test_on_time_rate_decides_first():
    rows = rank_units([unit(1, "乙", (1, 2), (4, 4)), unit(2, "甲", (3, 4), (0, 4))])
    assert order(rows) == [(1, "甲"), (2, "乙")]


def test_acknowledgement_then_overdue_break_ties_of_the_on_time_rate():
    rows = rank_units(
        [
            unit(1, "甲", (1, 2), (1, 2), overdue=0),
            unit(2, "乙", (2, 4), (3, 4), overdue=5),  # same on-time rate, better 签收
            unit(3, "丙", (1, 2), (1, 2), overdue=2),  # same rates as 甲, more overdue
        ]
    )
    assert order(rows) == [(1, "乙"), (2, "甲"), (3, "丙")]


def test_rates_compare_exactly_and_full_ties_share_a_rank_listed_by_name():
    rows = rank_units(
        [
            unit(3, "丙", (1, 3), (2, 2)),
            unit(1, "b", (2, 6), (1, 1)),
            unit(2, "a", (1, 3), (3, 3)),
            unit(4, "last", (0, 3), (3, 3)),
        ]
    )
    assert order(rows) == [(1, "a"), (1, "b"), (1, "丙"), (4, "last")]


def test_no_acknowledgement_judged_comes_after_any_measured_rate():
    rows = rank_units([unit(1, "甲", (1, 1), (0, 0)), unit(2, "乙", (1, 1), (0, 5))])
    assert order(rows) == [(1, "乙"), (2, "甲")]


def test_units_with_nothing_due_yet_follow_unranked():
    rows = rank_units(
        [
            unit(1, "未到期B", (0, 0), (2, 2)),
            unit(2, "甲", (0, 2), (0, 2), overdue=2),
            unit(3, "未到期A", (0, 0)),
        ]
    )
    assert order(rows) == [(1, "甲"), (None, "未到期A"), (None, "未到期B")]
    assert [r.light for r in rows] == [Light.RED, Light.GREY, Light.GREY]
    assert not rows[1].ranked


def test_lights_of_units():
    assert unit_light(unit(1, "a", (1, 1), (1, 1), overdue=1)) is Light.RED
    assert unit_light(unit(1, "a", (1, 2), (1, 1))) is Light.YELLOW
    assert unit_light(unit(1, "a", (2, 2), (1, 2))) is Light.YELLOW
    assert unit_light(unit(1, "a", (2, 2), (2, 2))) is Light.GREEN
    assert unit_light(unit(1, "a", (0, 0), (0, 0))) is Light.GREY


def test_most_overdue_units():
    rows = rank_units(
        [
            unit(1, "a", (1, 1), overdue=1),
            unit(2, "b", (0, 1), overdue=4),
            unit(3, "c", (1, 2), overdue=4),
            unit(4, "d", (0, 0)),
            unit(5, "e", (0, 2), overdue=2),
        ]
    )
    assert [r.name for r in most_overdue(rows)] == ["c", "b", "e"]


rates = st.tuples(st.integers(0, 4), st.integers(0, 4)).map(lambda t: (min(t), max(t)))


@given(
    st.lists(
        st.tuples(rates, rates, st.integers(0, 3), st.sampled_from("甲乙丙丁")),
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_ranking_does_not_depend_on_input_order(specs, rnd: random.Random):
    units = [unit(i, name, on, ack, overdue) for i, (on, ack, overdue, name) in enumerate(specs)]
    shuffled = list(units)
    rnd.shuffle(shuffled)
    first, second = rank_units(units), rank_units(shuffled)
    assert first == second
    ranks = [r.rank for r in first if r.ranked]
    assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1)
    # a rank is the position of the first unit of its tie
    for position, row in enumerate(first, start=1):
        if row.ranked:
            assert row.rank <= position


def test_rows_survive_a_payload():
    from bot.core.ranking import row_from_dict, row_to_dict

    rows = rank_units([unit(1, "甲", (1, 2), (2, 2), overdue=1), unit(2, "乙", (0, 0), (0, 0))])
    assert [row_from_dict(row_to_dict(r)) for r in rows] == rows
