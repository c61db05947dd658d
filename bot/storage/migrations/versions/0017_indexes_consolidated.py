"""Fewer, slimmer indexes on assignment: a third fewer index bytes, one index fewer to update
when a row changes or is archived.

- ix_assignment_live (status, archived_at, due, progress, acknowledged_at, last_report_at,
  milestone_id) goes: the lights of the open items not yet due read a range of
  ix_assignment_due (from today), which gains progress and acknowledged_at. last_report_at is
  in neither: the lights read it only for the items due within a few days, from the table.
- ix_assignment_closed holds only the closed rows (WHERE ... AND status = 'closed'): the only
  query that reads it asks for those.
- ix_assignment_ontime loses status: the open items of the milestones not yet due are counted
  as all their items less the closed ones (read with ix_assignment_closed anyway).

No row changes.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "archived_at IS NULL"
_CLOSED = "archived_at IS NULL AND status = 'closed'"
# name → (columns, WHERE) after this revision; None: dropped
_AFTER: dict[str, tuple[list[str], str] | None] = {
    "ix_assignment_live": None,
    "ix_assignment_due": (
        [
            "due",
            "status",
            "archived_at",
            "progress",
            "acknowledged_at",
            "milestone_id",
            "unit_id",
        ],
        _ACTIVE,
    ),
    "ix_assignment_closed": (
        ["status", "archived_at", "milestone_id", "done_reported_at", "closed_at"],
        _CLOSED,
    ),
    "ix_assignment_ontime": (["milestone_id", "archived_at"], _ACTIVE),
}
# the same indexes at revision 0014
_BEFORE: dict[str, tuple[list[str], str]] = {
    "ix_assignment_live": (
        [
            "status",
            "archived_at",
            "due",
            "progress",
            "acknowledged_at",
            "last_report_at",
            "milestone_id",
        ],
        _ACTIVE,
    ),
    "ix_assignment_due": (["due", "status", "archived_at", "milestone_id", "unit_id"], _ACTIVE),
    "ix_assignment_closed": (
        ["status", "archived_at", "milestone_id", "done_reported_at", "closed_at"],
        _ACTIVE,
    ),
    "ix_assignment_ontime": (["milestone_id", "archived_at", "status"], _ACTIVE),
}


def _create(name: str, columns: list[str], where: str) -> None:
    clause = sa.text(where)
    op.create_index(
        name, "assignment", columns, unique=False, sqlite_where=clause, postgresql_where=clause
    )


def upgrade() -> None:
    for name, after in _AFTER.items():
        op.drop_index(name, table_name="assignment")
        if after is not None:
            _create(name, *after)


def downgrade() -> None:
    for name, after in _AFTER.items():
        if after is not None:
            op.drop_index(name, table_name="assignment")
        _create(name, *_BEFORE[name])
