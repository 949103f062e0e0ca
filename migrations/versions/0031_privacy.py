"""Privacy: an attachment whose file was erased at the end of its retention term.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 06:00:00

The row stays (what it was attached to, its type and size still count), named «удалено»;
the file itself is gone from storage and the row says when.
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
