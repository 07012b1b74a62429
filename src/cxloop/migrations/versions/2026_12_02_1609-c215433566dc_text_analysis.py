"""Text analyses: language, sentiment, themes and aspects of customers' texts.

Revision ID: c215433566dc
Revises: 5d6bf264b0cd
Create Date: 2026-12-02 16:09:15.710279
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c215433566dc"
down_revision: str | Sequence[str] | None = "5d6bf264b0cd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "text_analysis",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=True),
        sa.Column(
            "source_kind",
            sa.Enum(
                "survey_response",
                "review",
                "message",
                name="textsource",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sentiment", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("polarity", sa.Float(), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("aspects", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profile.id"],
            name=op.f("fk_text_analysis_profile_id_profile"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_text_analysis_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_analysis")),
        sa.UniqueConstraint(
            "workspace_id",
            "source_kind",
            "source_id",
            "field",
            name=op.f("uq_text_analysis_workspace_id_source_kind_source_id_field"),
        ),
    )
    with op.batch_alter_table("text_analysis", schema=None) as batch_op:
        batch_op.create_index(
            "ix_text_analysis_workspace_id_profile_id", ["workspace_id", "profile_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("text_analysis", schema=None) as batch_op:
        batch_op.drop_index("ix_text_analysis_workspace_id_profile_id")

    op.drop_table("text_analysis")
