"""The one place that checks a coordinator's plan scope against the database.

`PlanScope(roles)` answers for every path that invites (command and unit-pick button),
withdraws an invitation, shows a unit or ends a membership: a coordinator of some plans
reaches those plans and the units that have items in them (bot.core.scope), nothing else.
Refusals are ServiceError codes: not_your_plan, unit_out_of_scope, invite_out_of_scope,
member_out_of_scope.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import scope as rules
from bot.core.roles import Roles
from bot.services.errors import ServiceError
from bot.services.lookup import find_units
from bot.storage.models import Assignment, Invite, Membership, Milestone, Plan, Task, Unit


def _unit_plans_query(unit_ids: list[int]) -> Any:
    return (
        select(Assignment.unit_id, Task.plan_id)
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .join(Task, col(Task.id) == Milestone.task_id)
        .where(col(Assignment.unit_id).in_(unit_ids), col(Assignment.archived_at).is_(None))
        .distinct()
    )


class PlanScope:
    """A coordinator's reach. Build one per request from the sender's roles."""

    def __init__(self, roles: Roles) -> None:
        self.roles = roles

    @property
    def plan_ids(self) -> frozenset[int] | None:
        """The plans reached; None: every plan."""
        return None if self.roles.coordinator_all else frozenset(self.roles.coordinator_plan_ids)

    async def plans_of_units(
        self, session: AsyncSession, unit_ids: list[int]
    ) -> dict[int, frozenset[int]]:
        """The plans in which each unit has (live) items."""
        out: dict[int, set[int]] = {u: set() for u in unit_ids}
        if unit_ids:
            for unit_id, plan_id in (await session.exec(_unit_plans_query(unit_ids))).all():
                out[unit_id].add(plan_id)
        return {u: frozenset(p) for u, p in out.items()}

    async def reaches_unit(self, session: AsyncSession, unit_id: int) -> bool:
        if self.roles.coordinator_all:
            return True
        plans = (await self.plans_of_units(session, [unit_id]))[unit_id]
        return rules.reaches_unit(self.roles, plans)

    async def unit_ids(self, session: AsyncSession) -> frozenset[int] | None:
        """Every unit reached; None: every unit."""
        if self.roles.coordinator_all:
            return None
        result = await session.exec(
            select(Assignment.unit_id)
            .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
            .join(Task, col(Task.id) == Milestone.task_id)
            .where(
                col(Task.plan_id).in_(list(self.roles.coordinator_plan_ids)),
                col(Assignment.archived_at).is_(None),
            )
            .distinct()
        )
        return frozenset(result.all())

    def require_plan(self, plan: Plan) -> None:
        if not rules.reaches_plan(self.roles, plan.id or 0):
            raise ServiceError("not_your_plan", plan=plan.code)

    async def require_unit(self, session: AsyncSession, unit: Unit) -> None:
        if not await self.reaches_unit(session, unit.id or 0):
            raise ServiceError("unit_out_of_scope", unit=unit.name)

    async def resolve_unit(self, session: AsyncSession, directory: Any, text: str) -> Unit:
        """The one unit `text` names among those reached. Codes: unknown_unit,
        unit_out_of_scope (it names only units of other plans), ambiguous_unit (params:
        candidates, the names; units, (id, name) pairs for buttons)."""
        found = await find_units(session, directory, text)
        if not found:
            raise ServiceError("unknown_unit", unit=text)
        reached = found
        if not self.roles.coordinator_all:
            plans = await self.plans_of_units(session, [u.id for u in found if u.id])
            reached = [
                u for u in found if rules.reaches_unit(self.roles, plans.get(u.id or 0, ()))
            ]
        if not reached:
            named = found[0].name if len(found) == 1 else text
            raise ServiceError("unit_out_of_scope", unit=named)
        if len(reached) > 1:
            raise ServiceError(
                "ambiguous_unit",
                unit=text,
                candidates=[u.name for u in reached[:8]],
                units=[(u.id, u.name) for u in reached[:8]],
            )
        return reached[0]

    async def reaches_grant(self, session: AsyncSession, grant: rules.Grant) -> bool:
        plans: frozenset[int] = frozenset()
        if grant.unit_id is not None and not self.roles.coordinator_all:
            plans = (await self.plans_of_units(session, [grant.unit_id]))[grant.unit_id]
        return rules.reaches_grant(self.roles, grant, plans)

    async def require_grant(
        self, session: AsyncSession, grant: rules.Grant, *, label: str = ""
    ) -> None:
        """Before an invitation is created: only what the coordinator could grant. Codes:
        not_your_plan (a plan, or every plan: `label` or "*"), unit_out_of_scope."""
        if await self.reaches_grant(session, grant):
            return
        if grant.unit_id is not None and (
            grant.plan_id is None or rules.reaches_plan(self.roles, grant.plan_id)
        ):
            raise ServiceError("unit_out_of_scope", unit=label)
        raise ServiceError("not_your_plan", plan=label or "*")

    async def require_invite(self, session: AsyncSession, invite: Invite) -> None:
        """Only an invitation the coordinator could have created may be withdrawn."""
        grant = rules.Grant(invite.role, invite.unit_id, invite.plan_id)
        if not await self.reaches_grant(session, grant):
            raise ServiceError("invite_out_of_scope")

    async def require_membership(self, session: AsyncSession, membership: Membership) -> None:
        grant = rules.Grant(membership.role, membership.unit_id, membership.plan_id)
        if not await self.reaches_grant(session, grant):
            raise ServiceError("member_out_of_scope")
