"""Public hearings and discussions: drafts, remarks, protocols.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hearings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('public_hearing', 'public_discussion', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('organizer_address', sa.String(length=300), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('initiator', sa.String(length=300), nullable=False),
    sa.Column('draft_text', sa.Text(), nullable=False),
    sa.Column('draft_attachment_id', sa.Integer(), nullable=True),
    sa.Column('exposition_place', sa.String(length=500), nullable=False),
    sa.Column('exposition_starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exposition_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exposition_hours', sa.String(length=300), nullable=False),
    sa.Column('consultations', sa.Text(), nullable=False),
    sa.Column('remarks_open_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remarks_close_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submission_ways', sa.Text(), nullable=True),
    sa.Column('meeting_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meeting_place', sa.String(length=500), nullable=True),
    sa.Column('meeting_link', sa.String(length=500), nullable=True),
    sa.Column('publication_sources', sa.Text(), nullable=True),
    sa.Column('min_account_level', sa.Enum('simplified', 'standard', 'confirmed', name='min_account_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('participant_scope', sa.Enum('region', 'territory', 'anyone', name='participant_scope', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notice_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notice_published_by_id', sa.Integer(), nullable=True),
    sa.Column('protocol_number', sa.String(length=40), nullable=True),
    sa.Column('protocol_date', sa.Date(), nullable=True),
    sa.Column('protocol_issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('protocol_issued_by_id', sa.Integer(), nullable=True),
    sa.Column('conclusion_text', sa.Text(), nullable=True),
    sa.Column('conclusion_date', sa.Date(), nullable=True),
    sa.Column('conclusion_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('conclusion_published_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'public_hearing' OR meeting_at IS NOT NULL", name=op.f('ck_hearings_hearing_has_meeting')),
    sa.CheckConstraint('conclusion_published_at IS NULL OR (protocol_issued_at IS NOT NULL AND conclusion_text IS NOT NULL AND conclusion_date IS NOT NULL)', name=op.f('ck_hearings_conclusion_complete')),
    sa.CheckConstraint('exposition_ends_at > exposition_starts_at', name=op.f('ck_hearings_exposition_order')),
    sa.CheckConstraint('meeting_at IS NULL OR meeting_place IS NOT NULL OR meeting_link IS NOT NULL', name=op.f('ck_hearings_meeting_has_place')),
    sa.CheckConstraint('protocol_issued_at IS NULL OR (protocol_number IS NOT NULL AND protocol_date IS NOT NULL AND notice_published_at IS NOT NULL)', name=op.f('ck_hearings_protocol_complete')),
    sa.CheckConstraint('remarks_close_at > remarks_open_at', name=op.f('ck_hearings_window_order')),
    sa.CheckConstraint('remarks_open_at >= exposition_starts_at', name=op.f('ck_hearings_window_after_exposition')),
    sa.ForeignKeyConstraint(['conclusion_published_by_id'], ['users.id'], name=op.f('fk_hearings_conclusion_published_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_hearings_created_by_id_users')),
    sa.ForeignKeyConstraint(['draft_attachment_id'], ['attachments.id'], name=op.f('fk_hearings_draft_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['notice_published_by_id'], ['users.id'], name=op.f('fk_hearings_notice_published_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_hearings_organization_id_organizations')),
    sa.ForeignKeyConstraint(['protocol_issued_by_id'], ['users.id'], name=op.f('fk_hearings_protocol_issued_by_id_users')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_hearings_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearings')),
    sa.UniqueConstraint('organization_id', 'protocol_number', name=op.f('uq_hearings_organization_id_protocol_number'))
    )
    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearings_notice_published_at'), ['notice_published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearings_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearings_remarks_close_at'), ['remarks_close_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearings_remarks_open_at'), ['remarks_open_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearings_territory_id'), ['territory_id'], unique=False)

    op.create_table('hearing_draft_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearings.id'], name=op.f('fk_hearing_draft_sections_hearing_id_hearings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearing_draft_sections')),
    sa.UniqueConstraint('hearing_id', 'position', name=op.f('uq_hearing_draft_sections_hearing_id_position'))
    )
    op.create_table('hearing_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_hearing_materials_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearings.id'], name=op.f('fk_hearing_materials_hearing_id_hearings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearing_materials')),
    sa.UniqueConstraint('attachment_id', name=op.f('uq_hearing_materials_attachment_id'))
    )
    with op.batch_alter_table('hearing_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearing_materials_hearing_id'), ['hearing_id'], unique=False)

    op.create_table('hearing_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('person', 'legal_entity', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('legal_entity_name', sa.String(length=300), nullable=True),
    sa.Column('legal_entity_ogrn', sa.String(length=15), nullable=True),
    sa.Column('resident', sa.Boolean(), nullable=False),
    sa.Column('attendance', sa.Enum('in_person', 'online', name='attendance', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind <> 'legal_entity' OR (legal_entity_name IS NOT NULL AND legal_entity_ogrn IS NOT NULL)", name=op.f('ck_hearing_participants_legal_entity_identified')),
    sa.CheckConstraint("kind <> 'person' OR birth_date IS NOT NULL", name=op.f('ck_hearing_participants_person_has_birth_date')),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearings.id'], name=op.f('fk_hearing_participants_hearing_id_hearings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_hearing_participants_registered_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hearing_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearing_participants')),
    sa.UniqueConstraint('hearing_id', 'user_id', name=op.f('uq_hearing_participants_hearing_id_user_id')),
    sa.UniqueConstraint('id', 'hearing_id', name=op.f('uq_hearing_participants_id_hearing_id'))
    )
    with op.batch_alter_table('hearing_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearing_participants_hearing_id'), ['hearing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearing_participants_user_id'), ['user_id'], unique=False)

    op.create_table('hearing_draft_paragraphs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearings.id'], name=op.f('fk_hearing_draft_paragraphs_hearing_id_hearings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['hearing_draft_sections.id'], name=op.f('fk_hearing_draft_paragraphs_section_id_hearing_draft_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearing_draft_paragraphs')),
    sa.UniqueConstraint('hearing_id', 'number', name=op.f('uq_hearing_draft_paragraphs_hearing_id_number')),
    sa.UniqueConstraint('hearing_id', 'position', name=op.f('uq_hearing_draft_paragraphs_hearing_id_position')),
    sa.UniqueConstraint('id', 'hearing_id', name=op.f('uq_hearing_draft_paragraphs_id_hearing_id'))
    )
    with op.batch_alter_table('hearing_draft_paragraphs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearing_draft_paragraphs_section_id'), ['section_id'], unique=False)

    op.create_table('hearing_remarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('paragraph_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('proposal', 'remark', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('source', sa.Enum('platform', 'meeting', name='source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('resident', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_token', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('pending', 'published', 'rejected', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rejection_reason', sa.Enum('obscene', 'discrimination', 'third_party_data', 'advertising', 'unreadable', 'unclear', 'several_problems', name='rejection_reason', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('recommendation', sa.Enum('accept', 'decline', name='recommendation', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('recommendation_reason', sa.Text(), nullable=True),
    sa.Column('recommended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recommended_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'rejected') = (rejection_reason IS NOT NULL)", name=op.f('ck_hearing_remarks_rejection_has_reason')),
    sa.CheckConstraint("recommendation IS NULL OR (status = 'published' AND recommendation_reason IS NOT NULL)", name=op.f('ck_hearing_remarks_recommendation_is_reasoned')),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_hearing_remarks_text_not_empty')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_hearing_remarks_author_id_users')),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearings.id'], name=op.f('fk_hearing_remarks_hearing_id_hearings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['users.id'], name=op.f('fk_hearing_remarks_moderated_by_id_users')),
    sa.ForeignKeyConstraint(['paragraph_id', 'hearing_id'], ['hearing_draft_paragraphs.id', 'hearing_draft_paragraphs.hearing_id'], name='fk_hearing_remarks_paragraph_same_hearing'),
    sa.ForeignKeyConstraint(['participant_id', 'hearing_id'], ['hearing_participants.id', 'hearing_participants.hearing_id'], name='fk_hearing_remarks_participant_same_hearing'),
    sa.ForeignKeyConstraint(['recommended_by_id'], ['users.id'], name=op.f('fk_hearing_remarks_recommended_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearing_remarks')),
    sa.UniqueConstraint('author_id', 'client_token', name=op.f('uq_hearing_remarks_author_id_client_token')),
    sa.UniqueConstraint('hearing_id', 'number', name=op.f('uq_hearing_remarks_hearing_id_number'))
    )
    with op.batch_alter_table('hearing_remarks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearing_remarks_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_hearing_remarks_hearing_status', ['hearing_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearing_remarks_paragraph_id'), ['paragraph_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearing_remarks_participant_id'), ['participant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('hearing_remarks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearing_remarks_participant_id'))
        batch_op.drop_index(batch_op.f('ix_hearing_remarks_paragraph_id'))
        batch_op.drop_index('ix_hearing_remarks_hearing_status')
        batch_op.drop_index(batch_op.f('ix_hearing_remarks_author_id'))

    op.drop_table('hearing_remarks')
    with op.batch_alter_table('hearing_draft_paragraphs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearing_draft_paragraphs_section_id'))

    op.drop_table('hearing_draft_paragraphs')
    with op.batch_alter_table('hearing_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearing_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_hearing_participants_hearing_id'))

    op.drop_table('hearing_participants')
    with op.batch_alter_table('hearing_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearing_materials_hearing_id'))

    op.drop_table('hearing_materials')
    op.drop_table('hearing_draft_sections')
    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearings_territory_id'))
        batch_op.drop_index(batch_op.f('ix_hearings_remarks_open_at'))
        batch_op.drop_index(batch_op.f('ix_hearings_remarks_close_at'))
        batch_op.drop_index(batch_op.f('ix_hearings_organization_id'))
        batch_op.drop_index(batch_op.f('ix_hearings_notice_published_at'))

    op.drop_table('hearings')
