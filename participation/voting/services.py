"""Voting services: campaigns and objects for officials; eligibility, casting and receipts."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from participation.auth.eligibility import VOTE, Decision, EligibilityRule, check
from participation.backoffice.readiness import VOTING, not_publishable
from participation.core import audit
from participation.core.cache import Kept
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.files import Attachment, attachment_path, store_upload
from participation.core.i18n import local_datetime, number
from participation.core.jobs import STUCK_AFTER, enqueue_after_commit
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User
from participation.extensions import db
from participation.voting.models import (
    Ballot,
    BallotChoice,
    BallotRule,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
    RegisterEntry,
    VotingObject,
)

log = logging.getLogger(__name__)

PHOTO_OWNER = "voting_object"
MAX_PHOTOS_PER_OBJECT = 6

# --- Receipts -------------------------------------------------------------------------------

# No 0/O, 1/I: a code read aloud or copied by hand survives.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 16  # 80 random bits
_SEPARATORS = re.compile(r"[\s\-–—_]+")


def new_receipt_code() -> str:
    """A fresh random receipt code, e.g. «K7QX-2MHD-VT9C-4PWA»."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(RECEIPT_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def normalize_receipt(code: str | None) -> str | None:
    """The canonical form of a typed receipt code (upper case, dashes), or None if malformed."""
    cleaned = _SEPARATORS.sub("", code or "").upper()
    if len(cleaned) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in cleaned):
        return None
    return "-".join(cleaned[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def receipt_hash(code: str) -> bytes:
    """SHA-256 of the canonical code: what the box keeps and publishes instead of the code."""
    canonical = normalize_receipt(code)
    if canonical is None:
        raise ValueError("malformed receipt code")
    return hashlib.sha256(canonical.encode("ascii")).digest()


def _revote_check(campaign_id: int, user_id: int, code: str) -> str:
    # Binds a receipt to its voter without naming the ballot: only the code holder can link.
    material = f"revote:{campaign_id}:{user_id}:{normalize_receipt(code)}"
    return hashlib.sha256(material.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Choice:
    """A voting object as a ballot names it."""

    id: int
    number: int
    title: str
    cost: int | None
    district_id: int | None


# A vote's objects once a ballot is in: frozen from then on (edit_refusal), so each process
# keeps them after the commit of a ballot and stops reading them on every cast.
_FROZEN_CHOICES: Kept[int, dict[int, Choice]] = Kept()


@dataclass(frozen=True)
class CastResult:
    """What the voter is shown once: the receipt code and what they chose."""

    code: str
    objects: list[Choice]


# --- Refusals -------------------------------------------------------------------------------


class VotingRefused(DomainError):
    """The ballot was not accepted; `code` says why (for the audit log and tests)."""

    status = 403

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class AlreadyVoted(VotingRefused):
    status = 409

    def __init__(self) -> None:
        super().__init__(_("Вы уже проголосовали в этом голосовании."), "already_voted")


def _refuse(
    campaign: Campaign, voter: User | None, error: VotingRefused, volunteer: User | None = None
) -> VotingRefused:
    """Log and audit a refusal (the caller commits the audit entry), then hand it back."""
    log.info(
        "ballot refused: campaign=%s user=%s code=%s",
        campaign.id,
        getattr(voter, "id", None),
        error.code,
    )
    audit.record(
        "voting.refused",
        campaign,
        code=error.code,
        voter_id=getattr(voter, "id", None),
        volunteer_id=getattr(volunteer, "id", None),
    )
    return error


# --- Eligibility ----------------------------------------------------------------------------


def eligibility_rule(campaign: Campaign) -> EligibilityRule:
    """The campaign's participation rule in the shared form."""
    return EligibilityRule(
        min_level=campaign.min_level,
        min_age=campaign.min_age,
        territory_id=campaign.territory_id,
        subject=VOTE,
    )


def check_eligibility(
    campaign: Campaign, user: User | None, now: datetime | None = None
) -> Decision:
    """May `user` vote in `campaign` on today's date in its municipality?"""
    now = now or utcnow()
    return check(user, eligibility_rule(campaign), campaign.local_day(now))


def _period_refusal(campaign: Campaign, now: datetime) -> VotingRefused | None:
    status = campaign.status(now)
    tz = campaign.territory.timezone
    if status == CampaignStatus.CLOSED:
        return VotingRefused(
            _(
                "Голосование завершено %(when)s, голоса больше не принимаются.",
                when=local_datetime(campaign.effective_closes_at, tz),
            ),
            "closed",
        )
    if status == CampaignStatus.UPCOMING:
        return VotingRefused(
            _(
                "Голосование ещё не началось: оно откроется %(when)s.",
                when=local_datetime(campaign.opens_at, tz),
            ),
            "not_started",
        )
    if status == CampaignStatus.DRAFT:
        return VotingRefused(_("Голосование ещё не опубликовано."), "draft")
    return None


def voting_refusal(
    campaign: Campaign, user: User | None, now: datetime | None = None
) -> VotingRefused | None:
    """Why `user` cannot vote now (period, eligibility, district), or None. Writes nothing."""
    now = now or utcnow()
    refusal = _period_refusal(campaign, now)
    if refusal is not None:
        return refusal
    decision = check_eligibility(campaign, user, now)
    if not decision:
        return VotingRefused(decision.reason or _("Вы не можете участвовать."), decision.code or "")
    if campaign.per_district and voter_district(campaign, user) is None:
        return VotingRefused(_("В вашем районе нет объектов этого голосования."), "no_district")
    return None


def has_voted(campaign: Campaign, user: User) -> bool:
    """Whether `user` is in the register. Show it to that person only."""
    return (
        db.session.scalar(
            sa.select(RegisterEntry.id).where(
                RegisterEntry.campaign_id == campaign.id, RegisterEntry.user_id == user.id
            )
        )
        is not None
    )


def voter_district(campaign: Campaign, user: User | None) -> Territory | None:
    """In a per-district campaign, the district whose objects `user` may choose."""
    if not campaign.per_district or user is None:
        return None
    home = getattr(user, "registration_territory", None)
    if home is None:
        return None
    present = {c.district_id for c in campaign_choices(campaign).values()}
    return next((t for t in [home, *home.ancestors()] if t.id in present), None)


def campaign_choices(campaign: Campaign) -> dict[int, Choice]:
    """The campaign's objects by id, in number order (kept by the process once frozen)."""
    held = _FROZEN_CHOICES.get(campaign.id)
    if held is not None:
        return held
    rows = db.session.execute(
        sa.select(
            VotingObject.id,
            VotingObject.number,
            VotingObject.title,
            VotingObject.cost,
            VotingObject.district_id,
        )
        .where(VotingObject.campaign_id == campaign.id)
        .order_by(VotingObject.number)
    )
    return {row.id: Choice(*row) for row in rows}


def ballot_objects(campaign: Campaign, district: Territory | None) -> list[VotingObject]:
    """The objects on the ballot: all of them, or those of the voter's district."""
    query = sa.select(VotingObject).where(VotingObject.campaign_id == campaign.id)
    if campaign.per_district:
        query = query.where(VotingObject.district_id == (district.id if district else None))
    return list(db.session.scalars(query.order_by(VotingObject.number, VotingObject.id)))


def validate_choices(
    campaign: Campaign,
    object_ids: Sequence[int],
    district: Territory | None,
    choices: dict[int, Choice] | None = None,
) -> list[Choice]:
    """The chosen objects if they make a valid ballot under the campaign's rule, else FieldError.
    `choices`: campaign_choices(campaign), when the caller has them already."""
    ids = list(dict.fromkeys(object_ids))
    if not ids:
        message = (
            _("Выберите один объект.")
            if campaign.ballot_rule == BallotRule.SINGLE
            else _("Выберите хотя бы один объект.")
        )
        raise FieldError("choices", message)
    choices = campaign_choices(campaign) if choices is None else choices
    objects = sorted((choices[i] for i in ids if i in choices), key=lambda c: c.number)
    if len(objects) != len(ids):
        raise FieldError("choices", _("Такого объекта нет в этом голосовании."))
    if campaign.per_district:
        wanted = district.id if district else None
        if any(o.district_id != wanted for o in objects):
            raise FieldError("choices", _("Можно выбирать только объекты вашего района."))
    rule = campaign.ballot_rule
    if rule == BallotRule.SINGLE and len(objects) != 1:
        raise FieldError("choices", _("Выберите один объект."))
    if rule == BallotRule.APPROVAL and len(objects) > (campaign.max_choices or 1):
        raise FieldError(
            "choices",
            ngettext(
                "Можно выбрать не больше %(num)d объекта.",
                "Можно выбрать не больше %(num)d объектов.",
                campaign.max_choices or 1,
            ),
        )
    if rule == BallotRule.BUDGET:
        total = sum(o.cost or 0 for o in objects)
        if total > (campaign.budget_limit or 0):
            raise FieldError(
                "choices",
                _(
                    "Выбранные проекты стоят %(total)s ₽, а бюджет — %(budget)s ₽: это на "
                    "%(over)s ₽ больше. Уберите один или несколько проектов.",
                    total=money(total),
                    budget=money(campaign.budget_limit or 0),
                    over=money(total - (campaign.budget_limit or 0)),
                ),
            )
    return sorted(objects, key=lambda o: (o.number, o.id))


BUDGET_LEFT = _l("Выбрано проектов на %(total)s ₽, остаток бюджета — %(left)s ₽.")
BUDGET_OVER = _l("Выбрано проектов на %(total)s ₽ — это на %(over)s ₽ больше бюджета.")


def budget_summary(
    campaign: Campaign, objects: Sequence[VotingObject], chosen: Sequence[int] | None
) -> dict:
    """The running total of a budget ballot: the text for the chosen projects (shown without
    JavaScript too) and the templates the page's script fills in as the resident ticks."""
    ids = set(chosen or ())
    total = sum(o.cost or 0 for o in objects if o.id in ids)
    budget = campaign.budget_limit or 0
    if total > budget:
        text = str(BUDGET_OVER) % {"total": money(total), "over": money(total - budget)}
    else:
        text = str(BUDGET_LEFT) % {"total": money(total), "left": money(budget - total)}
    return {
        "text": text,
        "budget": budget,
        "left_template": str(BUDGET_LEFT) % {"total": "{total}", "left": "{left}"},
        "over_template": str(BUDGET_OVER) % {"total": "{total}", "over": "{over}"},
    }


def money(amount: int) -> str:
    """12 500 000 in Russian (the locale's thousands separator), as everywhere on the platform."""
    return number(amount, 0)


@functools.cache
def _campaign_for_cast_query() -> sa.Select:
    """The campaign share-locked with its territory, built once (the id is a parameter)."""
    return (
        sa.select(Campaign)
        .options(sa.orm.joinedload(Campaign.territory, innerjoin=True))
        .where(Campaign.id == sa.bindparam("campaign_id"))
        .with_for_update(read=True, key_share=True, of=Campaign)
        .execution_options(populate_existing=True)
    )


def campaign_for_cast(campaign_id: int) -> Campaign | None:
    """Load a campaign with its territory in one query, share-locked for casting.

    FOR KEY SHARE: casts do not block each other, but an official's edit (FOR UPDATE) waits
    for casts in flight and then sees their ballots, so rules cannot change under a ballot.
    SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.
    """
    campaign = db.session.scalar(_campaign_for_cast_query(), {"campaign_id": campaign_id})
    if campaign is not None:
        db.session.info[_CAST_LOCK] = (campaign.id, db.session().get_transaction())
    return campaign


_CAST_LOCK = "voting_cast_lock"


def _lock_for_cast(campaign: Campaign) -> None:
    held = db.session.info.get(_CAST_LOCK)
    if held is None or held[0] != campaign.id or held[1] is not db.session().get_transaction():
        campaign_for_cast(campaign.id)


def cast_ballot(
    campaign: Campaign,
    voter: User,
    object_ids: Sequence[int],
    *,
    channel: Channel = Channel.SELF,
    volunteer: User | None = None,
    now: datetime | None = None,
) -> CastResult:
    """Register `voter` and drop an anonymous ballot into the box; return the receipt code.

    One row per person per campaign is the register's unique constraint; a concurrent
    duplicate inserts nothing (ON CONFLICT DO NOTHING) and is refused as AlreadyVoted.
    Every refusal is audited; nothing else is written before the checks pass.
    """
    if (channel == Channel.ASSISTED) != (volunteer is not None):
        raise ValueError("assisted ballots, and only they, name a volunteer")
    now = now or utcnow()
    _lock_for_cast(campaign)
    refusal = voting_refusal(campaign, voter, now)
    if refusal is not None:
        raise _refuse(campaign, voter, refusal, volunteer)
    district = voter_district(campaign, voter)
    frozen = _FROZEN_CHOICES.get(campaign.id)
    choices = frozen or campaign_choices(campaign)
    objects = validate_choices(campaign, object_ids, district, choices)

    code = new_receipt_code()
    today = campaign.local_day(now)
    registered = db.session.scalar(
        insert_unless_present(
            RegisterEntry.__table__,
            ("campaign_id", "user_id"),
            RegisterEntry.__table__.c.id,
            db.session.get_bind().dialect.name,
        ),
        {
            "campaign_id": campaign.id,
            "user_id": voter.id,
            "channel": channel.value,
            "volunteer_id": volunteer.id if volunteer else None,
            "voted_on": today,
            "revote_check": _revote_check(campaign.id, voter.id, code)
            if campaign.allow_revote
            else None,
        },
    )
    if registered is None:  # a concurrent request of the same person won the race
        raise _refuse(campaign, voter, AlreadyVoted(), volunteer)
    _drop_ballot(campaign, district, objects, code, today)
    if frozen is None:  # committed, this ballot freezes the objects for good
        campaign_id = campaign.id
        db.session().after_commit(lambda: _FROZEN_CHOICES.put(campaign_id, choices))
    return CastResult(code, objects)


def _drop_ballot(
    campaign: Campaign,
    district: Territory | None,
    objects: Sequence[Choice],
    code: str,
    today: date,
) -> None:
    ballot_id = uuid.uuid4()
    db.session.execute(
        _BALLOT_INSERT,
        {
            "id": ballot_id,
            "campaign_id": campaign.id,
            "district_id": district.id if district else None,
            "receipt_hash": receipt_hash(code),
            "cast_on": today,
        },
    )
    db.session.execute(
        _CHOICE_INSERT,
        [{"ballot_id": ballot_id, "object_id": o.id, "campaign_id": campaign.id} for o in objects],
    )


_BALLOT_INSERT = sa.insert(Ballot.__table__)
_CHOICE_INSERT = sa.insert(BallotChoice.__table__)


def revote_ballot(
    campaign: Campaign,
    voter: User,
    object_ids: Sequence[int],
    receipt_code: str,
    *,
    now: datetime | None = None,
) -> CastResult:
    """Replace the voter's ballot (campaigns that allow it): the last ballot counts, one row."""
    now = now or utcnow()
    _lock_for_cast(campaign)
    refusal = voting_refusal(campaign, voter, now)
    if refusal is not None:
        raise _refuse(campaign, voter, refusal)
    if not campaign.allow_revote:
        raise _refuse(campaign, voter, AlreadyVoted())
    entry = db.session.scalar(
        sa.select(RegisterEntry)
        .where(RegisterEntry.campaign_id == campaign.id, RegisterEntry.user_id == voter.id)
        .with_for_update()
    )
    if entry is None:
        raise _refuse(campaign, voter, VotingRefused(_("Вы ещё не голосовали."), "not_voted"))
    code = normalize_receipt(receipt_code)
    if code is None or entry.revote_check != _revote_check(campaign.id, voter.id, code):
        audit.record("voting.refused", campaign, code="bad_receipt", voter_id=voter.id)
        raise FieldError(
            "receipt_code", _("Код не подходит: введите код, полученный при голосовании.")
        )
    district = voter_district(campaign, voter)
    objects = validate_choices(campaign, object_ids, district)
    ballot = db.session.scalar(
        sa.select(Ballot)
        .where(Ballot.campaign_id == campaign.id, Ballot.receipt_hash == receipt_hash(code))
        .with_for_update()
    )
    if ballot is None:  # cannot happen unless the box was tampered with
        raise Conflict(_("Бюллетень с этим кодом не найден."))
    db.session.execute(sa.delete(BallotChoice).where(BallotChoice.ballot_id == ballot.id))
    db.session.execute(
        _CHOICE_INSERT,
        [{"ballot_id": ballot.id, "object_id": o.id, "campaign_id": campaign.id} for o in objects],
    )
    today = campaign.local_day(now)
    ballot.cast_on = today
    entry.voted_on = today
    db.session.flush()
    return CastResult(code, objects)


def receipt_in_box(campaign: Campaign, code: str) -> bool:
    """Is a ballot with this receipt code in the campaign's box?"""
    if normalize_receipt(code) is None:
        raise FieldError(
            "code",
            _("Код состоит из 16 букв и цифр, например K7QX-2MHD-VT9C-4PWA."),
        )
    found = db.session.scalar(
        sa.select(Ballot.id).where(
            Ballot.campaign_id == campaign.id, Ballot.receipt_hash == receipt_hash(code)
        )
    )
    return found is not None


def count_voters(campaign: Campaign) -> int:
    """How many people are in the register (turnout)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RegisterEntry)
        .where(RegisterEntry.campaign_id == campaign.id)
    )


def voters_by_channel(campaign: Campaign) -> dict[Channel, int]:
    """Turnout split by channel (site, widget, assisted by a volunteer)."""
    rows = db.session.execute(
        sa.select(RegisterEntry.channel, sa.func.count())
        .where(RegisterEntry.campaign_id == campaign.id)
        .group_by(RegisterEntry.channel)
    )
    counts = dict.fromkeys(Channel, 0)
    counts.update({Channel(channel): n for channel, n in rows})
    return counts


def find_resident(esia_oid: str) -> User | None:
    """The resident with this ESIA OID (a volunteer's lookup; the resident is present)."""
    return db.session.scalar(sa.select(User).where(User.esia_oid == esia_oid.strip()))


# --- Campaigns (officials) ------------------------------------------------------------------


@dataclass
class CampaignData:
    """What an official fills in; times are local to the campaign's territory."""

    title: str
    territory_id: int
    opens_local: datetime
    closes_local: datetime
    kind: CampaignKind = CampaignKind.LANDSCAPING
    rules_text: str = ""
    ballot_rule: BallotRule = BallotRule.SINGLE
    max_choices: int | None = None
    budget_limit: int | None = None
    per_district: bool = False
    winners_count: int = 1
    turnout_target: int | None = None
    show_turnout: bool = True
    allow_revote: bool = False
    min_level: AccountLevel = AccountLevel.CONFIRMED
    min_age: int | None = 14


@dataclass
class ObjectData:
    title: str
    description: str = ""
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    cost: int | None = None
    district_id: int | None = None


def campaign_territories(organization: Organization) -> list[Territory]:
    """Where an organization may hold a vote: its own territory or one directly inside it."""
    children = db.session.scalars(
        sa.select(Territory)
        .where(Territory.parent_id == organization.territory_id)
        .order_by(Territory.name)
    )
    return [organization.territory, *children]


def campaign_districts(campaign: Campaign) -> list[Territory]:
    """Districts objects of a per-district campaign may belong to: territories inside it."""
    return list(
        db.session.scalars(
            sa.select(Territory)
            .where(Territory.parent_id == campaign.territory_id)
            .order_by(Territory.name)
        )
    )


def local_to_utc(value: datetime, tz: str) -> datetime:
    """A wall-clock time in the territory's zone as an aware UTC moment."""
    return value.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def _apply_campaign_data(
    campaign: Campaign, data: CampaignData, organization: Organization
) -> None:
    territory = db.session.get(Territory, data.territory_id)
    if territory is None or territory.id not in {t.id for t in campaign_territories(organization)}:
        raise FieldError("territory_id", _("Выберите территорию вашей организации."))
    title = (data.title or "").strip()
    if not title:
        raise FieldError("title", _("Укажите название голосования."))
    opens = local_to_utc(data.opens_local, territory.timezone)
    closes = local_to_utc(data.closes_local, territory.timezone)
    if closes <= opens:
        raise FieldError("closes_local", _("Окончание должно быть позже начала."))
    if data.ballot_rule == BallotRule.APPROVAL and not (data.max_choices and data.max_choices >= 1):
        raise FieldError(
            "max_choices", _("Укажите, сколько объектов можно выбрать (не меньше одного).")
        )
    if data.ballot_rule == BallotRule.BUDGET and not (data.budget_limit and data.budget_limit > 0):
        raise FieldError("budget_limit", _("Укажите бюджет в рублях (больше нуля)."))
    if data.winners_count < 1:
        raise FieldError("winners_count", _("Победителей должно быть не меньше одного."))
    if data.min_age is not None and not 0 <= data.min_age <= 120:
        raise FieldError("min_age", _("Возраст — от 0 до 120 лет."))
    campaign.organization_id = organization.id
    campaign.territory = territory
    campaign.title = title
    campaign.kind = data.kind
    campaign.rules_text = (data.rules_text or "").strip()
    campaign.ballot_rule = data.ballot_rule
    campaign.max_choices = data.max_choices if data.ballot_rule == BallotRule.APPROVAL else None
    campaign.budget_limit = data.budget_limit if data.ballot_rule == BallotRule.BUDGET else None
    campaign.per_district = data.per_district
    campaign.winners_count = data.winners_count
    campaign.turnout_target = data.turnout_target or None
    campaign.show_turnout = data.show_turnout
    campaign.allow_revote = data.allow_revote
    campaign.min_level = data.min_level
    campaign.min_age = data.min_age
    campaign.opens_at = opens
    campaign.closes_at = closes


def create_campaign(organization: Organization, author: User, data: CampaignData) -> Campaign:
    """Create a draft campaign of `organization` (not visible to residents until published)."""
    campaign = Campaign(created_by_id=author.id)
    _apply_campaign_data(campaign, data, organization)
    db.session.add(campaign)
    db.session.flush()
    audit.record("voting.campaign_created", campaign, title=campaign.title)
    return campaign


def first_ballot_cast(campaign: Campaign) -> bool:
    """Has anyone voted yet? From then on rules, objects and eligibility are frozen."""
    return (
        db.session.scalar(
            sa.select(RegisterEntry.id).where(RegisterEntry.campaign_id == campaign.id).limit(1)
        )
        is not None
    )


FROZEN_MESSAGE = _l(
    "Голосование уже идёт: после первого голоса правила, объекты и условия участия "
    "менять нельзя, чтобы все голосовали по одним правилам."
)
CLOSED_MESSAGE = _l("Голосование завершено: менять его уже нельзя.")


def edit_refusal(campaign: Campaign, now: datetime | None = None) -> str | None:
    """Why the campaign can no longer be edited, or None."""
    now = now or utcnow()
    if campaign.is_closed(now):
        return str(CLOSED_MESSAGE)
    if first_ballot_cast(campaign):
        return str(FROZEN_MESSAGE)
    return None


def _lock_for_edit(campaign: Campaign) -> None:
    # FOR UPDATE waits for casts in flight (they hold FOR KEY SHARE), so the check below sees
    # their ballots; SQLite's BEGIN IMMEDIATE serialises the same way.
    db.session.execute(sa.select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    refusal = edit_refusal(campaign)
    if refusal is not None:
        audit.record("voting.edit_refused", campaign)
        raise Conflict(refusal)


def update_campaign(campaign: Campaign, actor: User, data: CampaignData) -> None:
    """Change a campaign's settings; refused once the first ballot is cast."""
    _lock_for_edit(campaign)
    if campaign.published_at is not None and data.territory_id != campaign.territory_id:
        raise FieldError("territory_id", _("Территорию опубликованного голосования менять нельзя."))
    _apply_campaign_data(campaign, data, campaign.organization)
    db.session.flush()
    audit.record("voting.campaign_updated", campaign)


def _apply_object_data(campaign: Campaign, obj: VotingObject, data: ObjectData) -> None:
    title = (data.title or "").strip()
    if not title:
        raise FieldError("title", _("Укажите название объекта."))
    if campaign.ballot_rule == BallotRule.BUDGET and data.cost is None:
        raise FieldError("cost", _("Укажите стоимость проекта: голосование идёт по бюджету."))
    if data.cost is not None and data.cost < 0:
        raise FieldError("cost", _("Стоимость не может быть отрицательной."))
    if (data.latitude is None) != (data.longitude is None):
        raise FieldError("longitude", _("Укажите обе координаты или ни одной."))
    if campaign.per_district:
        allowed = {t.id for t in campaign_districts(campaign)}
        if data.district_id not in allowed:
            raise FieldError("district_id", _("Выберите район, к которому относится объект."))
    elif data.district_id is not None:
        raise FieldError("district_id", _("В этом голосовании объекты не делятся по районам."))
    obj.title = title
    obj.description = (data.description or "").strip()
    obj.address = (data.address or "").strip() or None
    obj.latitude = data.latitude
    obj.longitude = data.longitude
    obj.cost = data.cost
    obj.district_id = data.district_id


def add_object(campaign: Campaign, actor: User, data: ObjectData) -> VotingObject:
    """Add a public space / project to the campaign; refused once voting has begun."""
    _lock_for_edit(campaign)
    last = db.session.scalar(
        sa.select(sa.func.max(VotingObject.number)).where(VotingObject.campaign_id == campaign.id)
    )
    obj = VotingObject(number=(last or 0) + 1)
    _apply_object_data(campaign, obj, data)
    obj.campaign = campaign
    db.session.add(obj)
    db.session.flush()
    audit.record("voting.object_added", obj, campaign_id=campaign.id)
    return obj


def update_object(obj: VotingObject, actor: User, data: ObjectData) -> None:
    """Change an object; refused once voting has begun."""
    _lock_for_edit(obj.campaign)
    _apply_object_data(obj.campaign, obj, data)
    db.session.flush()
    audit.record("voting.object_updated", obj, campaign_id=obj.campaign_id)


def delete_object(obj: VotingObject, actor: User) -> None:
    """Remove an object and its photos; refused once voting has begun."""
    _lock_for_edit(obj.campaign)
    for photo in object_photos([obj.id]).get(obj.id, []):
        _delete_photo_file(photo)
    audit.record("voting.object_deleted", obj, campaign_id=obj.campaign_id, title=obj.title)
    campaign, number = obj.campaign, obj.number
    db.session.delete(obj)
    db.session.flush()
    if campaign.published_at is None:  # a draft closes up its numbers; published ones stay
        _close_up_numbers(campaign, number)


def _close_up_numbers(campaign: Campaign, gap: int) -> None:
    """Numbers after `gap` move down by one, in ascending order: each moves into a free one."""
    later = db.session.scalars(
        sa.select(VotingObject)
        .where(VotingObject.campaign_id == campaign.id, VotingObject.number > gap)
        .order_by(VotingObject.number)
    )
    for obj in later:
        obj.number -= 1
        db.session.flush()
    db.session.expire(campaign, ["objects"])


def object_photos(object_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """Photos of the given objects, oldest first."""
    if not object_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Attachment)
        .where(
            Attachment.attached_to_type == PHOTO_OWNER,
            Attachment.attached_to_id.in_([str(i) for i in object_ids]),
        )
        .order_by(Attachment.id)
    )
    photos: dict[int, list[Attachment]] = {}
    for row in rows:
        photos.setdefault(int(row.attached_to_id or 0), []).append(row)
    return photos


def add_object_photo(
    obj: VotingObject, actor: User, stream: IO[bytes], filename: str
) -> Attachment:
    """Attach a photo (JPEG, PNG, WEBP) to an object; refused once voting has begun."""
    _lock_for_edit(obj.campaign)
    if len(object_photos([obj.id]).get(obj.id, [])) >= MAX_PHOTOS_PER_OBJECT:
        raise FieldError(
            "photo",
            _("У объекта уже %(num)d фотографий — это максимум.", num=MAX_PHOTOS_PER_OBJECT),
        )
    photo = store_upload(
        stream, filename, uploaded_by_id=actor.id, attached_to=(PHOTO_OWNER, obj.id), field="photo"
    )
    if not photo.inline:  # a PDF passes the shared upload check, but it is not a photo
        db.session.expunge(photo)
        attachment_path(photo).unlink(missing_ok=True)
        raise FieldError("photo", _("Загрузите фотографию: JPEG, PNG или WEBP."))
    db.session.flush()
    audit.record("voting.photo_added", obj, attachment_id=photo.id)
    return photo


def remove_object_photo(obj: VotingObject, actor: User, photo: Attachment) -> None:
    """Remove one photo of an object; refused once voting has begun."""
    _lock_for_edit(obj.campaign)
    audit.record("voting.photo_removed", obj, attachment_id=photo.id)
    _delete_photo_file(photo)


def _delete_photo_file(photo: Attachment) -> None:
    try:
        path: Path | None = attachment_path(photo)
    except FileNotFoundError:
        path = None
    db.session.delete(photo)
    if path is not None:
        db.session().after_commit(lambda: path.unlink(missing_ok=True))


def publish_refusal(campaign: Campaign, now: datetime | None = None) -> str | None:
    """What stops publication (too few objects, missing costs or districts…), or None."""
    now = now or utcnow()
    objects = campaign.objects
    if campaign.published_at is not None:
        return _("Голосование уже опубликовано.")
    not_ready = not_publishable(campaign.organization, VOTING)
    if not_ready is not None:
        return not_ready
    if campaign.closes_at <= now:
        return _("Время окончания уже прошло: измените период голосования.")
    if len(objects) < 2:
        return _("Добавьте хотя бы два объекта: голосовать можно, когда есть выбор.")
    if campaign.ballot_rule == BallotRule.BUDGET:
        if any(o.cost is None for o in objects):
            return _("Укажите стоимость каждого проекта.")
        too_big = [o.title for o in objects if (o.cost or 0) > (campaign.budget_limit or 0)]
        if too_big:
            return _(
                "Проект «%(title)s» дороже всего бюджета: за него нельзя проголосовать.",
                title=too_big[0],
            )
    if campaign.per_district and any(o.district_id is None for o in objects):
        return _("Укажите район каждого объекта.")
    return None


def publish_campaign(campaign: Campaign, actor: User, now: datetime | None = None) -> None:
    """Make a draft visible to residents; voting starts at its opening time."""
    now = now or utcnow()
    db.session.execute(sa.select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    refusal = publish_refusal(campaign, now)
    if refusal is not None:
        raise Conflict(refusal)
    campaign.published_at = now
    db.session.flush()
    audit.record("voting.campaign_published", campaign)


def close_campaign_early(
    campaign: Campaign, actor: User, reason: str, now: datetime | None = None
) -> None:
    """Stop a published campaign before its end, with the reason on record."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("Укажите причину досрочного завершения."))
    # FOR UPDATE waits for ballots being cast right now: after this, none can slip in.
    db.session.execute(sa.select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    db.session.refresh(campaign)
    status = campaign.status(now)
    if status == CampaignStatus.DRAFT:
        raise Conflict(_("Черновик не нужно завершать: он ещё не опубликован."))
    if status == CampaignStatus.CLOSED:
        raise Conflict(_("Голосование уже завершено."))
    campaign.closed_early_at = now
    campaign.closed_early_by_id = actor.id
    campaign.close_reason = reason
    db.session.flush()
    audit.record("voting.campaign_closed_early", campaign, reason=reason)
    enqueue_after_commit("participation.voting.tasks:seal_ballot_box", campaign.id)


# --- Lists ----------------------------------------------------------------------------------


def home_territory_ids(user: User | None) -> list[int]:
    """The person's registration territory and everything above it."""
    home = getattr(user, "registration_territory", None) if user else None
    if home is None:
        return []
    return [home.id, *(t.id for t in home.ancestors())]


def status_filter(query: sa.Select, status: str | None, now: datetime) -> sa.Select:
    """Restrict a campaign query to open / upcoming / closed ones (computed from dates)."""
    ends = Campaign.effective_closes_at
    if status == CampaignStatus.OPEN:
        return query.where(Campaign.opens_at <= now, ends > now)
    if status == CampaignStatus.UPCOMING:
        return query.where(Campaign.opens_at > now, ends > now)
    if status == CampaignStatus.CLOSED:
        return query.where(ends <= now)
    return query


def public_campaigns_query(
    *, territory_ids: Sequence[int] | None = None, exclude: Sequence[int] = ()
) -> sa.Select:
    """Published campaigns, newest first; optionally only (or except) some territories."""
    query = sa.select(Campaign).where(Campaign.published_at.is_not(None))
    if territory_ids is not None:
        query = query.where(Campaign.territory_id.in_(territory_ids))
    if exclude:
        query = query.where(Campaign.territory_id.not_in(exclude))
    return query.order_by(Campaign.opens_at.desc(), Campaign.id.desc())


def organization_campaigns_query(organization: Organization) -> sa.Select:
    """An organization's campaigns (drafts included), newest first."""
    return (
        sa.select(Campaign)
        .where(Campaign.organization_id == organization.id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )


# --- Protocols ------------------------------------------------------------------------------


def request_protocol(campaign: Campaign, actor: User, now: datetime | None = None):
    """Queue a protocol build for a closed campaign (large ones); returns its ProtocolFile row."""
    from participation.voting.models import ProtocolFile, ProtocolStatus

    now = now or utcnow()
    if not campaign.is_closed(now):
        raise Conflict(_("Протокол формируется после окончания голосования."))
    pending = db.session.scalar(
        sa.select(ProtocolFile).where(
            ProtocolFile.campaign_id == campaign.id,
            ProtocolFile.status == ProtocolStatus.PENDING,
        )
    )
    if pending is not None:
        if pending.requested_at <= now - STUCK_AFTER:  # its job was lost: queue it again
            pending.requested_at = now
            enqueue_after_commit(
                "participation.voting.tasks:build_protocol_file", pending.id, queue="reports"
            )
        return pending
    protocol = ProtocolFile(campaign_id=campaign.id, requested_by_id=actor.id, requested_at=now)
    db.session.add(protocol)
    db.session.flush()
    audit.record("voting.protocol_requested", campaign, protocol_id=protocol.id)
    enqueue_after_commit(
        "participation.voting.tasks:build_protocol_file", protocol.id, queue="reports"
    )
    return protocol


def latest_protocol(campaign: Campaign):
    """The most recently requested protocol file of the campaign, if any."""
    from participation.voting.models import ProtocolFile

    return db.session.scalar(
        sa.select(ProtocolFile)
        .where(ProtocolFile.campaign_id == campaign.id)
        .order_by(ProtocolFile.requested_at.desc(), ProtocolFile.id.desc())
        .limit(1)
    )
