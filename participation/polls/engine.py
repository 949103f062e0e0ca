"""The questionnaire engine: reading answers from a form, checking them, display conditions.

Answers travel as plain JSON-able dicts keyed by the question id (as a string), the same shape
in a draft, in a preview and on submission:

    single / multiple  {"o": [option ids], "other": "text for «Другое»"}
    text               {"t": "…"}
    number / scale     {"n": 4.5}
    date               {"d": "2026-05-01"}
    matrix             {"m": {"row id": column option id}}
    ranking            {"r": {"option id": place}}

`parse_answers` turns form fields into that shape and checks them; `finalize` re-checks a whole
set (a draft may be older than the questions), drops answers to questions the conditions hide
and finds unanswered mandatory questions. All messages are Russian and meant for the resident.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from participation.core.cache import KeyedCached
from participation.core.i18n import number as format_number
from participation.core.limits import NUL_REFUSED
from participation.extensions import db
from participation.polls.models import (
    OptionRole,
    QuestionKind,
    SurveyCondition,
    SurveyOption,
    SurveyQuestion,
    SurveySection,
    TextStatus,
)

DEFAULT_TEXT_LIMIT = 2000
OTHER_TEXT_LIMIT = 500
Answers = dict[str, dict[str, Any]]


class AnswerError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Questionnaire:
    """A survey's sections, questions (in order), options and display conditions."""

    sections: list[SurveySection]
    questions: list[SurveyQuestion]
    section_of: dict[int, int]  # question id → index of its section
    conditions: dict[int, set[int]] = field(default_factory=dict)  # question → option ids
    condition_source: dict[int, int] = field(default_factory=dict)  # question → source question
    option_question: dict[int, int] = field(default_factory=dict)  # option → its question

    @property
    def by_id(self) -> dict[int, SurveyQuestion]:
        return {q.id: q for q in self.questions}

    def section_questions(self, index: int) -> list[SurveyQuestion]:
        return [q for q in self.questions if self.section_of[q.id] == index]

    def number_of(self, question_id: int) -> int:
        """The question's number as residents see it: 1, 2, 3… across sections."""
        return next(i for i, q in enumerate(self.questions, 1) if q.id == question_id)


@dataclass(frozen=True)
class OptionFacts:
    """A survey option as plain values (what checking and storing answers read)."""

    id: int
    question_id: int
    role: OptionRole
    position: int
    text: str
    is_other: bool


@dataclass(frozen=True)
class QuestionFacts:
    """A survey question as plain values, with the attributes the engine reads."""

    id: int
    survey_id: int
    section_id: int
    position: int
    kind: QuestionKind
    text: str
    required: bool
    max_choices: int | None
    max_length: int | None
    min_value: float | None
    max_value: float | None
    scale_max: int | None
    has_other: bool
    options: tuple[OptionFacts, ...]
    choices: tuple[OptionFacts, ...]
    rows: tuple[OptionFacts, ...]


@dataclass(frozen=True)
class SectionFacts:
    id: int
    survey_id: int
    position: int
    title: str


def _facts(qn: Questionnaire) -> Questionnaire:
    """The same questionnaire as plain values, safe to keep beyond its session."""

    def option(o: SurveyOption) -> OptionFacts:
        return OptionFacts(o.id, o.question_id, o.role, o.position, o.text, o.is_other)

    def question(q: SurveyQuestion) -> QuestionFacts:
        options = tuple(option(o) for o in q.options)
        return QuestionFacts(
            id=q.id,
            survey_id=q.survey_id,
            section_id=q.section_id,
            position=q.position,
            kind=q.kind,
            text=q.text,
            required=q.required,
            max_choices=q.max_choices,
            max_length=q.max_length,
            min_value=q.min_value,
            max_value=q.max_value,
            scale_max=q.scale_max,
            has_other=q.has_other,
            options=options,
            choices=tuple(o for o in options if o.role == OptionRole.CHOICE),
            rows=tuple(o for o in options if o.role == OptionRole.ROW),
        )

    return Questionnaire(
        sections=[SectionFacts(s.id, s.survey_id, s.position, s.title) for s in qn.sections],
        questions=[question(q) for q in qn.questions],
        section_of=dict(qn.section_of),
        conditions={k: set(v) for k, v in qn.conditions.items()},
        condition_source=dict(qn.condition_source),
        option_question=dict(qn.option_question),
    )


QUESTIONNAIRES = KeyedCached(
    "polls.questionnaire",
    lambda _session, survey_id: _facts(load_questionnaire(survey_id)),
    watch=(SurveySection, SurveyQuestion, SurveyOption, SurveyCondition),
)


def questionnaire_facts(survey_id: int, generation: int | None = None) -> Questionnaire:
    """The survey's questionnaire as plain values, kept per process until its questions change
    (`generation`: that of QUESTIONNAIRES.name, read under the survey's lock by the caller)."""
    return QUESTIONNAIRES.get(db.session, survey_id, generation)


def load_questionnaire(survey_id: int) -> Questionnaire:
    """Load a survey's structure in a fixed number of queries."""
    sections = list(
        db.session.scalars(
            sa.select(SurveySection)
            .where(SurveySection.survey_id == survey_id)
            .order_by(SurveySection.position, SurveySection.id)
            .options(
                selectinload(SurveySection.questions).selectinload(SurveyQuestion.options),
                selectinload(SurveySection.questions).selectinload(SurveyQuestion.image),
            )
        )
    )
    questions: list[SurveyQuestion] = []
    section_of: dict[int, int] = {}
    for index, section in enumerate(sections):
        for question in section.questions:
            questions.append(question)
            section_of[question.id] = index
    qn = Questionnaire(sections=sections, questions=questions, section_of=section_of)
    for question in questions:
        for option in question.options:
            qn.option_question[option.id] = question.id
    rows = db.session.execute(
        sa.select(SurveyCondition.question_id, SurveyCondition.option_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyCondition.question_id)
        .where(SurveyQuestion.survey_id == survey_id)
    )
    for question_id, option_id in rows:
        qn.conditions.setdefault(question_id, set()).add(option_id)
        qn.condition_source[question_id] = qn.option_question[option_id]
    return qn


# --- display conditions -------------------------------------------------------------------


def chosen_options(value: Mapping[str, Any] | None) -> set[int]:
    return set(value.get("o", [])) if value else set()


def visible_question_ids(qn: Questionnaire, answers: Answers) -> set[int]:
    """Questions shown for these answers: a conditional question needs its source question
    shown and one of its trigger options chosen (so hiding cascades down a chain)."""
    visible: set[int] = set()
    for question in qn.questions:
        triggers = qn.conditions.get(question.id)
        if not triggers:
            visible.add(question.id)
            continue
        source = qn.condition_source[question.id]
        if source in visible and chosen_options(answers.get(str(source))) & triggers:
            visible.add(question.id)
    return visible


def rendered_questions(qn: Questionnaire, index: int, answers: Answers) -> list[SurveyQuestion]:
    """The questions to put on the page of section `index`.

    A question whose condition depends on an earlier section is shown or left out by the
    server. One that depends on a question of the same section is always put on the page
    (marked, so the optional script can hide it live; without JavaScript the resident reads
    the hint), and the server ignores its answer on submission if the condition is not met.
    """
    visible = visible_question_ids(qn, answers)
    shown: list[SurveyQuestion] = []
    shown_ids: set[int] = set()
    for question in qn.section_questions(index):
        source = qn.condition_source.get(question.id)
        same_section = source is not None and qn.section_of[source] == index
        if question.id in visible or (same_section and source in shown_ids):
            shown.append(question)
            shown_ids.add(question.id)
    return shown


def next_section(qn: Questionnaire, after: int, answers: Answers) -> int | None:
    """The index of the next section with something to show, or None at the end."""
    for index in range(after + 1, len(qn.sections)):
        if rendered_questions(qn, index, answers):
            return index
    return None


def previous_section(qn: Questionnaire, before: int, answers: Answers) -> int | None:
    for index in range(before - 1, -1, -1):
        if rendered_questions(qn, index, answers):
            return index
    return None


def condition_text(qn: Questionnaire, question: SurveyQuestion) -> str | None:
    """«Ответьте, если в вопросе 2 выбрали «Да»», for the page and the hint."""
    triggers = qn.conditions.get(question.id)
    if not triggers:
        return None
    source = qn.by_id[qn.condition_source[question.id]]
    labels = [f"«{o.text}»" for o in source.options if o.id in triggers]
    return ngettext(
        "Ответьте, если в вопросе %(question)d выбран вариант %(options)s.",
        "Ответьте, если в вопросе %(question)d выбран один из вариантов: %(options)s.",
        len(labels),
        question=qn.number_of(source.id),
        options=", ".join(labels),
    )


# --- reading the form ---------------------------------------------------------------------


def field_name(question: SurveyQuestion, suffix: str = "") -> str:
    return f"q{question.id}{suffix}"


def _values(form: Any, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if v and v.strip()]


def _text(form: Any, name: str) -> str:
    text = (form.get(name) or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise AnswerError(str(NUL_REFUSED))
    return text


def _int(raw: str) -> int:
    if not re.fullmatch(r"\d{1,12}", raw):
        raise AnswerError(
            _("Такого варианта ответа в этом вопросе нет. Выберите вариант из списка.")
        )
    return int(raw)


def _read_choice(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    raw = _values(form, field_name(question))
    if question.kind == QuestionKind.SINGLE and len(raw) > 1:
        raise AnswerError(_("Выберите один вариант ответа."))
    ids = list(dict.fromkeys(_int(v) for v in raw))
    other = _text(form, field_name(question, "_other"))
    if not ids:
        if other and question.has_other:
            raise AnswerError(_("Вы заполнили поле «Другое»: отметьте и сам вариант «Другое»."))
        return None
    value: dict[str, Any] = {"o": ids}
    if other:
        value["other"] = other
    return value


def _read_text(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    text = _text(form, field_name(question))
    return {"t": text} if text else None


def _read_number(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    raw = (form.get(field_name(question)) or "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    raw = raw.replace(",", ".")
    if not re.fullmatch(r"[-+]?\d{1,15}(\.\d{1,6})?", raw):
        raise AnswerError(_("Введите число, например 12 или 3,5."))
    return {"n": float(raw)}


def _read_date(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    raw = (form.get(field_name(question)) or "").strip()
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return {"d": datetime.strptime(raw, fmt).date().isoformat()}
        except ValueError:
            continue
    raise AnswerError(_("Введите дату в формате ДД.ММ.ГГГГ, например 01.09.2026."))


def _read_scale(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    raw = _values(form, field_name(question))
    if not raw:
        return None
    if len(raw) > 1 or not raw[0].isdecimal():
        raise AnswerError(_("Выберите одно значение от 1 до %(max)d.", max=question.scale_max))
    return {"n": int(raw[0])}


def _read_matrix(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    cells: dict[str, int] = {}
    for row in question.rows:
        raw = _values(form, field_name(question, f"_r{row.id}"))
        if len(raw) > 1:
            raise AnswerError(_("В строке «%(row)s» выберите один ответ.", row=row.text))
        if raw:
            cells[str(row.id)] = _int(raw[0])
    return {"m": cells} if cells else None


def _read_ranking(question: SurveyQuestion, form: Any) -> dict[str, Any] | None:
    places: dict[str, int] = {}
    for option in question.choices:
        raw = _values(form, field_name(question, f"_o{option.id}"))
        if raw:
            if not raw[0].isdecimal():
                raise AnswerError(
                    _("Места указываются числами от 1 до %(n)d.", n=len(question.choices))
                )
            places[str(option.id)] = int(raw[0])
    return {"r": places} if places else None


_READERS = {
    QuestionKind.SINGLE: _read_choice,
    QuestionKind.MULTIPLE: _read_choice,
    QuestionKind.TEXT: _read_text,
    QuestionKind.NUMBER: _read_number,
    QuestionKind.DATE: _read_date,
    QuestionKind.SCALE: _read_scale,
    QuestionKind.MATRIX: _read_matrix,
    QuestionKind.RANKING: _read_ranking,
}


def parse_answers(questions: Iterable[SurveyQuestion], form: Any) -> tuple[Answers, dict[int, str]]:
    """Read and check the answers to `questions` from form data; errors by question id."""
    answers: Answers = {}
    errors: dict[int, str] = {}
    for question in questions:
        try:
            value = _READERS[question.kind](question, form)
            if value is not None:
                check_value(question, value)
                answers[str(question.id)] = value
        except AnswerError as exc:
            errors[question.id] = exc.message
    return answers, errors


# --- checking one answer ------------------------------------------------------------------


def _foreign_option() -> AnswerError:
    return AnswerError(
        _("Такого варианта ответа в этом вопросе нет. Обновите страницу и выберите снова.")
    )


def text_limit(question: SurveyQuestion) -> int:
    return question.max_length or DEFAULT_TEXT_LIMIT


def _check_length(text: Any, limit: int) -> None:
    if not isinstance(text, str):
        raise AnswerError(_("Ответ должен быть текстом."))
    if len(text) > limit:
        raise AnswerError(
            _(
                "Ответ длиннее %(limit)d символов (сейчас %(length)d). Сократите его.",
                limit=limit,
                length=len(text),
            )
        )


def _check_choice(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    ids = value.get("o")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise _foreign_option()
    options = {o.id: o for o in question.choices}
    if any(i not in options for i in ids):
        raise _foreign_option()
    if question.kind == QuestionKind.SINGLE and len(ids) != 1:
        raise AnswerError(_("Выберите один вариант ответа."))
    if (
        question.kind == QuestionKind.MULTIPLE
        and question.max_choices
        and len(ids) > question.max_choices
    ):
        raise AnswerError(
            ngettext(
                "Можно выбрать не больше %(num)d варианта.",
                "Можно выбрать не больше %(num)d вариантов.",
                question.max_choices,
            )
        )
    other_chosen = any(options[i].is_other for i in ids)
    other = value.get("other")
    if other_chosen:
        if not other:
            raise AnswerError(_("Вы выбрали «Другое»: укажите, что именно."))
        _check_length(other, OTHER_TEXT_LIMIT)


def _check_number(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    number = value.get("n")
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise AnswerError(_("Введите число, например 12 или 3,5."))
    low, high = question.min_value, question.max_value
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            message = _(
                "Введите число от %(low)s до %(high)s.",
                low=format_number(low, 6),
                high=format_number(high, 6),
            )
        elif low is not None:
            message = _("Введите число не меньше %(low)s.", low=format_number(low, 6))
        else:
            message = _("Введите число не больше %(high)s.", high=format_number(high, 6))
        raise AnswerError(message)


def _check_date(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    try:
        date.fromisoformat(value.get("d", ""))
    except (TypeError, ValueError):
        raise AnswerError(_("Введите дату в формате ДД.ММ.ГГГГ, например 01.09.2026.")) from None


def _check_scale(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    number = value.get("n")
    if (
        isinstance(number, bool)
        or not isinstance(number, int)
        or not 1 <= number <= (question.scale_max or 5)
    ):
        raise AnswerError(_("Выберите одно значение от 1 до %(max)d.", max=question.scale_max))


def _check_matrix(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    cells = value.get("m")
    rows = {str(r.id) for r in question.rows}
    columns = {o.id for o in question.choices}
    if not isinstance(cells, dict) or not cells:
        raise _foreign_option()
    for row, column in cells.items():
        if row not in rows or column not in columns:
            raise _foreign_option()


def _check_ranking(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    places = value.get("r")
    options = {str(o.id) for o in question.choices}
    if not isinstance(places, dict) or not set(places) <= options:
        raise _foreign_option()
    if set(places) != options or sorted(places.values()) != list(range(1, len(options) + 1)):
        raise AnswerError(
            _(
                "Расставьте по местам все варианты, от 1 до %(n)d, не повторяя места.",
                n=len(options),
            )
        )


def _check_text(question: SurveyQuestion, value: Mapping[str, Any]) -> None:
    _check_length(value.get("t"), text_limit(question))


_CHECKS = {
    QuestionKind.SINGLE: _check_choice,
    QuestionKind.MULTIPLE: _check_choice,
    QuestionKind.TEXT: _check_text,
    QuestionKind.NUMBER: _check_number,
    QuestionKind.DATE: _check_date,
    QuestionKind.SCALE: _check_scale,
    QuestionKind.MATRIX: _check_matrix,
    QuestionKind.RANKING: _check_ranking,
}


def check_value(question: SurveyQuestion, value: Any) -> None:
    """Raise AnswerError (Russian) unless `value` is a valid answer to `question`."""
    if not isinstance(value, dict):
        raise AnswerError(_("Ответ не удалось прочитать. Ответьте на вопрос ещё раз."))
    _CHECKS[question.kind](question, value)


def _missing(question: SurveyQuestion, value: Mapping[str, Any] | None) -> str | None:
    if not question.required:
        return None
    if value is None:
        if question.kind == QuestionKind.RANKING:
            return _("Это обязательный вопрос: расставьте варианты по местам.")
        return _("Это обязательный вопрос: ответьте на него.")
    if question.kind == QuestionKind.MATRIX and len(value.get("m", {})) < len(question.rows):
        return _("Это обязательный вопрос: выберите ответ в каждой строке.")
    return None


def required_errors(
    questions: Iterable[SurveyQuestion], answers: Answers, visible: set[int]
) -> dict[int, str]:
    """Mandatory questions among the visible ones that have no (complete) answer."""
    errors = {}
    for question in questions:
        if question.id in visible:
            message = _missing(question, answers.get(str(question.id)))
            if message:
                errors[question.id] = message
    return errors


def finalize(qn: Questionnaire, answers: Answers) -> tuple[Answers, dict[int, str]]:
    """The answers as they will be stored (hidden questions dropped) and what is still wrong."""
    visible = visible_question_ids(qn, answers)
    clean: Answers = {}
    errors: dict[int, str] = {}
    for question in qn.questions:
        if question.id not in visible:
            continue
        value = answers.get(str(question.id))
        if value is None:
            continue
        try:
            check_value(question, value)
        except AnswerError as exc:
            errors[question.id] = exc.message
            continue
        clean[str(question.id)] = value
    for question_id, message in required_errors(qn.questions, clean, visible).items():
        errors.setdefault(question_id, message)
    return clean, errors


# --- rows to store ------------------------------------------------------------------------


def answer_rows(qn: Questionnaire, response_id: int, clean: Answers) -> list[dict[str, Any]]:
    """The `survey_answers` rows for one response's checked answers."""
    rows: list[dict[str, Any]] = []

    def add(question: SurveyQuestion, items: list[dict[str, Any]]) -> None:
        for item_no, item in enumerate(items):
            text = item.get("text_value")
            rows.append(
                {
                    "response_id": response_id,
                    "question_id": question.id,
                    "item_no": item_no,
                    "option_id": item.get("option_id"),
                    "row_id": item.get("row_id"),
                    "number_value": item.get("number_value"),
                    "date_value": item.get("date_value"),
                    "text_value": text,
                    "text_status": TextStatus.PENDING if text is not None else None,
                }
            )

    for question in qn.questions:
        value = clean.get(str(question.id))
        if value is None:
            continue
        kind = question.kind
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            other_ids = {o.id for o in question.choices if o.is_other}
            add(
                question,
                [
                    {"option_id": i, "text_value": value.get("other") if i in other_ids else None}
                    for i in value["o"]
                ],
            )
        elif kind == QuestionKind.TEXT:
            add(question, [{"text_value": value["t"]}])
        elif kind in (QuestionKind.NUMBER, QuestionKind.SCALE):
            add(question, [{"number_value": value["n"]}])
        elif kind == QuestionKind.DATE:
            add(question, [{"date_value": date.fromisoformat(value["d"])}])
        elif kind == QuestionKind.MATRIX:
            order = {r.id: n for n, r in enumerate(question.rows)}
            cells = sorted(value["m"].items(), key=lambda kv: order[int(kv[0])])
            add(question, [{"row_id": int(r), "option_id": c} for r, c in cells])
        elif kind == QuestionKind.RANKING:
            ranked = sorted(value["r"].items(), key=lambda kv: kv[1])
            add(question, [{"option_id": int(o), "number_value": p} for o, p in ranked])
    return rows
