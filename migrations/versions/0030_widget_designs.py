"""Widgets: fifteen banner designs, the banner's headline, where the widget sits on a site.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 06:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# Written out here: a migration never imports the application's enums.
OLD = ("municipal", "health", "education", "preschool")
NEW = (
    "municipal",
    "municipal-poster",
    "municipal-card",
    "contrast",
    "contrast-poster",
    "contrast-card",
    "health",
    "health-poster",
    "health-card",
    "education",
    "education-poster",
    "education-card",
    "preschool",
    "preschool-poster",
    "preschool-card",
)
CONSTRAINT = "ck_widget_settings_design"


def _check(values: tuple[str, ...]) -> str:
    return "design IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    with op.batch_alter_table("widget_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.alter_column(
            "design",
            existing_type=sa.String(length=9),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(NEW))
        batch_op.add_column(sa.Column("text_choice", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("custom_text", sa.String(length=60), nullable=True))

    op.create_table(
        "widget_placements",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("viewport_width", sa.Integer(), nullable=False),
        sa.Column("viewport_height", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "width >= 0 AND height >= 0 AND viewport_width > 0 AND viewport_height > 0",
            name=op.f("ck_widget_placements_sizes_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_widget_placements_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "site", name=op.f("pk_widget_placements")),
    )


def downgrade():
    op.drop_table("widget_placements")
    # The new designs have no counterpart among the four first ones but their scheme's.
    settings = sa.table("widget_settings", sa.column("design", sa.String))
    for scheme in OLD:
        op.execute(
            settings.update().where(settings.c.design.like(f"{scheme}-%")).values(design=scheme)
        )
    op.execute(
        settings.update().where(settings.c.design.like("contrast%")).values(design="municipal")
    )
    with op.batch_alter_table("widget_settings", schema=None) as batch_op:
        batch_op.drop_column("custom_text")
        batch_op.drop_column("text_choice")
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.alter_column(
            "design",
            existing_type=sa.String(length=16),
            type_=sa.String(length=9),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(OLD))
