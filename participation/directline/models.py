"""Direct lines: the event, its question categories, residents' questions, supports, co-authors.

The phase of an event (announced, collecting questions, on air, finished) is never stored: it
follows from its moments, kept in UTC and entered in the host's time zone. A question's state
moves only through `services.transition()` (the table is in workflow.py). The database keeps
the rules that must hold under concurrency: one support per person per question, one question
on air per event, one message per question.
"""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.appeals.classifier import Subcategory
from participation.core.db import Base, TimestampMixin, str_enum, utcnow
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User


class Phase(enum.StrEnum):
    ANNOUNCED = "announced"  # questions not accepted yet
    COLLECTING = "collecting"  # questions accepted, broadcast not started
    LIVE = "live"  # the broadcast is on (questions may still be accepted)
    FINISHED = "finished"


class QuestionState(enum.StrEnum):
    NEW = "new"  # на модерации
    PUBLISHED = "published"
    SHORTLISTED = "shortlisted"  # в списке к эфиру
    ON_AIR = "on_air"
    ANSWERED = "answered"  # ответ дан в эфире
    REJECTED = "rejected"
    MERGED = "merged"  # объединён с похожим вопросом


# Everyone sees these; the rest only the authors and the moderators.
PUBLIC_STATES = frozenset(
    {
        QuestionState.PUBLISHED,
        QuestionState.SHORTLISTED,
        QuestionState.ON_AIR,
        QuestionState.ANSWERED,
    }
)
# Residents may support these while the event lasts.
SUPPORTABLE_STATES = frozenset(
    {QuestionState.PUBLISHED, QuestionState.SHORTLISTED, QuestionState.ON_AIR}
)
# Not answered on air: after the event each of these may become an ordinary message.
CONVERTIBLE_STATES = frozenset(
    {
        QuestionState.NEW,
        QuestionState.PUBLISHED,
        QuestionState.SHORTLISTED,
        QuestionState.ON_AIR,
    }
)


class DirectLine(TimestampMixin, Base):
    """One broadcast: who answers, when, where to watch, who may ask and about what."""

    __tablename__ = "directline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    # Who answers, as people know them: «Глава Республики Башкортостан Радий Хабиров».
    speaker: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    host_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    # Eligibility: registration within this territory (None: anyone) and the account level.
    territory_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    min_account_level: Mapped[AccountLevel] = mapped_column(
        str_enum(AccountLevel, "min_account_level"), default=AccountLevel.STANDARD
    )
    questions_open_at: Mapped[datetime]
    questions_close_at: Mapped[datetime]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    stream_url: Mapped[str] = mapped_column(sa.String(500))
    recording_url: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Bumped whenever what the live page shows changes: the polled JSON answers 304 otherwise.
    live_version: Mapped[int] = mapped_column(default=0)

    host_organization: Mapped[Organization] = relationship()
    territory: Mapped[Territory | None] = relationship()
    categories: Mapped[list[DirectLineCategory]] = relationship(
        back_populates="event",
        order_by="DirectLineCategory.position, DirectLineCategory.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("questions_open_at < questions_close_at", name="window_order"),
        sa.CheckConstraint("starts_at < ends_at", name="broadcast_order"),
        sa.CheckConstraint("questions_open_at <= starts_at", name="window_opens_before"),
        sa.CheckConstraint("questions_close_at <= ends_at", name="window_closes_by_end"),
        sa.CheckConstraint("length(title) > 0", name="title_not_empty"),
        sa.Index("ix_directline_events_starts_at", "starts_at"),
    )

    def __repr__(self) -> str:
        return f"<DirectLine {self.id} {self.title!r}>"

    @property
    def timezone(self) -> str:
        """The host's time zone: dates are entered and shown in it."""
        return self.host_organization.territory.timezone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def phase(self, now: datetime | None = None) -> Phase:
        now = now or utcnow()
        if now >= self.ends_at:
            return Phase.FINISHED
        if now >= self.starts_at:
            return Phase.LIVE
        if now >= self.questions_open_at:
            return Phase.COLLECTING
        return Phase.ANNOUNCED

    def accepts_questions(self, now: datetime | None = None) -> bool:
        """The question window: from its opening (inclusive) to its closing (exclusive)."""
        now = now or utcnow()
        return self.questions_open_at <= now < self.questions_close_at

    def is_live(self, now: datetime | None = None) -> bool:
        return self.phase(now) == Phase.LIVE

    def is_finished(self, now: datetime | None = None) -> bool:
        return self.phase(now) == Phase.FINISHED


class DirectLineCategory(Base):
    """A topic residents pick for a question; it names the message topic used after the event."""

    __tablename__ = "directline_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("directline_events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    # A question not answered on air becomes a message with this subcategory.
    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))

    event: Mapped[DirectLine] = relationship(back_populates="categories")
    subcategory: Mapped[Subcategory] = relationship()

    __table_args__ = (sa.UniqueConstraint("event_id", "name"),)

    def __repr__(self) -> str:
        return f"<DirectLineCategory {self.id} {self.name!r}>"


class Question(TimestampMixin, Base):
    __tablename__ = "directline_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("directline_events.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # The form's one-time key: the same form sent twice makes one question.
    submission_key: Mapped[str] = mapped_column(sa.String(64))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("directline_categories.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    # Where the problem is: the municipality (for routing a message) and an optional address.
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    address: Mapped[str | None] = mapped_column(sa.String(500))

    state: Mapped[QuestionState] = mapped_column(
        str_enum(QuestionState, "state"), default=QuestionState.NEW
    )
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(
        str_enum(RejectionReason, "rejection_reason")
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("directline_questions.id"), index=True
    )
    shortlist_position: Mapped[int | None]
    on_air_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer_text: Mapped[str | None] = mapped_column(sa.Text)
    answer_url: Mapped[str | None] = mapped_column(sa.String(500))
    # The ordinary message this question became after the event (one at most).
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"), unique=True)
    converted_at: Mapped[datetime | None]
    converted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    event: Mapped[DirectLine] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    category: Mapped[DirectLineCategory] = relationship()
    territory: Mapped[Territory] = relationship()
    merged_into: Mapped[Question | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id]
    )

    __table_args__ = (
        sa.UniqueConstraint("author_id", "submission_key"),
        sa.CheckConstraint("length(text) > 0", name="text_not_empty"),
        sa.CheckConstraint(
            "(state = 'rejected') = (rejection_reason IS NOT NULL)", name="rejection_has_reason"
        ),
        sa.CheckConstraint(
            "(state = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"
        ),
        sa.CheckConstraint("merged_into_id <> id", name="not_merged_into_itself"),
        sa.CheckConstraint(
            "(state = 'shortlisted') = (shortlist_position IS NOT NULL)",
            name="shortlist_has_position",
        ),
        sa.CheckConstraint(
            "state <> 'answered' OR (answered_at IS NOT NULL "
            "AND (answer_text IS NOT NULL OR answer_url IS NOT NULL))",
            name="answered_has_answer",
        ),
        sa.CheckConstraint(
            "(appeal_id IS NULL) = (converted_at IS NULL)", name="conversion_is_dated"
        ),
        sa.Index("ix_directline_questions_event_state", "event_id", "state"),
        sa.Index("ix_directline_questions_author", "author_id", "created_at"),
        # At most one question on air per event, whatever two moderators click at once.
        sa.Index(
            "uq_directline_questions_one_on_air",
            "event_id",
            unique=True,
            sqlite_where=sa.text("state = 'on_air'"),
            postgresql_where=sa.text("state = 'on_air'"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.state}>"

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    @property
    def number(self) -> str:
        return str(self.id)


class QuestionSupport(Base):
    """«Поддержать вопрос»: one per person per question, kept by the unique constraint."""

    __tablename__ = "directline_supports"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("directline_questions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("question_id", "user_id"),)


class QuestionCoauthor(Base):
    """An author of a duplicate merged into this question: told about it like its own author."""

    __tablename__ = "directline_coauthors"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("directline_questions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The duplicate that brought this author in.
    from_question_id: Mapped[int] = mapped_column(sa.ForeignKey("directline_questions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("question_id", "user_id"),)
