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
