"""ESIA emulator: registered clients and issued codes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the feature's own change


def downgrade():
    pass
