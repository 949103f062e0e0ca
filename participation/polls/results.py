"""Results counted in SQL: totals per option, means, and breakdowns by age, gender, place.

Every figure comes from one pass over the survey's answers (tally.py), whatever its size and
however many breakdowns are asked for at once: respondents per group, one GROUP BY over the
answers, texts by status, plus the questionnaire's own four queries.

Breakdowns of anonymous surveys hide groups smaller than MIN_GROUP_SIZE: the register tells
who answered, so the answers of a lone respondent from some municipality would otherwise be
readable in its column.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.core.territories import Territory
from participation.core.users import Gender
from participation.extensions import db
from participation.polls.engine import Questionnaire, load_questionnaire
from participation.polls.models import (
    AgeBand,
    QuestionKind,
    Survey,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    TextStatus,
)
from participation.polls.tally import Dimension, count_respondents, count_tally, text_counts

MIN_GROUP_SIZE = 5

AGE_LABELS = {
    AgeBand.UNDER_18: _l("до 18 лет"),
    AgeBand.A18_24: _l("18–24 года"),
    AgeBand.A25_34: _l("25–34 года"),
    AgeBand.A35_44: _l("35–44 года"),
    AgeBand.A45_54: _l("45–54 года"),
    AgeBand.A55_64: _l("55–64 года"),
    AgeBand.A65_PLUS: _l("65 лет и старше"),
    AgeBand.UNKNOWN: _l("возраст не указан"),
}
GENDER_LABELS = {
    Gender.MALE: _l("мужчины"),
    Gender.FEMALE: _l("женщины"),
    None: _l("пол не указан"),
}
KIND_LABELS = {
    QuestionKind.SINGLE: _l("Один вариант"),
    QuestionKind.MULTIPLE: _l("Несколько вариантов"),
    QuestionKind.TEXT: _l("Свободный ответ"),
    QuestionKind.NUMBER: _l("Число"),
    QuestionKind.DATE: _l("Дата"),
    QuestionKind.SCALE: _l("Шкала"),
    QuestionKind.MATRIX: _l("Таблица (матрица)"),
    QuestionKind.RANKING: _l("Ранжирование"),
}


DIMENSION_LABELS = {
    Dimension.AGE: _l("По возрасту"),
    Dimension.GENDER: _l("По полу"),
    Dimension.MUNICIPALITY: _l("По муниципалитетам"),
}


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass
class OptionResult:
    option: SurveyOption
    count: int = 0
    share: float = 0.0
    mean_rank: float | None = None  # ranking
    first_places: int = 0  # ranking


@dataclass
class ScaleValue:
    value: int
    count: int
    share: float


@dataclass
class QuestionResult:
    question: SurveyQuestion
    number: int
    answered: int = 0
    options: list[OptionResult] = field(default_factory=list)
    # matrix: row option → (answered in that row, results per column)
    rows: list[tuple[SurveyOption, int, list[OptionResult]]] = field(default_factory=list)
    mean: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    scale: list[ScaleValue] = field(default_factory=list)
    first_date: date | None = None
    last_date: date | None = None
    texts: dict[TextStatus, int] = field(default_factory=dict)

    @property
    def kind(self) -> QuestionKind:
        return self.question.kind


@dataclass
class SurveyResults:
    survey: Survey
    total: int
    questions: list[QuestionResult]


def response_count(survey_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id)
    )


def totals_raw(survey_id: int, qn: Questionnaire) -> dict[str, Any]:
    """The raw figures behind the totals, as plain JSON-able lists (what a snapshot keeps).

    One GROUP BY pass over the survey's answers: per question, option and matrix row (and
    per value for scales) it counts items, answers (item 0), first places and sums values;
    everything else is added up from those few hundred groups in Python.
    """
    tally, _newer = count_tally(survey_id, qn=qn)
    return tally.totals_raw(text_counts(qn) if tally.total else ())


def assemble_results(survey: Survey, qn: Questionnaire, raw: dict[str, Any]) -> SurveyResults:
    """Turn raw figures (fresh or from a snapshot) into per-question results."""
    results = [QuestionResult(question=q, number=n) for n, q in enumerate(qn.questions, 1)]
    by_id = {r.question.id: r for r in results}
    counts = {(q, o, r): (c, avg, firsts) for q, o, r, c, avg, firsts in raw["options"]}
    for question_id, answered, mean, low, high, first, last in raw["questions"]:
        result = by_id.get(question_id)
        if result is None:
            continue
        result.answered = answered
        if result.kind in (QuestionKind.NUMBER, QuestionKind.SCALE):
            result.mean, result.minimum, result.maximum = mean, low, high
        if result.kind == QuestionKind.DATE:
            result.first_date, result.last_date = _as_date(first), _as_date(last)
    matrix_answered = _matrix_row_answered(counts)
    for result in results:
        _fill_options(result, counts, matrix_answered)
    scale_counts: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, value, count in raw["scale"]:
        scale_counts[question_id][value] = count
    for result in results:
        if result.kind == QuestionKind.SCALE:
            result.scale = [
                ScaleValue(v, c, share(c, result.answered))
                for v in range(1, (result.question.scale_max or 5) + 1)
                for c in [scale_counts[result.question.id].get(v, 0)]
            ]
    for question_id, status, count in raw["texts"]:
        if question_id in by_id:
            by_id[question_id].texts[TextStatus(status)] = count
    return SurveyResults(survey, raw["total"], results)


def compute_results(survey: Survey, qn: Questionnaire | None = None) -> SurveyResults:
    """Totals of every question, each figure from one GROUP BY over the survey."""
    qn = qn or load_questionnaire(survey.id)
    return assemble_results(survey, qn, totals_raw(survey.id, qn))


def compute_with_breakdowns(
    survey: Survey, qn: Questionnaire, dimensions: list[Dimension]
) -> tuple[SurveyResults, list[Breakdown]]:
    """The totals and the breakdowns asked for, from one pass over the answers."""
    tally, _newer = count_tally(survey.id, dimensions, qn=qn)
    results = assemble_results(survey, qn, tally.totals_raw(text_counts(qn) if tally.total else ()))
    return results, [assemble_breakdown(survey, d, tally.breakdown_raw(d)) for d in dimensions]


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _matrix_row_answered(counts: dict) -> dict[tuple[int, int], int]:
    answered: dict[tuple[int, int], int] = defaultdict(int)
    for (question_id, _option_id, row_id), (count, _avg, _firsts) in counts.items():
        if row_id is not None:
            answered[(question_id, row_id)] += count
    return answered


def _fill_options(result: QuestionResult, counts: dict, matrix_answered: dict) -> None:
    question = result.question
    if question.kind == QuestionKind.MATRIX:
        for row in question.rows:
            row_total = matrix_answered.get((question.id, row.id), 0)
            cells = []
            for option in question.choices:
                count = counts.get((question.id, option.id, row.id), (0, None, 0))[0]
                cells.append(OptionResult(option, count, share(count, row_total)))
            result.rows.append((row, row_total, cells))
        return
    if question.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.RANKING):
        return
    for option in question.choices:
        count, mean_rank, firsts = counts.get((question.id, option.id, None), (0, None, 0))
        if question.kind == QuestionKind.RANKING:
            result.options.append(
                OptionResult(option, count, share(firsts, result.answered), mean_rank, firsts)
            )
        else:
            result.options.append(OptionResult(option, count, share(count, result.answered)))
    if question.kind == QuestionKind.RANKING:
        result.options.sort(key=lambda o: (o.mean_rank is None, o.mean_rank or 0))


# --- breakdowns ---------------------------------------------------------------------------------


@dataclass
class Group:
    key: Any
    label: str
    respondents: int
    hidden: bool = False  # too small to show in an anonymous survey


@dataclass
class Breakdown:
    """A cross-tab: for each question, figures per group of respondents."""

    dimension: Dimension
    groups: list[Group]
    # (question, option, row) → group key → count
    counts: dict[tuple[int, int, int | None], dict[Any, int]]
    # question → group key → number who answered it
    answered: dict[int, dict[Any, int]]
    # question → group key → mean value (scales, numbers) or mean place (ranking, by option)
    means: dict[Any, dict[Any, float]]

    @property
    def visible_groups(self) -> list[Group]:
        return [g for g in self.groups if not g.hidden]

    def count(self, question_id: int, option_id: int, group: Any, row_id: int | None = None) -> int:
        return self.counts.get((question_id, option_id, row_id), {}).get(group, 0)

    def share(
        self, question_id: int, option_id: int, group: Any, row_id: int | None = None
    ) -> float:
        if row_id is not None:
            whole = sum(
                v.get(group, 0)
                for (q, _o, r), v in self.counts.items()
                if q == question_id and r == row_id
            )
        else:
            whole = self.answered.get(question_id, {}).get(group, 0)
        return share(self.count(question_id, option_id, group, row_id), whole)


def _group_label(dimension: Dimension, key: Any, names: dict[int, str]) -> str:
    if dimension == Dimension.AGE:
        return str(AGE_LABELS[AgeBand(key)])
    if dimension == Dimension.GENDER:
        return str(GENDER_LABELS[Gender(key) if key else None])
    return names.get(key, str(_l("муниципалитет не указан")))


def _group_order(dimension: Dimension, group: Group) -> tuple:
    if dimension == Dimension.AGE:
        return (list(AgeBand).index(AgeBand(group.key)),)
    if dimension == Dimension.GENDER:
        return ({"M": 0, "F": 1}.get(group.key, 2),)
    return (group.key is None, group.label)


def breakdown_raw(survey: Survey, dimension: Dimension) -> dict[str, Any]:
    """The raw figures of one breakdown, JSON-able: the groups' sizes, then one joined
    GROUP BY pass over the answers (per group, question, option and row)."""
    tally, _newer = count_tally(survey.id, [dimension])
    return tally.breakdown_raw(dimension)


def assemble_breakdown(survey: Survey, dimension: Dimension, raw: dict[str, Any]) -> Breakdown:
    """Turn raw figures into a cross-tab, hiding small groups of anonymous surveys."""
    names: dict[int, str] = {}
    if dimension == Dimension.MUNICIPALITY:
        keys = [k for k, _c in raw["groups"] if k is not None]
        if keys:
            names = dict(
                db.session.execute(
                    sa.select(Territory.id, Territory.name).where(Territory.id.in_(keys))
                ).all()
            )
    groups = [
        Group(
            key=key,
            label=_group_label(dimension, key, names),
            respondents=count,
            hidden=survey.anonymous and count < MIN_GROUP_SIZE,
        )
        for key, count in raw["groups"]
    ]
    groups.sort(key=lambda g: _group_order(dimension, g))
    hidden = {g.key for g in groups if g.hidden}
    counts: dict[tuple[int, int, int | None], dict[Any, int]] = defaultdict(dict)
    means: dict[Any, dict[Any, float]] = defaultdict(dict)
    for key, question_id, option_id, row_id, count, mean in raw["options"]:
        if key in hidden:
            continue
        counts[(question_id, option_id, row_id)][key] = count
        if mean is not None:
            means[(question_id, option_id)][key] = mean
    answered: dict[int, dict[Any, int]] = defaultdict(dict)
    for key, question_id, count, mean in raw["answered"]:
        if key in hidden:
            continue
        answered[question_id][key] = count
        if mean is not None:
            means[question_id][key] = mean
    return Breakdown(dimension, groups, dict(counts), dict(answered), dict(means))


def compute_breakdown(survey: Survey, dimension: Dimension) -> Breakdown:
    """Every question's figures per age band, gender or municipality: three GROUP BY queries."""
    return assemble_breakdown(survey, dimension, breakdown_raw(survey, dimension))


def group_sizes(survey: Survey) -> dict[Dimension, dict[Any, int]]:
    """Respondents per group in each dimension (one small GROUP BY over the responses)."""
    tally, _newer = count_respondents(survey.id, list(Dimension))
    return tally.groups
