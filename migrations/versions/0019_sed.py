"""Appeals: registration in an organization's СЭД (number, date, who) and the «Из СЭД» arrival.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"  # re-chained after 0018 (Open311 index) when api-sed was merged here
branch_labels = None
depends_on = None

OLD_ARRIVALS = ("new", "after_moderation", "from_higher", "from_lower", "from_non_subordinate")
NEW_ARRIVALS = (*OLD_ARRIVALS, "from_sed")
# The four columns are set together or not at all.
SED_ALL_OR_NONE = (
    "(sed_number IS NULL AND sed_registered_on IS NULL AND sed_organization_id IS NULL "
    "AND sed_registered_at IS NULL) OR (sed_number IS NOT NULL AND sed_registered_on IS NOT "
    "NULL AND sed_organization_id IS NOT NULL AND sed_registered_at IS NOT NULL)"
)


def _set_arrivals(values: tuple[str, ...]) -> None:
    # "from_sed" fits the column's VARCHAR(20) ("from_non_subordinate"); only the CHECK changes.
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appeals_arrival"), type_="check")
        batch_op.create_check_constraint(op.f("ck_appeals_arrival"), f"arrival IN ({listed})")


def upgrade():
    _set_arrivals(NEW_ARRIVALS)
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sed_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sed_registered_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("sed_organization_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("sed_registered_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            op.f("fk_appeals_sed_organization_id_organizations"),
            "organizations",
            ["sed_organization_id"],
            ["id"],
        )
        batch_op.create_check_constraint(op.f("ck_appeals_sed_all_or_none"), SED_ALL_OR_NONE)
        batch_op.create_check_constraint(
            op.f("ck_appeals_sed_number_not_blank"), "sed_number IS NULL OR length(sed_number) > 0"
        )
        batch_op.create_unique_constraint(
            op.f("uq_appeals_sed_organization_id_sed_number_sed_registered_on"),
            ["sed_organization_id", "sed_number", "sed_registered_on"],
        )
    # The «Отправлено в СЭД» folder reads only registered messages, in the inbox's order.
    op.create_index(
        "ix_appeals_inbox_sed",
        "appeals",
        ["holder_organization_id", "bucket", "answer_due_at", "id"],
        unique=False,
        postgresql_where=sa.text("sed_number IS NOT NULL"),
        sqlite_where=sa.text("sed_number IS NOT NULL"),
    )


def downgrade():
    op.drop_index(
        "ix_appeals_inbox_sed",
        table_name="appeals",
        postgresql_where=sa.text("sed_number IS NOT NULL"),
        sqlite_where=sa.text("sed_number IS NOT NULL"),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_appeals_sed_organization_id_sed_number_sed_registered_on"), type_="unique")
        batch_op.drop_constraint(op.f("ck_appeals_sed_number_not_blank"), type_="check")
        batch_op.drop_constraint(op.f("ck_appeals_sed_all_or_none"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_appeals_sed_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_column("sed_registered_at")
        batch_op.drop_column("sed_organization_id")
        batch_op.drop_column("sed_registered_on")
        batch_op.drop_column("sed_number")
    op.execute("UPDATE appeals SET arrival = 'after_moderation' WHERE arrival = 'from_sed'")
    _set_arrivals(OLD_ARRIVALS)
