"""Memberships say where they came from and who ended them (access removal).

`source` lets ADMIN_IDS end only the coordinator roles it granted; `revoked_by` and
`revoke_note` keep who removed whom. Existing rows: a coordinator of all plans that no
redeemed invitation explains came from ADMIN_IDS; a role that a redeemed invitation explains
came from it; anything else stays "" (unknown).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FROM_INVITE = """
    EXISTS (SELECT 1 FROM invite
            WHERE invite.used_by = membership.person_id AND invite.role = membership.role
              AND invite.unit_id IS membership.unit_id AND invite.plan_id IS membership.plan_id)
"""
_FROM_INVITE_PG = _FROM_INVITE.replace(" IS membership.", " IS NOT DISTINCT FROM membership.")


def upgrade() -> None:
    with op.batch_alter_table("membership") as batch_op:
        batch_op.add_column(
            sa.Column(
                "source", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("revoked_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "revoke_note",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
        batch_op.create_foreign_key(
            "fk_membership_revoked_by_person", "person", ["revoked_by"], ["id"]
        )
    from_invite = _FROM_INVITE if op.get_bind().dialect.name == "sqlite" else _FROM_INVITE_PG
    op.execute(f"UPDATE membership SET source = 'invite' WHERE {from_invite}")
    op.execute(
        "UPDATE membership SET source = 'admin' WHERE source = '' AND role = 'coordinator' "
        "AND plan_id IS NULL AND unit_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("membership") as batch_op:
        batch_op.drop_constraint("fk_membership_revoked_by_person", type_="foreignkey")
        batch_op.drop_column("revoke_note")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("source")
