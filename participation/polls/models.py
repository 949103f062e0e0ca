"""Surveys: questionnaires (sections, questions, options, display conditions), responses, exports.

Anonymity works like a secret ballot. `SurveyParticipant` is the register of who has answered
(one row per person and survey: the primary key is what makes "one response per person" hold
in the database); it carries no serial number and no time of day, and nothing links it to the
answers. `SurveyResponse` holds the answers; in a named survey it also names the respondent,
in an anonymous one it keeps only coarse groups (age band, gender, municipality) fixed at
submission, so results can be broken down without ever joining answers to people.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum, utcnow
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, Gender

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    SCALE = "scale"
    MATRIX = "matrix"
    RANKING = "ranking"


CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE})
# Kinds whose options a display condition may point at.
CONDITION_SOURCE_KINDS = CHOICE_KINDS


class OptionRole(enum.StrEnum):
    CHOICE = "choice"  # an answer option (a column of a matrix)
    ROW = "row"  # a row of a matrix


class TextStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AgeBand(enum.StrEnum):
    UNDER_18 = "under_18"
    A18_24 = "18_24"
    A25_34 = "25_34"
    A35_44 = "35_44"
    A45_54 = "45_54"
    A55_64 = "55_64"
    A65_PLUS = "65_plus"
    UNKNOWN = "unknown"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SurveyState(enum.StrEnum):
    """Derived from dates, never stored."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


survey_territories = sa.Table(
    "survey_territories",
    Base.metadata,
    sa.Column("survey_id", sa.ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("territory_id", sa.ForeignKey("territories.id"), primary_key=True),
)


class Survey(TimestampMixin, Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    copied_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    anonymous: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # closed early by the publisher
    # Audience (see participation.auth.eligibility; gender is this module's own addition).
    min_level: Mapped[AccountLevel] = mapped_column(
        str_enum(AccountLevel, "min_level"), default=AccountLevel.STANDARD
    )
    min_age: Mapped[int | None]
    max_age: Mapped[int | None]
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender, "gender"))
    allow_legal_entities: Mapped[bool] = mapped_column(default=False)
    # Show the results to residents once the survey has closed.
    results_public: Mapped[bool] = mapped_column(default=False)

    organization: Mapped[Organization] = relationship()
    territories: Mapped[list[Territory]] = relationship(
        secondary=survey_territories, order_by=Territory.name
    )
    sections: Mapped[list[SurveySection]] = relationship(
        back_populates="survey",
        order_by="(SurveySection.position, SurveySection.id)",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="period_order"),
        sa.CheckConstraint("min_age IS NULL OR min_age >= 0", name="min_age_nonnegative"),
        sa.CheckConstraint(
            "min_age IS NULL OR max_age IS NULL OR min_age <= max_age", name="age_order"
        ),
    )

    def state(self, now: datetime | None = None) -> SurveyState:
        now = now or utcnow()
        if self.published_at is None:
            return SurveyState.DRAFT
        if self.closed_at is not None or now >= self.ends_at:
            return SurveyState.CLOSED
        if now < self.starts_at:
            return SurveyState.SCHEDULED
        return SurveyState.OPEN

    @property
    def is_open(self) -> bool:
        return self.state() == SurveyState.OPEN

    @property
    def is_closed(self) -> bool:
        return self.state() == SurveyState.CLOSED

    @property
    def timezone(self) -> str:
        return self.organization.territory.timezone


class SurveySection(Base):
    __tablename__ = "survey_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str | None] = mapped_column(sa.Text)

    survey: Mapped[Survey] = relationship(back_populates="sections")
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="section",
        order_by="(SurveyQuestion.position, SurveyQuestion.id)",
        cascade="all, delete-orphan",
    )


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_sections.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "kind"))
    text: Mapped[str] = mapped_column(sa.String(1000))
    description: Mapped[str | None] = mapped_column(sa.Text)
    required: Mapped[bool] = mapped_column(default=False)
    max_choices: Mapped[int | None]  # multiple choice
    max_length: Mapped[int | None]  # free text
    min_value: Mapped[float | None]  # number
    max_value: Mapped[float | None]
    scale_max: Mapped[int | None]  # scale: 1…5 or 1…10
    has_other: Mapped[bool] = mapped_column(default=False)  # «Другое (укажите)»
    image_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id"))

    section: Mapped[SurveySection] = relationship(back_populates="questions")
    options: Mapped[list[SurveyOption]] = relationship(
        back_populates="question",
        order_by="(SurveyOption.position, SurveyOption.id)",
        cascade="all, delete-orphan",
        foreign_keys="SurveyOption.question_id",
    )
    image = relationship("Attachment")

    __table_args__ = (
        sa.CheckConstraint("kind <> 'scale' OR scale_max IN (5, 10)", name="scale_range"),
        sa.CheckConstraint("max_choices IS NULL OR max_choices >= 1", name="max_choices_positive"),
        sa.CheckConstraint(
            "max_length IS NULL OR (max_length >= 1 AND max_length <= 10000)",
            name="max_length_range",
        ),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value",
            name="value_order",
        ),
    )

    @property
    def choices(self) -> list[SurveyOption]:
        return [o for o in self.options if o.role == OptionRole.CHOICE]

    @property
    def rows(self) -> list[SurveyOption]:
        return [o for o in self.options if o.role == OptionRole.ROW]


class SurveyOption(Base):
    __tablename__ = "survey_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[OptionRole] = mapped_column(
        str_enum(OptionRole, "role"), default=OptionRole.CHOICE
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.String(500))
    is_other: Mapped[bool] = mapped_column(default=False)

    question: Mapped[SurveyQuestion] = relationship(
        back_populates="options", foreign_keys=[question_id]
    )


class SurveyCondition(Base):
    """Show `question` only if the answer to an earlier question includes `option`.

    All conditions of one question point at options of one earlier question; any of them
    being chosen shows the question.
    """

    __tablename__ = "survey_conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    option_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_options.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (sa.UniqueConstraint("question_id", "option_id"),)


class SurveyParticipant(Base):
    """The register of who has answered: no serial id and no time of day, by design."""

    __tablename__ = "survey_participants"

    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    answered_on: Mapped[date]


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    # Only in named surveys; anonymous responses never name anyone.
    respondent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Anonymous responses keep the hour only, so the time cannot single a person out.
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    age_band: Mapped[AgeBand] = mapped_column(str_enum(AgeBand, "age_band"))
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender, "gender"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))

    __table_args__ = (
        sa.UniqueConstraint("survey_id", "respondent_id"),
        sa.Index("ix_survey_responses_survey_id_id", "survey_id", "id"),
    )


class SurveyAnswer(Base):
    """One item of an answer: a chosen option, a matrix cell, a ranked option, a value or text.

    `item_no` is 0 for the first item of a (response, question) pair, so "how many answered
    this question" is a plain COUNT. Ranking positions are kept in `number_value`.
    """

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE")
    )
    item_no: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("survey_options.id"))
    row_id: Mapped[int | None] = mapped_column(sa.ForeignKey("survey_options.id"))
    number_value: Mapped[float | None]
    date_value: Mapped[date | None]
    text_value: Mapped[str | None] = mapped_column(sa.Text)
    text_status: Mapped[TextStatus | None] = mapped_column(str_enum(TextStatus, "text_status"))
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(
        str_enum(RejectionReason, "rejection_reason")
    )
    moderated_at: Mapped[datetime | None]

    __table_args__ = (
        sa.Index("ix_survey_answers_grouping", "question_id", "option_id", "row_id"),
        sa.Index("ix_survey_answers_question_text_status", "question_id", "text_status"),
        sa.CheckConstraint("(text_value IS NULL) = (text_status IS NULL)", name="text_has_status"),
        sa.CheckConstraint(
            "rejection_reason IS NULL OR text_status = 'rejected'", name="reason_when_rejected"
        ),
    )


class SurveyDraft(Base):
    """Answers saved but not sent. Not a response: it counts nowhere and is deleted on submit."""

    __tablename__ = "survey_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A publisher's preview keeps its own draft, so trying the survey never touches a real one.
    preview: Mapped[bool] = mapped_column(default=False)
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    section_index: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("survey_id", "user_id", "preview"),)


class SurveyExport(TimestampMixin, Base):
    """A large export made by a background job; the official watches its progress."""

    __tablename__ = "survey_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    format: Mapped[ExportFormat] = mapped_column(str_enum(ExportFormat, "format"))
    status: Mapped[ExportStatus] = mapped_column(
        str_enum(ExportStatus, "status"), default=ExportStatus.QUEUED
    )
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(99, self.rows_done * 100 // self.rows_total) if self.rows_total else 0


class SurveyResultSnapshot(Base):
    """Results of a large survey computed by a job (the same GROUP BY queries), kept as JSON.

    Surveys past a size are not counted on every page view: the page shows the latest snapshot
    and its time, and a job refreshes it (on demand and from the periodic sweep).
    """

    __tablename__ = "survey_result_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), unique=True
    )
    computed_at: Mapped[datetime | None]
    requested_at: Mapped[datetime | None]
    responses: Mapped[int] = mapped_column(default=0)
    # {"totals": raw, "age": raw, "gender": raw, "municipality": raw} (see results.py)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
