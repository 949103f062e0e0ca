"""Appeals: a duplicate follows its main message (joined by a resident or merged by staff).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 23:30:00

A new state `merged` (the duplicate waits for the main message's answer), the link to the main
message and how it was made. A resident joins one message once (a partial unique index).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OLD_STATES = (
    "moderation",
    "rejected",
    "coordination",
    "assignment",
    "in_work",
    "approval",
    "postponed",
    "answered",
    "closed",
    "escalated",
)
NEW_STATES = (*OLD_STATES, "merged")


def _set_states(values: tuple[str, ...]) -> None:
    # "merged" fits the column's VARCHAR(12) ("coordination"); only the CHECK changes.
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appeals_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_appeals_state"), f"state IN ({listed})")


def _point_index(include: str) -> None:
    # PostgreSQL: the maps' bounding-box scans stay index-only when they leave duplicates out.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_appeals_point", table_name="appeals")
    op.create_index(
        "ix_appeals_point",
        "appeals",
        ["latitude", "longitude"],
        postgresql_include=include.split(),
        postgresql_where=sa.text("latitude IS NOT NULL"),
    )


def upgrade():
    _set_states(NEW_STATES)
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merge_kind", sa.String(length=6), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_appeals_merged_into_id_appeals"), "appeals", ["merged_into_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_appeals_merged_into_id"), ["merged_into_id"])
        batch_op.create_check_constraint(
            op.f("ck_appeals_merge_kind"), "merge_kind IN ('joined', 'merged')"
        )
        batch_op.create_check_constraint(
            op.f("ck_appeals_merge_kind_with_main"),
            "(merged_into_id IS NULL) = (merge_kind IS NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_appeals_not_merged_into_itself"), "merged_into_id <> id"
        )
        batch_op.create_check_constraint(
            op.f("ck_appeals_merged_has_main"), "state <> 'merged' OR merged_into_id IS NOT NULL"
        )
    op.create_index(
        "ix_appeals_joined_once",
        "appeals",
        ["merged_into_id", "author_id"],
        unique=True,
        postgresql_where=sa.text("merge_kind = 'joined'"),
        sqlite_where=sa.text("merge_kind = 'joined'"),
    )
    _point_index("subcategory_id state registered_at id merged_into_id")


def downgrade():
    _point_index("subcategory_id state registered_at id")
    op.drop_index("ix_appeals_joined_once", table_name="appeals")
    op.execute(
        "UPDATE appeals SET state = 'closed', bucket = 'done' WHERE state = 'merged'"
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appeals_merged_has_main"), type_="check")
        batch_op.drop_constraint(op.f("ck_appeals_not_merged_into_itself"), type_="check")
        batch_op.drop_constraint(op.f("ck_appeals_merge_kind_with_main"), type_="check")
        batch_op.drop_constraint(op.f("ck_appeals_merge_kind"), type_="check")
        batch_op.drop_index(op.f("ix_appeals_merged_into_id"))
        batch_op.drop_constraint(op.f("fk_appeals_merged_into_id_appeals"), type_="foreignkey")
        batch_op.drop_column("merge_kind")
        batch_op.drop_column("merged_into_id")
    _set_states(OLD_STATES)
