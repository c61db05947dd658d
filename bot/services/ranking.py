"""The ranking of units over a scope, from the database: one call for every renderer.

`unit_ranking` answers for one plan, for several (a coordinator's plans, every plan) and for a
unit; over several plans a unit that answers for items in more than one is ranked once, over
all of its items. /status's units page, /scorecard's picture, the export's 排名 sheet and the
weekly digest all take their list from here; the order is `bot.core.ranking`'s.

The per-unit counts are one grouped statement (`stats_sql.scope_unit_scores`) with the same
definitions as /status's totals (`bot.services.stats`): summed over the units they are /status's
按时办结率 and 及时签收率 of the same scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import stats as core
from bot.core.notices import RankingBlock, ScoreRow
from bot.core.policy import Policy
from bot.core.ranking import RankedUnit, UnitScore, rank_units, row_from_dict, row_to_dict
from bot.core.roles import Roles
from bot.core.workdays import is_working_day as official_working_day
from bot.services import stats_sql as sql
from bot.services.errors import ServiceError
from bot.services.lookup import plan_by_code
from bot.services.scope import PlanScope
from bot.services.stats import (
    DEFAULT_ACK_WINDOW,
    Scope,
    When,
    _ack_runs,
    _ack_threshold,
    _ack_tree_params,
    _assigned_range,
    _day_end_params,
    _day_params,
    _on_postgres,
    _run,
    _scope_rows,
    unit_names,
)
from bot.storage.models import Plan, Unit


@dataclass(frozen=True)
class PlanRef:
    plan_id: int
    code: str
    title: str


@dataclass(frozen=True)
class Ranking:
    """The units of a scope in ranking order, as of `at` (local day `today`)."""

    at: datetime
    today: date
    rows: list[RankedUnit]
    plans: list[PlanRef] = field(default_factory=list)  # the plans of the scope, by code

    @property
    def ranked(self) -> list[RankedUnit]:
        return [row for row in self.rows if row.ranked]

    @property
    def on_time(self) -> core.Rate:
        return sum((row.on_time for row in self.rows), core.Rate(0, 0))

    @property
    def acknowledgement(self) -> core.Rate:
        return sum((row.acknowledgement for row in self.rows), core.Rate(0, 0))

    @property
    def overdue(self) -> int:
        return sum(row.overdue for row in self.rows)

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)


async def unit_scores(
    session: AsyncSession,
    *,
    scope: Scope,
    when: When,
    ack_window: int = DEFAULT_ACK_WINDOW,
    is_working_day: core.WorkingDay = core.weekdays,
) -> list[UnitScore]:
    """Every unit with assignments in scope, with its counts and rates."""
    bounds = await _assigned_range(session)
    if bounds is None:
        return []
    pg = await _on_postgres(session)
    runs = _ack_runs(when, ack_window, is_working_day, *bounds)
    threshold = _ack_threshold(runs, when)
    offsets, ends = await _day_end_params(session, when, pg)
    statement = sql.scope_unit_scores(
        _scope_rows(scope, pg, milestone=True),
        offsets,
        runs=len(runs),
        all_windows_over=threshold is None,
        pg=pg,
    )
    params = {
        **_day_params(scope, when, pg),
        **_ack_tree_params(runs, threshold, pg),
        **ends,
    }
    rows = await _run(session, statement, params)
    names = await unit_names(session, [row[0] for row in rows])
    out = []
    for unit_id, total, closed, overdue, on_time, not_yet_due, timely, judged in rows:
        out.append(
            UnitScore(
                unit_id=unit_id,
                name=names.get(unit_id, "?"),
                total=int(total),
                closed=int(closed or 0),
                overdue=int(overdue or 0),
                on_time=core.Rate(int(on_time), int(total) - int(not_yet_due or 0)),
                acknowledgement=core.Rate(int(timely), int(judged)),
            )
        )
    return out


async def scope_plans(session: AsyncSession, scope: Scope) -> list[PlanRef]:
    """The active plans a scope covers, by code (a unit's scope: every plan it may see)."""
    query = select(Plan.id, Plan.code, Plan.title).where(col(Plan.archived_at).is_(None))
    if scope.plan_id is not None:
        query = query.where(Plan.id == scope.plan_id)
    if scope.plan_ids is not None:
        query = query.where(col(Plan.id).in_(sorted(scope.plan_ids)))
    rows = (await session.exec(query.order_by(Plan.code))).all()
    return [PlanRef(int(pid or 0), code, title) for pid, code, title in rows]


async def unit_ranking(
    session: AsyncSession,
    *,
    scope: Scope,
    at: datetime,
    zone: ZoneInfo,
    ack_window: int = DEFAULT_ACK_WINDOW,
    is_working_day: core.WorkingDay = core.weekdays,
) -> Ranking:
    """The ranking of the units of `scope` at `at` (see the module docstring)."""
    when = When(at, zone)
    scores = await unit_scores(
        session, scope=scope, when=when, ack_window=ack_window, is_working_day=is_working_day
    )
    return Ranking(
        at=at,
        today=when.today,
        rows=rank_units(scores),
        plans=await scope_plans(session, scope),
    )


def ack_window(policy: Policy) -> int:
    """Working days a unit has to 签收 for 及时签收率: the reminder policy's chase threshold, so
    /status, the export and the weekly digest count the same thing."""
    return policy.for_plan(None).ack_chase_after


async def policy_ranking(
    session: AsyncSession, *, scope: Scope, at: datetime, policy: Policy
) -> Ranking:
    """`unit_ranking` with the deployment's rules (the policy's 签收 window, the official
    working days, the plans' zone): what the scheduled passes (the digest, a leader's 督办汇总)
    rank with, the same as /status and the export."""
    return await unit_ranking(
        session,
        scope=scope,
        at=at,
        zone=policy.zone,
        ack_window=ack_window(policy),
        is_working_day=official_working_day,
    )


def to_block(ranking: Ranking, *, closed_week: int = 0, overdue_week: int = 0) -> RankingBlock:
    """A ranking frozen into an Outbox payload (read back with `from_block`)."""
    return RankingBlock(
        at=ranking.at,
        plans=tuple((p.code, p.title) for p in ranking.plans),
        rows=tuple(ScoreRow.from_json(row_to_dict(row)) for row in ranking.rows),
        closed_week=closed_week,
        overdue_week=overdue_week,
    )


def from_block(block: RankingBlock, zone: tzinfo) -> Ranking:
    """The `Ranking` a payload froze (its rows in the same order, lights derived again)."""
    at = block.at or datetime.min.replace(tzinfo=zone)
    return Ranking(
        at=at,
        today=at.astimezone(zone).date(),
        rows=[row_from_dict(row.to_json()) for row in block.rows],
        plans=[PlanRef(0, code, title) for code, title in block.plans],
    )


async def scorecard_plan_ids(session: AsyncSession, roles: Roles) -> frozenset[int] | None:
    """The plans whose scorecard someone may see (None: every plan): a coordinator's plans
    (`PlanScope`), a plan leader's plan, and a unit leader's plans where the unit has items
    (the whole ranking, so they see where their unit stands, as in the weekly digest)."""
    plans: frozenset[int] = frozenset()
    if roles.coordinator:
        reached = PlanScope(roles).plan_ids
        if reached is None:
            return None
        plans |= reached
    plans |= roles.leader_plan_ids
    if roles.leader_unit_ids:
        of_units = await PlanScope(roles).plans_of_units(session, sorted(roles.leader_unit_ids))
        for unit_plans in of_units.values():
            plans |= unit_plans
    return plans


@dataclass(frozen=True)
class CardScope:
    """What a scorecard shows: `scope`, with `unit_id` marked when it is about one unit."""

    scope: Scope
    plan_id: int | None = None
    unit_id: int | None = None
    unit_name: str | None = None


async def card_scope(
    session: AsyncSession,
    roles: Roles,
    *,
    plan_code: str | None = None,
    plan_id: int | None = None,
    unit_id: int | None = None,
) -> CardScope:
    """The scorecard someone asked for, within their reach (`scorecard_plan_ids`): a plan (by
    code or id), a unit (the plans where it has items; it is marked), or every plan reached.
    Codes: unknown_plan, not_your_plan, unknown_unit, unit_out_of_scope."""
    reach = await scorecard_plan_ids(session, roles)
    plan = None
    if plan_code:
        plan = await plan_by_code(session, plan_code)
        if plan is None:
            raise ServiceError("unknown_plan", plan=plan_code)
    elif plan_id:
        plan = await session.get(Plan, plan_id)
        if plan is None or plan.archived_at is not None:
            raise ServiceError("unknown_plan", plan=str(plan_id))
    if plan is not None:
        if reach is not None and plan.id not in reach:
            raise ServiceError("not_your_plan", plan=plan.code)
        return CardScope(Scope(plan_id=plan.id, plan_ids=reach), plan_id=plan.id)
    if unit_id:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise ServiceError("unknown_unit", unit=str(unit_id))
        plans = (await PlanScope(roles).plans_of_units(session, [unit_id]))[unit_id]
        if reach is not None:
            plans &= reach
        if not plans:
            raise ServiceError("unit_out_of_scope", unit=unit.short_name or unit.name)
        label = (await unit_names(session, [unit_id])).get(unit_id, unit.name)
        return CardScope(Scope(plan_ids=plans), unit_id=unit_id, unit_name=label)
    return CardScope(Scope(plan_ids=reach))
