"""API: organizations' keys (technical members), stored answers of idempotent requests.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OLD_KINDS = ("person", "legal_rep")
NEW_KINDS = (*OLD_KINDS, "technical")


def _set_kinds(values: tuple[str, ...]) -> None:
    # "technical" fits the column's VARCHAR(9) ("legal_rep"); only the CHECK changes.
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_kind"), f"kind IN ({listed})")


def upgrade():
    _set_kinds(NEW_KINDS)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_audited_use_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scopes <> ''", name=op.f("ck_api_keys_has_scopes")),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_by_id IS NOT NULL", name=op.f("ck_api_keys_revoked_by")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_api_keys_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_api_keys_revoked_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
        sa.UniqueConstraint("user_id", name=op.f("uq_api_keys_user_id")),
    )
    op.create_index(op.f("ix_api_keys_organization_id"), "api_keys", ["organization_id"])
    op.create_table(
        "api_idempotent_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("principal", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotent_requests")),
        sa.UniqueConstraint(
            "principal", "key", name=op.f("uq_api_idempotent_requests_principal_key")
        ),
    )
    op.create_index(
        op.f("ix_api_idempotent_requests_created_at"), "api_idempotent_requests", ["created_at"]
    )


def downgrade():
    op.drop_index(
        op.f("ix_api_idempotent_requests_created_at"), table_name="api_idempotent_requests"
    )
    op.drop_table("api_idempotent_requests")
    op.drop_index(op.f("ix_api_keys_organization_id"), table_name="api_keys")
    op.drop_table("api_keys")
    # The keys' technical members go with their keys (their audit entries keep the ids).
    op.execute(
        "DELETE FROM memberships WHERE user_id IN (SELECT id FROM users WHERE kind = 'technical')"
    )
    op.execute(
        "UPDATE users SET kind = 'person', is_active_account = false WHERE kind = 'technical'"
    )
    _set_kinds(OLD_KINDS)
