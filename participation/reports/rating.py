"""The rating of a region's municipalities or organizations from weighted indicators.

Each indicator is scaled 0…1 across the compared units (min–max, the best gets 1 whichever way
is better), the score is the weighted sum out of 100. A unit without data for an indicator (no
ratings in the period, say) is scored on its other indicators: that weight is spread over them
in proportion to their weights, and the cell says so. Equal scores (to 0.1) share a place,
written «3–4». The region's curator sets the weights; without them the defaults below apply.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.core import audit
from participation.core.i18n import number, percent
from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.reports import participation, reference
from participation.reports.definitions import BY_CODE, Better, Block, Indicator, Unit
from participation.reports.models import AppealMonthByOrganization, RatingWeight
from participation.reports.services import Cut, Grain, Period, Row, Scope, breakdown, read

# The indicators of the rating and their weights when the region has set none (sum 100).
DEFAULT_WEIGHTS: dict[str, float] = {
    "answered_on_time_share": 30,
    "rated_high_share": 15,
    "rating_avg": 10,
    "overdue_now": 10,
    "connected_municipalities_share": 5,
    "votes_held": 8,
    "ballots_cast": 7,
    "hearings_held": 8,
    "hearing_remarks": 7,
}
CODES = tuple(DEFAULT_WEIGHTS)
assert all(BY_CODE[c].better != Better.NEUTRAL for c in CODES)

# Why a cell has no value: said in the cell, per indicator.
MISSING = {
    "answered_on_time_share": _l("нет ответов за период"),
    "rated_high_share": _l("нет оценок за период"),
    "rating_avg": _l("нет оценок за период"),
    "connected_municipalities_share": _l("к организациям не относится"),
}
NO_DATA = _l("нет данных")
# Which counter a share or an average is taken over (for «менее 5 оценок» on public pages).
BASE = {
    "answered_on_time_share": "answered",
    "rated_high_share": "ratings",
    "rating_avg": "ratings",
}
# Organizations compared in the organizations' rating (ЦУР, the operator, federal bodies
# do not answer the region's messages as its own bodies do).
RATED_KINDS = (
    OrganizationKind.REGIONAL,
    OrganizationKind.MUNICIPAL,
    OrganizationKind.INSTITUTION,
    OrganizationKind.MANAGEMENT_COMPANY,
)
TIE_DIGITS = 1


class RatingOf(enum.StrEnum):
    MUNICIPALITIES = "municipalities"
    ORGANIZATIONS = "organizations"


RATING_OF_LABELS = {
    RatingOf.MUNICIPALITIES: _l("Муниципальные образования"),
    RatingOf.ORGANIZATIONS: _l("Организации"),
}


@dataclass
class Cell:
    code: str
    value: float | int | None  # the indicator's own value
    scaled: float | None = None  # 0…1 across the units; None without data
    base: int | None = None  # the count a share is taken over
    missing: str | None = None  # why there is no value


@dataclass
class RatingRow:
    key: int
    label: str
    cells: dict[str, Cell]
    score: float | None = None  # 0…100
    place: str = "—"
    notes: list[str] = field(default_factory=list)


@dataclass
class Rating:
    region_id: int
    period: Period
    of: RatingOf
    weights: dict[str, float]
    default_weights: bool
    rows: list[RatingRow]

    @property
    def indicators(self) -> list[Indicator]:
        return [BY_CODE[c] for c in CODES]

    def share_of_weight(self, code: str) -> float:
        total = sum(self.weights.values())
        return self.weights.get(code, 0) / total if total else 0.0


# --- weights ---------------------------------------------------------------------------------


def region_weights(region_id: int) -> tuple[dict[str, float], bool]:
    """The region's weights (every rating indicator) and whether they are the defaults."""
    stored = dict(
        read(
            sa.select(RatingWeight.indicator, RatingWeight.weight).where(
                RatingWeight.region_id == region_id, RatingWeight.indicator.in_(CODES)
            )
        ).all()
    )
    if not stored:
        return dict(DEFAULT_WEIGHTS), True
    return {code: float(stored.get(code, 0)) for code in CODES}, False


def weights_problem(weights: Mapping[str, float]) -> str | None:
    """What is wrong with a set of weights as a whole (each is already 0…100), if anything."""
    if sum(weights.get(code, 0) for code in CODES) <= 0:
        return _("Хотя бы один вес должен быть больше нуля: иначе рейтинг не из чего считать.")
    return None


def save_weights(region_id: int, weights: Mapping[str, float], actor: Any) -> None:
    """Store the region's weights (one row per indicator) and record who changed what."""
    for code in CODES:
        value = float(weights[code])
        if not (0 <= value <= 100) or math.isnan(value):
            raise ValueError(f"weight of {code} out of range: {value}")
    if weights_problem(weights):
        raise ValueError("all weights are zero")
    before, _default = region_weights(region_id)
    rows = {
        r.indicator: r
        for r in db.session.scalars(
            sa.select(RatingWeight).where(RatingWeight.region_id == region_id)
        )
    }
    for code in CODES:
        row = rows.get(code)
        if row is None:
            row = RatingWeight(region_id=region_id, indicator=code)
            db.session.add(row)
        row.weight = float(weights[code])
        row.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(
        "reports.rating_weights_changed",
        object_type="territories",
        object_id=region_id,
        actor_id=getattr(actor, "id", None),
        before=before,
        after={code: float(weights[code]) for code in CODES},
    )


# --- the rating --------------------------------------------------------------------------------


def _units(region_id: int, of: RatingOf) -> list[tuple[int, str]]:
    if of == RatingOf.MUNICIPALITIES:
        return list(reference.municipalities(region_id))
    pl = participation.places()
    return [
        (i, short or name)
        for i, name, short in read(
            sa.select(Organization.id, Organization.name, Organization.short_name)
            .join(pl, pl.c.id == Organization.territory_id)
            .where(pl.c.region_id == region_id, Organization.kind.in_(RATED_KINDS))
            .order_by(Organization.name, Organization.id)
        )
    ]


def _values(region_id: int, period: Period, of: RatingOf) -> dict[Any, tuple[Row, Row]]:
    cut = Cut.MUNICIPALITY if of == RatingOf.MUNICIPALITIES else Cut.ORGANIZATION
    scope = Scope(region_id=region_id)
    messages = {row.key: row for row in breakdown(scope, period, cut)}
    taking_part = {row.key: row for row in participation.breakdown(scope, period, cut)}
    empty = Row(key=None, label="")
    return {
        key: (messages.get(key, empty), taking_part.get(key, empty))
        for key in {*messages, *taking_part}
    }


def _cell(code: str, messages: Row, taking_part: Row, of: RatingOf) -> Cell:
    indicator = BY_CODE[code]
    source = taking_part if indicator.block == Block.PARTICIPATION else messages
    value = source.values.get(code)
    if value is None and indicator.unit == Unit.COUNT:
        value = 0  # nothing happened: a count of zero, not missing data
    base_name = BASE.get(code)
    base = int(messages.counters.get(base_name, 0)) if base_name else None
    if code == "connected_municipalities_share" and of == RatingOf.MUNICIPALITIES:
        base = None
    missing = None if value is not None else str(MISSING.get(code, NO_DATA))
    return Cell(code=code, value=value, base=base, missing=missing)


def _scale(rows: list[RatingRow]) -> None:
    for code in CODES:
        known = [r.cells[code].value for r in rows if r.cells[code].value is not None]
        if not known:
            continue
        low, high = min(known), max(known)
        down = BY_CODE[code].better == Better.DOWN
        for r in rows:
            cell = r.cells[code]
            if cell.value is None:
                continue
            if high == low:
                cell.scaled = 1.0  # nobody lags behind
            else:
                part = (cell.value - low) / (high - low)
                cell.scaled = 1.0 - part if down else part


def _score(row: RatingRow, weights: Mapping[str, float]) -> None:
    known = [c for c in CODES if row.cells[c].scaled is not None and weights.get(c, 0) > 0]
    lost = [c for c in CODES if row.cells[c].scaled is None and weights.get(c, 0) > 0]
    weight = sum(weights[c] for c in known)
    if not weight:
        row.score = None
        row.notes.append(
            _("Нет данных ни по одному показателю с ненулевым весом: место не присвоено.")
        )
        return
    row.score = 100 * sum(weights[c] * row.cells[c].scaled for c in known) / weight
    if lost:
        names = ", ".join(f"«{BY_CODE[c].name}»" for c in lost)
        row.notes.append(
            _(
                "Нет данных: %(names)s. Их вес распределён между остальными показателями "
                "пропорционально их весам.",
                names=names,
            )
        )


def _place(rows: list[RatingRow]) -> list[RatingRow]:
    scored = sorted(
        (r for r in rows if r.score is not None),
        key=lambda r: (-round(r.score, TIE_DIGITS), r.label),
    )
    position = 0
    while position < len(scored):
        tied = [
            r
            for r in scored[position:]
            if round(r.score, TIE_DIGITS) == round(scored[position].score, TIE_DIGITS)
        ]
        first, last = position + 1, position + len(tied)
        for r in tied:
            r.place = str(first) if first == last else f"{first}–{last}"
            if first != last:
                r.notes.append(_("Одинаковый итоговый балл: место делят %(n)s.", n=len(tied)))
        position = last
    unscored = sorted((r for r in rows if r.score is None), key=lambda r: r.label)
    return scored + unscored


def compute_rating(
    region_id: int, period: Period, of: RatingOf = RatingOf.MUNICIPALITIES
) -> Rating:
    """The region's rating of municipalities or organizations over the period."""
    weights, default = region_weights(region_id)
    values = _values(region_id, period, of)
    empty = Row(key=None, label="")
    rows = []
    for key, label in _units(region_id, of):
        messages, taking_part = values.get(key, (empty, empty))
        cells = {code: _cell(code, messages, taking_part, of) for code in CODES}
        rows.append(RatingRow(key=key, label=label, cells=cells))
    _scale(rows)
    for row in rows:
        _score(row, weights)
    return Rating(region_id, period, of, weights, default, _place(rows))


# --- the period picked on a page -------------------------------------------------------------

PERIOD_GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)


def chosen_period(grain: str | None, day: str | None, today: date) -> Period:
    """The month, quarter or year around `day` (ISO date) — this month when either is unusable."""
    try:
        picked = Grain(grain) if grain else Grain.MONTH
    except ValueError:
        picked = Grain.MONTH
    if picked not in PERIOD_GRAINS:
        picked = Grain.MONTH
    try:
        around = date.fromisoformat(day) if day else today
    except ValueError:
        around = today
    if not (date(2000, 1, 1) <= around <= date(today.year + 1, 12, 31)):
        around = today
    return Period.containing(picked, around)


def region_today(region: Territory) -> date:
    """Today in the region's time zone."""
    return datetime.now(UTC).astimezone(region.tz).date()


# --- presentation helpers shared by the staff and the public pages -------------------------


def show_value(indicator: Indicator, value: float | int | None) -> str:
    """A value as people read it: «12», «56,2 %», «4,3», «2,5 дня»."""
    if value is None:
        return "—"
    if indicator.unit == Unit.SHARE:
        return percent(value)
    if indicator.unit == Unit.COUNT:
        return number(value, 0)
    if indicator.unit == Unit.SCORE:
        return number(value, 2)
    return number(value, 1)


# What the public statistics page shows (reports.views) and the open data repeat (api).
PUBLIC_MESSAGE_CODES = (
    "received",
    "answered",
    "answered_on_time_share",
    "answer_days_avg",
    "overdue_now",
    "rating_avg",
    "rated_high_share",
    "rated_low_share",
)
PUBLIC_HOTSPOTS = 10
SMALL = 5
BASE_WORDS = {
    "answered": _l("менее 5 ответов"),
    "ratings": _l("менее 5 оценок"),
}


def public_value(indicator: Indicator, value: float | int | None, base: int | None = None) -> str:
    """A value for the public: counts under 5 that could point at a person are «менее 5»,
    shares and averages over fewer than 5 items are not shown («менее 5 оценок»)."""
    if value is None:
        return str(NO_DATA)
    if indicator.unit == Unit.COUNT and indicator.personal and 0 < value < SMALL:
        return _("менее 5")
    if base is not None and base < SMALL and indicator.denominator in BASE_WORDS:
        return str(BASE_WORDS[indicator.denominator])
    return show_value(indicator, value)


def method_text(rating: Rating) -> list[str]:
    """How the rating is built, in plain words (shown next to the table)."""
    return [
        _(
            "Каждый показатель приводится к шкале от 0 до 1 среди сравниваемых: лучшее значение "
            "получает 1, худшее — 0, остальные — пропорционально. Для показателей, где лучше "
            "меньше (просроченные сообщения), — наоборот. Если у всех значение одинаковое, все "
            "получают 1."
        ),
        _(
            "Итоговый балл — сумма показателей, умноженных на их веса, от 0 до 100. Веса задаёт "
            "куратор региона; пока он их не задал, действуют веса по умолчанию."
        ),
        _(
            "Если у муниципалитета или организации нет данных по показателю (например, за "
            "период не было ни одной оценки), этот показатель не считается нулём: его вес "
            "распределяется между остальными показателями пропорционально их весам. Об этом "
            "сказано в строке."
        ),
        _(
            "Одинаковый балл (с точностью до 0,1) — общее место, например «3–4». Без данных "
            "ни по одному показателю место не присваивается."
        ),
        _(
            "«Просрочено сейчас» и «Подключено муниципалитетов» — число сообщений и доля "
            "подключённых на текущий момент (подключение — на конец периода); остальные "
            "показатели — за выбранный период. Число просроченных сравнивается как есть, без "
            "пересчёта на численность населения."
        ),
    ]


# --- regions shown on the public page --------------------------------------------------------


def regions_with_data() -> list[Territory]:
    """Regions with messages in the rollup or a municipal administration on the platform."""
    pl = participation.places()
    with_admin = (
        sa.select(pl.c.region_id)
        .join(Organization, Organization.territory_id == pl.c.id)
        .where(Organization.kind == OrganizationKind.MUNICIPAL)
    )
    # (the month summary is a few hundred rows a month; the day table can be millions)
    with_messages = sa.exists().where(AppealMonthByOrganization.region_id == Territory.id)
    return list(
        db.session.scalars(
            sa.select(Territory)
            .where(
                Territory.level == TerritoryLevel.REGION,
                sa.or_(Territory.id.in_(with_admin), with_messages),
            )
            .order_by(Territory.name)
        )
    )
