"""The result protocol (PDF) and the results table (CSV): pure builders returning bytes/chunks.

Results of a national vote run to tens of thousands of rows, so the protocol's table is not a
ReportLab `Table` (tens of microseconds per cell) but `FastTable`: plain-text cells written
straight into the page's content stream, wrapped only when they do not fit, with the header
repeated on every page. It stays linear and builds 20 000 rows in about a second.
"""

from __future__ import annotations

import csv
import io
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import ngettext
from reportlab.lib import colors
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.platypus import Flowable, KeepTogether

from participation.core import pdf
from participation.core.i18n import number, percent
from participation.voting.models import BallotRule, Campaign, Channel
from participation.voting.services import money as _money
from participation.voting.tally import GroupResult, ObjectResult, Tally

FONT_SIZE = 7.5
LEADING = 9.2
PADDING = 2.0
GRID = colors.HexColor("#9aa3ad")
HEADER_FILL = colors.HexColor("#e8edf3")


CAPTION_SIZE = 9.0
# Above this many districts the winners are listed as a table rather than as paragraphs.
MANY_GROUPS = 20
CAPTION_HEIGHT = 16.0


def wrap_text(text: str, width: float, font: str = pdf.FONT, size: float = FONT_SIZE) -> list[str]:
    """Greedy word wrap measuring whole candidate lines (a few C calls per line, not per word)."""
    measure = getFont(font).stringWidth
    lines: list[str] = []
    while text:
        full = measure(text, size)
        if full <= width:
            lines.append(text)
            break
        cut = max(1, int(len(text) * width / full))
        head = text[:cut]
        space = head.rfind(" ")
        if space > 0 and text[cut : cut + 1] != " ":
            head = head[:space]
        while measure(head, size) > width and " " in head.strip():
            head = head[: head.rstrip().rfind(" ")]
        while measure(head, size) > width and len(head) > 1:  # one long word: break it
            head = head[:-1]
        lines.append(head.rstrip())
        text = text[len(head) :].lstrip()
    return lines or [""]


class FastTable(Flowable):
    """A table of plain-text cells drawn directly; the header repeats after a page break.

    An optional caption (a district's name, say) is drawn above the first part.
    """

    def __init__(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        align_right: Sequence[bool],
        caption: str | None = None,
        _prepared: tuple[list[list[list[str]]], list[float]] | None = None,
    ) -> None:
        super().__init__()
        self.header = [str(h) for h in header]
        self.rows = rows
        self.widths = list(widths)
        self.align_right = list(align_right)
        self.caption = caption
        self._top = CAPTION_HEIGHT if caption else 0.0
        self._header_cells = [
            wrap_text(h, w - 2 * PADDING, pdf.FONT_BOLD)
            for h, w in zip(self.header, self.widths, strict=True)
        ]
        self._header_height = self._height(self._header_cells)
        if _prepared is None:
            # Right-aligned columns hold numbers sized to fit; only text columns may wrap.
            cells = [
                [
                    [v] if right else wrap_text(v, w - 2 * PADDING)
                    for v, w, right in zip(row, self.widths, self.align_right, strict=True)
                ]
                for row in rows
            ]
            _prepared = (cells, [self._height(c) for c in cells])
        self._cells, self._heights = _prepared

    @staticmethod
    def _height(cells: list[list[str]]) -> float:
        return max(len(lines) for lines in cells) * LEADING + 2 * PADDING

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = sum(self.widths)
        self.height = self._top + self._header_height + sum(self._heights)
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        used, fit = self._top + self._header_height, 0
        for height in self._heights:
            used += height
            if used > avail_height:
                break
            fit += 1
        if fit == 0:
            return []
        cls = type(self)
        head = (self._cells[:fit], self._heights[:fit])
        tail = (self._cells[fit:], self._heights[fit:])
        return [
            cls(self.header, self.rows[:fit], self.widths, self.align_right, self.caption, head),
            cls(self.header, self.rows[fit:], self.widths, self.align_right, None, tail),
        ]

    def draw(self) -> None:
        canv = self.canv
        lefts = [sum(self.widths[:i]) for i in range(len(self.widths))]
        rights = [left + w - PADDING for left, w in zip(lefts, self.widths, strict=True)]
        left_x = [f"{left + PADDING:.2f}" for left in lefts]
        top = self.height - self._top
        canv.setFillColor(HEADER_FILL)
        canv.rect(0, top - self._header_height, self.width, self._header_height, stroke=0, fill=1)
        canv.setFillColor(colors.black)
        # One text object for the whole table; the font is switched only when it changes.
        ops = ["BT"]
        current_font = None
        if self.caption:
            caption = _SubsetEncoder.of(pdf.FONT_BOLD, canv._doc, CAPTION_SIZE)
            ops.append(f"1 0 0 1 0 {self.height - CAPTION_SIZE - 2:.2f} Tm")
            for font_op, shown in caption.show(self.caption):
                ops += [font_op, shown]
                current_font = font_op
        row_tops = [top]
        y = top
        rows = [(self._header_cells, self._header_height, pdf.FONT_BOLD)]
        rows += [(c, h, pdf.FONT) for c, h in zip(self._cells, self._heights, strict=True)]
        for cells, height, font_name in rows:
            encoder = _SubsetEncoder.of(font_name, canv._doc, FONT_SIZE)
            known, table, width = encoder.known, encoder.table, encoder.width
            plain = font_name == pdf.FONT
            first_baseline = y - PADDING - LEADING + 2.2
            for col, lines in enumerate(cells):
                right = plain and self.align_right[col]
                baseline = first_baseline
                for line in lines:
                    if line:
                        x = f"{rights[col] - width(line):.2f}" if right else left_x[col]
                        ops.append(f"1 0 0 1 {x} {baseline:.2f} Tm")
                        if known.issuperset(line) and current_font == encoder.first_font_op:
                            # the common case, inlined: known glyphs, font already set
                            encoded = escapePDF(line.translate(table).encode("latin-1"))
                            ops.append(f"({encoded}) Tj")
                        else:
                            for font_op, shown in encoder.show(line):
                                if font_op != current_font:
                                    ops.append(font_op)
                                    current_font = font_op
                                ops.append(shown)
                    baseline -= LEADING
            y -= height
            row_tops.append(y)
        ops.append("ET")
        canv._code.append("\n".join(ops))
        canv.setStrokeColor(GRID)
        canv.setLineWidth(0.4)
        canv.lines(
            [(0, t, self.width, t) for t in row_tops]
            + [(x, y, x, top) for x in [*lefts, self.width]]
        )


class _SubsetEncoder:
    """Text → PDF show operators for a subsetted TrueType font, at C speed for known glyphs.

    ReportLab's `splitString` assigns glyphs to subsets one character at a time in Python;
    once a character has its code in the first subset we translate whole strings with
    `str.translate` instead, and fall back to `splitString` for anything new. One encoder per
    document, font and size, since subset codes belong to the document.
    """

    _by_doc: ClassVar[weakref.WeakKeyDictionary] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, font_name: str, doc: object, size: float) -> _SubsetEncoder:
        encoders = cls._by_doc.setdefault(doc, {})
        if (font_name, size) not in encoders:
            encoders[font_name, size] = cls(getFont(font_name), doc, size)
        return encoders[font_name, size]

    def __init__(self, font, doc, size: float) -> None:
        self.font = font
        self.doc = doc
        self.size = size
        self.known: set[str] = set()
        self.table: dict[int, int] = {}
        self.first_font_op = f"{font.getSubsetInternalName(0, doc)} {size} Tf"

    def width(self, text: str) -> float:
        return self.font.stringWidth(text, self.size)

    def show(self, text: str) -> list[tuple[str, str]]:
        if self.known.issuperset(text):
            encoded = text.translate(self.table).encode("latin-1")
            return [(self.first_font_op, f"({escapePDF(encoded)}) Tj")]
        parts = self.font.splitString(text, self.doc)
        if len(parts) == 1 and parts[0][0] == 0 and len(parts[0][1]) == len(text):
            for ch, code in zip(text, parts[0][1], strict=True):
                self.known.add(ch)
                self.table[ord(ch)] = code
        return [
            (
                f"{self.font.getSubsetInternalName(subset, self.doc)} {self.size} Tf",
                f"({escapePDF(chunk)}) Tj",
            )
            for subset, chunk in parts
        ]


@dataclass
class ProtocolContext:
    """What the protocol says besides the tally; the caller resolves texts and URLs."""

    organizer: str
    municipality: str
    period: str
    eligibility: str
    rule: str
    verify_url: str
    generated_at: datetime  # already in the campaign's time zone
    early_close: str | None = None
    box_sha256: str | None = None
    box_json_sha256: str | None = None


def _result_label(row: ObjectResult) -> str:
    if row.winner:
        return _("победитель")
    if row.skipped:
        return _("не хватило бюджета")
    return ""


def _table(group: GroupResult, rule: BallotRule, caption: str | None) -> list[Flowable]:
    budget = rule == BallotRule.BUDGET
    header = [_("Место"), _("№"), _("Объект"), *([_("Стоимость, ₽")] if budget else [])]
    header += [_("Голоса"), _("Доля"), _("Итог")]
    # 175 mm: the A4 text width between the margins of core.pdf.render_pdf
    widths = [11 * mm, 13 * mm, (66 if budget else 88) * mm, *([22 * mm] if budget else [])]
    widths += [17 * mm, 15 * mm, 31 * mm]
    right = [True, True, False, *([True] if budget else []), True, True, False]
    rows = [
        [
            str(r.rank),
            str(r.number),
            r.title,
            *([_money(r.cost or 0)] if budget else []),
            _money(r.votes),
            percent(r.share / 100),
            _result_label(r),
        ]
        for r in group.rows
    ]
    return fast_table(header, rows, widths, right, caption)


def fast_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    align_right: Sequence[bool],
    caption: str | None = None,
    rows_per_table: int = 400,
) -> list[Flowable]:
    """A long table as page-sized FastTables: each split then touches one page only."""
    chunks = [rows[i : i + rows_per_table] for i in range(0, len(rows), rows_per_table)]
    return [
        FastTable(header, chunk, widths, align_right, caption if n == 0 else None)
        for n, chunk in enumerate(chunks or [[]])
    ]


def build_protocol(campaign: Campaign, tally: Tally, context: ProtocolContext) -> bytes:
    """The result protocol as PDF bytes (Cyrillic via the bundled DejaVu fonts)."""
    by_channel = tally.voters_by_channel
    facts = [
        (_("Голосование"), campaign.title),
        (_("Организатор"), context.organizer),
        (_("Территория"), context.municipality),
        (_("Период голосования"), context.period),
    ]
    if context.early_close:
        facts.append((_("Досрочное завершение"), context.early_close))
    facts += [
        (_("Правило подсчёта"), context.rule),
        (_("Кто мог голосовать"), context.eligibility),
    ]
    turnout = [
        (_("Проголосовало человек (реестр)"), _money(tally.voters or 0)),
        (_("  в том числе на сайте"), _money(by_channel.get(Channel.SELF, 0))),
        (_("  в том числе через виджет"), _money(by_channel.get(Channel.WIDGET, 0))),
        (_("  в том числе с помощью волонтёра"), _money(by_channel.get(Channel.ASSISTED, 0))),
        (_("Бюллетеней в урне"), _money(tally.ballots)),
    ]
    if tally.turnout_target:
        turnout.append(
            (
                _("Целевая явка"),
                _(
                    "%(target)s — %(state)s",
                    target=_money(tally.turnout_target),
                    state=_("достигнута") if tally.target_reached else _("не достигнута"),
                ),
            )
        )
    story: list[Flowable] = [
        pdf.para(_("Протокол об итогах голосования"), "title"),
        pdf.para(campaign.title, "subtitle"),
        pdf.key_values(facts),
        pdf.para(_("Участие"), "h2"),
        pdf.key_values(turnout),
        pdf.para(_("Результаты по объектам"), "h2"),
    ]
    for group in tally.groups:
        caption = None
        if group.district is not None:
            caption = _(
                "%(name)s: бюллетеней %(n)s", name=group.district.name, n=_money(group.ballots)
            )
        story.extend(_table(group, tally.rule, caption))
        if group.tie_at_boundary:
            story.append(
                pdf.para(
                    _(
                        "Равенство голосов на границе списка победителей: решение принимает "
                        "комиссия."
                    ),
                    "small",
                )
            )
        story.append(pdf.spacer(2))
    story.append(pdf.para(_("Победители"), "h2"))
    winners = tally.winners
    if len(tally.groups) > MANY_GROUPS:
        # a national protocol: one long table instead of thousands of paragraphs
        budget = tally.rule == BallotRule.BUDGET
        rows = [
            [
                group.district.name if group.district else "",
                str(row.number),
                row.title,
                _money(row.votes),
                *([_money(group.budget_left or 0)] if budget else []),
            ]
            for group in tally.groups
            for row in group.winners
        ]
        header = [_("Район"), _("№"), _("Объект"), _("Голоса")]
        widths = [40 * mm, 13 * mm, (82 if not budget else 60) * mm, 17 * mm]
        if budget:
            header.append(_("Остаток, ₽"))
            widths.append(22 * mm)
        widths[2] += 175 * mm - sum(widths)
        right = [False, True, False, True, *([True] if budget else [])]
        story.extend(fast_table(header, rows, widths, right))
    elif winners:
        for group in tally.groups:
            for row in group.winners:
                prefix = f"{group.district.name}: " if group.district is not None else ""
                story.append(
                    pdf.para(
                        _(
                            "%(prefix)s№ %(id)s «%(title)s» — %(votes)s",
                            prefix=prefix,
                            id=row.number,
                            title=row.title,
                            votes=ngettext("%(num)d голос", "%(num)d голосов", row.votes),
                        )
                    )
                )
            if tally.rule == BallotRule.BUDGET:
                story.append(
                    pdf.para(
                        _(
                            "Использовано бюджета: %(used)s ₽, остаток: %(left)s ₽.",
                            used=_money(group.budget_used),
                            left=_money(group.budget_left or 0),
                        ),
                        "small",
                    )
                )
    else:
        story.append(pdf.para(_("Победителей нет: не подано ни одного голоса.")))
    checksum = [
        (
            # «Контрольная сумма …» so that «будет опубликована» agrees with a feminine noun.
            _("Контрольная сумма урны (SHA-256, CSV)"),
            context.box_sha256 or _("будет опубликована после опечатывания урны"),
        ),
    ]
    if context.box_json_sha256:
        checksum.append((_("Контрольная сумма урны (SHA-256, JSON)"), context.box_json_sha256))
    checksum.append((_("Проверка кода и пересчёт"), context.verify_url))
    story += [
        KeepTogether(
            [
                pdf.para(_("Проверка"), "h2"),
                pdf.key_values(checksum),
                pdf.spacer(2),
                pdf.qr_code(context.verify_url),
                pdf.para(
                    _(
                        "Наведите камеру на код, чтобы проверить свой код голосования и "
                        "скачать анонимную урну для пересчёта."
                    ),
                    "small",
                ),
            ]
        ),
        KeepTogether(
            [
                pdf.para(_("Подписи"), "h2"),
                pdf.signature_block(
                    [
                        _("Председатель общественной комиссии"),
                        _("Секретарь комиссии"),
                        _("Уполномоченный представитель организатора"),
                    ]
                ),
            ]
        ),
    ]
    return pdf.render_pdf(
        story,
        title=_("Протокол об итогах голосования"),
        generated_at=context.generated_at,
        footer=campaign.title,  # render_pdf shortens it at a word if it is too long
    )


def results_csv_chunks(tally: Tally) -> Iterator[bytes]:
    """Per-object results as CSV for people: Russian headers and values, «;» between columns
    and a decimal comma as Russian spreadsheets expect, UTF-8 with BOM so they read Cyrillic.
    (The machine-readable data is the ballot box: box.py.)"""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Район"),
            _("Место"),
            _("№"),
            _("Объект"),
            _("Стоимость, ₽"),
            _("Голоса"),
            _("Доля, %"),
            _("Итог"),
        ]
    )
    yield ("\ufeff" + out.getvalue()).encode()
    for group in tally.groups:
        out.seek(0)
        out.truncate()
        for row in group.rows:
            writer.writerow(
                [
                    group.district.name if group.district else "",
                    row.rank,
                    row.number,
                    row.title,
                    "" if row.cost is None else row.cost,
                    row.votes,
                    number(row.share, 1, grouping=False),
                    _result_label(row),
                ]
            )
        yield out.getvalue().encode()
