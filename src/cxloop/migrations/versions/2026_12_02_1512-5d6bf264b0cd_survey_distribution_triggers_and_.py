"""Survey distribution: invitations, reminders settings, triggers, suppressions and contacts.

Revision ID: 5d6bf264b0cd
Revises: facdf2a855f8
Create Date: 2026-12-02 15:12:23.013064
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d6bf264b0cd"
down_revision: str | Sequence[str] | None = "facdf2a855f8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "contact_policy",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("days_between_surveys", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_contact_policy_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_contact_policy")),
    )
    op.create_table(
        "suppression",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_suppression_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression")),
        sa.UniqueConstraint(
            "workspace_id",
            "channel",
            "address",
            name=op.f("uq_suppression_workspace_id_channel_address"),
        ),
    )
    op.create_table(
        "survey_trigger_cursor",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("scanned_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_trigger_cursor_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_survey_trigger_cursor")),
    )
    op.create_table(
        "survey_contact",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.String(length=400), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_contact_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_contact_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_contact")),
    )
    with op.batch_alter_table("survey_contact", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_contact_workspace_id_email", ["workspace_id", "email"], unique=False
        )
        batch_op.create_index(
            "ix_survey_contact_workspace_id_profile_id",
            ["workspace_id", "profile_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_survey_contact_workspace_id_user_id", ["workspace_id", "user_id"], unique=False
        )

    op.create_table(
        "survey_distribution",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("reminder_after_days", sa.Integer(), nullable=False),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("answer_cooldown_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_distribution_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_distribution_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_survey_distribution")),
    )
    with op.batch_alter_table("survey_distribution", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_distribution_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "survey_trigger",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("where", sa.JSON(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_trigger_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_trigger_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_trigger")),
    )
    with op.batch_alter_table("survey_trigger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_trigger_survey_id"), ["survey_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_trigger_workspace_id_is_active", ["workspace_id", "is_active"], unique=False
        )

    op.create_table(
        "survey_invitation",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=True),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("trigger_id", sa.Uuid(), nullable=True),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sent",
                "failed",
                "answered",
                "bounced",
                "unsubscribed",
                "skipped",
                name="invitationstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("skip_reason", sa.String(length=60), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["survey_link.id"],
            name=op.f("fk_survey_invitation_link_id_survey_link"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profile.id"],
            name=op.f("fk_survey_invitation_profile_id_profile"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_invitation_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["survey_trigger.id"],
            name=op.f("fk_survey_invitation_trigger_id_survey_trigger"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_survey_invitation_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation")),
        sa.UniqueConstraint(
            "workspace_id", "dedupe_key", name=op.f("uq_survey_invitation_workspace_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitation_survey_id_id", ["survey_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitation_workspace_id_email", ["workspace_id", "email"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitation_workspace_id_email")
        batch_op.drop_index("ix_survey_invitation_survey_id_id")

    op.drop_table("survey_invitation")
    with op.batch_alter_table("survey_trigger", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_trigger_workspace_id_is_active")
        batch_op.drop_index(batch_op.f("ix_survey_trigger_survey_id"))

    op.drop_table("survey_trigger")
    with op.batch_alter_table("survey_distribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_distribution_workspace_id"))

    op.drop_table("survey_distribution")
    with op.batch_alter_table("survey_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_contact_workspace_id_user_id")
        batch_op.drop_index("ix_survey_contact_workspace_id_profile_id")
        batch_op.drop_index("ix_survey_contact_workspace_id_email")

    op.drop_table("survey_contact")
    op.drop_table("survey_trigger_cursor")
    op.drop_table("suppression")
    op.drop_table("contact_policy")
