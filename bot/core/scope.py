"""A coordinator's reach (pure): which units, plans, invitations and memberships they may act
on. A coordinator of all plans reaches everything; a coordinator of some plans reaches those
plans and the units that have items in them, nothing else.

The services ask these questions in one place (bot.services.scope) for every path that
invites, withdraws an invitation, picks a unit from a button, shows a unit or ends a
membership.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.roles import Roles


@dataclass(frozen=True)
class Grant:
    """What an invitation grants or a membership holds: a role over a unit, a plan, or (a
    coordinator with neither) every plan."""

    role: str
    unit_id: int | None = None
    plan_id: int | None = None


def reaches_unit(roles: Roles, unit_plan_ids: Iterable[int]) -> bool:
    """Whether the coordinator reaches a unit that has items in `unit_plan_ids`."""
    if roles.coordinator_all:
        return True
    return not roles.coordinator_plan_ids.isdisjoint(unit_plan_ids)


def reaches_plan(roles: Roles, plan_id: int) -> bool:
    return roles.coordinates(plan_id)


def reaches_grant(roles: Roles, grant: Grant, unit_plan_ids: Iterable[int] = ()) -> bool:
    """Whether the coordinator could have issued `grant` (and so may withdraw or end it).
    `unit_plan_ids`: the plans in which the grant's unit has items."""
    if roles.coordinator_all:
        return True
    if not roles.coordinator:
        return False
    if grant.unit_id is None and grant.plan_id is None:
        return False  # every plan: only a coordinator of every plan gives that
    if grant.plan_id is not None and not reaches_plan(roles, grant.plan_id):
        return False
    return grant.unit_id is None or reaches_unit(roles, unit_plan_ids)
