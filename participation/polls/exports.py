"""Exports of responses to CSV and XLSX at constant memory.

Responses are read a page at a time by keyset (id > last id), so memory does not grow with
the survey and a long export can commit its progress between pages. Anonymous surveys export
no person data at all; named ones add the respondent's name. Coarse groups of anonymous
responses are blanked where the group is smaller than MIN_GROUP_SIZE (see results.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.core.exports import stream_csv
from participation.core.exports import write_xlsx as write_xlsx_rows
from participation.core.i18n import local_datetime
from participation.core.territories import Territory
from participation.core.users import Gender, User
from participation.extensions import db
from participation.polls.engine import Questionnaire, load_questionnaire
from participation.polls.models import (
    AgeBand,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    TextStatus,
)
from participation.polls.results import (
    AGE_LABELS,
    GENDER_LABELS,
    MIN_GROUP_SIZE,
    Dimension,
    group_sizes,
)

PAGE_SIZE = 1000
# Up to this many responses an export is made while the official waits; above, by a job.
SYNC_EXPORT_LIMIT = 5000


class Columns:
    """The export's columns and how one response's answers fill them."""

    def __init__(self, survey: Survey, qn: Questionnaire) -> None:
        self.survey = survey
        self.qn = qn
        self.header: list[str] = [_("№ ответа")]
        if not survey.anonymous:
            self.header.append(_("Респондент"))
        self.header += [
            _("Дата и время ответа"),
            _("Возрастная группа"),
            _("Пол"),
            _("Муниципалитет"),
        ]
        self.fixed = len(self.header)
        # (question id, row or option id or None) → column index
        self.slots: dict[tuple[int, int | None], int] = {}
        self.option_text: dict[int, str] = {}
        for n, question in enumerate(qn.questions, 1):
            for option in question.options:
                self.option_text[option.id] = option.text
            title = f"{n}. {question.text}"
            if question.kind == QuestionKind.MATRIX:
                for row in question.rows:
                    self._add((question.id, row.id), f"{title} — {row.text}")
            elif question.kind == QuestionKind.RANKING:
                for option in question.choices:
                    self._add(
                        (question.id, option.id), _("%(q)s — место «%(o)s»", q=title, o=option.text)
                    )
            else:
                self._add((question.id, None), title)
        self.kinds = {q.id: q.kind for q in qn.questions}

    def _add(self, slot: tuple[int, int | None], title: str) -> None:
        self.slots[slot] = len(self.header)
        self.header.append(title)

    def fill(self, row: list[Any], answer: tuple) -> None:
        question_id, option_id, row_id, number_value, date_value, text_value, text_status = answer
        kind = self.kinds.get(question_id)
        if kind is None:
            return
        if text_value is not None and text_status == TextStatus.REJECTED:
            text_value = _("[текст отклонён модератором]")
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            index = self.slots[(question_id, None)]
            label = self.option_text.get(option_id, "")
            if text_value is not None:
                label = f"{label}: {text_value}"
            row[index] = f"{row[index]}; {label}" if row[index] else label
        elif kind == QuestionKind.MATRIX:
            row[self.slots[(question_id, row_id)]] = self.option_text.get(option_id, "")
        elif kind == QuestionKind.RANKING:
            row[self.slots[(question_id, option_id)]] = int(number_value)
        elif kind == QuestionKind.TEXT:
            row[self.slots[(question_id, None)]] = text_value
        elif kind == QuestionKind.SCALE:
            row[self.slots[(question_id, None)]] = int(number_value)
        elif kind == QuestionKind.NUMBER:
            value = number_value
            row[self.slots[(question_id, None)]] = int(value) if value == int(value) else value
        elif kind == QuestionKind.DATE:
            row[self.slots[(question_id, None)]] = (
                date_value if isinstance(date_value, date) else date.fromisoformat(str(date_value))
            )


def iter_rows(survey_id: int, page_size: int | None = None) -> Iterator[list[Any]]:
    """The header, then one row per response: two queries per page of `page_size`.

    Takes an id and loads everything itself: a streamed response runs this generator after
    the view has returned and its session has been closed.
    """
    page_size = page_size or PAGE_SIZE
    survey = db.session.get(Survey, survey_id)
    qn = load_questionnaire(survey.id)
    columns = Columns(survey, qn)
    yield list(columns.header)
    sizes = group_sizes(survey) if survey.anonymous else None
    municipalities = dict(
        db.session.execute(
            sa.select(Territory.id, Territory.name).where(
                Territory.id.in_(
                    sa.select(SurveyResponse.municipality_id)
                    .where(SurveyResponse.survey_id == survey.id)
                    .distinct()
                )
            )
        ).all()
    )
    tz = survey.timezone
    last_id = 0
    number_no = 0
    while True:
        query = (
            sa.select(
                SurveyResponse.id,
                SurveyResponse.submitted_at,
                SurveyResponse.age_band,
                SurveyResponse.gender,
                SurveyResponse.municipality_id,
            )
            .where(SurveyResponse.survey_id == survey.id, SurveyResponse.id > last_id)
            .order_by(SurveyResponse.id)
            .limit(page_size)
        )
        if not survey.anonymous:
            query = query.add_columns(User.last_name, User.first_name, User.middle_name).outerjoin(
                User, User.id == SurveyResponse.respondent_id
            )
        responses = db.session.execute(query).all()
        if not responses:
            return
        ids = [r[0] for r in responses]
        by_response: dict[int, list[tuple]] = defaultdict(list)
        for answer in db.session.execute(
            sa.select(
                SurveyAnswer.response_id,
                SurveyAnswer.question_id,
                SurveyAnswer.option_id,
                SurveyAnswer.row_id,
                SurveyAnswer.number_value,
                SurveyAnswer.date_value,
                SurveyAnswer.text_value,
                SurveyAnswer.text_status,
            )
            .where(SurveyAnswer.response_id.in_(ids))
            .order_by(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.item_no)
        ):
            by_response[answer[0]].append(tuple(answer[1:]))
        for response in responses:
            number_no += 1
            rid, submitted_at, band, gender, municipality_id = response[:5]
            band, gender = _value(band), _value(gender)
            row: list[Any] = [None] * len(columns.header)
            row[0] = number_no
            at = 1
            if not survey.anonymous:
                row[1] = " ".join(p for p in response[5:8] if p)
                at = 2
            row[at] = local_datetime(submitted_at, tz)
            row[at + 1] = str(AGE_LABELS[AgeBand(band)])
            row[at + 2] = str(GENDER_LABELS[Gender(gender) if gender else None])
            row[at + 3] = municipalities.get(municipality_id, "") if municipality_id else ""
            if sizes is not None:
                hidden = _("скрыто (мало ответов)")
                if sizes[Dimension.AGE].get(band, 0) < MIN_GROUP_SIZE:
                    row[at + 1] = hidden
                if sizes[Dimension.GENDER].get(gender, 0) < MIN_GROUP_SIZE:
                    row[at + 2] = hidden
                if sizes[Dimension.MUNICIPALITY].get(municipality_id, 0) < MIN_GROUP_SIZE:
                    row[at + 3] = hidden
            for answer in by_response.get(rid, ()):
                columns.fill(row, answer)
            yield row
        last_id = ids[-1]


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def _with_progress(
    rows: Iterator[list[Any]], progress: Callable[[int], None] | None, counter: list[int]
) -> Iterator[list[Any]]:
    """Pass rows through, counting responses (not the header) and reporting every page."""
    for n, row in enumerate(rows):
        counter[0] = n
        if progress is not None and n and n % PAGE_SIZE == 0:
            progress(n)
        yield row


def write_csv(
    rows: Iterator[list[Any]], path: Path, progress: Callable[[int], None] | None = None
) -> int:
    """Write CSV to `path`; return the number of responses written."""
    counter = [0]
    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in stream_csv(_with_progress(rows, progress, counter)):
            out.write(chunk)
    return counter[0]


def write_xlsx(
    rows: Iterator[list[Any]], path: Path, progress: Callable[[int], None] | None = None
) -> int:
    """Write XLSX with XlsxWriter's constant-memory mode (rows go to disk as written)."""
    counter = [0]
    write_xlsx_rows(_with_progress(rows, progress, counter), path, _("Ответы"))
    return counter[0]
