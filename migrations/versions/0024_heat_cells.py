"""Reports: the heat map's rollup (messages per grid cell, local month and region).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 00:30:00

Filled by `flask --app wsgi reports rebuild` (run it once after upgrading) and kept by the
rollup's refresh; until then a region's heat map over whole months shows no cells.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_heat_cells",
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("cell_m", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=False),
        sa.Column("col", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.CheckConstraint("messages > 0", name=op.f("ck_report_heat_cells_messages_positive")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["territories.id"], name=op.f("fk_report_heat_cells_region_id_territories")
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "cell_m", "month", "row", "col", name=op.f("pk_report_heat_cells")
        ),
    )


def downgrade():
    op.drop_table("report_heat_cells")
