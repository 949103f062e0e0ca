"""Core: generations of the reference data that processes keep in memory (core/cache.py).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 03:00:00

A change to a cached kind of data (topics, routing rules…) bumps its row in the same
transaction; every process compares the generation it loaded under at most once a second.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cache_generations",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_generations")),
    )


def downgrade():
    op.drop_table("cache_generations")
