"""Geography: a region's public map of problems and whether it publishes texts (both off).

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-05 23:20:00

A region without a row has neither; its curator saves the form to turn them on.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "geo_region_map_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("public_map", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("publish_texts", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_geo_region_map_settings_territory_id_territories"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_geo_region_map_settings_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geo_region_map_settings")),
        sa.UniqueConstraint("territory_id", name=op.f("uq_geo_region_map_settings_territory_id")),
    )


def downgrade():
    op.drop_table("geo_region_map_settings")
