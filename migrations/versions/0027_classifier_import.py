"""Appeals: a classifier loaded from a file (own answer terms, «Благодарность»); reports: thanks.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 05:40:00

A subcategory may carry its own answer term (NULL: 30 days, or 10 for fast-track) and be a
thanks topic; the message rollups count thanks apart (`thanks`), out of received and answered.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

COUNTER_TABLES = (
    "report_appeal_days",
    "report_appeal_months_org",
    "report_appeal_months_topic",
    "report_appeal_months_org_topic",
    "report_appeal_days_org",
)


def upgrade():
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("term_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("thanks", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_check_constraint(
            op.f("ck_appeal_subcategories_term_range"),
            "term_days IS NULL OR term_days BETWEEN 1 AND 30",
        )
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.alter_column("thanks", server_default=None)
    for table in COUNTER_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("thanks", sa.Integer(), nullable=False, server_default="0")
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("thanks", server_default=None)


def downgrade():
    for table in COUNTER_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("thanks")
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appeal_subcategories_term_range"), type_="check")
        batch_op.drop_column("thanks")
        batch_op.drop_column("term_days")
