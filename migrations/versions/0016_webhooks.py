"""Webhooks: organizations' endpoints and their events, emitted events, deliveries.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 20:20:45.511184

"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('previous_secret', sa.String(length=100), nullable=True),
    sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("secret LIKE 'whsec_%'", name=op.f('ck_webhook_endpoints_secret_format')),
    sa.CheckConstraint('previous_secret IS NULL OR previous_secret_until IS NOT NULL', name=op.f('ck_webhook_endpoints_previous_secret_expires')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_webhook_endpoints_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
    # One address once per organization: a second registration would get every event twice.
    sa.UniqueConstraint('organization_id', 'url', name=op.f('uq_webhook_endpoints_organization_id_url'))
    )

    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.Enum('appeal.assigned', 'appeal.due_soon', 'appeal.overdue', 'appeal.rated', 'appeal.escalated', 'appeal.answer_returned', name='event_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_webhook_events_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_webhook_events_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('organization_id', 'dedup_key', name=op.f('uq_webhook_events_organization_id_dedup_key')),
    sa.UniqueConstraint('public_id', name=op.f('uq_webhook_events_public_id'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_events_appeal', ['appeal_id', 'event_type'], unique=False)

    op.create_table('webhook_subscriptions',
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.Enum('appeal.assigned', 'appeal.due_soon', 'appeal.overdue', 'appeal.rated', 'appeal.escalated', 'appeal.answer_returned', name='event_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_subscriptions_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('endpoint_id', 'event_type', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'succeeded', 'failed', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('in_flight_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_response', sa.String(length=500), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resent_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'pending' OR next_attempt_at IS NOT NULL", name=op.f('ck_webhook_deliveries_pending_has_next_attempt')),
    sa.CheckConstraint("status <> 'succeeded' OR delivered_at IS NOT NULL", name=op.f('ck_webhook_deliveries_succeeded_has_time')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_deliveries_attempts_not_negative')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'], name=op.f('fk_webhook_deliveries_event_id_webhook_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('event_id', 'endpoint_id', name=op.f('uq_webhook_deliveries_event_id_endpoint_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_log', ['endpoint_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_log')
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_appeal')

    op.drop_table('webhook_events')
    op.drop_table('webhook_endpoints')
