"""Notices: the time zone a notification's time is shown in (that of what it is about).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("outbox", "notifications"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    for table in ("notifications", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("timezone")
