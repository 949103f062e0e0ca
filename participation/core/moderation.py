"""Moderation reasons shared by messages, hearing remarks and direct-line questions."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class RejectionReason(enum.StrEnum):
    OBSCENE = "obscene"
    DISCRIMINATION = "discrimination"
    THIRD_PARTY_DATA = "third_party_data"
    ADVERTISING = "advertising"
    UNREADABLE = "unreadable"
    UNCLEAR = "unclear"
    SEVERAL_PROBLEMS = "several_problems"


REJECTION_LABELS = {
    RejectionReason.OBSCENE: _l("Оскорбления или нецензурная брань"),
    RejectionReason.DISCRIMINATION: _l("Пропаганда дискриминации"),
    RejectionReason.THIRD_PARTY_DATA: _l("Персональные данные третьих лиц без их согласия"),
    RejectionReason.ADVERTISING: _l("Коммерческая или рекламная информация"),
    RejectionReason.UNREADABLE: _l("Текст невозможно прочитать"),
    RejectionReason.UNCLEAR: _l("Из текста невозможно понять суть проблемы"),
    RejectionReason.SEVERAL_PROBLEMS: _l("Несколько проблем в одном сообщении"),
}

# What the person may do instead, where it applies.
REJECTION_ADVICE = {
    RejectionReason.THIRD_PARTY_DATA: _l(
        "Уберите из текста фамилии, телефоны и адреса других людей и отправьте сообщение снова."
    ),
    RejectionReason.SEVERAL_PROBLEMS: _l(
        "Отправьте каждую проблему отдельным сообщением: одно сообщение — одна проблема."
    ),
    RejectionReason.UNCLEAR: _l("Опишите, что случилось, где и что нужно сделать."),
    RejectionReason.UNREADABLE: _l("Напишите текст заново, без сокращений и посторонних символов."),
}


def rejection_text(reason: RejectionReason) -> str:
    """The reason and, where it applies, what to do instead, as one sentence for the person."""
    advice = REJECTION_ADVICE.get(reason)
    return f"{REJECTION_LABELS[reason]}. {advice}" if advice else f"{REJECTION_LABELS[reason]}."
