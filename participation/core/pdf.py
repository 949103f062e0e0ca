"""ReportLab base for protocols and reports: Cyrillic fonts, page template, chunked tables."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from participation.core.i18n import zone_label

# DejaVu Sans ships inside the package: a fresh install renders Cyrillic without system fonts.
FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
ROWS_PER_TABLE = (
    200  # ReportLab splits one long table in quadratic time; many short ones are linear
)
FOOTER_SIZE = 7.5
LEFT_MARGIN, RIGHT_MARGIN = 20 * mm, 15 * mm


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=base, fontName=FONT_BOLD, fontSize=8.5, leading=10.5
        ),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=14,
            leading=18,
            alignment=TA_CENTER,
            spaceAfter=6,
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, alignment=TA_CENTER, spaceAfter=10),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=15,
            spaceBefore=8,
            spaceAfter=4,
        ),
    }


def para(text: object, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped; line breaks kept)."""
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), styles()[style])


def key_values(
    rows: Iterable[tuple[str, object]], widths: Sequence[float] = (60 * mm, 110 * mm)
) -> Table:
    """A two-column table of labelled facts ("Организатор: …")."""
    data = [[para(k, "cell_bold"), para(v, "cell")] for k, v in rows]
    table = Table(data, colWidths=widths)
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)])
    )
    return table


def chunked_table(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[float],
    rows_per_table: int = ROWS_PER_TABLE,
) -> list[Flowable]:
    """A long table as a sequence of short ones with the header repeated: linear in rows."""
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
    )
    head = [para(h, "cell_bold") for h in header]
    flowables: list[Flowable] = []
    chunk: list[list[Paragraph]] = []

    def flush() -> None:
        table = Table([head, *chunk], colWidths=widths, repeatRows=1)
        table.setStyle(style)
        flowables.append(table)
        chunk.clear()

    for row in rows:
        chunk.append([para("" if v is None else v, "cell") for v in row])
        if len(chunk) >= rows_per_table:
            flush()
    if chunk or not flowables:
        flush()
    return flowables


def qr_code(url: str, size: float = 32 * mm) -> Drawing:
    widget = QrCodeWidget(url)
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def signature_block(roles: Sequence[str]) -> Table:
    """Places for signatures: role, a line for the signature, a line for the name, the date."""
    data = [
        [para(role, "cell"), para("_" * 22, "cell"), para("/" + "_" * 20 + "/", "cell")]
        for role in roles
    ]
    data.append([para("Дата подписания", "cell"), para("«___» ____________ 20___ г.", "cell"), ""])
    table = Table(data, colWidths=(60 * mm, 55 * mm, 55 * mm))
    table.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 10)]))
    return table


def _stamp(generated_at: datetime) -> str:
    """«05.12.2026 22:24, екатеринбургское время (МСК+2)»: the zone as people name it."""
    moment = generated_at.strftime("%d.%m.%Y %H:%M")
    key = getattr(generated_at.tzinfo, "key", None)
    if key and key != "UTC":
        return f"{moment}, {zone_label(key, generated_at)}"
    return f"{moment} {generated_at.strftime('%Z')}".strip()


def _fit_footer(footer: str) -> str:
    """The footer on one line that stops short of the page number: a long one (a campaign's
    title, say) is shortened at a word, with «…»."""
    register_fonts()
    page_number = pdfmetrics.stringWidth("Стр. 9999", FONT, FOOTER_SIZE)
    room = A4[0] - LEFT_MARGIN - RIGHT_MARGIN - page_number - 4 * mm

    def fits(text: str) -> bool:
        return pdfmetrics.stringWidth(text, FONT, FOOTER_SIZE) <= room

    footer = " ".join(footer.split())
    if fits(footer):
        return footer
    words = footer.split(" ")
    while len(words) > 1 and not fits(" ".join(words) + "…"):
        words.pop()
    shortened = " ".join(words).rstrip(",.:;—- ")
    while len(shortened) > 1 and not fits(shortened + "…"):  # one long word
        shortened = shortened[:-1]
    return shortened + "…"


def render_pdf(
    story: list[Flowable],
    *,
    title: str,
    generated_at: datetime,
    footer: str = "",
) -> bytes:
    """Lay out `story` on A4 pages with a footer (generation time, page number); return bytes."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Платформа обратной связи",
        leftMargin=LEFT_MARGIN,
        rightMargin=RIGHT_MARGIN,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
    )
    # Two lines: what the document is, with the page number; then when it was made.
    footer_line = _fit_footer(footer)
    stamp_line = f"Сформировано: {_stamp(generated_at)}"

    def on_page(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(FONT, FOOTER_SIZE)
        canvas.drawString(LEFT_MARGIN, 11 * mm, footer_line)
        canvas.drawString(LEFT_MARGIN, 7.5 * mm, stamp_line)
        canvas.drawRightString(A4[0] - RIGHT_MARGIN, 11 * mm, f"Стр. {document.page}")
        canvas.restoreState()

    doc.build([*story], onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def spacer(height_mm: float = 4) -> Spacer:
    return Spacer(1, height_mm * mm)
