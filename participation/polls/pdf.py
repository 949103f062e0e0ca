"""The PDF report of a survey: settings, totals with charts, breakdowns, published texts."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether

from participation.core.charts import Bar, bar_drawing
from participation.core.db import utcnow
from participation.core.i18n import local_datetime, number, percent, zone_label
from participation.core.pdf import (
    FONT_BOLD,
    chunked_table,
    key_values,
    para,
    register_fonts,
    render_pdf,
    spacer,
)
from participation.extensions import db
from participation.polls.models import QuestionKind, Survey, SurveyAnswer, TextStatus
from participation.polls.results import (
    DIMENSION_LABELS,
    KIND_LABELS,
    Breakdown,
    QuestionResult,
    SurveyResults,
)

CONTENT_WIDTH = 175 * mm
GROUPS_PER_TABLE = 5
TEXTS_IN_REPORT = 20
HEADER_SIZE = 8.5  # core.pdf's «cell_bold»
CELL_PADDING = 6  # ReportLab's default left and right padding of a table cell


def question_bars(result: QuestionResult) -> list[Bar]:
    """The bars of a question's chart (shared by the page and the PDF)."""
    kind = result.kind
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return [
            Bar(o.option.text, o.count, f"{o.count} ({percent(o.share)})") for o in result.options
        ]
    if kind == QuestionKind.SCALE:
        return [Bar(str(s.value), s.count, f"{s.count} ({percent(s.share)})") for s in result.scale]
    if kind == QuestionKind.RANKING:
        size = len(result.options)
        return [
            Bar(
                o.option.text,
                (size + 1 - o.mean_rank) if o.mean_rank else 0,
                f"{number(o.mean_rank)} ({o.first_places} × 1-е)",
            )
            for o in result.options
        ]
    return []


def _longest_word(labels: Sequence[str]) -> float:
    """The width a header cell needs so that no word of its label is broken."""
    register_fonts()
    widest = max(
        (stringWidth(word, FONT_BOLD, HEADER_SIZE) for label in labels for word in label.split()),
        default=0.0,
    )
    return widest + 2 * CELL_PADDING + 1


def _question_block(result: QuestionResult, survey: Survey) -> list[Flowable]:
    question = result.question
    block: list[Flowable] = [
        para(f"{result.number}. {question.text}", "h2"),
        para(f"{KIND_LABELS[question.kind]}. Ответили: {result.answered}", "small"),
    ]
    bars = question_bars(result)
    if bars:
        block.append(bar_drawing(bars, CONTENT_WIDTH))
    kind = question.kind
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        block += chunked_table(
            ["Вариант", "Ответов", "Доля"],
            [(o.option.text, o.count, percent(o.share)) for o in result.options],
            (115 * mm, 30 * mm, 30 * mm),
        )
    elif kind == QuestionKind.SCALE:
        block.append(para(f"Среднее значение: {number(result.mean)} из {question.scale_max}"))
    elif kind == QuestionKind.NUMBER:
        block.append(
            para(
                f"Среднее: {number(result.mean)}; наименьшее: {number(result.minimum)}; "
                f"наибольшее: {number(result.maximum)}"
            )
        )
    elif kind == QuestionKind.DATE and result.first_date:
        block.append(
            para(
                f"Самая ранняя дата: {result.first_date:%d.%m.%Y}; "
                f"самая поздняя: {result.last_date:%d.%m.%Y}"
            )
        )
    elif kind == QuestionKind.RANKING:
        block += chunked_table(
            ["Вариант", "Среднее место", "Первых мест"],
            [(o.option.text, number(o.mean_rank), o.first_places) for o in result.options],
            (115 * mm, 30 * mm, 30 * mm),
        )
    elif kind == QuestionKind.MATRIX:
        columns = [o.text for o in question.choices]
        # Each column at least as wide as its longest word («Удовлетворительное» is not cut
        # into «Удовлетворительн / ое»); the rows' labels take what is left, down to 40 mm.
        rest = max((CONTENT_WIDTH - 60 * mm) / max(1, len(columns)), _longest_word(columns))
        width = max(40 * mm, CONTENT_WIDTH - rest * len(columns))
        block += chunked_table(
            ["Строка", *columns],
            [
                (row.text, *(f"{c.count} ({percent(c.share)})" for c in cells))
                for row, _total, cells in result.rows
            ],
            (width, *([rest] * len(columns))),
        )
    if kind == QuestionKind.TEXT or question.has_other:
        approved = result.texts.get(TextStatus.APPROVED, 0)
        total = sum(result.texts.values())
        block.append(para(f"Текстовых ответов: {total}; прошли модерацию: {approved}.", "small"))
        texts = _approved_texts(question.id)
        if texts:
            block += chunked_table(
                ["Опубликованные ответы"], [(t,) for t in texts], (CONTENT_WIDTH,)
            )
    return [KeepTogether(block[:3]), *block[3:], spacer(2)]


def _approved_texts(question_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(SurveyAnswer.text_value)
            .where(
                SurveyAnswer.question_id == question_id,
                SurveyAnswer.text_status == TextStatus.APPROVED,
            )
            .order_by(SurveyAnswer.id)
            .limit(TEXTS_IN_REPORT)
        )
    )


def _breakdown_block(breakdown: Breakdown, results: SurveyResults) -> list[Flowable]:
    groups = breakdown.visible_groups
    block: list[Flowable] = [para(f"Разбивка: {DIMENSION_LABELS[breakdown.dimension]}", "h2")]
    block.append(
        para("Группы: " + "; ".join(f"{g.label} — {g.respondents}" for g in groups), "small")
    )
    hidden = [g for g in breakdown.groups if g.hidden]
    if hidden:
        block.append(
            para(
                f"Скрыто групп с числом ответов меньше пяти (анонимный опрос): {len(hidden)}.",
                "small",
            )
        )
    for result in results.questions:
        question = result.question
        if question.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.SCALE):
            continue
        block.append(para(f"{result.number}. {question.text}", "body"))
        for start in range(0, max(1, len(groups)), GROUPS_PER_TABLE):
            chunk = groups[start : start + GROUPS_PER_TABLE]
            rest = (CONTENT_WIDTH - 60 * mm) / max(1, len(chunk))
            if question.kind == QuestionKind.SCALE:
                rows: Sequence[Sequence[object]] = [
                    (
                        "Среднее",
                        *(number(breakdown.means.get(question.id, {}).get(g.key)) for g in chunk),
                    )
                ]
            else:
                rows = [
                    (
                        o.text,
                        *(
                            f"{breakdown.count(question.id, o.id, g.key)} "
                            f"({percent(breakdown.share(question.id, o.id, g.key))})"
                            for g in chunk
                        ),
                    )
                    for o in question.choices
                ]
            block += chunked_table(
                ["Вариант", *(g.label for g in chunk)], rows, (60 * mm, *([rest] * len(chunk)))
            )
        block.append(spacer(2))
    return block


def build_report(survey: Survey, results: SurveyResults, breakdowns: Sequence[Breakdown]) -> bytes:
    """The survey report as PDF bytes (pure: everything it shows is passed in)."""
    from participation.polls.answering import audience_description

    tz = survey.timezone
    story: list[Flowable] = [
        para(f"Итоги опроса «{survey.title}»", "title"),
        para(survey.organization.name, "subtitle"),
        key_values(
            [
                ("Организатор", survey.organization.name),
                (
                    "Срок проведения",
                    f"{local_datetime(survey.starts_at, tz)} — "
                    f"{local_datetime(survey.closed_at or survey.ends_at, tz)}, "
                    f"{zone_label(tz, survey.starts_at)}",
                ),
                ("Участники", audience_description(survey)),
                ("Режим", "анонимный" if survey.anonymous else "именной"),
                ("Получено ответов", str(results.total)),
            ]
        ),
        spacer(4),
        para("Ответы на вопросы", "h2"),
    ]
    for result in results.questions:
        story += _question_block(result, survey)
    for breakdown in breakdowns:
        story += _breakdown_block(breakdown, results)
    return render_pdf(
        story,
        title=f"Итоги опроса «{survey.title}»",
        generated_at=utcnow().astimezone(ZoneInfo(tz)),
        footer=f"Опрос № {survey.id}.",
    )
