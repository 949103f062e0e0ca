"""Geography: a region's public map of problems and whether it publishes texts (both off);
the inbox map mode's index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 23:20:00

A region without a row has neither; its curator saves the form to turn them on.
ix_appeals_inbox_point serves the staff inbox's map mode: a folder (holder, bucket) in a box;
at 1 000 000 messages a city box of the largest organization's folder takes 10 ms with it,
37–250 ms without (a bitmap AND of the folder and the whole box, or a scan of the folder).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
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
    op.create_index(
        "ix_appeals_inbox_point",
        "appeals",
        ["holder_organization_id", "bucket", "latitude", "longitude"],
        unique=False,
        postgresql_where=sa.text("latitude IS NOT NULL"),
        sqlite_where=sa.text("latitude IS NOT NULL"),
    )


def downgrade():
    op.drop_index(
        "ix_appeals_inbox_point",
        table_name="appeals",
        postgresql_where=sa.text("latitude IS NOT NULL"),
        sqlite_where=sa.text("latitude IS NOT NULL"),
    )
    op.drop_table("geo_region_map_settings")
