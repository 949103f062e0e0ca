"""What the governor's PDF and the daily digest tell: key figures against the previous period,
the most frequent problems and the organizations with most overdue messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.appeals.classifier import Category, Subcategory
from participation.core.i18n import number, percent
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.reports.definitions import BY_CODE, Better, Indicator, Source, Unit
from participation.reports.services import Cut, Period, Scope, breakdown, figures, read

KEY_INDICATORS = (
    "received",
    "answered",
    "answered_on_time_share",
    "answer_days_avg",
    "answer_days_median",
    "in_work_now",
    "overdue_now",
    "returned_for_rework",
    "rating_avg",
    "rated_high_share",
    "rated_low_share",
    "escalated",
)
TOP = 10


@dataclass(frozen=True)
class KeyFigure:
    indicator: Indicator
    value: float | int | None
    previous: float | int | None  # None for «now» figures: the period does not change them

    @property
    def change(self) -> float | None:
        if self.indicator.source == Source.SNAPSHOT or self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def verdict(self) -> str:
        """ "better", "worse" or "" (no change, no comparison, or a neutral indicator)."""
        change = self.change
        if not change or self.indicator.better == Better.NEUTRAL:
            return ""
        up = change > 0
        return "better" if up == (self.indicator.better == Better.UP) else "worse"


@dataclass(frozen=True)
class Problem:
    subcategory: str
    category: str
    received: int
    previous: int


@dataclass(frozen=True)
class Overdue:
    organization: str
    overdue: int
    in_work: int
    on_time: float | None  # share answered on time over the period


@dataclass(frozen=True)
class Summary:
    scope_name: str
    timezone: str
    period: Period
    previous: Period
    figures: list[KeyFigure]
    problems: list[Problem]
    overdue: list[Overdue]
    generated_at: datetime  # in the scope's time zone


def show(indicator: Indicator, value: float | int | None) -> str:
    """A figure as people read it: «1 234», «56,2 %», «3,4 дня» written as «3,4»."""
    if value is None:
        return "—"
    if indicator.unit == Unit.SHARE:
        return percent(value)
    if indicator.unit in (Unit.DAYS, Unit.SCORE):
        return number(value, 1 if indicator.unit == Unit.DAYS else 2)
    return number(value, 0)


def show_change(figure: KeyFigure) -> str:
    """«+12», «−3,5 п. п.», «без изменений», «—» (no comparison)."""
    change = figure.change
    if change is None:
        return "—"
    if abs(change) < 1e-9:
        return _("без изменений")
    sign = "+" if change > 0 else "−"
    if figure.indicator.unit == Unit.SHARE:
        points = _("п. п.")  # percentage points
        return f"{sign}{number(abs(change) * 100, 1)} {points}"
    digits = 0 if figure.indicator.unit == Unit.COUNT else 1
    return f"{sign}{number(abs(change), digits)}"


def key_figures(scope: Scope, period: Period) -> list[KeyFigure]:
    """The key indicators of the period and of the period before it."""
    now, before = figures(scope, period).values, figures(scope, period.previous()).values
    return [
        KeyFigure(
            BY_CODE[code],
            now.get(code),
            None if BY_CODE[code].source == Source.SNAPSHOT else before.get(code),
        )
        for code in KEY_INDICATORS
    ]


def top_problems(scope: Scope, period: Period, limit: int = TOP) -> list[Problem]:
    """The subcategories with most messages received, and how many the period before."""
    rows = [r for r in breakdown(scope, period, Cut.SUBCATEGORY) if r.values.get("received")]
    rows.sort(key=lambda r: (-int(r.values["received"] or 0), r.label))
    rows = rows[:limit]
    if not rows:
        return []
    before = {
        r.key: int(r.values.get("received") or 0)
        for r in breakdown(scope, period.previous(), Cut.SUBCATEGORY)
    }
    categories = dict(
        read(
            sa.select(Subcategory.id, Category.name)
            .join(Category, Category.id == Subcategory.category_id)
            .where(Subcategory.id.in_([r.key for r in rows]))
        ).all()
    )
    return [
        Problem(
            r.label, categories.get(r.key, ""), int(r.values["received"] or 0), before.get(r.key, 0)
        )
        for r in rows
    ]


def most_overdue(scope: Scope, period: Period, limit: int = TOP) -> list[Overdue]:
    """The organizations with most overdue messages now (ties: more in work first)."""
    rows = [r for r in breakdown(scope, period, Cut.ORGANIZATION) if r.values.get("overdue_now")]
    rows.sort(key=lambda r: (-int(r.values["overdue_now"]), -int(r.values["in_work_now"]), r.label))
    return [
        Overdue(
            r.label,
            int(r.values["overdue_now"]),
            int(r.values["in_work_now"]),
            r.values.get("answered_on_time_share"),
        )
        for r in rows[:limit]
    ]


def scope_name(scope: Scope, organization: Organization | None = None) -> str:
    """«Республика Башкортостан» or «Администрация г. Уфы (Республика Башкортостан)»."""
    region = read(sa.select(Territory.name).where(Territory.id == scope.region_id)).scalar_one()
    if organization is not None and scope.organization_ids is not None:
        return f"{organization.name} ({region})"
    if scope.municipality_id is not None:
        name = read(
            sa.select(Territory.name).where(Territory.id == scope.municipality_id)
        ).scalar_one()
        return f"{name} ({region})"
    return region


def summarize(
    scope: Scope,
    period: Period,
    *,
    name: str,
    timezone: str,
    generated_at: datetime,
    problems: int = TOP,
) -> Summary:
    """Everything the governor's report shows, counted."""
    return Summary(
        scope_name=name,
        timezone=timezone,
        period=period,
        previous=period.previous(),
        figures=key_figures(scope, period),
        problems=top_problems(scope, period, problems),
        overdue=most_overdue(scope, period),
        generated_at=generated_at,
    )


def period_text(period: Period) -> str:
    """«01.05.2026» or «01.05.2026 — 31.05.2026»."""
    start, end = period.start.strftime("%d.%m.%Y"), period.end.strftime("%d.%m.%Y")
    return start if period.start == period.end else f"{start} — {end}"


def local_today(timezone: str, now: datetime) -> date:
    """The calendar day it is at `now` in `timezone`."""
    return now.astimezone(ZoneInfo(timezone)).date()
