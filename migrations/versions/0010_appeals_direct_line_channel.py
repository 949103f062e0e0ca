"""Appeals: the direct-line channel (questions not answered on air become messages).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD = ("portal", "widget", "api", "operator")
NEW = (*OLD, "direct_line")


def _set_channels(values: tuple[str, ...], length: int) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appeals_channel"), type_="check")
        batch_op.alter_column(
            "channel",
            existing_type=sa.String(),
            type_=sa.String(length=length),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f("ck_appeals_channel"), f"channel IN ({listed})")


def upgrade():
    _set_channels(NEW, 11)


def downgrade():
    op.execute("UPDATE appeals SET channel = 'portal' WHERE channel = 'direct_line'")
    _set_channels(OLD, 8)
