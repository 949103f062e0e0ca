"""Hearings: remarks are rejected on the hearings' own grounds (participant not identified, repeated, out of time).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The codes are written out here: a migration never imports the application's enums.
SHARED = (
    "obscene",
    "discrimination",
    "third_party_data",
    "advertising",
    "unreadable",
    "unclear",
    "several_problems",
)
# Each fits the column's VARCHAR(16), so only the CHECK changes.
HEARINGS_OWN = ("unidentified", "repeated", "out_of_time")
CONSTRAINT = "ck_hearing_remarks_rejection_reason"


def _check(codes: tuple[str, ...]) -> str:
    return "rejection_reason IN (" + ", ".join(f"'{c}'" for c in codes) + ")"


def upgrade():
    with op.batch_alter_table("hearing_remarks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(SHARED + HEARINGS_OWN))


def downgrade():
    # Rows rejected on the hearings' own grounds have no counterpart in the shared list: the
    # closest is «unclear» (the remark could not be admitted as it stands).
    op.execute(
        sa.text(
            "UPDATE hearing_remarks SET rejection_reason = 'unclear' "
            "WHERE rejection_reason IN ('unidentified', 'repeated', 'out_of_time')"
        )
    )
    with op.batch_alter_table("hearing_remarks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(SHARED))
