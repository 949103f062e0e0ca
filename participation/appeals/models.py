"""Messages (appeals) and what happens to them: events, answers, ratings, hand-offs, rules."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.appeals.classifier import Subcategory, topic
from participation.appeals.workflow import (
    FINAL_STATES,
    OPEN_STATES,
    AppealState,
    Bucket,
    ReturnedFrom,
    bucket_for,
)
from participation.core.db import Base, str_enum, utcnow
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import User


class Channel(enum.StrEnum):
    """Where the message came from (the «Источник поступления» filter)."""

    PORTAL = "portal"  # форма на портале (ЕПГУ)
    WIDGET = "widget"  # виджет на сайте организации
    API = "api"  # мобильное приложение и API
    OPERATOR = "operator"  # оператор приёма со слов заявителя
    DIRECT_LINE = "direct_line"  # вопрос прямой линии, не отвеченный в эфире


class Arrival(enum.StrEnum):
    """How the message reached its holder organization (the «По стадии» filter)."""

    NEW = "new"  # только что зарегистрировано
    AFTER_MODERATION = "after_moderation"
    FROM_HIGHER = "from_higher"
    FROM_LOWER = "from_lower"
    FROM_NON_SUBORDINATE = "from_non_subordinate"
    FROM_SED = "from_sed"  # письмо, зарегистрированное в СЭД организации и внесённое через API


class HandoffKind(enum.StrEnum):
    FORWARD = "forward"  # передано дальше по ходу работы (модерация, подтверждение ЦУР)
    REDIRECT = "redirect"  # перенаправлено в другую организацию
    ESCALATION = "escalation"  # низкая оценка: на рассмотрение вышестоящей организации


class Relation(enum.StrEnum):
    """Where the new organization stands relative to the previous one."""

    SUBORDINATE = "subordinate"
    HIGHER = "higher"
    NON_SUBORDINATE = "non_subordinate"


class AnswerStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # на согласовании
    APPROVED = "approved"  # утверждён и направлен заявителю
    RETURNED = "returned"  # возвращён руководителем с замечаниями


class MergeKind(enum.StrEnum):
    """How a message came to follow another one about the same problem."""

    JOINED = "joined"  # the resident joined it from the form instead of sending their own
    MERGED = "merged"  # staff merged this duplicate into it


class RatingVia(enum.StrEnum):
    CABINET = "cabinet"
    LINK = "link"


class Appeal(Base):
    """One message: one problem, one addressee, one answer deadline."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who pressed "send" (the resident, or the operator typing for a caller) and the form's
    # one-time key: a form sent twice creates one message.
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    submission_key: Mapped[str] = mapped_column(sa.String(64))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    caller_name: Mapped[str | None] = mapped_column(sa.String(300))
    caller_phone: Mapped[str | None] = mapped_column(sa.String(20))
    caller_email: Mapped[str | None] = mapped_column(sa.String(254))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    widget_organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))

    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))
    suggested_subcategory_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appeal_subcategories.id")
    )
    suggestion_confidence: Mapped[float | None]
    text: Mapped[str] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.String(500))
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    applicant_region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))

    # The addressee (organization responsible for the answer) and where the message is now.
    executor_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    holder_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    executor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    auto_routed: Mapped[bool] = mapped_column(default=False)
    arrival: Mapped[Arrival] = mapped_column(str_enum(Arrival, "arrival"), default=Arrival.NEW)

    state: Mapped[AppealState] = mapped_column(str_enum(AppealState, "state"))
    # The inbox folder, kept in step with `state` by set_state() so inboxes are index scans.
    bucket: Mapped[Bucket] = mapped_column(str_enum(Bucket, "bucket"))
    returned_from: Mapped[ReturnedFrom | None] = mapped_column(
        str_enum(ReturnedFrom, "returned_from")
    )

    fast_track: Mapped[bool] = mapped_column(default=False)
    term_days: Mapped[int]
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer_due_at: Mapped[datetime]
    coordination_due_at: Mapped[datetime]
    original_answer_due_at: Mapped[datetime]
    postponed_until: Mapped[datetime | None]
    postponement_reason: Mapped[str | None] = mapped_column(sa.Text)
    postponement_count: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rework_count: Mapped[int] = mapped_column(default=0)
    # Set by the deadline sweep once it has told people; cleared when the due date moves.
    soon_due_flagged_at: Mapped[datetime | None]
    overdue_flagged_at: Mapped[datetime | None]

    # Registration in an organization's document system (СЭД): its number and date there, the
    # organization whose СЭД it is and when the platform was told. The «Отправлено в СЭД» folder
    # is a view over these; the message keeps its workflow state and bucket.
    sed_number: Mapped[str | None] = mapped_column(sa.String(64))
    sed_registered_on: Mapped[date | None]
    sed_organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    sed_registered_at: Mapped[datetime | None]

    # A low rating opens a new cycle at the higher organization, linked to this one.
    cycle: Mapped[int] = mapped_column(default=1)
    review_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"), unique=True)
    # A duplicate follows its main message: it waits in state `merged`, receives the main
    # message's answer and is rated by its own author (participation.appeals.services.merging).
    # The link stays after the answer; analytics count only messages that follow nobody.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"), index=True)
    merge_kind: Mapped[MergeKind | None] = mapped_column(str_enum(MergeKind, "merge_kind"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    subcategory: Mapped[Subcategory] = relationship(foreign_keys=[subcategory_id])
    territory: Mapped[Territory] = relationship(foreign_keys=[territory_id])
    region: Mapped[Territory] = relationship(foreign_keys=[region_id])
    applicant_region: Mapped[Territory | None] = relationship(foreign_keys=[applicant_region_id])
    executor_organization: Mapped[Organization] = relationship(
        foreign_keys=[executor_organization_id]
    )
    holder_organization: Mapped[Organization] = relationship(foreign_keys=[holder_organization_id])
    widget_organization: Mapped[Organization | None] = relationship(
        foreign_keys=[widget_organization_id]
    )
    executor: Mapped[User | None] = relationship(foreign_keys=[executor_id])
    review_of: Mapped[Appeal | None] = relationship(remote_side=[id], foreign_keys=[review_of_id])
    sed_organization: Mapped[Organization | None] = relationship(foreign_keys=[sed_organization_id])
    merged_into: Mapped[Appeal | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id]
    )

    __table_args__ = (
        sa.UniqueConstraint("submitted_by_id", "submission_key"),
        sa.CheckConstraint(
            "author_id IS NOT NULL OR channel = 'operator'", name="author_or_operator"
        ),
        sa.CheckConstraint(
            "channel <> 'widget' OR widget_organization_id IS NOT NULL", name="widget_has_owner"
        ),
        sa.CheckConstraint("length(text) > 0", name="text_not_empty"),
        sa.CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        sa.CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
        sa.CheckConstraint("term_days > 0", name="term_positive"),
        sa.CheckConstraint("coordination_due_at <= answer_due_at", name="coordination_first"),
        sa.CheckConstraint("cycle >= 1", name="cycle_positive"),
        sa.CheckConstraint(
            "(merged_into_id IS NULL) = (merge_kind IS NULL)", name="merge_kind_with_main"
        ),
        sa.CheckConstraint("merged_into_id <> id", name="not_merged_into_itself"),
        sa.CheckConstraint(
            "state <> 'merged' OR merged_into_id IS NOT NULL", name="merged_has_main"
        ),
        # A resident joins a message once (staff may still merge two of their duplicates).
        sa.Index(
            "ix_appeals_joined_once",
            "merged_into_id",
            "author_id",
            unique=True,
            postgresql_where=sa.text("merge_kind = 'joined'"),
            sqlite_where=sa.text("merge_kind = 'joined'"),
        ),
        sa.CheckConstraint(
            "(sed_number IS NULL AND sed_registered_on IS NULL AND sed_organization_id IS NULL "
            "AND sed_registered_at IS NULL) OR (sed_number IS NOT NULL AND sed_registered_on IS "
            "NOT NULL AND sed_organization_id IS NOT NULL AND sed_registered_at IS NOT NULL)",
            name="sed_all_or_none",
        ),
        sa.CheckConstraint(
            "sed_number IS NULL OR length(sed_number) > 0", name="sed_number_not_blank"
        ),
        # One СЭД number (of a day) names one message of the organization.
        sa.UniqueConstraint("sed_organization_id", "sed_number", "sed_registered_on"),
        # The inbox reads its pages straight off these, in the order shown (ties by id).
        # (channel and arrival ride along on PostgreSQL: the filter counts are index-only)
        sa.Index(
            "ix_appeals_inbox_due",
            "holder_organization_id",
            "bucket",
            "answer_due_at",
            "id",
            postgresql_include=["channel", "arrival"],
        ),
        sa.Index(
            "ix_appeals_inbox_registered", "holder_organization_id", "bucket", "registered_at", "id"
        ),
        # The «Отправлено в СЭД» folder: only registered messages, in the inbox's order.
        sa.Index(
            "ix_appeals_inbox_sed",
            "holder_organization_id",
            "bucket",
            "answer_due_at",
            "id",
            postgresql_where=sa.text("sed_number IS NOT NULL"),
            sqlite_where=sa.text("sed_number IS NOT NULL"),
        ),
        sa.Index("ix_appeals_author", "author_id", "registered_at"),
        # Nearby search (participation.geo): a bounding box on the point, the rest of the
        # filter read from the index on PostgreSQL. Messages without a point are left out.
        sa.Index(
            "ix_appeals_point",
            "latitude",
            "longitude",
            postgresql_include=["subcategory_id", "state", "registered_at", "id", "merged_into_id"],
            postgresql_where=sa.text("latitude IS NOT NULL"),
            sqlite_where=sa.text("latitude IS NOT NULL"),
        ),
        # The inbox's map mode (participation.geo.map_data): a folder's points in a box.
        sa.Index(
            "ix_appeals_inbox_point",
            "holder_organization_id",
            "bucket",
            "latitude",
            "longitude",
            postgresql_where=sa.text("latitude IS NOT NULL"),
            sqlite_where=sa.text("latitude IS NOT NULL"),
        ),
        sa.Index("ix_appeals_sweep", "bucket", "answer_due_at"),
        # Russian full-text search over the text; PostgreSQL only (SQLite searches with LIKE).
        sa.Index(
            "ix_appeals_text_fts",
            sa.text("to_tsvector('russian', text)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    def __repr__(self) -> str:
        return f"<Appeal {self.id} {self.state}>"

    @property
    def number(self) -> str:
        """The registration number shown to people."""
        return str(self.id)

    def set_state(self, state: AppealState, returned_from: ReturnedFrom | None = None) -> None:
        """Move to `state`; the inbox folder follows (only here, so the two never disagree)."""
        self.state = state
        self.returned_from = returned_from if state == AppealState.IN_WORK else None
        self.bucket = bucket_for(state, self.returned_from)

    @property
    def is_registered_in_sed(self) -> bool:
        return self.sed_number is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def has_answer_term(self) -> bool:
        """Whether «Срок ответа» means anything: not for a message closed without an answer."""
        return not (self.is_final and self.answered_at is None)

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.is_open and not self.is_thanks and self.answer_due_at < (now or utcnow())

    @property
    def is_thanks(self) -> bool:
        """A «Благодарность»: needs no answer, never overdue, counted apart in reports."""
        cached = topic(self.subcategory_id)
        return bool(cached and cached.thanks)

    @property
    def applicant_name(self) -> str:
        if self.author is not None:
            return self.author.full_name
        return self.caller_name or ""

    @property
    def contact_email(self) -> str | None:
        return self.author.email if self.author is not None else self.caller_email


# «Благодарность» in SQL: thanks need no answer (never overdue nor soon due) and are counted
# apart in the reports; `Appeal.is_thanks` says the same of one message.
_THANKS_TOPICS = sa.select(Subcategory.id).where(Subcategory.thanks).scalar_subquery()
IS_THANKS = Appeal.subcategory_id.in_(_THANKS_TOPICS)
NOT_THANKS = Appeal.subcategory_id.not_in(_THANKS_TOPICS)


def overdue_at(now: datetime) -> sa.ColumnElement[bool]:
    """SQL: the answer term has passed (on an open message: overdue); never for a thanks."""
    return sa.and_(Appeal.answer_due_at < now, NOT_THANKS)


class AppealEvent(Base):
    """One step of the history: who did what, in which role, from which state to which."""

    __tablename__ = "appeal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(sa.String(40))
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(sa.String(40))
    to_state: Mapped[str] = mapped_column(sa.String(40))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    organization: Mapped[Organization | None] = relationship()

    __table_args__ = (sa.Index("ix_appeal_events_appeal", "appeal_id", "at"),)


class AppealAnswer(Base):
    """A draft answer sent for approval; the approved one is what the resident reads."""

    __tablename__ = "appeal_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[AnswerStatus] = mapped_column(
        str_enum(AnswerStatus, "status"), default=AnswerStatus.SUBMITTED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    remarks: Mapped[str | None] = mapped_column(sa.Text)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        sa.Index("ix_appeal_answers_appeal", "appeal_id", "created_at"),
        sa.CheckConstraint("length(text) > 0", name="text_not_empty"),
    )


class AppealRating(Base):
    """The author's rating of the answer: once per message, 1 to 5."""

    __tablename__ = "appeal_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appeals.id", ondelete="CASCADE"), unique=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    via: Mapped[RatingVia] = mapped_column(str_enum(RatingVia, "via"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class AppealHandoff(Base):
    """The message left one organization for another (forwarded, redirected, escalated)."""

    __tablename__ = "appeal_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True
    )
    from_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    to_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    kind: Mapped[HandoffKind] = mapped_column(str_enum(HandoffKind, "kind"))
    relation: Mapped[Relation | None] = mapped_column(str_enum(Relation, "relation"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    from_organization: Mapped[Organization] = relationship(foreign_keys=[from_organization_id])
    to_organization: Mapped[Organization] = relationship(foreign_keys=[to_organization_id])

    __table_args__ = (
        sa.Index("ix_appeal_handoffs_from", "from_organization_id", "kind", "at"),
        sa.CheckConstraint("kind <> 'redirect' OR reason IS NOT NULL", name="redirect_has_reason"),
    )


class RoutingRule(Base):
    """Subcategory × territory → the organization that answers by default."""

    __tablename__ = "appeal_routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subcategory: Mapped[Subcategory] = relationship()
    territory: Mapped[Territory] = relationship()
    organization: Mapped[Organization] = relationship()

    __table_args__ = (sa.UniqueConstraint("subcategory_id", "territory_id"),)


class RegionAppealSettings(Base):
    """What a region decides for itself: how far an answer may be postponed."""

    __tablename__ = "appeal_region_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), unique=True)
    max_postponement_days: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "max_postponement_days BETWEEN 1 AND 365", name="max_postponement_days_range"
        ),
    )
