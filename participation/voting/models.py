"""Voting: campaigns and their objects, the register of voters, and the separate ballot box.

Secrecy is a matter of layout. The register (`voting_register`) says who voted in which
campaign, by which channel and on which day. The ballot box (`voting_ballots` and
`voting_ballot_choices`) says what was chosen: a random UUID, the day, the SHA-256 of the voter's
receipt code and the chosen objects. Nothing in the box refers to a person, an address, a time
finer than the day, or an order of casting, and nothing in the register refers to a ballot.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum
from participation.core.files import Attachment
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User


class CampaignKind(enum.StrEnum):
    LANDSCAPING = "landscaping"  # Формирование комфортной городской среды
    BUDGET = "budget"  # инициативное (партисипаторное) бюджетирование


class BallotRule(enum.StrEnum):
    SINGLE = "single"  # one object
    APPROVAL = "approval"  # up to N objects
    BUDGET = "budget"  # any objects whose total cost fits the budget (knapsack)


class Channel(enum.StrEnum):
    SELF = "self"  # on the site
    WIDGET = "widget"  # through an embedded widget
    ASSISTED = "assisted"  # registered by a volunteer for a resident who was present


class CampaignStatus(enum.StrEnum):
    """Derived from dates and publication, never stored."""

    DRAFT = "draft"
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


class Campaign(TimestampMixin, Base):
    __tablename__ = "voting_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    # The municipality (or region) whose residents vote; its time zone is the campaign's.
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[CampaignKind] = mapped_column(
        str_enum(CampaignKind, "kind"), default=CampaignKind.LANDSCAPING
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    rules_text: Mapped[str] = mapped_column(sa.Text, default="")
    ballot_rule: Mapped[BallotRule] = mapped_column(
        str_enum(BallotRule, "ballot_rule"), default=BallotRule.SINGLE
    )
    max_choices: Mapped[int | None]  # approval: up to N objects
    budget_limit: Mapped[int | None] = mapped_column(sa.BigInteger)  # roubles
    # Each object belongs to a district (a territory inside the campaign's); a resident sees and
    # chooses only the objects of their own district, and winners are found per district.
    per_district: Mapped[bool] = mapped_column(default=False)
    winners_count: Mapped[int] = mapped_column(default=1)
    turnout_target: Mapped[int | None]
    show_turnout: Mapped[bool] = mapped_column(default=True)
    allow_revote: Mapped[bool] = mapped_column(default=False)
    min_level: Mapped[AccountLevel] = mapped_column(
        str_enum(AccountLevel, "min_level"), default=AccountLevel.CONFIRMED
    )
    min_age: Mapped[int | None] = mapped_column(default=14)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    closed_early_at: Mapped[datetime | None]
    closed_early_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    close_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Filled once the box is sealed after the close: digests of the published exports.
    box_csv_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    box_json_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    sealed_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    territory: Mapped[Territory] = relationship()
    objects: Mapped[list[VotingObject]] = relationship(
        back_populates="campaign",
        order_by="VotingObject.number, VotingObject.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="period_order"),
        sa.CheckConstraint("winners_count >= 1", name="winners_positive"),
        sa.CheckConstraint("min_age IS NULL OR min_age BETWEEN 0 AND 120", name="min_age_range"),
        sa.CheckConstraint(
            "ballot_rule <> 'approval' OR max_choices >= 1", name="approval_has_max"
        ),
        sa.CheckConstraint("ballot_rule <> 'budget' OR budget_limit > 0", name="budget_has_limit"),
        sa.CheckConstraint(
            "turnout_target IS NULL OR turnout_target > 0", name="turnout_target_positive"
        ),
        sa.CheckConstraint(
            "(closed_early_at IS NULL) = (close_reason IS NULL)", name="early_close_has_reason"
        ),
    )

    @hybrid_property
    def effective_closes_at(self) -> datetime:
        """When voting ends: an early close that came first, else the planned close (also as
        SQL, for the queries that sort campaigns into open and closed)."""
        if self.closed_early_at is not None and self.closed_early_at < self.closes_at:
            return self.closed_early_at
        return self.closes_at

    @effective_closes_at.inplace.expression
    @classmethod
    def _effective_closes_at_sql(cls) -> sa.ColumnElement[datetime]:
        return sa.case(
            (
                sa.and_(cls.closed_early_at.is_not(None), cls.closed_early_at < cls.closes_at),
                cls.closed_early_at,
            ),
            else_=cls.closes_at,
        )

    def status(self, now: datetime) -> CampaignStatus:
        if self.published_at is None:
            return CampaignStatus.DRAFT
        if now >= self.effective_closes_at:
            return CampaignStatus.CLOSED
        if now < self.opens_at:
            return CampaignStatus.UPCOMING
        return CampaignStatus.OPEN

    def is_open(self, now: datetime) -> bool:
        return self.status(now) == CampaignStatus.OPEN

    def is_closed(self, now: datetime) -> bool:
        return self.status(now) == CampaignStatus.CLOSED

    def local_day(self, now: datetime) -> date:
        """The calendar day in the campaign's municipality (eligibility is checked on it)."""
        return now.astimezone(self.territory.tz).date()


class VotingObject(Base):
    """A public space, a design variant or a project one can vote for."""

    __tablename__ = "voting_objects"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_campaigns.id", ondelete="CASCADE")
    )
    # What residents see («№ 2») and what breaks ties: 1, 2, 3… within the campaign, given
    # at creation, closed up when an object leaves a draft, frozen from publication on.
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    address: Mapped[str | None] = mapped_column(sa.String(500))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    cost: Mapped[int | None] = mapped_column(sa.BigInteger)  # estimated cost, roubles
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))

    campaign: Mapped[Campaign] = relationship(back_populates="objects")
    district: Mapped[Territory | None] = relationship()

    __table_args__ = (
        # Per-municipality results: the objects of one campaign and district, in order.
        sa.Index("ix_voting_objects_campaign_district", "campaign_id", "district_id", "number"),
        sa.UniqueConstraint("campaign_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("cost IS NULL OR cost >= 0", name="cost_not_negative"),
        sa.CheckConstraint(
            "latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"
        ),
    )


class RegisterEntry(Base):
    """The register of voters: one row per person per campaign, enforced by the database."""

    __tablename__ = "voting_register"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_campaigns.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    volunteer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    voted_on: Mapped[date]
    # Lets the voter, and only someone holding their receipt code, replace their ballot when
    # the campaign allows re-voting: SHA-256 over the code and the person, never the ballot id.
    revote_check: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    volunteer: Mapped[User | None] = relationship(foreign_keys=[volunteer_id])

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "user_id"),
        sa.CheckConstraint(
            "(channel = 'assisted') = (volunteer_id IS NOT NULL)", name="assisted_has_volunteer"
        ),
    )


class Ballot(Base):
    """One anonymous ballot: random id, the day, the receipt's hash; choices in their own table."""

    __tablename__ = "voting_ballots"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_campaigns.id", ondelete="CASCADE")
    )
    # The district the ballot was cast in (per-district campaigns), for per-district turnout.
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    receipt_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    cast_on: Mapped[date]

    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_voting_ballots_campaign_district", "campaign_id", "district_id"),
    )


class BallotChoice(Base):
    """One chosen object of a ballot. The campaign is repeated here (it costs no space: the
    row is padded to 8 bytes anyway) so that counting a whole campaign is one pass over
    this table with no join, and counting one district is an index-only scan of its objects."""

    __tablename__ = "voting_ballot_choices"

    ballot_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("voting_ballots.id", ondelete="CASCADE"), primary_key=True
    )
    object_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_objects.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_campaigns.id", ondelete="CASCADE")
    )

    ballot: Mapped[Ballot] = relationship(back_populates="choices")

    __table_args__ = (sa.Index("ix_voting_ballot_choices_object_id", "object_id"),)


class ProtocolStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ProtocolFile(Base):
    """A result protocol built by a job (large campaigns), kept as an attachment."""

    __tablename__ = "voting_protocols"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_campaigns.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    status: Mapped[ProtocolStatus] = mapped_column(
        str_enum(ProtocolStatus, "status"), default=ProtocolStatus.PENDING
    )
    attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id"))
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)

    attachment: Mapped[Attachment | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("status <> 'ready' OR attachment_id IS NOT NULL", name="ready_has_file"),
    )
