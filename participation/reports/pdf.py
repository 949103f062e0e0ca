"""The governor's report: one to three A4 pages of key figures, problems and overdue, as PDF."""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from participation.core.i18n import number, percent, zone_label
from participation.core.pdf import para, render_pdf, spacer, styles
from participation.reports.summary import KeyFigure, Summary, period_text, show, show_change

HEAD_BACKGROUND = colors.HexColor("#e8edf3")
BETTER, WORSE = "#1b6e2e", "#a4161a"
WIDTH = 175 * mm  # A4 between the base template's margins


@cache
def _style(bold: bool, right: bool, color: str | None) -> ParagraphStyle:
    base = styles()["cell_bold" if bold else "cell"]
    return ParagraphStyle(
        f"{base.name}-{right}-{color}",
        parent=base,
        alignment=TA_RIGHT if right else TA_LEFT,
        textColor=colors.HexColor(color) if color else base.textColor,
    )


def _cell(text: object, *, bold: bool = False, right: bool = False, color: str | None = None):
    return Paragraph(escape(str(text)), _style(bold, right, color))


def _table(header: list[str], rows: list[list[Paragraph]], widths: list[float]) -> Table:
    """A small table; a column's header aligns as its figures do (numbers to the right)."""
    aligned = [
        _cell(h, bold=True, right=bool(rows) and rows[0][n].style.alignment == TA_RIGHT)
        for n, h in enumerate(header)
    ]
    table = Table([aligned, *rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BACKGROUND),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _figure_row(figure: KeyFigure) -> list[Paragraph]:
    color = {"better": BETTER, "worse": WORSE}.get(figure.verdict)
    previous = "—" if figure.previous is None else show(figure.indicator, figure.previous)
    return [
        _cell(figure.indicator.name),
        _cell(show(figure.indicator, figure.value), bold=True, right=True),
        _cell(previous, right=True),
        _cell(show_change(figure), right=True, color=color),
    ]


def build_governor_report(summary: Summary) -> bytes:
    """The report as PDF bytes (pure: everything it shows is in `summary`)."""
    period, previous = period_text(summary.period), period_text(summary.previous)
    stamp = summary.generated_at.strftime("%d.%m.%Y %H:%M")
    zone = zone_label(summary.timezone, summary.generated_at)
    story: list[Flowable] = [
        para("Аналитическая справка о работе с сообщениями граждан", "title"),
        para(summary.scope_name, "subtitle"),
        para(f"Период: {period}"),
        para(f"Для сравнения — предыдущий период: {previous}"),
        para(f"Сформировано {stamp}, {zone}.", "small"),
        spacer(3),
        para("Ключевые показатели", "h2"),
        _table(
            ["Показатель", "За период", "Предыдущий период", "Изменение"],
            [_figure_row(f) for f in summary.figures],
            [75 * mm, 32 * mm, 35 * mm, 33 * mm],
        ),
        spacer(1.5),
        para(
            "«В работе сейчас» и «Просрочено сейчас» — на момент формирования справки, "
            "с предыдущим периодом не сравниваются. Зелёным отмечено изменение к лучшему, "
            "красным — к худшему.",
            "small",
        ),
        para("Частые проблемы", "h2"),
    ]
    if summary.problems:
        story.append(
            _table(
                ["№", "Подкатегория", "Категория", "Сообщений", "Предыдущий период"],
                [
                    [
                        _cell(n, right=True),
                        _cell(p.subcategory),
                        _cell(p.category),
                        _cell(number(p.received, 0), bold=True, right=True),
                        _cell(number(p.previous, 0), right=True),
                    ]
                    for n, p in enumerate(summary.problems, 1)
                ],
                [10 * mm, 65 * mm, 45 * mm, 25 * mm, 30 * mm],
            )
        )
    else:
        story.append(para("За период сообщений не поступало."))
    story.append(para("Организации с наибольшим числом просроченных сообщений", "h2"))
    if summary.overdue:
        story.append(
            _table(
                ["№", "Организация", "Просрочено сейчас", "В работе сейчас", "Ответ в срок"],
                [
                    [
                        _cell(n, right=True),
                        _cell(o.organization),
                        _cell(number(o.overdue, 0), bold=True, right=True, color=WORSE),
                        _cell(number(o.in_work, 0), right=True),
                        _cell(
                            "—" if o.on_time is None else percent(o.on_time),
                            right=True,
                        ),
                    ]
                    for n, o in enumerate(summary.overdue, 1)
                ],
                [10 * mm, 85 * mm, 27 * mm, 27 * mm, 26 * mm],
            )
        )
        story.append(spacer(1.5))
        story.append(
            para("«Ответ в срок» — доля ответов за период, данных не позже срока.", "small")
        )
    else:
        story.append(para("Просроченных сообщений нет."))
    return render_pdf(
        story,
        title=f"Аналитическая справка: {summary.scope_name}, {period}",
        generated_at=summary.generated_at.replace(tzinfo=None),
        footer=summary.scope_name,
    )
