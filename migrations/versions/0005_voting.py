"""Voting: campaigns, objects, register of voters, ballot box.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('voting_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('landscaping', 'budget', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('rules_text', sa.Text(), nullable=False),
    sa.Column('ballot_rule', sa.Enum('single', 'approval', 'budget', name='ballot_rule', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.Column('budget_limit', sa.BigInteger(), nullable=True),
    sa.Column('per_district', sa.Boolean(), nullable=False),
    sa.Column('winners_count', sa.Integer(), nullable=False),
    sa.Column('turnout_target', sa.Integer(), nullable=True),
    sa.Column('show_turnout', sa.Boolean(), nullable=False),
    sa.Column('allow_revote', sa.Boolean(), nullable=False),
    sa.Column('min_level', sa.Enum('simplified', 'standard', 'confirmed', name='min_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_early_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_early_by_id', sa.Integer(), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('box_csv_sha256', sa.String(length=64), nullable=True),
    sa.Column('box_json_sha256', sa.String(length=64), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("ballot_rule <> 'approval' OR max_choices >= 1", name=op.f('ck_voting_campaigns_approval_has_max')),
    sa.CheckConstraint("ballot_rule <> 'budget' OR budget_limit > 0", name=op.f('ck_voting_campaigns_budget_has_limit')),
    sa.CheckConstraint('(closed_early_at IS NULL) = (close_reason IS NULL)', name=op.f('ck_voting_campaigns_early_close_has_reason')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_voting_campaigns_period_order')),
    sa.CheckConstraint('min_age IS NULL OR min_age BETWEEN 0 AND 120', name=op.f('ck_voting_campaigns_min_age_range')),
    sa.CheckConstraint('turnout_target IS NULL OR turnout_target > 0', name=op.f('ck_voting_campaigns_turnout_target_positive')),
    sa.CheckConstraint('winners_count >= 1', name=op.f('ck_voting_campaigns_winners_positive')),
    sa.ForeignKeyConstraint(['closed_early_by_id'], ['users.id'], name=op.f('fk_voting_campaigns_closed_early_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_voting_campaigns_created_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_voting_campaigns_organization_id_organizations')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_voting_campaigns_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_campaigns'))
    )
    with op.batch_alter_table('voting_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_campaigns_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voting_campaigns_territory_id'), ['territory_id'], unique=False)

    op.create_table('voting_ballots',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('receipt_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('cast_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['voting_campaigns.id'], name=op.f('fk_voting_ballots_campaign_id_voting_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['territories.id'], name=op.f('fk_voting_ballots_district_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_ballots')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_voting_ballots_receipt_hash'))
    )
    with op.batch_alter_table('voting_ballots', schema=None) as batch_op:
        batch_op.create_index('ix_voting_ballots_campaign_district', ['campaign_id', 'district_id'], unique=False)

    op.create_table('voting_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('cost IS NULL OR cost >= 0', name=op.f('ck_voting_objects_cost_not_negative')),
    sa.CheckConstraint('latitude IS NULL OR latitude BETWEEN -90 AND 90', name=op.f('ck_voting_objects_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR longitude BETWEEN -180 AND 180', name=op.f('ck_voting_objects_longitude_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['voting_campaigns.id'], name=op.f('fk_voting_objects_campaign_id_voting_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['territories.id'], name=op.f('fk_voting_objects_district_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_objects'))
    )
    with op.batch_alter_table('voting_objects', schema=None) as batch_op:
        batch_op.create_index('ix_voting_objects_campaign_district', ['campaign_id', 'district_id', 'position'], unique=False)

    op.create_table('voting_protocols',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'ready', 'failed', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status <> 'ready' OR attachment_id IS NOT NULL", name=op.f('ck_voting_protocols_ready_has_file')),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_voting_protocols_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['campaign_id'], ['voting_campaigns.id'], name=op.f('fk_voting_protocols_campaign_id_voting_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_voting_protocols_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_protocols'))
    )
    with op.batch_alter_table('voting_protocols', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_protocols_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('voting_register',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('self', 'widget', 'assisted', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('voted_on', sa.Date(), nullable=False),
    sa.Column('revote_check', sa.String(length=64), nullable=True),
    sa.CheckConstraint("(channel = 'assisted') = (volunteer_id IS NOT NULL)", name=op.f('ck_voting_register_assisted_has_volunteer')),
    sa.ForeignKeyConstraint(['campaign_id'], ['voting_campaigns.id'], name=op.f('fk_voting_register_campaign_id_voting_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_voting_register_user_id_users')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['users.id'], name=op.f('fk_voting_register_volunteer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_register')),
    sa.UniqueConstraint('campaign_id', 'user_id', name=op.f('uq_voting_register_campaign_id_user_id'))
    )
    with op.batch_alter_table('voting_register', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_register_user_id'), ['user_id'], unique=False)

    op.create_table('voting_ballot_choices',
    sa.Column('ballot_id', sa.Uuid(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['voting_ballots.id'], name=op.f('fk_voting_ballot_choices_ballot_id_voting_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['voting_campaigns.id'], name=op.f('fk_voting_ballot_choices_campaign_id_voting_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['object_id'], ['voting_objects.id'], name=op.f('fk_voting_ballot_choices_object_id_voting_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'object_id', name=op.f('pk_voting_ballot_choices'))
    )
    with op.batch_alter_table('voting_ballot_choices', schema=None) as batch_op:
        batch_op.create_index('ix_voting_ballot_choices_object_id', ['object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('voting_ballot_choices', schema=None) as batch_op:
        batch_op.drop_index('ix_voting_ballot_choices_object_id')

    op.drop_table('voting_ballot_choices')
    with op.batch_alter_table('voting_register', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_register_user_id'))

    op.drop_table('voting_register')
    with op.batch_alter_table('voting_protocols', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_protocols_campaign_id'))

    op.drop_table('voting_protocols')
    with op.batch_alter_table('voting_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_voting_objects_campaign_district')

    op.drop_table('voting_objects')
    with op.batch_alter_table('voting_ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_voting_ballots_campaign_district')

    op.drop_table('voting_ballots')
    with op.batch_alter_table('voting_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_campaigns_territory_id'))
        batch_op.drop_index(batch_op.f('ix_voting_campaigns_organization_id'))

    op.drop_table('voting_campaigns')
