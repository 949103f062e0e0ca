"""Russian words for the hearing enums, in the grammatical forms the pages and documents need."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from participation.core.users import AccountLevel
from participation.hearings.models import (
    Attendance,
    HearingKind,
    ParticipantScope,
    Recommendation,
    RemarkKind,
    RemarkRejectionReason,
    RemarkSource,
    RemarkStatus,
)

KIND_LABELS = {  # «Публичные слушания»
    HearingKind.PUBLIC_HEARING: _l("Публичные слушания"),
    HearingKind.PUBLIC_DISCUSSION: _l("Общественные обсуждения"),
}
KIND_GENITIVE = {  # «о результатах публичных слушаний»
    HearingKind.PUBLIC_HEARING: _l("публичных слушаний"),
    HearingKind.PUBLIC_DISCUSSION: _l("общественных обсуждений"),
}
SCOPE_LABELS = {
    ParticipantScope.REGION: _l("Жители региона (житель территории отмечается в протоколе)"),
    ParticipantScope.TERRITORY: _l("Только жители территории проведения"),
    ParticipantScope.ANYONE: _l("Все пользователи, прошедшие идентификацию"),
}
LEVEL_LABELS = {
    AccountLevel.CONFIRMED: _l("Подтверждённая учётная запись Госуслуг"),
    AccountLevel.STANDARD: _l("Стандартная или подтверждённая учётная запись Госуслуг"),
}
REMARK_KIND_LABELS = {
    RemarkKind.PROPOSAL: _l("Предложение"),
    RemarkKind.REMARK: _l("Замечание"),
}
SOURCE_LABELS = {
    RemarkSource.PLATFORM: _l("Через платформу"),
    RemarkSource.MEETING: _l("На собрании участников"),
}
STATUS_LABELS = {
    RemarkStatus.PENDING: _l("На модерации"),
    RemarkStatus.PUBLISHED: _l("Опубликовано"),
    RemarkStatus.REJECTED: _l("Отклонено"),
}
RECOMMENDATION_LABELS = {
    Recommendation.ACCEPT: _l("Учесть"),
    Recommendation.DECLINE: _l("Не учитывать"),
}
ATTENDANCE_LABELS = {
    Attendance.IN_PERSON: _l("Очно"),
    Attendance.ONLINE: _l("Онлайн"),
}

# Why a remark is not admitted: grounds for remarks on a draft act, not the messages' list
# («несколько проблем в одном сообщении» is no ground: a remark may hold several proposals).
# In the order the moderation form offers them.
REMARK_REJECTION_REASONS = (
    RemarkRejectionReason.UNIDENTIFIED,
    RemarkRejectionReason.OUT_OF_TIME,
    RemarkRejectionReason.REPEATED,
    RemarkRejectionReason.UNCLEAR,
    RemarkRejectionReason.OBSCENE,
    RemarkRejectionReason.DISCRIMINATION,
    RemarkRejectionReason.THIRD_PARTY_DATA,
    RemarkRejectionReason.ADVERTISING,
    RemarkRejectionReason.UNREADABLE,
)
REMARK_REJECTION_LABELS = {
    RemarkRejectionReason.UNIDENTIFIED: _l("Не позволяет установить участника"),
    RemarkRejectionReason.OUT_OF_TIME: _l("Поступило вне срока"),
    RemarkRejectionReason.REPEATED: _l("Повторяет ранее поданное замечание"),
    RemarkRejectionReason.UNCLEAR: _l(
        "Не относится к предмету обсуждения или не позволяет понять суть"
    ),
    RemarkRejectionReason.OBSCENE: _l("Содержит нецензурные или оскорбительные выражения"),
    RemarkRejectionReason.DISCRIMINATION: _l("Пропаганда дискриминации"),
    RemarkRejectionReason.THIRD_PARTY_DATA: _l("Персональные данные третьих лиц без их согласия"),
    RemarkRejectionReason.ADVERTISING: _l("Коммерческая или рекламная информация"),
    RemarkRejectionReason.UNREADABLE: _l("Текст невозможно прочитать"),
    # Not offered any more; rows moderated before keep a readable reason.
    RemarkRejectionReason.SEVERAL_PROBLEMS: _l("Несколько предложений в одном замечании"),
}
