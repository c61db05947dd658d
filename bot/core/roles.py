"""Who may do what: a person's roles, read from their memberships (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Roles:
    """`coordinator_all`: coordinator of every plan; otherwise `coordinator_plan_ids` names
    the plans. Liaisons act only on assignments of `liaison_unit_ids`."""

    coordinator_all: bool = False
    coordinator_plan_ids: frozenset[int] = field(default_factory=frozenset)
    liaison_unit_ids: frozenset[int] = field(default_factory=frozenset)
    leader_unit_ids: frozenset[int] = field(default_factory=frozenset)
    leader_plan_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def coordinator(self) -> bool:
        return self.coordinator_all or bool(self.coordinator_plan_ids)

    @property
    def liaison(self) -> bool:
        return bool(self.liaison_unit_ids)

    @property
    def leader(self) -> bool:
        return bool(self.leader_unit_ids or self.leader_plan_ids)

    @property
    def registered(self) -> bool:
        return self.coordinator or self.liaison or self.leader

    def coordinates(self, plan_id: int) -> bool:
        return self.coordinator_all or plan_id in self.coordinator_plan_ids

    def answers_for(self, unit_id: int) -> bool:
        return unit_id in self.liaison_unit_ids


NOBODY = Roles()


def roles_from_memberships(rows: list[tuple[str, int | None, int | None]]) -> Roles:
    """Build Roles from active (role, unit_id, plan_id) membership rows."""
    coord_all = False
    coord_plans: set[int] = set()
    liaison: set[int] = set()
    lead_units: set[int] = set()
    lead_plans: set[int] = set()
    for role, unit_id, plan_id in rows:
        if role == "coordinator":
            if plan_id is None:
                coord_all = True
            else:
                coord_plans.add(plan_id)
        elif role == "liaison" and unit_id is not None:
            liaison.add(unit_id)
        elif role == "leader":
            if unit_id is not None:
                lead_units.add(unit_id)
            if plan_id is not None:
                lead_plans.add(plan_id)
    return Roles(
        coordinator_all=coord_all,
        coordinator_plan_ids=frozenset(coord_plans),
        liaison_unit_ids=frozenset(liaison),
        leader_unit_ids=frozenset(lead_units),
        leader_plan_ids=frozenset(lead_plans),
    )
