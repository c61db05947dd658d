"""The unit ranking of a 通报 (pure): who is ahead and who is behind, by the rates of
`bot.core.stats`. One ranking feeds every renderer: the scorecard picture, /status's units
page, the weekly digest and the export's 排名 sheet.

Rules, in order (best first):
1. 按时办结率 (on-time completion rate), higher first;
2. 及时签收率 (timely acknowledgement rate), higher first; a unit with nothing judged yet
   (every window still open) comes after every measured rate;
3. overdue items, fewer first;
4. the unit's name, then its id: a stable order within a tie.
Units that share 1–3 share a rank (1, 1, 3: competition ranking), listed by name. Rates compare
exactly (2/4 ties with 1/2), not as rounded percentages.

Units with nothing due yet (no item closed and no original due date passed: 按时办结率 is
0 of 0) are not ranked: nothing judges them yet. They follow the ranked units with no rank, by
name, so a list still shows every unit in scope.

Each unit has a light (`unit_light`): red with any overdue item, yellow when none is overdue but
an item was finished or acknowledged late, green when all judged so far was on time, grey when
nothing is due yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from bot.core.lights import Light
from bot.core.stats import Rate, completion_rate


@dataclass(frozen=True)
class UnitScore:
    """What the ranking needs to know about one unit over a scope (one plan or several)."""

    unit_id: int
    name: str
    total: int
    closed: int
    overdue: int
    on_time: Rate
    acknowledgement: Rate


@dataclass(frozen=True)
class RankedUnit:
    """A unit's line of the ranking; `rank` is None when nothing is due yet."""

    rank: int | None
    unit_id: int
    name: str
    total: int
    closed: int
    overdue: int
    on_time: Rate
    acknowledgement: Rate
    light: Light

    @property
    def completion(self) -> Rate:
        return completion_rate(self.closed, self.total)

    @property
    def ranked(self) -> bool:
        return self.rank is not None


def _exact(rate: Rate) -> Fraction | None:
    return None if rate.denominator == 0 else Fraction(rate.numerator, rate.denominator)


def judged(unit: UnitScore) -> bool:
    """Something is due or finished: 按时办结率 has a denominator."""
    return unit.on_time.denominator > 0


def rank_key(unit: UnitScore) -> tuple[Fraction, int, Fraction, int]:
    """The part of the order that decides a rank (rules 1–3); smaller is better."""
    on_time = _exact(unit.on_time) or Fraction(0)
    ack = _exact(unit.acknowledgement)
    return (-on_time, 1 if ack is None else 0, -(ack or Fraction(0)), unit.overdue)


def unit_light(unit: UnitScore) -> Light:
    if unit.overdue > 0:
        return Light.RED
    if not judged(unit):
        return Light.GREY
    late = unit.on_time.numerator < unit.on_time.denominator or (
        unit.acknowledgement.numerator < unit.acknowledgement.denominator
    )
    return Light.YELLOW if late else Light.GREEN


def _line(unit: UnitScore, rank: int | None) -> RankedUnit:
    return RankedUnit(
        rank=rank,
        unit_id=unit.unit_id,
        name=unit.name,
        total=unit.total,
        closed=unit.closed,
        overdue=unit.overdue,
        on_time=unit.on_time,
        acknowledgement=unit.acknowledgement,
        light=unit_light(unit),
    )


def rank_units(units: Iterable[UnitScore]) -> list[RankedUnit]:
    """The units in ranking order (see the module docstring); unranked ones last."""
    units = list(units)
    ranked = sorted(
        (u for u in units if judged(u)), key=lambda u: (rank_key(u), u.name, u.unit_id)
    )
    waiting = sorted((u for u in units if not judged(u)), key=lambda u: (u.name, u.unit_id))
    out: list[RankedUnit] = []
    previous = None
    rank = 0
    for position, unit in enumerate(ranked, start=1):
        key = rank_key(unit)
        if key != previous:
            rank, previous = position, key
        out.append(_line(unit, rank))
    out.extend(_line(unit, None) for unit in waiting)
    return out


def most_overdue(rows: Iterable[RankedUnit], limit: int = 3) -> list[RankedUnit]:
    """The units with the most overdue items (a caption's "most behind"), ranking order
    breaking ties."""
    rows = list(rows)
    order = {row.unit_id: i for i, row in enumerate(rows)}
    behind = [row for row in rows if row.overdue > 0]
    behind.sort(key=lambda row: (-row.overdue, order[row.unit_id]))
    return behind[:limit]


def row_to_dict(row: RankedUnit) -> dict[str, object]:
    """A ranked unit as plain JSON values (frozen into an Outbox payload)."""
    return {
        "rank": row.rank,
        "unit_id": row.unit_id,
        "unit": row.name,
        "total": row.total,
        "closed": row.closed,
        "overdue": row.overdue,
        "on_time": [row.on_time.numerator, row.on_time.denominator],
        "ack": [row.acknowledgement.numerator, row.acknowledgement.denominator],
    }


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) and value != "" else 0


def row_from_dict(data: dict[str, object]) -> RankedUnit:
    """The ranked unit `row_to_dict` wrote; its light is derived again (same rules)."""

    def rate(value: object) -> Rate:
        parts = list(value) if isinstance(value, list | tuple) else []
        parts += [0, 0]
        return Rate(_int(parts[0]), _int(parts[1]))

    rank = data.get("rank")
    score = UnitScore(
        unit_id=_int(data.get("unit_id")),
        name=str(data.get("unit") or ""),
        total=_int(data.get("total")),
        closed=_int(data.get("closed")),
        overdue=_int(data.get("overdue")),
        on_time=rate(data.get("on_time")),
        acknowledgement=rate(data.get("ack")),
    )
    return _line(score, None if rank is None else _int(rank))
