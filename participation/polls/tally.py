"""One pass over a survey's answers: the totals and every breakdown at once, as sums that add up.

A breakdown needs each answer joined to its response (for the respondent's age band, gender
and municipality): that join is what a count costs, so it is made once for everything asked.
On PostgreSQL one GROUP BY GROUPING SETS gives the totals' groups and each dimension's groups
from a single scan; elsewhere (SQLite) one GROUP BY over the finest grain is added up into
the same groups in Python (a few hundred to a few thousand rows).

What a pass returns, a `Tally`, keeps counts, sums, minima and maxima rather than shares and
means, so two tallies over disjoint sets of responses add up to the tally of both: a snapshot
keeps the tally of the responses up to some id and brings it up to date by counting only
the newer ones (see snapshots.refresh_results). Answers are written once, with their
response, and never change afterwards, except the moderation status of texts, which is
counted apart (`text_counts`) over the whole survey every time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from participation.extensions import db
from participation.polls.engine import Questionnaire
from participation.polls.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyResponse,
    TextStatus,
)


class Dimension(enum.StrEnum):
    AGE = "age"
    GENDER = "gender"
    MUNICIPALITY = "municipality"


DIMENSION_COLUMNS = {
    Dimension.AGE: SurveyResponse.age_band,
    Dimension.GENDER: SurveyResponse.gender,
    Dimension.MUNICIPALITY: SurveyResponse.municipality_id,
}

# Per (question, option, matrix row) of the totals; SCALE holds, for a scale question, how
# many chose 1, 2, … 10 (counted as ten sums, not grouped by value: a grouped value would make
# PostgreSQL expect millions of groups and sort instead of hashing, see _with_room_to_hash).
ITEMS, ANSWERED, SUM, VALUED, FIRSTS, LOW, HIGH, FIRST, LAST, SCALE = range(10)
SCALE_VALUES = range(1, 11)  # scale_max is 5 or 10 (a CHECK on survey_questions)
# Per (group, question, option, matrix row) of a breakdown: the first four of those.
_ADDED = (ITEMS, ANSWERED, SUM, VALUED, FIRSTS)


@dataclass
class Tally:
    """Counts over a set of responses; `add` merges the counts of another, disjoint set."""

    total: int = 0
    # dimension → group key → respondents
    groups: dict[Dimension, dict[Any, int]] = field(default_factory=dict)
    # (question, option, row) → [items, answered, sum, valued, firsts, low, high, first date,
    # last date, counts per scale value or None]; "answered" counts items numbered 0 (one per
    # answer)
    options: dict[tuple, list] = field(default_factory=dict)
    # dimension → (group key, question, option, row) → [items, answered, sum, valued]
    cells: dict[Dimension, dict[tuple, list]] = field(default_factory=dict)

    def add(self, other: Tally) -> Tally:
        self.total += other.total
        for dimension, sizes in other.groups.items():
            mine = self.groups.setdefault(dimension, {})
            for key, count in sizes.items():
                mine[key] = mine.get(key, 0) + count
        for key, figures in other.options.items():
            _merge(self.options, key, figures)
        for dimension, cells in other.cells.items():
            mine = self.cells.setdefault(dimension, {})
            for key, figures in cells.items():
                _merge(mine, key, figures)
        return self

    # --- what a snapshot keeps (JSON: lists, since keys may be None) --------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "groups": [
                [d.value, k, c] for d, sizes in self.groups.items() for k, c in sizes.items()
            ],
            "options": [[*k, *v] for k, v in self.options.items()],
            "cells": [
                [d.value, *k, *v] for d, cells in self.cells.items() for k, v in cells.items()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        tally = cls(total=data["total"])
        for dimension, key, count in data["groups"]:
            tally.groups.setdefault(Dimension(dimension), {})[key] = count
        for q, o, r, *figures in data["options"]:
            tally.options[(q, o, r)] = figures
        for dimension, key, q, o, r, *figures in data["cells"]:
            tally.cells.setdefault(Dimension(dimension), {})[(key, q, o, r)] = figures
        return tally

    # --- the raw figures results.assemble_* read ---------------------------------------------

    def totals_raw(self, texts: Iterable[tuple[int, str, int]] = ()) -> dict[str, Any]:
        """Per option, per question, per scale value; texts by status come from text_counts."""
        raw: dict[str, Any] = {
            "total": self.total,
            "options": [],
            "questions": [],
            "scale": [],
            "texts": [],
        }
        if not self.total:
            return raw
        per_question: dict[int, list] = {}
        options: dict[tuple[int, int, int | None], list] = {}
        for (q, o, r), f in self.options.items():
            agg = per_question.setdefault(q, [0, 0.0, 0, None, None, None, None])
            agg[0] += f[ANSWERED]
            agg[1] += f[SUM]
            agg[2] += f[VALUED]
            agg[3] = _pick(min, agg[3], f[LOW])
            agg[4] = _pick(max, agg[4], f[HIGH])
            agg[5] = _pick(min, agg[5], f[FIRST])
            agg[6] = _pick(max, agg[6], f[LAST])
            if o is not None:
                entry = options.setdefault((q, o, r), [0, 0.0, 0, 0])
                entry[0] += f[ITEMS]
                entry[1] += f[SUM]
                entry[2] += f[VALUED]
                entry[3] += f[FIRSTS]
            if f[SCALE]:
                raw["scale"] += [
                    [q, v, c] for v, c in zip(SCALE_VALUES, f[SCALE], strict=True) if c
                ]
        raw["options"] = [
            [q, o, r, items, (total / valued) if valued else None, firsts]
            for (q, o, r), (items, total, valued, firsts) in options.items()
        ]
        raw["questions"] = [
            [q, answered, (total / valued) if valued else None, low, high, first, last]
            for q, (answered, total, valued, low, high, first, last) in per_question.items()
        ]
        raw["texts"] = [[q, status, count] for q, status, count in texts if count]
        return raw

    def breakdown_raw(self, dimension: Dimension) -> dict[str, Any]:
        """One dimension's groups, and per group its figures by option and by question."""
        options = []
        answered: dict[tuple[Any, int], list] = {}
        for (key, q, o, row), f in self.cells.get(dimension, {}).items():
            if o is not None:
                mean = (f[SUM] / f[VALUED]) if f[VALUED] else None
                options.append([key, q, o, row, f[ITEMS], mean])
            entry = answered.setdefault((key, q), [key, q, 0, 0.0, 0])
            entry[2] += f[ANSWERED]
            entry[3] += f[SUM]
            entry[4] += f[VALUED]
        return {
            "groups": [[k, c] for k, c in self.groups.get(dimension, {}).items()],
            "options": options,
            "answered": [
                [key, q, count, (total / valued) if valued else None]
                for key, q, count, total, valued in answered.values()
            ],
        }


def _merge(into: dict[tuple, list], key: tuple, figures: list) -> None:
    mine = into.get(key)
    if mine is None:
        into[key] = list(figures)
        return
    for i in _ADDED:
        if i < len(figures):
            mine[i] += figures[i]
    if len(figures) > LOW:
        mine[LOW] = _pick(min, mine[LOW], figures[LOW])
        mine[HIGH] = _pick(max, mine[HIGH], figures[HIGH])
        mine[FIRST] = _pick(min, mine[FIRST], figures[FIRST])
        mine[LAST] = _pick(max, mine[LAST], figures[LAST])
        if figures[SCALE]:
            mine[SCALE] = [
                a + b
                for a, b in zip(mine[SCALE] or [0] * len(SCALE_VALUES), figures[SCALE], strict=True)
            ]


def _pick(choose, current: Any, new: Any) -> Any:
    if new is None:
        return current
    return new if current is None else choose(current, new)


def _key(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdRange:
    """Responses with after < id <= upto (either bound may be absent); those with
    id <= settled_upto are counted apart from the others (see snapshots.refresh_results)."""

    after: int | None = None
    upto: int | None = None
    settled_upto: int | None = None

    def where(self, column) -> list:
        bounds = []
        if self.after is not None:
            bounds.append(column > self.after)
        if self.upto is not None:
            bounds.append(column <= self.upto)
        return bounds


def count_tally(
    survey_id: int,
    dimensions: Sequence[Dimension] = (),
    *,
    qn: Questionnaire | None = None,
    ids: IdRange = IdRange(),
) -> tuple[Tally, Tally]:
    """Count the responses in `ids` in two statements: respondents per group, then the
    answers in one pass for the totals (when `qn` is given) and every dimension asked for.

    Returns (settled, newer): the responses up to `ids.settled_upto`, then the others; without
    settled_upto everything is in the first.

    The respondents are counted first: a response committed between the two statements is
    then in the answers and not in the count, which the next refresh sees (see snapshots).
    """
    tallies = count_respondents(survey_id, dimensions, ids)
    totals = qn is not None
    if (totals and not qn.questions) or not (totals or dimensions):
        return tallies
    if tallies[0].total + tallies[1].total:
        _count_answers(survey_id, qn, dimensions, ids, tallies)
    return tallies


def _settled_flag(ids: IdRange):
    if ids.settled_upto is None:
        return None
    return sa.case((SurveyResponse.id <= ids.settled_upto, 1), else_=0).label("settled")


def count_respondents(
    survey_id: int,
    dimensions: Sequence[Dimension] = (),
    ids: IdRange = IdRange(),
) -> tuple[Tally, Tally]:
    """Respondents in all and per group of each dimension, in one GROUP BY over the
    responses; (settled, newer) as in count_tally."""
    tallies = (Tally(), Tally())
    r = SurveyResponse
    columns = [DIMENSION_COLUMNS[d] for d in dimensions]
    flag = _settled_flag(ids)
    keys = [*columns, *([flag] if flag is not None else [])]
    stmt = sa.select(*keys, sa.func.count()).where(r.survey_id == survey_id, *ids.where(r.id))
    if keys:
        stmt = stmt.group_by(*keys)
    for tally in tallies:
        for dimension in dimensions:
            tally.groups[dimension] = {}
    for row in db.session.execute(stmt):
        *values, count = row
        settled = values[len(dimensions)] if flag is not None else 1
        tally = tallies[0 if settled else 1]
        tally.total += count
        for dimension, value in zip(dimensions, values, strict=False):
            sizes = tally.groups[dimension]
            key = _key(value)
            sizes[key] = sizes.get(key, 0) + count
    return tallies


def _count_answers(
    survey_id: int,
    qn: Questionnaire | None,
    dimensions: Sequence[Dimension],
    ids: IdRange,
    tallies: tuple[Tally, Tally],
) -> None:
    r, a = SurveyResponse, SurveyAnswer
    totals = qn is not None
    scale_ids = [q.id for q in qn.questions if q.kind == QuestionKind.SCALE] if totals else []
    flag = _settled_flag(ids)
    inner = sa.select(
        *[DIMENSION_COLUMNS[d].label(d.value) for d in dimensions],
        a.question_id.label("q"),
        a.option_id.label("o"),
        a.row_id.label("r"),
        a.item_no,
        a.number_value,
        a.date_value,
        *([flag] if flag is not None else []),
    ).select_from(a)
    if dimensions or ids != IdRange():
        # The bounds on both sides: on the answers they make a range of their response_id
        # index, so counting the newest responses reads only their answers.
        inner = inner.join(r, r.id == a.response_id).where(
            r.survey_id == survey_id, *ids.where(r.id), *ids.where(a.response_id)
        )
    else:  # the totals alone need no join: the survey's questions name its answers
        inner = inner.where(a.question_id.in_([q.id for q in qn.questions]))
    j = inner.subquery()
    dimension_columns = [j.c[d.value] for d in dimensions]
    answer_keys = [j.c.q, j.c.o, j.c.r]
    split = [j.c.settled] if flag is not None else []
    # Only scale questions need their values counted (other numbers have none of these).
    per_value = (
        [sa.func.count().filter(j.c.number_value == v).label(f"v{v}") for v in SCALE_VALUES]
        if scale_ids
        else []
    )
    # The finest grain first: one hash aggregate (in parallel on PostgreSQL) over the rows.
    finest = sa.select(
        *dimension_columns,
        *answer_keys,
        *split,
        sa.func.count().label("items"),
        sa.func.count().filter(j.c.item_no == 0).label("answered"),
        sa.func.sum(j.c.number_value).label("total"),
        sa.func.count(j.c.number_value).label("valued"),
        *(  # what only the totals show
            [
                sa.func.count().filter(j.c.number_value == 1).label("firsts"),
                sa.func.min(j.c.number_value).label("low"),
                sa.func.max(j.c.number_value).label("high"),
                sa.func.min(j.c.date_value).label("first"),
                sa.func.max(j.c.date_value).label("last"),
                *per_value,
            ]
            if totals
            else []
        ),
    ).group_by(*dimension_columns, *answer_keys, *split)
    sets_wanted = len(dimensions) + (1 if totals else 0)
    if sets_wanted > 1 and db.session.get_bind().dialect.name == "postgresql":
        stmt = _grouping_sets(finest.subquery(), dimensions, totals, bool(split), bool(per_value))
    else:  # SQLite (small surveys): the finest groups are added up here
        stmt = finest
    width = len(dimensions)
    large = tallies[0].total + tallies[1].total > LARGE
    if large and db.session.get_bind().dialect.name == "postgresql":
        rows = _with_room_to_hash(stmt)
    else:
        rows = db.session.execute(stmt).mappings().all()
    for row in rows:
        tally = tallies[0 if flag is None or row["settled"] else 1]
        figures = [
            int(row["items"]),
            int(row["answered"]),
            float(row["total"] or 0),
            int(row["valued"]),
            int(row.get("firsts") or 0),
        ]
        q, o, r_id = row["q"], row["o"], row["r"]
        if "grouping" in row:
            # Which set the row belongs to: GROUPING() has a bit per dimension column, the
            # first one highest, set when the set does not group by it (so a NULL gender
            # "not grouped" is told from a NULL gender "not known").
            missing = row["grouping"]
            if missing == (1 << width) - 1:
                _add_totals(tally, row, figures, scale_ids)
            else:
                d = dimensions[
                    next(i for i in range(width) if not missing & (1 << (width - 1 - i)))
                ]
                _add_cell(tally, d, _key(row[d.value]), q, o, r_id, figures)
            continue
        if totals:
            _add_totals(tally, row, figures, scale_ids)
        for dimension in dimensions:
            _add_cell(tally, dimension, _key(row[dimension.value]), q, o, r_id, figures)


# Past this many responses PostgreSQL is given room to count in memory (_with_room_to_hash).
LARGE = 50_000
# Enough for the hash of a million responses (their ids and groups) and the groups' counts.
COUNT_WORK_MEM = "64MB"


def _with_room_to_hash(stmt) -> list:
    """Run the counting statement with hashing preferred and memory for it, then put the
    settings back (they are the transaction's: SET LOCAL).

    The planner multiplies the distinct values of the grouped columns (3 of the respondent,
    4 of the answer) and expects millions of groups where there are a few thousand: it would
    sort the 25 million joined rows of a million responses on disk (a minute) rather than
    hash them (seconds). With the default 4 MB the join's hash of a million responses would
    spill to disk as well.
    """
    previous = db.session.execute(
        sa.text(
            "SELECT current_setting('work_mem'), current_setting('enable_sort'),"
            " set_config('work_mem', :work_mem, true), set_config('enable_sort', 'off', true)"
        ),
        {"work_mem": COUNT_WORK_MEM},
    ).one()
    rows = db.session.execute(stmt).mappings().all()
    # (Had it failed, the transaction would be rolled back, and the settings with it.)
    db.session.execute(
        sa.text(
            "SELECT set_config('work_mem', :work_mem, true),"
            " set_config('enable_sort', :enable_sort, true)"
        ),
        {"work_mem": previous[0], "enable_sort": previous[1]},
    )
    return rows


def _grouping_sets(
    finest, dimensions: Sequence[Dimension], totals: bool, split: bool, per_value: bool
):
    """PostgreSQL: the totals' and each dimension's groups added up from the finest ones by
    GROUP BY GROUPING SETS over them (a few thousand rows), so only those groups come back.
    (GROUPING SETS straight over the answers would be one serial sorting pass instead.)"""
    f = finest.c
    dimension_columns = [f[d.value] for d in dimensions]
    answer_keys = [f.q, f.o, f.r]
    tail = [f.settled] if split else []
    sets = [sa.tuple_(*answer_keys, *tail)] if totals else []
    sets += [sa.tuple_(f[d.value], *answer_keys, *tail) for d in dimensions]
    return sa.select(
        sa.func.grouping(*dimension_columns).label("grouping"),
        *dimension_columns,
        *answer_keys,
        *tail,
        *[sa.func.sum(f[name]).label(name) for name in ("items", "answered", "total", "valued")],
        *(
            [
                sa.func.sum(f.firsts).label("firsts"),
                sa.func.min(f.low).label("low"),
                sa.func.max(f.high).label("high"),
                sa.func.min(f.first).label("first"),
                sa.func.max(f.last).label("last"),
                *[sa.func.sum(f[f"v{v}"]).label(f"v{v}") for v in SCALE_VALUES if per_value],
            ]
            if totals
            else []
        ),
    ).group_by(sa.func.grouping_sets(*sets))


def _add_totals(tally: Tally, row, figures: list, scale_ids: list[int]) -> None:
    q = row["q"]
    scale = [int(row[f"v{v}"]) for v in SCALE_VALUES] if q in scale_ids else None
    _merge(
        tally.options,
        (q, row["o"], row["r"]),
        [
            *figures,
            _float(row["low"]),
            _float(row["high"]),
            _iso(row["first"]),
            _iso(row["last"]),
            scale,
        ],
    )


def _add_cell(
    tally: Tally, dimension: Dimension, key: Any, q: int, o: int | None, r: int | None, figures
) -> None:
    _merge(tally.cells.setdefault(dimension, {}), (key, q, o, r), figures[:4])


def text_counts(qn: Questionnaire) -> list[tuple[int, str, int]]:
    """Texts per question and moderation status, over the whole survey: moderation changes
    them after the fact, so a snapshot never keeps them, it counts them again (an index)."""
    ids = [q.id for q in qn.questions if q.kind == QuestionKind.TEXT or q.has_other]
    if not ids:
        return []
    a = SurveyAnswer
    return [
        (q, TextStatus(status).value, count)
        for q, status, count in db.session.execute(
            sa.select(a.question_id, a.text_status, sa.func.count())
            .where(a.question_id.in_(ids), a.text_status.is_not(None))
            .group_by(a.question_id, a.text_status)
        )
    ]
