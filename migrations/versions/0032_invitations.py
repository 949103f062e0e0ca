"""Admin: staff invitations by e-mail; the regional authorised official becomes its own role.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 06:00:00

`authorized` keeps meaning the municipal (own-organization) authorised official; the new
`regional_authorized` is the regional one. Existing `authorized` memberships in regional bodies
(РОИВ) are the regional officials in fact: they become `regional_authorized`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# The codes are written out here: a migration never imports the application's enums.
OLD_ROLES = (
    "administrator",
    "moderator",
    "coordinator",
    "executor",
    "head",
    "curator",
    "operator",
    "authorized",
    "volunteer",
)
NEW_ROLES = (
    "administrator",
    "moderator",
    "coordinator",
    "executor",
    "head",
    "curator",
    "operator",
    "regional_authorized",
    "authorized",
    "volunteer",
)
CONSTRAINT = "ck_memberships_role"


def _check(codes: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{c}'" for c in codes) + ")"


def upgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.alter_column(
            "role",
            existing_type=sa.String(length=13),
            type_=sa.String(length=19),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(NEW_ROLES))
    op.execute(
        sa.text(
            "UPDATE memberships SET role = 'regional_authorized' WHERE role = 'authorized' "
            "AND organization_id IN (SELECT id FROM organizations WHERE kind = 'regional') "
            "AND NOT EXISTS (SELECT 1 FROM memberships AS m2 WHERE m2.user_id = "
            "memberships.user_id AND m2.organization_id = memberships.organization_id "
            "AND m2.role = 'regional_authorized')"
        )
    )
    op.create_table(
        "staff_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "awaiting",
                "accepted",
                "revoked",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status NOT IN ('awaiting', 'accepted') OR accepted_by_id IS NOT NULL",
            name=op.f("ck_staff_invitations_accepted_has_person"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["users.id"],
            name=op.f("fk_staff_invitations_accepted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_staff_invitations_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_staff_invitations_invited_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_staff_invitations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitations_token_hash")),
    )
    with op.batch_alter_table("staff_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_invitations_accepted_by_id"), ["accepted_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_invitations_organization_id"), ["organization_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("staff_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_invitations_organization_id"))
        batch_op.drop_index(batch_op.f("ix_staff_invitations_accepted_by_id"))
    op.drop_table("staff_invitations")
    # The regional officials fall back to the one role there was; a duplicate goes.
    op.execute(
        sa.text(
            "DELETE FROM memberships WHERE role = 'regional_authorized' AND EXISTS (SELECT 1 "
            "FROM memberships AS m2 WHERE m2.user_id = memberships.user_id AND "
            "m2.organization_id = memberships.organization_id AND m2.role = 'authorized')"
        )
    )
    op.execute(
        sa.text("UPDATE memberships SET role = 'authorized' WHERE role = 'regional_authorized'")
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.alter_column(
            "role",
            existing_type=sa.String(length=19),
            type_=sa.String(length=13),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f(CONSTRAINT), _check(OLD_ROLES))
