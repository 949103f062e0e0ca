"""Public hearings and public discussions: the draft act, participants, remarks, documents.

The stage of a hearing is never stored: it follows from the moments kept here (see stages.py).
Dates the organizer enters («с 1 по 14 июня») are kept as the UTC moments of the organizer's
local midnights, so the window opens and closes by itself at midnight in the territory.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum, utcnow
from participation.core.files import Attachment
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User


class HearingKind(enum.StrEnum):
    PUBLIC_HEARING = "public_hearing"  # публичные слушания: with a meeting of participants
    PUBLIC_DISCUSSION = "public_discussion"  # общественные обсуждения: remarks only


class ParticipantScope(enum.StrEnum):
    """Whose remarks are accepted; residency of the territory is recorded in every case."""

    REGION = "region"  # registered anywhere in the region of the territory
    TERRITORY = "territory"  # registered in the territory itself
    ANYONE = "anyone"


class ParticipantKind(enum.StrEnum):
    PERSON = "person"
    LEGAL_ENTITY = "legal_entity"


class Attendance(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class RemarkKind(enum.StrEnum):
    PROPOSAL = "proposal"  # предложение
    REMARK = "remark"  # замечание


class RemarkSource(enum.StrEnum):
    PLATFORM = "platform"  # sent through the platform during the window
    MEETING = "meeting"  # spoken at the meeting, recorded by the organizer


class RemarkStatus(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


class RemarkRejectionReason(enum.StrEnum):
    """Why a remark on a draft act is not admitted: the hearings' own grounds.

    Not the messages' shared list (core.moderation.RejectionReason): that one is offered by
    every member on the messages' form, so grounds proper to a draft act («поступило вне
    срока») would leak there. Codes shared in spirit keep the same strings, so the rows
    stored before migration 0013 stay valid as they are.
    """

    UNIDENTIFIED = "unidentified"  # the participant cannot be identified
    REPEATED = "repeated"  # repeats a remark already sent to this hearing
    OUT_OF_TIME = "out_of_time"  # received outside the remarks period
    UNCLEAR = "unclear"
    OBSCENE = "obscene"
    DISCRIMINATION = "discrimination"
    THIRD_PARTY_DATA = "third_party_data"
    ADVERTISING = "advertising"
    UNREADABLE = "unreadable"
    # No longer offered (a remark may hold several proposals); rows moderated before keep it.
    SEVERAL_PROBLEMS = "several_problems"


class Recommendation(enum.StrEnum):
    ACCEPT = "accept"  # учесть
    DECLINE = "decline"  # не учитывать


class Hearing(TimestampMixin, Base):
    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[HearingKind] = mapped_column(str_enum(HearingKind, "kind"))
    title: Mapped[str] = mapped_column(sa.String(500))  # наименование проекта
    subject: Mapped[str] = mapped_column(sa.Text)  # what the act is about, in a few lines
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    organizer_address: Mapped[str] = mapped_column(sa.String(300))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    initiator: Mapped[str] = mapped_column(sa.String(300))  # who proposed the project
    draft_text: Mapped[str] = mapped_column(sa.Text)
    draft_attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id"))

    exposition_place: Mapped[str] = mapped_column(sa.String(500))
    exposition_starts_at: Mapped[datetime]
    exposition_ends_at: Mapped[datetime]  # exclusive: midnight after the last day
    exposition_hours: Mapped[str] = mapped_column(sa.String(300))
    consultations: Mapped[str] = mapped_column(sa.Text)

    remarks_open_at: Mapped[datetime] = mapped_column(index=True)
    remarks_close_at: Mapped[datetime] = mapped_column(index=True)  # exclusive
    submission_ways: Mapped[str | None] = mapped_column(sa.Text)

    meeting_at: Mapped[datetime | None]
    meeting_place: Mapped[str | None] = mapped_column(sa.String(500))
    meeting_link: Mapped[str | None] = mapped_column(sa.String(500))

    publication_sources: Mapped[str | None] = mapped_column(sa.Text)
    min_account_level: Mapped[AccountLevel] = mapped_column(
        str_enum(AccountLevel, "min_account_level"), default=AccountLevel.CONFIRMED
    )
    participant_scope: Mapped[ParticipantScope] = mapped_column(
        str_enum(ParticipantScope, "participant_scope"), default=ParticipantScope.REGION
    )

    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    notice_published_at: Mapped[datetime | None] = mapped_column(index=True)
    notice_published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    protocol_number: Mapped[str | None] = mapped_column(sa.String(40))
    protocol_date: Mapped[date | None]
    protocol_issued_at: Mapped[datetime | None]
    protocol_issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    conclusion_text: Mapped[str | None] = mapped_column(sa.Text)
    conclusion_date: Mapped[date | None]
    conclusion_published_at: Mapped[datetime | None]
    conclusion_published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    territory: Mapped[Territory] = relationship()
    draft_attachment: Mapped[Attachment | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("exposition_ends_at > exposition_starts_at", name="exposition_order"),
        sa.CheckConstraint("remarks_close_at > remarks_open_at", name="window_order"),
        sa.CheckConstraint(
            "remarks_open_at >= exposition_starts_at", name="window_after_exposition"
        ),
        sa.CheckConstraint(
            "kind <> 'public_hearing' OR meeting_at IS NOT NULL", name="hearing_has_meeting"
        ),
        sa.CheckConstraint(
            "meeting_at IS NULL OR meeting_place IS NOT NULL OR meeting_link IS NOT NULL",
            name="meeting_has_place",
        ),
        sa.CheckConstraint(
            "protocol_issued_at IS NULL OR (protocol_number IS NOT NULL "
            "AND protocol_date IS NOT NULL AND notice_published_at IS NOT NULL)",
            name="protocol_complete",
        ),
        sa.CheckConstraint(
            "conclusion_published_at IS NULL OR (protocol_issued_at IS NOT NULL "
            "AND conclusion_text IS NOT NULL AND conclusion_date IS NOT NULL)",
            name="conclusion_complete",
        ),
        sa.UniqueConstraint("organization_id", "protocol_number"),
    )

    @property
    def tz(self):
        return self.territory.tz

    @property
    def is_hearing(self) -> bool:
        """Публичные слушания (with a meeting), as opposed to общественные обсуждения."""
        return self.kind == HearingKind.PUBLIC_HEARING

    @property
    def is_published(self) -> bool:
        return self.notice_published_at is not None

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    @property
    def exposition_first_day(self) -> date:
        return self.local_date(self.exposition_starts_at)

    @property
    def exposition_last_day(self) -> date:
        return self.local_date(self.exposition_ends_at) - timedelta(days=1)

    @property
    def remarks_first_day(self) -> date:
        return self.local_date(self.remarks_open_at)

    @property
    def remarks_last_day(self) -> date:
        return self.local_date(self.remarks_close_at) - timedelta(days=1)


class DraftSection(Base):
    __tablename__ = "hearing_draft_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearings.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(500))

    __table_args__ = (sa.UniqueConstraint("hearing_id", "position"),)


class DraftParagraph(Base):
    __tablename__ = "hearing_draft_paragraphs"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearings.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hearing_draft_sections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(20))  # «3.2»
    text: Mapped[str] = mapped_column(sa.Text)

    section: Mapped[DraftSection] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("hearing_id", "position"),
        sa.UniqueConstraint("hearing_id", "number"),
        # Target of the composite foreign key that keeps remarks on their own hearing's text.
        sa.UniqueConstraint("id", "hearing_id"),
    )


class HearingMaterial(Base):
    __tablename__ = "hearing_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    attachment_id: Mapped[int] = mapped_column(sa.ForeignKey("attachments.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attachment: Mapped[Attachment] = relationship()


class Participant(Base):
    """An identified participant: a snapshot of the identification data the protocol needs.

    Participants who write through the platform are taken from their ESIA profile at their
    first remark; people at the meeting are registered by the organizer from their documents.
    """

    __tablename__ = "hearing_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[ParticipantKind] = mapped_column(str_enum(ParticipantKind, "kind"))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    birth_date: Mapped[date | None]
    address: Mapped[str] = mapped_column(sa.String(500))
    legal_entity_name: Mapped[str | None] = mapped_column(sa.String(300))
    legal_entity_ogrn: Mapped[str | None] = mapped_column(sa.String(15))
    # Permanently resides (is registered) in the hearing's territory: split of the protocol.
    resident: Mapped[bool]
    attendance: Mapped[Attendance | None] = mapped_column(str_enum(Attendance, "attendance"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.UniqueConstraint("hearing_id", "user_id"),
        sa.UniqueConstraint("id", "hearing_id"),
        sa.CheckConstraint(
            "kind <> 'person' OR birth_date IS NOT NULL", name="person_has_birth_date"
        ),
        sa.CheckConstraint(
            "kind <> 'legal_entity' OR (legal_entity_name IS NOT NULL "
            "AND legal_entity_ogrn IS NOT NULL)",
            name="legal_entity_identified",
        ),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def public_name(self) -> str:
        """What public pages may show: «Мария И.», or the legal entity's name.

        First name and the initial of the surname say that a real person wrote, without
        identifying them; no patronymic, birth date or address ever leaves the official copy.
        """
        if self.kind == ParticipantKind.LEGAL_ENTITY and self.legal_entity_name:
            return self.legal_entity_name
        return f"{self.first_name} {self.last_name[:1]}.".strip()

    @property
    def official_name(self) -> str:
        """Full name, with the legal entity for representatives."""
        if self.kind == ParticipantKind.LEGAL_ENTITY and self.legal_entity_name:
            return f"{self.legal_entity_name} (представитель {self.full_name})"
        return self.full_name


class Remark(Base):
    """A proposal or remark on one paragraph of the draft, or on the draft as a whole."""

    __tablename__ = "hearing_remarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearings.id", ondelete="CASCADE"))
    number: Mapped[int]  # № within the hearing, in order of receipt
    participant_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    paragraph_id: Mapped[int | None] = mapped_column(index=True)
    kind: Mapped[RemarkKind] = mapped_column(str_enum(RemarkKind, "kind"))
    source: Mapped[RemarkSource] = mapped_column(str_enum(RemarkSource, "source"))
    text: Mapped[str] = mapped_column(sa.Text)
    resident: Mapped[bool]  # snapshot at submission, from the ESIA registration address
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Guards against a double submit: one token per rendered form.
    client_token: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[RemarkStatus] = mapped_column(
        str_enum(RemarkStatus, "status"), default=RemarkStatus.PENDING
    )
    rejection_reason: Mapped[RemarkRejectionReason | None] = mapped_column(
        str_enum(RemarkRejectionReason, "rejection_reason")
    )
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recommendation: Mapped[Recommendation | None] = mapped_column(
        str_enum(Recommendation, "recommendation")
    )
    recommendation_reason: Mapped[str | None] = mapped_column(sa.Text)
    recommended_at: Mapped[datetime | None]
    recommended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    # Joined on the id alone; the composite foreign keys below keep both on this hearing.
    participant: Mapped[Participant] = relationship(
        primaryjoin="Remark.participant_id == Participant.id", foreign_keys=[participant_id]
    )
    paragraph: Mapped[DraftParagraph | None] = relationship(
        primaryjoin="Remark.paragraph_id == DraftParagraph.id", foreign_keys=[paragraph_id]
    )
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["participant_id", "hearing_id"],
            ["hearing_participants.id", "hearing_participants.hearing_id"],
            name="fk_hearing_remarks_participant_same_hearing",
        ),
        sa.ForeignKeyConstraint(
            ["paragraph_id", "hearing_id"],
            ["hearing_draft_paragraphs.id", "hearing_draft_paragraphs.hearing_id"],
            name="fk_hearing_remarks_paragraph_same_hearing",
        ),
        sa.UniqueConstraint("hearing_id", "number"),
        sa.UniqueConstraint("author_id", "client_token"),
        sa.Index("ix_hearing_remarks_hearing_status", "hearing_id", "status"),
        sa.CheckConstraint("length(text) > 0", name="text_not_empty"),
        sa.CheckConstraint(
            "(status = 'rejected') = (rejection_reason IS NOT NULL)", name="rejection_has_reason"
        ),
        sa.CheckConstraint(
            "recommendation IS NULL "
            "OR (status = 'published' AND recommendation_reason IS NOT NULL)",
            name="recommendation_is_reasoned",
        ),
    )
