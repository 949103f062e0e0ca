"""Reminders: notification preferences per person and kind, the log of reminders sent.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 06:00:00

`notification_preferences`: a person's e-mail choice per kind of notice (no row: the default).
`sent_notices`: one row per (topic, object, recipient), claimed by the sweep in the transaction
that writes the notice, so a reminder or an announcement reaches each person once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "messages",
                "reminders",
                "announcements",
                "deadlines",
                name="kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "sent_notices",
        sa.Column(
            "topic",
            sa.Enum(
                "vote_ending",
                "new_vote",
                "new_survey",
                "new_hearing",
                name="topic",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sent_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic", "object_id", "user_id", name=op.f("pk_sent_notices")),
    )
    op.create_index(op.f("ix_sent_notices_user_id"), "sent_notices", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_sent_notices_user_id"), table_name="sent_notices")
    op.drop_table("sent_notices")
    op.drop_table("notification_preferences")
