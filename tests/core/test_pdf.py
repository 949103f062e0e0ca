"""PDF base: Cyrillic text survives extraction; long tables are split into short ones."""

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from participation.core import pdf


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_cyrillic_text_and_tables_are_extractable():
    rows = [(i, f"Сквер «Берёзка» № {i}", i * 10) for i in range(1, 451)]
    story = [
        pdf.para("Протокол об итогах голосования", "title"),
        pdf.key_values([("Организатор", "Администрация городского округа город Уфа")]),
        *pdf.chunked_table(
            ["№", "Объект", "Голоса"], rows, widths=(15 * 2.83, 110 * 2.83, 30 * 2.83)
        ),
        pdf.qr_code("http://127.0.0.1:5000/verify"),
        pdf.signature_block(["Председатель комиссии"]),
    ]
    data = pdf.render_pdf(
        story, title="Протокол", generated_at=datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    )
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "Протокол об итогах голосования" in text
    assert "Администрация городского округа город Уфа" in text
    assert "Сквер «Берёзка» № 450" in text
    assert "Председатель комиссии" in text
    assert "Стр. 2" in text


def test_long_tables_become_many_short_ones():
    tables = pdf.chunked_table(["a"], ([i] for i in range(1001)), widths=(100,), rows_per_table=200)
    assert len(tables) == 6
    assert pdf.chunked_table(["a"], [], widths=(100,))  # an empty list still shows its header


def _drawn(data: bytes) -> list[tuple[str, float]]:
    """Each text the first page shows, with the x where it starts."""
    shown: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            shown.append((text.strip(), tm[4] * cm[0] + cm[4]))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return shown


def test_the_footer_says_when_in_words_and_a_long_title_stops_short_of_the_page_number():
    from zoneinfo import ZoneInfo

    from reportlab.pdfbase.pdfmetrics import stringWidth

    title = (
        "Инициативное бюджетирование 2027 года: проекты благоустройства дворов, скверов и "
        "пешеходных зон всех районов городского округа город Уфа Республики Башкортостан"
    )
    made = datetime(2026, 12, 5, 17, 24, tzinfo=UTC).astimezone(ZoneInfo("Asia/Yekaterinburg"))
    data = pdf.render_pdf([pdf.para("Текст")], title="Протокол", generated_at=made, footer=title)
    text = _text(data)
    assert "Сформировано: 05.12.2026 22:24, екатеринбургское время (МСК+2)" in text
    assert "+05" not in text
    drawn = _drawn(data)
    footer, left = next((t, x) for t, x in drawn if t.startswith("Инициативное"))
    page_number_at = next(x for t, x in drawn if t == "Стр. 1")
    # Shortened at a word, with an ellipsis, and ends before the page number begins.
    assert footer.endswith("…") and title.startswith(footer[:-1])
    assert title[len(footer) - 1] == " "
    assert left + stringWidth(footer, pdf.FONT, pdf.FOOTER_SIZE) < page_number_at
