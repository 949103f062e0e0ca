"""ESIA emulator: registered clients and issued codes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "esia_emulator_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esia_emulator_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_esia_emulator_clients_client_id")),
    )
    op.create_table(
        "esia_emulator_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("oid", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at > issued_at", name=op.f("ck_esia_emulator_codes_expires_after_issue")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["esia_emulator_clients.id"],
            name=op.f("fk_esia_emulator_codes_client_id_esia_emulator_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esia_emulator_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_esia_emulator_codes_code")),
    )
    with op.batch_alter_table("esia_emulator_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_esia_emulator_codes_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_esia_emulator_codes_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("esia_emulator_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_esia_emulator_codes_expires_at"))
        batch_op.drop_index(batch_op.f("ix_esia_emulator_codes_client_id"))
    op.drop_table("esia_emulator_codes")
    op.drop_table("esia_emulator_clients")
