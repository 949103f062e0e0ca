"""The reports' own tables: daily rollups of messages, the change queue, weights, digests."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from participation.appeals import models as appeal_models
from participation.appeals.models import Appeal, AppealEvent, AppealHandoff, AppealRating, Channel
from participation.appeals.workflow import OPEN_BUCKETS
from participation.core.db import Base, str_enum, utcnow
from participation.reports.definitions import ROLLUP_COUNTERS

KEY_COLUMNS = ("day", "territory_id", "organization_id", "subcategory_id", "channel")
# Messages counted as messages: not a duplicate following another one (joined or merged).
COUNTED = Appeal.merged_into_id.is_(None)
# «Благодарность»: thanks are counted apart (`thanks`), out of received, answered and overdue.
IS_THANKS, NOT_THANKS = appeal_models.IS_THANKS, appeal_models.NOT_THANKS


class Counters:
    """The daily counters (ROLLUP_COUNTERS), shared by the day and month tables."""

    received: Mapped[int] = mapped_column(default=0)
    rejected_moderation: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    answered_on_time: Mapped[int] = mapped_column(default=0)
    answer_days_sum: Mapped[int] = mapped_column(default=0)
    fast_track_answered: Mapped[int] = mapped_column(default=0)
    fast_track_on_time: Mapped[int] = mapped_column(default=0)
    returned_for_rework: Mapped[int] = mapped_column(default=0)
    postponed: Mapped[int] = mapped_column(default=0)
    redirected: Mapped[int] = mapped_column(default=0)
    ratings: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rated_high: Mapped[int] = mapped_column(default=0)
    rated_low: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    escalations_answered: Mapped[int] = mapped_column(default=0)
    thanks: Mapped[int] = mapped_column(default=0)


class AppealDayRollup(Counters, Base):
    """Counters of one local day × territory × organization × subcategory × channel.

    `region_id`, `municipality_id` and `category_id` ride along so cuts need no joins.
    """

    __tablename__ = "report_appeal_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_categories.id"))
    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))

    __table_args__ = (
        sa.UniqueConstraint(*KEY_COLUMNS, name="uq_report_appeal_days_key"),
        sa.Index("ix_report_appeal_days_region_day", "region_id", "day"),
        sa.Index("ix_report_appeal_days_organization_day", "organization_id", "day"),
    )


class AppealMonthByOrganization(Counters, Base):
    """The day table summed per calendar month × municipality × organization: what the
    region, organization and rating pages read for whole months (a year is 12 × a few
    hundred rows, not millions)."""

    __tablename__ = "report_appeal_months_org"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]  # the month's first day
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))

    __table_args__ = (
        sa.Index("ix_report_appeal_months_org_region_month", "region_id", "month"),
        sa.Index("ix_report_appeal_months_org_organization_month", "organization_id", "month"),
    )


class AppealMonthByTopic(Counters, Base):
    """The day table summed per calendar month × municipality × subcategory (hotspots)."""

    __tablename__ = "report_appeal_months_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_categories.id"))
    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))

    __table_args__ = (sa.Index("ix_report_appeal_months_topic_region_month", "region_id", "month"),)


class AppealMonthByOrganizationTopic(Counters, Base):
    """The day table summed per calendar month × organization × subcategory (an
    organization's worst topics)."""

    __tablename__ = "report_appeal_months_org_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_categories.id"))
    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))

    __table_args__ = (
        sa.Index("ix_report_appeal_months_org_topic_org_month", "organization_id", "month"),
        sa.Index("ix_report_appeal_months_org_topic_region_month", "region_id", "month"),
    )


class AppealDayByOrganization(Counters, Base):
    """The day table summed per day × municipality × organization (trends by day)."""

    __tablename__ = "report_appeal_days_org"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))

    __table_args__ = (
        sa.Index("ix_report_appeal_days_org_region_day", "region_id", "day"),
        sa.Index("ix_report_appeal_days_org_organization_day", "organization_id", "day"),
    )


class AppealAnswerMonthByOrganization(Base):
    """The answer-days table summed per calendar month × municipality × organization."""

    __tablename__ = "report_answer_months_org"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    answer_days: Mapped[int]
    answers: Mapped[int]

    __table_args__ = (
        sa.Index("ix_report_answer_months_org_region_month", "region_id", "month"),
        sa.Index("ix_report_answer_months_org_organization_month", "organization_id", "month"),
    )


# Sums of the day table with fewer keys, smallest first: (table, its date column, its keys
# besides the date and the region). A read takes the first that has every key it needs.
SUMMARY_TABLES = (
    (AppealMonthByOrganization, "month", ("municipality_id", "organization_id")),
    (AppealMonthByTopic, "month", ("municipality_id", "category_id", "subcategory_id")),
    (AppealMonthByOrganizationTopic, "month", ("organization_id", "category_id", "subcategory_id")),
    (AppealDayByOrganization, "day", ("municipality_id", "organization_id")),
)
ANSWER_SUMMARY_TABLES = (
    (AppealAnswerMonthByOrganization, "month", ("municipality_id", "organization_id")),
)


assert all(hasattr(AppealDayRollup, name) for name in ROLLUP_COUNTERS)


class AppealAnswerDays(Base):
    """How many answers of a day × key took `answer_days` days (for exact medians)."""

    __tablename__ = "report_answer_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_categories.id"))
    subcategory_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_subcategories.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    answer_days: Mapped[int]
    answers: Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint(*KEY_COLUMNS, "answer_days", name="uq_report_answer_days_key"),
        sa.Index("ix_report_answer_days_region_day", "region_id", "day"),
    )


class HeatCellRollup(Base):
    """Messages received (as «Поступило») per heat-map cell, local month and region: what a
    region's heat map without narrowing filters reads (participation.reports.heat_rollup)."""

    __tablename__ = "report_heat_cells"

    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), primary_key=True)
    cell_m: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    row: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    col: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    messages: Mapped[int]

    __table_args__ = (sa.CheckConstraint("messages > 0", name="messages_positive"),)


class StaleAppeal(Base):
    """A message changed since the rollup last looked: its days are recounted.

    No uniqueness on purpose: a refresh deletes exactly the rows it read, so a change that
    lands while it runs leaves a new row behind and is picked up next time.
    """

    __tablename__ = "report_stale_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RatingWeight(Base):
    """The weight a region gives one indicator in its rating of municipalities."""

    __tablename__ = "report_rating_weights"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"))
    indicator: Mapped[str] = mapped_column(sa.String(40))
    weight: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.UniqueConstraint("region_id", "indicator"),
        sa.CheckConstraint("weight >= 0 AND weight <= 100", name="weight_range"),
    )


class DigestSubscription(Base):
    """An official who receives the daily digest of an organization's or region's figures."""

    __tablename__ = "report_digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    # The last local day whose digest was sent: the sweep sends each day once, in order.
    last_sent_day: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id"),)


OPEN_MESSAGES = sa.text(
    "bucket IN (" + ", ".join(f"'{b.value}'" for b in sorted(OPEN_BUCKETS)) + ")"
)
# What the day-by-day recount reads by time; declared here, on the base tables, because
# only the reports need them.
TIME_INDEXES = (
    sa.Index("ix_appeals_registered_at", Appeal.registered_at),
    sa.Index("ix_appeals_answered_at", Appeal.answered_at),
    sa.Index("ix_appeal_events_at_action", AppealEvent.at, AppealEvent.action),
    sa.Index("ix_appeal_ratings_created_at", AppealRating.created_at),
    sa.Index("ix_appeal_handoffs_at", AppealHandoff.at),
    # The open messages of a region, for «в работе / просрочено сейчас» (index-only on
    # PostgreSQL: a small index, since only open messages are in it).
    sa.Index(
        "ix_appeals_open_by_region",
        Appeal.region_id,
        Appeal.answer_due_at,
        postgresql_include=[
            "territory_id",
            "executor_organization_id",
            "subcategory_id",
            "channel",
        ],
        postgresql_where=OPEN_MESSAGES,
        sqlite_where=OPEN_MESSAGES,
    ),
)
