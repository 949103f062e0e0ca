"""Organizations: the public profile (phone, official social pages, working hours, logo).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 06:00:00

Name, short name, address, e-mail and site were already columns of `organizations`; the
profile adds the rest. The logo is an attachment (core/files.py) the organization points to.
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("social_links", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("working_hours", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("logo_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_organizations_logo_id_attachments"), "attachments", ["logo_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_organizations_logo_id_attachments"), type_="foreignkey")
        batch_op.drop_column("logo_id")
        batch_op.drop_column("working_hours")
        batch_op.drop_column("social_links")
        batch_op.drop_column("phone")
