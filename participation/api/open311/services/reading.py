"""Open311 GeoReport v2, reading: what the endpoint publishes about messages, and its filters.

The catalogue: our subcategories are the services, their categories the `group`. No service has
extra form fields (attributes), so `metadata` is false everywhere and every service's definition
is empty.

What a GET publishes of a message, and why:
- never a person: no author, caller, contacts, executor, answer text or files;
- never the message text (`description` is empty): the platform has no regional switch that
  makes messages public, and a resident's text may name people; the text stays in the cabinet;
- the problem's address and point only once a moderator has passed the message (until then they
  are unchecked input); the territory's OKTMO code as `address_id` always;
- messages rejected at moderation are not published at all (absent from lists, 404 by id).

Lists are read in SQL, newest first, one page at a time, on the index on `registered_at`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from participation.api.open311 import models  # noqa: F401  (its index, for Alembic's metadata)
from participation.api.open311.services.common import (
    CLOSED_STATES,
    DEFAULT_SPAN,
    MAX_IDS,
    MAX_PAGE_SIZE,
    STATUS_CLOSED,
    STATUS_OPEN,
    STATUS_STATES,
    UNCHECKED_STATES,
    UNPUBLISHED_STATES,
    W3C_DATETIME,
    ApiError,
    Open311Error,
    bad,
    collect,
)
from participation.appeals.classifier import Category, Subcategory, split_keywords
from participation.appeals.models import Appeal, AppealEvent
from participation.appeals.workflow import AppealState
from participation.core.db import utcnow
from participation.core.limits import DB_INT_MAX
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.extensions import db

# --- services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    group: str
    keywords: list[str]
    fast_track: bool


def _offered() -> sa.Select:
    return (
        sa.select(
            Subcategory.code,
            Subcategory.name,
            Subcategory.keywords,
            Subcategory.fast_track,
            Category.name,
        )
        .join(Category, Category.id == Subcategory.category_id)
        .where(Subcategory.active.is_(True), Category.active.is_(True))
    )


def list_services() -> list[Service]:
    """Every subcategory a resident may choose now, in the classifier's order (one query)."""
    order = (Category.position, Category.id, Subcategory.position, Subcategory.id)
    return [_service(*row) for row in db.session.execute(_offered().order_by(*order))]


def find_service(code: str) -> Service | None:
    """The service with this code, if residents may choose it now."""
    row = db.session.execute(_offered().where(Subcategory.code == code)).first()
    return _service(*row) if row else None


def _service(code: str, name: str, keywords: str, fast_track: bool, group: str) -> Service:
    return Service(code, name, group, split_keywords(keywords), fast_track)


def catalogue_changed_at() -> datetime:
    """When the list of services last changed (the discovery document's `changeset`)."""
    latest = [
        db.session.scalar(sa.select(sa.func.max(Category.updated_at))),
        db.session.scalar(sa.select(sa.func.max(Subcategory.updated_at))),
    ]
    known = [moment for moment in latest if moment is not None]
    return max(known) if known else datetime(2020, 1, 1, tzinfo=utcnow().tzinfo)


# --- reading the filters of GET requests -------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    """What GET requests asked for, checked: ids (which override the rest) or a window."""

    ids: list[int] | None = None
    subcategory_ids: list[int] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset()
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def parse_datetime(raw: str, name: str) -> datetime:
    """A W3C date-time with its zone (2010-01-01T00:00:00Z); else a 400 naming the field."""
    value = raw.strip()
    # An unescaped «+» in a query string arrives as a space: «…T10:00:00 05:00».
    value = re.sub(r" (\d{2}:\d{2})$", r"+\1", value)
    if not W3C_DATETIME.match(value):
        raise Open311Error(
            400,
            _l(
                "%(name)s: ожидается дата и время с часовым поясом в формате W3C, "
                "например 2010-01-01T00:00:00Z; получено «%(value)s».",
                name=name,
                value=raw[:40],
            ),
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(
            400,
            _l("%(name)s: такой даты нет (%(value)s).", name=name, value=raw[:40]),
        ) from None


def _positive_int(raw: str | None, name: str, default: int, maximum: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise Open311Error(400, _l("%(name)s: ожидается целое число от 1.", name=name))
    value = int(raw)
    if value > maximum:
        raise Open311Error(
            400,
            _l(
                "%(name)s: не больше %(max)d, получено %(value)d.",
                name=name,
                max=maximum,
                value=value,
            ),
        )
    return value


def _list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def read_request_query(args: Mapping[str, str], now: datetime | None = None) -> RequestQuery:
    """Check GET requests' parameters; every problem found is one error of a 400."""
    errors: list[ApiError] = []

    page = collect(errors, _positive_int, args.get("page"), "page", 1, DB_INT_MAX)
    page_size = collect(
        errors, _positive_int, args.get("page_size"), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE
    )

    raw_ids = _list(args.get("service_request_id"))
    if raw_ids:
        ids = []
        for raw in raw_ids:
            if raw.isascii() and raw.isdigit() and 0 < int(raw) <= DB_INT_MAX:
                ids.append(int(raw))
            else:
                errors.append(
                    bad(
                        _l(
                            "service_request_id: «%(value)s» — не номер сообщения.",
                            value=raw[:40],
                        )
                    )
                )
        if len(raw_ids) > MAX_IDS:
            errors.append(
                bad(
                    _l(
                        "service_request_id: не больше %(max)d номеров за раз.",
                        max=MAX_IDS,
                    )
                )
            )
        if errors:
            raise Open311Error(400, *errors)
        # «This overrides all other arguments.»
        return RequestQuery(ids=list(dict.fromkeys(ids)), page=page or 1, page_size=page_size)

    statuses = frozenset(s.lower() for s in _list(args.get("status")))
    unknown = sorted(statuses - set(STATUS_STATES))
    if unknown:
        errors.append(
            bad(
                _l(
                    "status: допустимы open и closed; получено «%(value)s».",
                    value=", ".join(unknown)[:60],
                )
            )
        )

    subcategory_ids = None
    codes = _list(args.get("service_code"))
    if len(codes) > MAX_IDS:
        raise Open311Error(400, _l("service_code: не больше %(max)d кодов за раз.", max=MAX_IDS))
    if codes:
        found = dict(
            db.session.execute(
                sa.select(Subcategory.code, Subcategory.id).where(Subcategory.code.in_(codes))
            ).all()
        )
        missing = [code for code in codes if code not in found]
        if missing:
            errors.append(
                bad(
                    _l(
                        "service_code: неизвестный код услуги «%(code)s» "
                        "(коды перечислены в services.json).",
                        code=", ".join(missing)[:100],
                    )
                )
            )
        subcategory_ids = sorted(set(found.values()))

    start = (
        collect(errors, parse_datetime, args["start_date"], "start_date")
        if args.get("start_date", "").strip()
        else None
    )
    end = (
        collect(errors, parse_datetime, args["end_date"], "end_date")
        if args.get("end_date", "").strip()
        else None
    )
    if errors:
        raise Open311Error(400, *errors)

    now = now or utcnow()
    if start is None and end is None:
        end, start = now, now - DEFAULT_SPAN
    elif start is None:
        start = end - DEFAULT_SPAN
    elif end is None:
        end = min(start + DEFAULT_SPAN, max(now, start))
    if end < start:
        raise Open311Error(400, _l("end_date раньше, чем start_date."))
    if end - start > DEFAULT_SPAN:
        raise Open311Error(
            400,
            _l(
                "Между start_date и end_date не больше %(days)d дней: запросите период частями.",
                days=DEFAULT_SPAN.days,
            ),
        )
    return RequestQuery(
        subcategory_ids=subcategory_ids,
        start=start,
        end=end,
        statuses=statuses,
        page=page or 1,
        page_size=page_size or MAX_PAGE_SIZE,
    )


# --- reading published messages ----------------------------------------------------------


@dataclass(frozen=True)
class PublishedRequest:
    """What the endpoint publishes of one message (nothing personal: see the module's doc)."""

    id: int
    state: AppealState
    service_code: str
    service_name: str
    agency: str
    requested_at: datetime
    updated_at: datetime
    expected_at: datetime | None
    address: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    oktmo: str
    timezone: str
    postponed_until: datetime | None
    review_of_id: int | None
    review_id: int | None

    @property
    def status(self) -> str:
        return STATUS_CLOSED if self.state in CLOSED_STATES else STATUS_OPEN


def _published_select() -> sa.Select:
    executor_territory = aliased(Territory)
    review = aliased(Appeal)
    last_event = (
        sa.select(sa.func.max(AppealEvent.at))
        .where(AppealEvent.appeal_id == Appeal.id)
        .correlate(Appeal)
        .scalar_subquery()
    )
    return (
        sa.select(
            Appeal.id,
            Appeal.state,
            Subcategory.code,
            Subcategory.name,
            Organization.name,
            Appeal.registered_at,
            last_event,
            Appeal.answer_due_at,
            Appeal.answered_at,
            Appeal.address,
            Appeal.latitude,
            Appeal.longitude,
            Territory.oktmo,
            executor_territory.timezone,
            Appeal.postponed_until,
            Appeal.review_of_id,
            review.id,
        )
        .join(Subcategory, Subcategory.id == Appeal.subcategory_id)
        .join(Organization, Organization.id == Appeal.executor_organization_id)
        .join(executor_territory, executor_territory.id == Organization.territory_id)
        .join(Territory, Territory.id == Appeal.territory_id)
        .outerjoin(review, review.review_of_id == Appeal.id)
        .where(Appeal.state.not_in(UNPUBLISHED_STATES))
    )


def _published(row: sa.Row) -> PublishedRequest:
    (
        id_,
        state,
        code,
        name,
        agency,
        registered_at,
        last_event_at,
        answer_due_at,
        answered_at,
        address,
        latitude,
        longitude,
        oktmo,
        timezone,
        postponed_until,
        review_of_id,
        review_id,
    ) = row
    state = AppealState(state)
    unchecked = state in UNCHECKED_STATES
    # A message closed without an answer has no answer term to speak of.
    closed_unanswered = state in CLOSED_STATES and answered_at is None
    return PublishedRequest(
        id=id_,
        state=state,
        service_code=code,
        service_name=name,
        agency=agency,
        requested_at=registered_at,
        updated_at=max(registered_at, last_event_at or registered_at),
        expected_at=None if closed_unanswered else answer_due_at,
        address=None if unchecked else address,
        latitude=None if unchecked else latitude,
        longitude=None if unchecked else longitude,
        oktmo=oktmo,
        timezone=timezone,
        postponed_until=postponed_until if state == AppealState.POSTPONED else None,
        review_of_id=review_of_id,
        review_id=review_id,
    )


def find_requests(query: RequestQuery) -> list[PublishedRequest]:
    """One page of published messages: by ids, or newest first within the window."""
    select = _published_select().order_by(Appeal.registered_at.desc(), Appeal.id.desc())
    if query.ids is not None:
        select = select.where(Appeal.id.in_(query.ids))
    else:
        select = select.where(
            Appeal.registered_at >= query.start, Appeal.registered_at <= query.end
        )
        if query.subcategory_ids is not None:
            select = select.where(Appeal.subcategory_id.in_(query.subcategory_ids))
        if query.statuses and query.statuses != set(STATUS_STATES):
            states = set().union(*(STATUS_STATES[s] for s in query.statuses))
            select = select.where(Appeal.state.in_(sorted(states)))
    select = select.limit(query.page_size).offset((query.page - 1) * query.page_size)
    return [_published(row) for row in db.session.execute(select)]


def find_request(request_id: int) -> PublishedRequest | None:
    """The published message with this number, if it is published."""
    row = db.session.execute(_published_select().where(Appeal.id == request_id)).first()
    return _published(row) if row else None
