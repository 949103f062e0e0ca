"""Voting: objects are numbered within their campaign (1, 2, 3…), unique per campaign.

The former `position` becomes `number`; existing objects are numbered 1…n in their old order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ix_voting_objects_campaign_district"


def _rename(old: str, new: str) -> None:
    with op.batch_alter_table("voting_objects", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.alter_column(old, new_column_name=new, existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("voting_objects", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["campaign_id", "district_id", new], unique=False)


def upgrade():
    _rename("position", "number")
    # 1…n per campaign in the old order (positions could repeat or have gaps).
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, campaign_id FROM voting_objects ORDER BY campaign_id, number, id")
    )
    numbers: dict[int, int] = {}
    for object_id, campaign_id in rows.all():
        numbers[campaign_id] = numbers.get(campaign_id, 0) + 1
        connection.execute(
            sa.text("UPDATE voting_objects SET number = :n WHERE id = :id"),
            {"n": numbers[campaign_id], "id": object_id},
        )
    with op.batch_alter_table("voting_objects", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_voting_objects_campaign_id_number"), ["campaign_id", "number"]
        )
        batch_op.create_check_constraint(op.f("ck_voting_objects_number_positive"), "number >= 1")


def downgrade():
    with op.batch_alter_table("voting_objects", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_voting_objects_number_positive"), type_="check")
        batch_op.drop_constraint(op.f("uq_voting_objects_campaign_id_number"), type_="unique")
    _rename("number", "position")
