"""The customer-event index of a workspace, and which files it holds.

Revision ID: b7d2c0e5a911
Revises: c215433566dc
Create Date: 2026-12-05 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2c0e5a911"
down_revision: str | Sequence[str] | None = "c215433566dc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_index",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("min_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_event_index_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_index")),
        sa.UniqueConstraint("path", name=op.f("uq_event_index_path")),
    )
    with op.batch_alter_table("event_index", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_index_workspace_id_replaced_at", ["workspace_id", "replaced_at"], unique=False
        )
    with op.batch_alter_table("event_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_file", schema=None) as batch_op:
        batch_op.drop_column("index_id")
    with op.batch_alter_table("event_index", schema=None) as batch_op:
        batch_op.drop_index("ix_event_index_workspace_id_replaced_at")
    op.drop_table("event_index")
