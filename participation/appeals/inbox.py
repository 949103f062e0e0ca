"""The staff inbox in SQL: buckets with counts, filters, Russian search, sort and pages.

Current buckets (Новые … Отработанные) are the messages the organization holds now, read from
the (holder, bucket, due date) index. «Перенаправленные» are read from the hand-off log: what
the organization passed on to others (after moderation, to the executor, or redirected).
«Отправлено в СЭД» (в работе / получен ответ) is a view, not a bucket: the messages the
organization holds and has registered in its own СЭД, split by their workflow bucket
(workflow.SED_FOLDER_BUCKETS); each of them also stays in its workflow bucket.
Large counts are capped, so a busy organization's page costs the same as a quiet one's.

Pages come two ways: numbered (the staff pages: LIMIT/OFFSET, page N of M) and keyset
(`keyset_page`, the API's cursors): the next page starts strictly after the sort key of the
last row seen, so rows that arrive or leave meanwhile never shift what comes next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal, AppealHandoff, Arrival, Channel, overdue_at
from participation.appeals.permissions import sees_only_assigned
from participation.appeals.workflow import OPEN_BUCKETS, SED_FOLDER_BUCKETS, Bucket, SedFolder
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
SED_FOLDERS = (SedFolder.IN_WORK, SedFolder.ANSWERED)
# A folder of the inbox: a workflow bucket, or a sub-folder of «Отправлено в СЭД».
Folder = Bucket | SedFolder
# Folders too large to count exactly or to group for the filter counts.
BIG_FOLDERS = frozenset({Bucket.DONE, Bucket.REDIRECTED, SedFolder.ANSWERED})


@dataclass
class Filters:
    bucket: Folder = Bucket.NEW
    due_before: date | None = None
    overdue: bool = False
    auto: bool = False
    channel: Channel | None = None
    stage: Arrival | None = None
    q: str = ""
    sort: str = "due"
    page: int = 1
    size: int = 10
    # Registered in the organization's own СЭД (True), not registered there (False), or either.
    sed: bool | None = None

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
            "sed": None if self.sed is None else ("1" if self.sed else "0"),
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


def parse_folder(raw: str | None) -> Folder | None:
    """A folder named in a URL (a bucket or a СЭД sub-folder), None if unknown."""
    return _enum(Bucket, raw) or _enum(SedFolder, raw)


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
        bucket=parse_folder(args.get("bucket")) or default_bucket,
        due_before=due_before,
        overdue=args.get("overdue") in ("1", "on", "y"),
        auto=args.get("auto") in ("1", "on", "y"),
        channel=_enum(Channel, args.get("channel")),
        stage=_enum(Arrival, args.get("stage")),
        q=" ".join(args.get("q", "").split())[:200],
        sed={"1": True, "0": False}.get(args.get("sed", "")),
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


def _sent_to_sed(organization: Organization) -> list[Any]:
    """Registered in this organization's own СЭД (the partial index's condition first)."""
    return [Appeal.sed_number.is_not(None), Appeal.sed_organization_id == organization.id]


def _folder(folder: Folder, organization: Organization) -> list[Any]:
    """The clauses picking a current folder's messages (within `_scope`)."""
    if isinstance(folder, SedFolder):
        return [*_sent_to_sed(organization), Appeal.bucket.in_(SED_FOLDER_BUCKETS[folder])]
    return [Appeal.bucket == folder]


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


def _filter_clauses(filters: Filters, organization: Organization, now: datetime) -> list[Any]:
    clauses: list[Any] = []
    tz = organization.territory.timezone
    if filters.due_before is not None:
        # "Срок ответа до" a date: due by the end of that day in the organization's zone.
        end = datetime.combine(filters.due_before, time.max, tzinfo=ZoneInfo(tz))
        clauses.append(Appeal.answer_due_at <= end)
    if filters.overdue:
        # Only messages still being worked on can be overdue; a thanks never is.
        clauses.append(overdue_at(now))
        if isinstance(filters.bucket, SedFolder):
            clauses.append(Appeal.bucket.in_(OPEN_BUCKETS))
        elif filters.bucket not in OPEN_BUCKETS:
            clauses.append(sa.false())
    if filters.auto:
        clauses.append(Appeal.auto_routed.is_(True))
    if filters.channel is not None:
        clauses.append(Appeal.channel == filters.channel)
    if filters.stage is not None:
        clauses.append(Appeal.arrival == filters.stage)
    if filters.q:
        clauses.append(_search(filters.q))
    if filters.sed is not None:
        registered = sa.and_(*_sent_to_sed(organization))
        clauses.append(registered if filters.sed else sa.not_(registered))
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


def bucket_counts(user: Any, organization: Organization) -> dict[Folder, int]:
    """How many messages each folder holds (large folders are capped at COUNT_CAP + 1)."""
    scope = _scope(user, organization)
    rows = db.session.execute(
        sa.select(Appeal.bucket, sa.func.count())
        .where(*scope, Appeal.bucket.in_(CURRENT_BUCKETS))
        .group_by(Appeal.bucket)
    )
    counts: dict[Folder, int] = dict.fromkeys((*BUCKET_ORDER, *SED_FOLDERS), 0)
    counts.update({Bucket(b): n for b, n in rows})
    counts[Bucket.DONE] = _capped_count(
        sa.select(Appeal.id).where(*scope, Appeal.bucket == Bucket.DONE)
    )
    counts[Bucket.REDIRECTED] = _capped_count(
        _redirected_base(user, organization).with_only_columns(AppealHandoff.id)
    )
    counts.update(sed_counts(user, organization))
    return counts


def sed_counts(user: Any, organization: Organization) -> dict[SedFolder, int]:
    """«Отправлено в СЭД»: how many registered messages are in work and answered (capped)."""
    scope = _scope(user, organization)

    def capped(folder: SedFolder) -> sa.ScalarSelect:
        limited = (
            sa.select(Appeal.id)
            .where(*scope, *_folder(folder, organization))
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        return sa.select(sa.func.count()).select_from(limited).scalar_subquery()

    # Both capped counts in one round trip.
    row = db.session.execute(sa.select(*(capped(f) for f in SED_FOLDERS))).one()
    return {folder: int(n or 0) for folder, n in zip(SED_FOLDERS, row, strict=True)}


@dataclass
class InboxItem:
    appeal: Appeal
    handoff: AppealHandoff | None = None


@dataclass
class Inbox:
    filters: Filters
    counts: dict[Folder, int]
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


def _base(
    user: Any, organization: Organization, filters: Filters, now: datetime
) -> tuple[sa.Select, bool]:
    """The folder's filtered query (no order, no limit) and whether it reads hand-offs."""
    clauses = _filter_clauses(filters, organization, now)
    if filters.bucket == Bucket.REDIRECTED:
        return _redirected_base(user, organization).where(*clauses), True
    query = sa.select(Appeal).where(
        *_scope(user, organization), *_folder(filters.bucket, organization), *clauses
    )
    return query, False


def folder_query(user: Any, organization: Organization, filters: Filters) -> sa.Select:
    """The folder's filtered query in the list's order, without a page: for other views of the
    same list (the inbox's map mode); select the columns wanted with `with_only_columns`."""
    base, redirected = _base(user, organization, filters, utcnow())
    return base.order_by(*_order(filters, redirected))


def _items(query: sa.Select, redirected: bool, extra: Sequence[Any] = ()) -> list[InboxItem]:
    query = query.options(*_load_options(), *extra)
    if redirected:
        query = query.options(selectinload(AppealHandoff.to_organization))
        return [InboxItem(a, h) for a, h in db.session.execute(query)]
    return [InboxItem(a) for a in db.session.scalars(query)]


def load_inbox(user: Any, organization: Organization, filters: Filters) -> Inbox:
    """One page of the inbox with the folder counts; every count and page is one SQL query."""
    now = utcnow()
    counts = bucket_counts(user, organization)
    base, redirected = _base(user, organization, filters, now)
    big = filters.bucket in BIG_FOLDERS
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
    )
    inbox = Inbox(
        filters=filters,
        counts=counts,
        page=Page(
            items=_items(query, redirected),
            number=filters.page,
            size=filters.size,
            total=total,
        ),
    )
    if not big:
        # One grouping gives both filter counts («Источник поступления», «По стадии»).
        for channel, arrival, n in db.session.execute(
            sa.select(Appeal.channel, Appeal.arrival, sa.func.count())
            .where(*_scope(user, organization), *_folder(filters.bucket, organization))
            .group_by(Appeal.channel, Appeal.arrival)
        ):
            channel, arrival = Channel(channel), Arrival(arrival)
            inbox.channel_counts[channel] = inbox.channel_counts.get(channel, 0) + n
            inbox.stage_counts[arrival] = inbox.stage_counts.get(arrival, 0) + n
    return inbox


# --- keyset pages (the API's cursors) ---------------------------------------------------------


def _sort_columns(filters: Filters, redirected: bool) -> tuple[tuple[Any, Any], bool]:
    """The two columns the folder is ordered by (a moment, then a unique id: of the hand-off
    in «Перенаправленные», where a message may be listed twice) and if descending."""
    ident = AppealHandoff.id if redirected else Appeal.id
    if redirected and filters.sort == "due":
        return (AppealHandoff.at, ident), True
    if filters.sort == "received_desc":
        return (Appeal.registered_at, ident), True
    if filters.sort == "received":
        return (Appeal.registered_at, ident), False
    return (Appeal.answer_due_at, ident), False


def _position_of(item: InboxItem, filters: Filters) -> tuple[datetime, int]:
    ident = item.handoff.id if item.handoff is not None else item.appeal.id
    if item.handoff is not None and filters.sort == "due":
        return item.handoff.at, ident
    if filters.sort in ("received", "received_desc"):
        return item.appeal.registered_at, ident
    return item.appeal.answer_due_at, ident


@dataclass
class KeysetPage:
    items: list[InboxItem]
    # The sort key of the last row, to continue after; None when nothing follows.
    next_after: tuple[datetime, int] | None


def keyset_page(
    user: Any,
    organization: Organization,
    filters: Filters,
    after: tuple[datetime, int] | None,
    limit: int,
    options: Sequence[Any] = (),
) -> KeysetPage:
    """Up to `limit` rows of the folder strictly after the sort key `after` (from the start
    when None): the same folders, scope and filters as the staff inbox, one SQL query.

    Rows inserted before `after` in the order are not shown (sort "received" puts every new
    message at the end, so a client pulling new messages sees each one exactly once).
    `options`: loader options for what the caller shows besides the staff list's columns.
    """
    base, redirected = _base(user, organization, filters, utcnow())
    (moment, ident), descending = _sort_columns(filters, redirected)
    query = base
    if after is not None:
        key = sa.tuple_(moment, ident)
        bound = sa.tuple_(
            sa.literal(after[0], type_=moment.type), sa.literal(after[1], type_=ident.type)
        )
        query = query.where(key < bound if descending else key > bound)
    order = [moment.desc(), ident.desc()] if descending else [moment, ident]
    items = _items(query.order_by(*order).limit(limit + 1), redirected, options)
    more = len(items) > limit
    items = items[:limit]
    return KeysetPage(items, _position_of(items[-1], filters) if more else None)
