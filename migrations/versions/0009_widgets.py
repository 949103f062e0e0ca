"""Widgets: settings of an organization's widget, residents' widget sessions, per-site counts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('widget_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_widget_sessions_organization_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_widget_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_widget_sessions')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_widget_sessions_ticket_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_widget_sessions_token_hash'))
    )
    with op.batch_alter_table('widget_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_widget_sessions_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_widget_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('widget_settings',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('message', 'participate', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('design', sa.Enum('municipal', 'health', 'education', 'preschool', name='design', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('site_url', sa.String(length=300), nullable=True),
    sa.Column('code_generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_widget_settings_organization_id_organizations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_widget_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_widget_settings'))
    )
    op.create_table('widget_site_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('logins', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('survey_responses', sa.Integer(), nullable=False),
    sa.Column('ballots', sa.Integer(), nullable=False),
    sa.CheckConstraint('views >= 0 AND logins >= 0 AND messages >= 0 AND survey_responses >= 0 AND ballots >= 0', name=op.f('ck_widget_site_days_counts_not_negative')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_widget_site_days_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_widget_site_days')),
    sa.UniqueConstraint('organization_id', 'site', 'day', name=op.f('uq_widget_site_days_organization_id_site_day'))
    )


def downgrade():
    op.drop_table('widget_site_days')
    op.drop_table('widget_settings')
    with op.batch_alter_table('widget_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_widget_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_widget_sessions_organization_id'))

    op.drop_table('widget_sessions')
