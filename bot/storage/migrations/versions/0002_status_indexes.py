"""The /status aggregates' indexes, reshaped for the single-statement queries.

Equality on the leading columns (status, archived_at) lets SQLite seek instead of testing
every row; 及时签收率 gets a partial index of the live rows; the most overdue items get a walk
by due date of their own. Indexes only: no row changes.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE_BEFORE = [
    "due",
    "status",
    "archived_at",
    "unit_id",
    "progress",
    "acknowledged_at",
    "last_report_at",
    "milestone_id",
]
_LIVE_AFTER = [
    "status",
    "archived_at",
    "due",
    "progress",
    "acknowledged_at",
    "last_report_at",
    "milestone_id",
]
_CLOSED = ["status", "archived_at", "milestone_id", "done_reported_at", "closed_at"]


def upgrade() -> None:
    for name in (
        "ix_assignment_live",
        "ix_assignment_ack",
        "ix_assignment_closed",
        "ix_assignment_ontime",
    ):
        op.drop_index(name, table_name="assignment")
    op.create_index("ix_assignment_live", "assignment", _LIVE_AFTER, unique=False)
    op.create_index(
        "ix_assignment_ack",
        "assignment",
        ["assigned_at", "acknowledged_at", "archived_at"],
        unique=False,
        sqlite_where=sa.text("archived_at IS NULL"),
    )
    op.create_index("ix_assignment_closed", "assignment", _CLOSED, unique=False)
    op.create_index(
        "ix_assignment_due",
        "assignment",
        ["due", "status", "archived_at", "milestone_id", "unit_id"],
        unique=False,
    )
    op.create_index(
        "ix_assignment_ontime",
        "assignment",
        ["milestone_id", "archived_at", "status"],
        unique=False,
    )


def downgrade() -> None:
    for name in (
        "ix_assignment_live",
        "ix_assignment_ack",
        "ix_assignment_closed",
        "ix_assignment_due",
        "ix_assignment_ontime",
    ):
        op.drop_index(name, table_name="assignment")
    op.create_index("ix_assignment_live", "assignment", _LIVE_BEFORE, unique=False)
    op.create_index(
        "ix_assignment_ack",
        "assignment",
        ["assigned_at", "acknowledged_at", "archived_at", "unit_id"],
        unique=False,
    )
    op.create_index("ix_assignment_closed", "assignment", [*_CLOSED, "unit_id"], unique=False)
    op.create_index(
        "ix_assignment_ontime",
        "assignment",
        ["milestone_id", "archived_at", "status", "unit_id"],
        unique=False,
    )
