"""The staff inbox in SQL: buckets with counts, filters, Russian search, sort and pages.

Current buckets (Новые … Отработанные) are the messages the organization holds now, read from
the (holder, bucket, due date) index. «Перенаправленные» are read from the hand-off log: what
the organization passed on to others (after moderation, to the executor, or redirected).
Large counts are capped, so a busy organization's page costs the same as a quiet one's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal, AppealHandoff, Arrival, Channel
from participation.appeals.permissions import sees_only_assigned
from participation.appeals.workflow import OPEN_BUCKETS, Bucket
from participation.core.db import utcnow
from participation.core.limits import parse_id
from participation.core.organizations import Organization
from participation.core.pagination import PAGE_SIZES, Page
from participation.core.users import Role
from participation.extensions import db

COUNT_CAP = 10_000
SORTS = ("due", "received_desc", "received")
CURRENT_BUCKETS = (
    Bucket.NEW,
    Bucket.IN_WORK,
    Bucket.ANSWERED,
    Bucket.APPROVAL,
    Bucket.RETURNED,
    Bucket.POSTPONED,
)
# The order of the real platform's folder list.
BUCKET_ORDER = (
    Bucket.NEW,
    Bucket.IN_WORK,
    Bucket.ANSWERED,
    Bucket.APPROVAL,
    Bucket.RETURNED,
    Bucket.POSTPONED,
    Bucket.REDIRECTED,
    Bucket.DONE,
)


@dataclass
class Filters:
    bucket: Bucket = Bucket.NEW
    due_before: date | None = None
    overdue: bool = False
    auto: bool = False
    channel: Channel | None = None
    stage: Arrival | None = None
    q: str = ""
    sort: str = "due"
    page: int = 1
    size: int = 10

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The URL parameters for these filters (with some changed), for links."""
        args = {
            "bucket": self.bucket.value,
            "due_before": self.due_before.isoformat() if self.due_before else None,
            "overdue": "1" if self.overdue else None,
            "auto": "1" if self.auto else None,
            "channel": self.channel.value if self.channel else None,
            "stage": self.stage.value if self.stage else None,
            "q": self.q or None,
            "sort": self.sort if self.sort != "due" else None,
            "size": self.size if self.size != 10 else None,
            "page": self.page if self.page != 1 else None,
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v is not None}


def _enum(cls: Any, raw: str | None) -> Any:
    try:
        return cls(raw) if raw else None
    except ValueError:
        return None


def _positive(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdecimal() and 0 < int(raw) < 1_000_000 else default


def parse_filters(args: Any, default_bucket: Bucket) -> Filters:
    """Filters from the query string; anything malformed falls back to its default."""
    due_before = None
    raw = args.get("due_before", "")
    if raw:
        try:
            due_before = date.fromisoformat(raw)
        except ValueError:
            due_before = None
    size = _positive(args.get("size"), 10)
    return Filters(
        bucket=_enum(Bucket, args.get("bucket")) or default_bucket,
        due_before=due_before,
        overdue=args.get("overdue") in ("1", "on", "y"),
        auto=args.get("auto") in ("1", "on", "y"),
        channel=_enum(Channel, args.get("channel")),
        stage=_enum(Arrival, args.get("stage")),
        q=" ".join(args.get("q", "").split())[:200],
        sort=args.get("sort") if args.get("sort") in SORTS else "due",
        page=_positive(args.get("page"), 1),
        size=size if size in PAGE_SIZES else 10,
    )


def _scope(user: Any, organization: Organization) -> list[Any]:
    """Messages the organization holds; for an executor, only those assigned to them."""
    clauses = [Appeal.holder_organization_id == organization.id]
    if sees_only_assigned(user, organization):
        clauses.append(Appeal.executor_id == user.id)
    return clauses


# The folder each role starts in (the first role the person holds wins).
START_BUCKETS = (
    (Role.MODERATOR, Bucket.NEW),
    (Role.COORDINATOR, Bucket.NEW),
    (Role.HEAD, Bucket.APPROVAL),
    (Role.EXECUTOR, Bucket.IN_WORK),
)


def start_bucket(user: Any, organization: Organization) -> Bucket:
    """The folder the inbox opens on for this person: what waits for their role."""
    held = user.roles_in(organization.id)
    return next((bucket for role, bucket in START_BUCKETS if role in held), Bucket.NEW)


def waiting_count(user: Any, organization: Organization) -> tuple[Bucket, int]:
    """The person's start folder and how many messages it holds (one COUNT)."""
    bucket = start_bucket(user, organization)
    query = sa.select(sa.func.count()).where(*_scope(user, organization), Appeal.bucket == bucket)
    return bucket, db.session.scalar(query) or 0


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _search(q: str) -> Any:
    clauses = []
    if (number := parse_id(q)) is not None:
        clauses.append(Appeal.id == number)
    if _is_postgres():
        # The same expression as the GIN index in the migration.
        clauses.append(
            sa.func.to_tsvector(sa.literal_column("'russian'"), Appeal.text).op("@@")(
                sa.func.websearch_to_tsquery(sa.literal_column("'russian'"), q)
            )
        )
    else:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(Appeal.text.ilike(pattern, escape="\\"))
    return sa.or_(*clauses)


def _filter_clauses(filters: Filters, tz: str, now: datetime) -> list[Any]:
    clauses: list[Any] = []
    if filters.due_before is not None:
        # "Срок ответа до" a date: due by the end of that day in the organization's zone.
        end = datetime.combine(filters.due_before, time.max, tzinfo=ZoneInfo(tz))
        clauses.append(Appeal.answer_due_at <= end)
    if filters.overdue:
        # Only messages still being worked on can be overdue.
        clauses.append(Appeal.answer_due_at < now)
        if filters.bucket not in OPEN_BUCKETS:
            clauses.append(sa.false())
    if filters.auto:
        clauses.append(Appeal.auto_routed.is_(True))
    if filters.channel is not None:
        clauses.append(Appeal.channel == filters.channel)
    if filters.stage is not None:
        clauses.append(Appeal.arrival == filters.stage)
    if filters.q:
        clauses.append(_search(filters.q))
    return clauses


def _capped_count(query: sa.Select) -> int:
    limited = query.order_by(None).limit(COUNT_CAP + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(limited)) or 0


def _redirected_base(user: Any, organization: Organization) -> sa.Select:
    query = (
        sa.select(Appeal, AppealHandoff)
        .join(AppealHandoff, AppealHandoff.appeal_id == Appeal.id)
        .where(AppealHandoff.from_organization_id == organization.id)
    )
    if sees_only_assigned(user, organization):
        query = query.where(AppealHandoff.actor_id == user.id)
    return query


def bucket_counts(user: Any, organization: Organization) -> dict[Bucket, int]:
    """How many messages each folder holds (large folders are capped at COUNT_CAP + 1)."""
    scope = _scope(user, organization)
    rows = db.session.execute(
        sa.select(Appeal.bucket, sa.func.count())
        .where(*scope, Appeal.bucket.in_(CURRENT_BUCKETS))
        .group_by(Appeal.bucket)
    )
    counts = dict.fromkeys(BUCKET_ORDER, 0)
    counts.update({Bucket(b): n for b, n in rows})
    counts[Bucket.DONE] = _capped_count(
        sa.select(Appeal.id).where(*scope, Appeal.bucket == Bucket.DONE)
    )
    counts[Bucket.REDIRECTED] = _capped_count(
        _redirected_base(user, organization).with_only_columns(AppealHandoff.id)
    )
    return counts


@dataclass
class InboxItem:
    appeal: Appeal
    handoff: AppealHandoff | None = None


@dataclass
class Inbox:
    filters: Filters
    counts: dict[Bucket, int]
    page: Page
    channel_counts: dict[Channel, int] = field(default_factory=dict)
    stage_counts: dict[Arrival, int] = field(default_factory=dict)


def _order(filters: Filters, handoff_order: bool) -> list[Any]:
    if handoff_order and filters.sort == "due":
        return [AppealHandoff.at.desc(), AppealHandoff.id.desc()]
    if filters.sort == "received_desc":
        return [Appeal.registered_at.desc(), Appeal.id.desc()]
    if filters.sort == "received":
        return [Appeal.registered_at, Appeal.id]
    return [Appeal.answer_due_at, Appeal.id]


def _load_options() -> list[Any]:
    # Each is one row per message: joined into the page's own query (no extra round trips).
    return [
        joinedload(Appeal.subcategory).joinedload(Subcategory.category),
        joinedload(Appeal.executor_organization).joinedload(Organization.territory),
        joinedload(Appeal.applicant_region),
    ]


def load_inbox(user: Any, organization: Organization, filters: Filters) -> Inbox:
    """One page of the inbox with the folder counts; every count and page is one SQL query."""
    now = utcnow()
    tz = organization.territory.timezone
    clauses = _filter_clauses(filters, tz, now)
    counts = bucket_counts(user, organization)
    redirected = filters.bucket == Bucket.REDIRECTED
    if redirected:
        base = _redirected_base(user, organization).where(*clauses)
    else:
        base = sa.select(Appeal).where(
            *_scope(user, organization), Appeal.bucket == filters.bucket, *clauses
        )
    big = filters.bucket in (Bucket.DONE, Bucket.REDIRECTED)
    total = (
        _capped_count(base.with_only_columns(Appeal.id))
        if big
        else db.session.scalar(
            sa.select(sa.func.count()).select_from(base.with_only_columns(Appeal.id).subquery())
        )
        or 0
    )
    pages = max(1, -(-total // filters.size))
    filters.page = min(filters.page, pages)
    query = (
        base.order_by(*_order(filters, redirected))
        .limit(filters.size)
        .offset((filters.page - 1) * filters.size)
        .options(*_load_options())
    )
    if redirected:
        query = query.options(selectinload(AppealHandoff.to_organization))
        items = [InboxItem(a, h) for a, h in db.session.execute(query)]
    else:
        items = [InboxItem(a) for a in db.session.scalars(query)]
    inbox = Inbox(
        filters=filters,
        counts=counts,
        page=Page(items=items, number=filters.page, size=filters.size, total=total),
    )
    if not big:
        # One grouping gives both filter counts («Источник поступления», «По стадии»).
        for channel, arrival, n in db.session.execute(
            sa.select(Appeal.channel, Appeal.arrival, sa.func.count())
            .where(*_scope(user, organization), Appeal.bucket == filters.bucket)
            .group_by(Appeal.channel, Appeal.arrival)
        ):
            channel, arrival = Channel(channel), Arrival(arrival)
            inbox.channel_counts[channel] = inbox.channel_counts.get(channel, 0) + n
            inbox.stage_counts[arrival] = inbox.stage_counts.get(arrival, 0) + n
    return inbox
