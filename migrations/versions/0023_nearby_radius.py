"""Per-subcategory radius of «Похожие сообщения рядом» (metres; NULL: the default, 150 m).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 23:10:00

The upper bound is the nearby search's own limit (participation.geo NEARBY_MAX_RADIUS_M).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nearby_radius_m", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_appeal_subcategories_nearby_radius_range"),
            "nearby_radius_m IS NULL OR nearby_radius_m BETWEEN 1 AND 2000",
        )


def downgrade():
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_appeal_subcategories_nearby_radius_range"), type_="check"
        )
        batch_op.drop_column("nearby_radius_m")
