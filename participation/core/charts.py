"""Charts drawn on the server: inline SVG for pages, ReportLab drawings for PDFs (polls, reports).

The SVG has no scripts and no style attributes (the CSP allows neither): colours are
presentation attributes. Each chart is `role="img"` with a title and a text description that
lists every figure, and pages also show the same figures as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors

from participation.core.i18n import percent
from participation.core.pdf import FONT, register_fonts

PALETTE = (
    "#0d4cd3",
    "#e3660b",
    "#1a7f37",
    "#8250df",
    "#b3261e",
    "#00798c",
    "#9a6700",
    "#d6336c",
    "#4d5b6b",
    "#5a8f00",
)
BAR_COLOUR = PALETTE[0]
WIDTH = 640
LABEL_LIMIT = 70


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # what the bar's length shows
    caption: str  # what is written after the bar, e.g. "12 (34,5 %)"


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def bar_chart_svg(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per option, with the figure written after each bar."""
    row, top, label_h, bar_h = 40, 8, 16, 16
    height = top + row * max(1, len(bars)) + 4
    peak = max((b.value for b in bars), default=0) or 1
    track = WIDTH - 150
    desc = "; ".join(f"{b.label}: {b.caption}" for b in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = top + i * row
        length = max(0.0, bar.value / peak * track)
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="13" fill="#1f2933">'
            f"{escape(_short(bar.label))}</text>"
        )
        parts.append(
            f'<rect x="0" y="{y + label_h + 2}" width="{track}" height="{bar_h}" fill="#eef2f7"/>'
        )
        if length:
            parts.append(
                f'<rect x="0" y="{y + label_h + 2}" width="{length:.1f}" height="{bar_h}" '
                f'fill="{BAR_COLOUR}"/>'
            )
        parts.append(
            f'<text x="{track + 8}" y="{y + label_h + 15}" font-size="13" fill="#1f2933">'
            f"{escape(bar.caption)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def stacked_chart_svg(
    chart_id: str,
    title: str,
    legend: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
) -> Markup:
    """One 100 % bar per group split by option shares; a legend names the colours."""
    row, top = 40, 8
    legend_rows = (len(legend) + 1) // 2
    height = top + row * max(1, len(groups)) + 22 * legend_rows + 8
    desc = "; ".join(
        f"{label}: "
        + ", ".join(f"{name} {percent(s)}" for name, s in zip(legend, shares, strict=False))
        for label, shares in groups
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i, (label, shares) in enumerate(groups):
        y = top + i * row
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="13" fill="#1f2933">{escape(_short(label))}</text>'
        )
        total = sum(shares) or 1
        x = 0.0
        for j, value in enumerate(shares):
            width = value / total * WIDTH if sum(shares) else 0
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 18}" width="{width:.1f}" height="16" '
                    f'fill="{PALETTE[j % len(PALETTE)]}"/>'
                )
            x += width
    y0 = top + row * max(1, len(groups)) + 6
    for j, name in enumerate(legend):
        x = (j % 2) * (WIDTH // 2)
        y = y0 + (j // 2) * 22
        parts.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{PALETTE[j % len(PALETTE)]}"/>'
        )
        parts.append(
            f'<text x="{x + 20}" y="{y + 12}" font-size="12" fill="#1f2933">'
            f"{escape(_short(name)[:45])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def column_chart_svg(chart_id: str, title: str, columns: Sequence[Bar]) -> Markup:
    """Vertical columns in order (a trend over days, weeks or months), each figure on top;
    labels under the columns are thinned out when there are many."""
    height, top, bottom = 240, 24, 40
    plot = height - top - bottom
    n = max(1, len(columns))
    step = WIDTH / n
    width = max(2.0, step * 0.7)
    peak = max((c.value for c in columns), default=0) or 1
    every = max(1, -(-n // 8))  # at most 8 labels under the axis
    desc = "; ".join(f"{c.label}: {c.caption}" for c in columns)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<line x1="0" y1="{top + plot}" x2="{WIDTH}" y2="{top + plot}" stroke="#4a5360"/>',
    ]
    for i, column in enumerate(columns):
        x = i * step + (step - width) / 2
        length = max(0.0, column.value / peak * plot)
        if length:
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot - length:.1f}" width="{width:.1f}" '
                f'height="{length:.1f}" fill="{BAR_COLOUR}"/>'
            )
        centre = x + width / 2
        if n <= 16:
            parts.append(
                f'<text x="{centre:.1f}" y="{top + plot - length - 4:.1f}" font-size="11" '
                f'text-anchor="middle" fill="#1f2933">{escape(column.caption)}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{centre:.1f}" y="{top + plot + 16}" font-size="11" '
                f'text-anchor="middle" fill="#1f2933">{escape(_short(column.label)[:12])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def bar_drawing(bars: Sequence[Bar], width: float) -> Drawing:
    """The same horizontal bar chart for the PDF (DejaVu, so Cyrillic labels render)."""
    register_fonts()
    row = 26
    height = row * max(1, len(bars)) + 4
    drawing = Drawing(width, height)
    peak = max((b.value for b in bars), default=0) or 1
    track = width - 110
    for i, bar in enumerate(bars):
        y = height - (i + 1) * row
        drawing.add(String(0, y + 14, _short(bar.label)[:80], fontName=FONT, fontSize=7.5))
        drawing.add(
            Rect(0, y + 2, track, 9, fillColor=colors.HexColor("#eef2f7"), strokeColor=None)
        )
        length = bar.value / peak * track
        if length > 0:
            drawing.add(
                Rect(0, y + 2, length, 9, fillColor=colors.HexColor(BAR_COLOUR), strokeColor=None)
            )
        drawing.add(String(track + 6, y + 3, bar.caption, fontName=FONT, fontSize=7.5))
    return drawing
