"""Geography: territories' centre points and boundaries; messages found by their point.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 21:30:00

The nearby search (participation.geo) reads a bounding box off ix_appeals_point; on
PostgreSQL the index carries the topic, state, registration time and id, so the lookup is
index-only. No PostGIS: the exact distance is computed for the few rows in the box.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Numeric(9, 6), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Numeric(9, 6), nullable=True))
        batch_op.add_column(sa.Column("boundary_geojson", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("boundary_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_check_constraint(
            op.f("ck_territories_centre_both_or_none"), "(latitude IS NULL) = (longitude IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_territories_latitude"), "latitude IS NULL OR latitude BETWEEN -90 AND 90"
        )
        batch_op.create_check_constraint(
            op.f("ck_territories_longitude"),
            "longitude IS NULL OR longitude BETWEEN -180 AND 180",
        )
        batch_op.create_check_constraint(
            op.f("ck_territories_boundary_stamped"),
            "(boundary_geojson IS NULL) = (boundary_updated_at IS NULL)",
        )
    op.create_index(
        "ix_appeals_point",
        "appeals",
        ["latitude", "longitude"],
        unique=False,
        postgresql_include=["subcategory_id", "state", "registered_at", "id"],
        postgresql_where=sa.text("latitude IS NOT NULL"),
        sqlite_where=sa.text("latitude IS NOT NULL"),
    )


def downgrade():
    op.drop_index(
        "ix_appeals_point",
        table_name="appeals",
        postgresql_where=sa.text("latitude IS NOT NULL"),
        sqlite_where=sa.text("latitude IS NOT NULL"),
    )
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_territories_boundary_stamped"), type_="check")
        batch_op.drop_constraint(op.f("ck_territories_longitude"), type_="check")
        batch_op.drop_constraint(op.f("ck_territories_latitude"), type_="check")
        batch_op.drop_constraint(op.f("ck_territories_centre_both_or_none"), type_="check")
        batch_op.drop_column("boundary_updated_at")
        batch_op.drop_column("boundary_geojson")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
