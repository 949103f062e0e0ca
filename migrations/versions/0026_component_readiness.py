"""Backoffice: readiness per component (messages, votes, surveys, hearings, direct lines, widget).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 06:00:00

A row per (organization, component) confirmed. So that nothing already at work closes, every
organization that had both organization-level confirmations («ЛКО готов к работе», «Мною
пройдено обучение») gets every component confirmed, at the later of the two moments and by
nobody (confirmed_by_id NULL: carried over). Organizations not yet confirmed get nothing and
confirm each component themselves.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# The component keys of participation/backoffice/readiness.py at the time of this migration.
COMPONENTS = ("appeals", "voting", "polls", "hearings", "directline", "widget")


def upgrade():
    op.create_table(
        "organization_component_readiness",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_organization_component_readiness_confirmed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_component_readiness_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_component_readiness")),
        sa.UniqueConstraint(
            "organization_id",
            "component",
            name=op.f("uq_organization_component_readiness_organization_id_component"),
        ),
    )
    organizations = sa.table(
        "organizations",
        sa.column("id", sa.Integer()),
        sa.column("ready_confirmed_at", sa.DateTime(timezone=True)),
        sa.column("training_confirmed_at", sa.DateTime(timezone=True)),
    )
    readiness = sa.table(
        "organization_component_readiness",
        sa.column("organization_id", sa.Integer()),
        sa.column("component", sa.String()),
        sa.column("confirmed_at", sa.DateTime(timezone=True)),
    )
    later = sa.case(
        (
            organizations.c.ready_confirmed_at > organizations.c.training_confirmed_at,
            organizations.c.ready_confirmed_at,
        ),
        else_=organizations.c.training_confirmed_at,
    )
    for component in COMPONENTS:
        op.execute(
            readiness.insert().from_select(
                ["organization_id", "component", "confirmed_at"],
                sa.select(organizations.c.id, sa.literal(component), later).where(
                    organizations.c.ready_confirmed_at.is_not(None),
                    organizations.c.training_confirmed_at.is_not(None),
                ),
            )
        )


def downgrade():
    op.drop_table("organization_component_readiness")
