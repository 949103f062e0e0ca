"""Splitting a draft act into sections and numbered paragraphs."""

from __future__ import annotations

import pytest

from participation.core.errors import FieldError
from participation.hearings.draft import split_draft


def test_sections_and_numbered_paragraphs_with_continuation_lines(app):
    text = """Раздел 1. Общие положения
1.1. Настоящие Правила устанавливают требования
к благоустройству территории.
1.2 Правила обязательны для всех.

# Содержание территорий
2.1) Уборка проводится ежедневно.
"""
    with app.test_request_context():
        outline = split_draft(text)
    assert outline == [
        (
            "Раздел 1. Общие положения",
            [
                (
                    "1.1",
                    "Настоящие Правила устанавливают требования\nк благоустройству территории.",
                ),
                ("1.2", "Правила обязательны для всех."),
            ],
        ),
        ("Содержание территорий", [("2.1", "Уборка проводится ежедневно.")]),
    ]


def test_unnumbered_text_gets_numbers_and_a_preamble_section(app):
    text = (
        "В соответствии с Градостроительным кодексом решил:\n\n"
        "Глава 1 Термины\nПервый абзац.\n\nВторой абзац.\n"
    )
    with app.test_request_context():
        outline = split_draft(text)
    assert outline[0] == (
        "Вводная часть",
        [("1.1", "В соответствии с Градостроительным кодексом решил:")],
    )
    assert outline[1] == ("Глава 1 Термины", [("2.1", "Первый абзац."), ("2.2", "Второй абзац.")])


def test_automatic_numbers_never_collide_with_explicit_ones(app):
    with app.test_request_context():
        outline = split_draft("Текст без номера.\n\n1 Явный пункт один.")
    numbers = [n for _title, items in outline for n, _text in items]
    assert len(set(numbers)) == len(numbers) == 2
    assert "1" in numbers


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "нет ни одного пункта"),
        ("Раздел 1. Пустой раздел\n\n", "нет ни одного пункта"),
        ("1.1. Первый.\n1.1. Снова первый.", "Пункт 1.1 встречается дважды (строки 1 и 2)"),
        ("1. " + "а" * 20001, "длиннее 20000 знаков"),
    ],
)
def test_unusable_drafts_are_refused_in_russian(app, text, message):
    with app.test_request_context(), pytest.raises(FieldError) as error:
        split_draft(text)
    assert error.value.field == "draft_text"
    assert message in str(error.value.message)
