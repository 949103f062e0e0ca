"""The curator's view: deadlines by organization, low ratings and returned answers, in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from participation.appeals.deadlines import soon_due_window
from participation.appeals.models import NOT_THANKS, Appeal, AppealRating, overdue_at
from participation.appeals.permissions import subtree_ids
from participation.appeals.workflow import OPEN_BUCKETS, Bucket
from participation.core.db import utcnow
from participation.core.organizations import Organization, OrganizationKind
from participation.extensions import db

LIST_LIMIT = 20


@dataclass
class DeadlineRow:
    organization: Organization
    open: int
    overdue: int
    soon_due: int


@dataclass
class CuratorOverview:
    rows: list[DeadlineRow] = field(default_factory=list)
    low_ratings: list[tuple[AppealRating, Appeal]] = field(default_factory=list)
    returned: list[Appeal] = field(default_factory=list)


def curated_scope(organization: Organization) -> Any:
    """Which messages a curator of `organization` watches: a ЦУР its region, the operator
    all of them, any other organization itself and the organizations below it."""
    if organization.kind == OrganizationKind.OPERATOR:
        return sa.true()
    if organization.kind == OrganizationKind.REGIONAL_CENTRE:
        return Appeal.region_id == organization.territory_id
    ids = subtree_ids(organization)
    return sa.or_(Appeal.holder_organization_id.in_(ids), Appeal.executor_organization_id.in_(ids))


def curator_overview(organization: Organization) -> CuratorOverview:
    """Open, overdue and soon-due messages per holder organization; recent low ratings and
    answers sent back for rework (three queries plus loading the names)."""
    now = utcnow()
    scope = curated_scope(organization)
    overdue = sa.func.sum(sa.case((overdue_at(now), 1), else_=0))
    soon = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    Appeal.answer_due_at >= now,
                    Appeal.answer_due_at < now + soon_due_window(),
                    NOT_THANKS,
                ),
                1,
            ),
            else_=0,
        )
    )
    counts = db.session.execute(
        sa.select(Appeal.holder_organization_id, sa.func.count(), overdue, soon)
        .where(scope, Appeal.bucket.in_(OPEN_BUCKETS))
        .group_by(Appeal.holder_organization_id)
        .order_by(overdue.desc(), sa.func.count().desc())
    ).all()
    names = {
        o.id: o
        for o in db.session.scalars(
            sa.select(Organization).where(Organization.id.in_([row[0] for row in counts]))
        )
    }
    overview = CuratorOverview(
        rows=[
            DeadlineRow(names[org_id], n, int(late or 0), int(near or 0))
            for org_id, n, late, near in counts
        ]
    )
    overview.low_ratings = list(
        db.session.execute(
            sa.select(AppealRating, Appeal)
            .join(Appeal, Appeal.id == AppealRating.appeal_id)
            .where(scope, AppealRating.score <= 2)
            .order_by(AppealRating.created_at.desc())
            .limit(LIST_LIMIT)
            .options(selectinload(Appeal.executor_organization))
        ).all()
    )
    overview.returned = list(
        db.session.scalars(
            sa.select(Appeal)
            .where(scope, Appeal.bucket == Bucket.RETURNED)
            .order_by(Appeal.answer_due_at)
            .limit(LIST_LIMIT)
            .options(selectinload(Appeal.executor_organization), selectinload(Appeal.executor))
        )
    )
    return overview
