"""The notification preferences form: one e-mail checkbox per kind of notice."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from participation.core.forms import Form
from participation.core.preferences import NoticeKind

LABELS = {
    NoticeKind.MESSAGES: _l("Статус моих сообщений и ответы на них"),
    NoticeKind.REMINDERS: _l(
        "Напоминания: голосование, в котором я не голосовал, скоро закончится"
    ),
    NoticeKind.ANNOUNCEMENTS: _l("Новые опросы, голосования и обсуждения на моей территории"),
    NoticeKind.DEADLINES: _l("Сотрудникам: срок ответа на сообщение истекает или истёк"),
}


class PreferencesForm(Form):
    messages = BooleanField(LABELS[NoticeKind.MESSAGES])
    reminders = BooleanField(LABELS[NoticeKind.REMINDERS])
    announcements = BooleanField(LABELS[NoticeKind.ANNOUNCEMENTS])
    deadlines = BooleanField(LABELS[NoticeKind.DEADLINES])

    def offer(self, kinds: list[NoticeKind]) -> None:
        """Keep only the fields of the kinds offered to this person."""
        for kind in NoticeKind:
            if kind not in kinds:
                del self[kind.value]

    def choices(self) -> dict[NoticeKind, bool]:
        return {kind: bool(self[kind.value].data) for kind in NoticeKind if kind.value in self}
