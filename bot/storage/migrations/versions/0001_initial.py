"""Initial schema: the tables of bot/storage/models.py.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_person_telegram_id"), "person", ["telegram_id"], unique=True)

    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("issued", sa.Date(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("loaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_plan_code"), "plan", ["code"], unique=True)

    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("short_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("jurisdiction", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_unit_name"), "unit", ["name"], unique=True)

    op.create_table(
        "chatsubscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_chatsubscription_chat_id"), "chatsubscription", ["chat_id"], unique=True
    )

    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["used_by"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_invite_token"), "invite", ["token"], unique=True)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_membership_person_id"), "membership", ["person_id"], unique=False)
    op.create_index(op.f("ix_membership_role"), "membership", ["role"], unique=False)
    op.create_index(op.f("ix_membership_unit_id"), "membership", ["unit_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("section", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recurrence", sa.JSON(), nullable=False),
        sa.Column("task_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("measure_unit", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("baseline", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("nature", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("binding", sa.Boolean(), nullable=False),
        sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "ref"),
    )
    op.create_index(op.f("ix_task_plan_id"), "task", ["plan_id"], unique=False)
    op.create_index(op.f("ix_task_ref"), "task", ["ref"], unique=False)

    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("original_due", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("phrase", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "seq"),
    )
    op.create_index("ix_milestone_original_due", "milestone", ["original_due"], unique=False)
    op.create_index(op.f("ix_milestone_task_id"), "milestone", ["task_id"], unique=False)
    op.create_index(
        "ix_milestone_window", "milestone", ["task_id", "seq", "archived_at", "due"], unique=False
    )

    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("extension_requested_to", sa.Date(), nullable=True),
        sa.Column("assigned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_report_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("done_reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestone.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("milestone_id", "unit_id"),
    )
    op.create_index(
        "ix_assignment_ack",
        "assignment",
        ["assigned_at", "acknowledged_at", "archived_at", "unit_id"],
        unique=False,
    )
    op.create_index(
        "ix_assignment_closed",
        "assignment",
        ["status", "archived_at", "milestone_id", "done_reported_at", "closed_at", "unit_id"],
        unique=False,
    )
    op.create_index(
        "ix_assignment_ledger",
        "assignment",
        ["unit_id", "status", "archived_at", "due"],
        unique=False,
    )
    op.create_index(
        "ix_assignment_live",
        "assignment",
        [
            "due",
            "status",
            "archived_at",
            "unit_id",
            "progress",
            "acknowledged_at",
            "last_report_at",
            "milestone_id",
        ],
        unique=False,
    )
    op.create_index(
        op.f("ix_assignment_milestone_id"), "assignment", ["milestone_id"], unique=False
    )
    op.create_index(
        "ix_assignment_ontime",
        "assignment",
        ["milestone_id", "archived_at", "status", "unit_id"],
        unique=False,
    )
    op.create_index(op.f("ix_assignment_status"), "assignment", ["status"], unique=False)
    op.create_index(op.f("ix_assignment_unit_id"), "assignment", ["unit_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("not_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("parts_sent", sa.Integer(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_outbox_assignment_id"), "outbox", ["assignment_id"], unique=False)
    op.create_index(op.f("ix_outbox_chat_id"), "outbox", ["chat_id"], unique=False)
    op.create_index(op.f("ix_outbox_key"), "outbox", ["key"], unique=True)
    op.create_index(op.f("ix_outbox_not_before"), "outbox", ["not_before"], unique=False)
    op.create_index(op.f("ix_outbox_status"), "outbox", ["status"], unique=False)

    op.create_table(
        "sentmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "message_id"),
    )
    op.create_index(
        op.f("ix_sentmessage_assignment_id"), "sentmessage", ["assignment_id"], unique=False
    )
    op.create_index(op.f("ix_sentmessage_chat_id"), "sentmessage", ["chat_id"], unique=False)

    op.create_table(
        "statusevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("old_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("new_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("evidence_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("evidence_file_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("evidence_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("due_before", sa.Date(), nullable=True),
        sa.Column("due_after", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_statusevent_assignment_id"), "statusevent", ["assignment_id"], unique=False
    )
    op.create_index(op.f("ix_statusevent_at"), "statusevent", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_statusevent_at"), table_name="statusevent")
    op.drop_index(op.f("ix_statusevent_assignment_id"), table_name="statusevent")
    op.drop_table("statusevent")
    op.drop_index(op.f("ix_sentmessage_chat_id"), table_name="sentmessage")
    op.drop_index(op.f("ix_sentmessage_assignment_id"), table_name="sentmessage")
    op.drop_table("sentmessage")
    op.drop_index(op.f("ix_outbox_status"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_not_before"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_key"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_chat_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_assignment_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_assignment_unit_id"), table_name="assignment")
    op.drop_index(op.f("ix_assignment_status"), table_name="assignment")
    op.drop_index("ix_assignment_ontime", table_name="assignment")
    op.drop_index(op.f("ix_assignment_milestone_id"), table_name="assignment")
    op.drop_index("ix_assignment_live", table_name="assignment")
    op.drop_index("ix_assignment_ledger", table_name="assignment")
    op.drop_index("ix_assignment_closed", table_name="assignment")
    op.drop_index("ix_assignment_ack", table_name="assignment")
    op.drop_table("assignment")
    op.drop_index("ix_milestone_window", table_name="milestone")
    op.drop_index(op.f("ix_milestone_task_id"), table_name="milestone")
    op.drop_index("ix_milestone_original_due", table_name="milestone")
    op.drop_table("milestone")
    op.drop_index(op.f("ix_task_ref"), table_name="task")
    op.drop_index(op.f("ix_task_plan_id"), table_name="task")
    op.drop_table("task")
    op.drop_index(op.f("ix_membership_unit_id"), table_name="membership")
    op.drop_index(op.f("ix_membership_role"), table_name="membership")
    op.drop_index(op.f("ix_membership_person_id"), table_name="membership")
    op.drop_table("membership")
    op.drop_index(op.f("ix_invite_token"), table_name="invite")
    op.drop_table("invite")
    op.drop_index(op.f("ix_chatsubscription_chat_id"), table_name="chatsubscription")
    op.drop_table("chatsubscription")
    op.drop_index(op.f("ix_unit_name"), table_name="unit")
    op.drop_table("unit")
    op.drop_index(op.f("ix_plan_code"), table_name="plan")
    op.drop_table("plan")
    op.drop_index(op.f("ix_person_telegram_id"), table_name="person")
    op.drop_table("person")
