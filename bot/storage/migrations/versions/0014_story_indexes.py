"""Leaner indexes: the ledger's covering indexes hold only the rows not archived, and the
indexes that repeat the first column of another index are gone; a plan's own history.

- ix_assignment_ledger, _live, _closed, _due, _ontime (and _ack on PostgreSQL, partial on
  SQLite since 0002) become partial, WHERE archived_at IS NULL: what the /status, overdue and
  lights queries read. Archiving a row then removes its entries instead of rewriting them
  with a longer key (withdrawing a plan of 1,000 assignments touched six indexes twice per
  row), and archived rows take no index space.
- ix_assignment_milestone_id, ix_milestone_task_id and ix_task_plan_id go: the unique
  constraints (milestone_id, unit_id), (task_id, seq) and (plan_id, ref) index the same
  first column; so does ix_assignment_status: every query by status also asks for the rows not
  archived, which ix_assignment_live and _closed hold (status first).
- ix_statusevent_at (every event) becomes ix_statusevent_actor (actor_id, at) of the events
  of a person: the only query that reads events by instant asks for a person's latest one.

- planevent: a plan withdrawn or restored as a whole, one row per act (it used to be an
  "archive" / "restore" event for each of its assignments; those of earlier withdrawals stay).

No row changes.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "archived_at IS NULL"
_COVERING = {
    "ix_assignment_ledger": ["unit_id", "status", "archived_at", "due"],
    "ix_assignment_live": [
        "status",
        "archived_at",
        "due",
        "progress",
        "acknowledged_at",
        "last_report_at",
        "milestone_id",
    ],
    "ix_assignment_closed": [
        "status",
        "archived_at",
        "milestone_id",
        "done_reported_at",
        "closed_at",
    ],
    "ix_assignment_due": ["due", "status", "archived_at", "milestone_id", "unit_id"],
    "ix_assignment_ack": ["assigned_at", "acknowledged_at", "archived_at"],
    "ix_assignment_ontime": ["milestone_id", "archived_at", "status"],
}
_PREFIXES = [  # (index, table, column): what another index already leads with
    ("ix_assignment_milestone_id", "assignment", "milestone_id"),
    ("ix_assignment_status", "assignment", "status"),
    ("ix_milestone_task_id", "milestone", "task_id"),
    ("ix_task_plan_id", "task", "plan_id"),
]


def _where(clause: str, *, pg: bool = True) -> dict[str, Any]:
    where = sa.text(clause)
    return {"sqlite_where": where, **({"postgresql_where": where} if pg else {})}


def upgrade() -> None:
    for name, columns in _COVERING.items():
        op.drop_index(name, table_name="assignment")
        op.create_index(name, "assignment", columns, unique=False, **_where(_ACTIVE))
    for name, table, _column in _PREFIXES:
        op.drop_index(name, table_name=table)
    op.drop_index("ix_statusevent_at", table_name="statusevent")
    op.create_index(
        "ix_statusevent_actor",
        "statusevent",
        ["actor_id", "at"],
        unique=False,
        **_where("actor_id IS NOT NULL"),
    )
    op.create_table(
        "planevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_planevent_plan_id", "planevent", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_planevent_plan_id", table_name="planevent")
    op.drop_table("planevent")
    op.drop_index("ix_statusevent_actor", table_name="statusevent")
    op.create_index("ix_statusevent_at", "statusevent", ["at"], unique=False)
    for name, table, column in _PREFIXES:
        op.create_index(name, table, [column], unique=False)
    for name, columns in _COVERING.items():
        op.drop_index(name, table_name="assignment")
        where = _where(_ACTIVE, pg=False) if name == "ix_assignment_ack" else {}
        op.create_index(name, "assignment", columns, unique=False, **where)
