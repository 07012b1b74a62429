"""Survey links and pages: personal single-use links, page themes and widget rules.

Revision ID: fdf46b6f2fd4
Revises: 4519c659e972
Create Date: 2026-12-02 15:05:45.391965
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fdf46b6f2fd4"
down_revision: str | Sequence[str] | None = "4519c659e972"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_link",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_link_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_link_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_link")),
    )
    with op.batch_alter_table("survey_link", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_link_workspace_id_survey_id", ["workspace_id", "survey_id"], unique=False
        )

    op.create_table(
        "survey_page",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("theme", sa.JSON(), nullable=False),
        sa.Column("review_url", sa.String(length=2000), nullable=True),
        sa.Column("widget", sa.JSON(), nullable=True),
        sa.Column("widget_key", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_page_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_page_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_page")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_survey_page_survey_id")),
        sa.UniqueConstraint("widget_key", name=op.f("uq_survey_page_widget_key")),
    )


def downgrade() -> None:
    op.drop_table("survey_page")
    with op.batch_alter_table("survey_link", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_link_workspace_id_survey_id")

    op.drop_table("survey_link")
