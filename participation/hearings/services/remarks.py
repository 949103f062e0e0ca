"""Who may send remarks, and the remarks themselves: submission, moderation, recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.auth.eligibility import HEARING, Decision, EligibilityRule, check
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.outbox import notify
from participation.core.preferences import NoticeKind
from participation.core.users import User, UserKind
from participation.extensions import db
from participation.hearings.labels import (
    REMARK_KIND_LABELS,
    REMARK_REJECTION_LABELS,
    REMARK_REJECTION_REASONS,
)
from participation.hearings.models import (
    Hearing,
    Participant,
    ParticipantKind,
    ParticipantScope,
    Recommendation,
    Remark,
    RemarkKind,
    RemarkRejectionReason,
    RemarkSource,
    RemarkStatus,
)
from participation.hearings.services.common import (
    MAX_REASON_CHARS,
    MIN_REASON_CHARS,
    NotAllowed,
    clean_text,
    fmt_day,
    hearing_link,
    lock_hearing,
    next_remark_number,
    paragraph_of,
    parse_remark_kind,
    participant_of,
)
from participation.hearings.stages import (
    local_today,
)

# --- who may send remarks ----------------------------------------------------------------


def eligibility_rule(hearing: Hearing) -> EligibilityRule:
    """The hearing's own settings as the platform-wide eligibility rule."""
    territory_id: int | None = None
    if hearing.participant_scope == ParticipantScope.TERRITORY:
        territory_id = hearing.territory_id
    elif hearing.participant_scope == ParticipantScope.REGION:
        region = hearing.territory.region()
        territory_id = region.id if region else hearing.territory_id
    return EligibilityRule(
        min_level=hearing.min_account_level,
        territory_id=territory_id,
        allow_legal_entities=True,
        subject=HEARING,
    )


def is_resident(user: User, hearing: Hearing) -> bool:
    """Registered (ESIA «PRG» address) in the hearing's territory or inside it."""
    home = user.registration_territory
    return home is not None and home.is_within(hearing.territory)


def remark_decision(user: Any, hearing: Hearing, now: datetime | None = None) -> Decision:
    """May `user` send a remark now? Refusals say why, in Russian."""
    now = now or utcnow()
    if not hearing.is_published:
        return Decision(False, _("Обсуждение ещё не опубликовано."), "not_published")
    if now < hearing.remarks_open_at:
        return Decision(
            False,
            _(
                "Приём предложений и замечаний начнётся %(day)s.",
                day=fmt_day(hearing.remarks_first_day),
            ),
            "not_open",
        )
    if now >= hearing.remarks_close_at:
        return Decision(
            False,
            _(
                "Приём предложений и замечаний завершён: последним днём было %(day)s.",
                day=fmt_day(hearing.remarks_last_day),
            ),
            "closed",
        )
    decision = check(user, eligibility_rule(hearing), local_today(hearing.tz, now))
    if not decision:
        return decision
    if user.kind == UserKind.PERSON and user.birth_date is None:
        return Decision(
            False,
            _(
                "Участники обсуждений проходят идентификацию, а в профиле Госуслуг нет даты "
                "рождения. Укажите её на Госуслугах и войдите снова."
            ),
            "no_birth_date",
        )
    if not user.registration_address:
        return Decision(
            False,
            _(
                "Участники обсуждений проходят идентификацию, а в профиле Госуслуг нет адреса "
                "регистрации. Укажите его на Госуслугах и войдите снова."
            ),
            "no_registration",
        )
    return decision


# --- remarks -----------------------------------------------------------------------------


def _participant_for(hearing: Hearing, user: User, now: datetime) -> Participant:
    participant = participant_of(hearing, user)
    if participant is not None:
        return participant
    legal = user.kind == UserKind.LEGAL_REP
    participant = Participant(
        hearing_id=hearing.id,
        user_id=user.id,
        kind=ParticipantKind.LEGAL_ENTITY if legal else ParticipantKind.PERSON,
        last_name=user.last_name,
        first_name=user.first_name,
        middle_name=user.middle_name,
        birth_date=user.birth_date,
        address=user.registration_address or "",
        legal_entity_name=user.legal_entity_name if legal else None,
        legal_entity_ogrn=user.legal_entity_ogrn if legal else None,
        resident=is_resident(user, hearing),
        registered_at=now,
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def submit_remark(
    hearing: Hearing,
    user: User,
    *,
    text: str | None,
    kind: str | None,
    paragraph_id: int | None,
    client_token: str | None,
    now: datetime | None = None,
) -> Remark:
    """Accept a participant's proposal or remark during the window; it waits for moderation."""
    now = now or utcnow()
    lock_hearing(hearing)
    decision = remark_decision(user, hearing, now)
    if not decision:
        raise NotAllowed(decision.reason or _("Сейчас отправить замечание нельзя."))
    paragraph = paragraph_of(hearing, paragraph_id)
    remark_kind = parse_remark_kind(kind)
    clean = clean_text(text, "text")
    token = (client_token or "").strip()[:64] or None
    if token and db.session.scalar(
        sa.select(Remark.id).where(Remark.author_id == user.id, Remark.client_token == token)
    ):
        raise Conflict(_("Это замечание уже отправлено, повторно сохранять его не нужно."))
    participant = _participant_for(hearing, user, now)
    remark = Remark(
        hearing_id=hearing.id,
        number=next_remark_number(hearing),
        participant_id=participant.id,
        author_id=user.id,
        paragraph_id=paragraph.id if paragraph else None,
        kind=remark_kind,
        source=RemarkSource.PLATFORM,
        text=clean,
        resident=is_resident(user, hearing),
        submitted_at=now,
        client_token=token,
        status=RemarkStatus.PENDING,
    )
    try:
        with db.session.begin_nested():
            db.session.add(remark)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            _("Это замечание уже отправлено, повторно сохранять его не нужно.")
        ) from None
    audit.record("hearing.remark_submitted", remark, hearing_id=hearing.id, number=remark.number)
    return remark


def _remark_subject(remark: Remark, hearing: Hearing) -> str:
    where = (
        _("к пункту %(number)s", number=remark.paragraph.number)
        if remark.paragraph is not None
        else _("к проекту в целом")
    )
    return _(
        "%(kind)s № %(number)d %(where)s проекта «%(title)s»",
        kind=REMARK_KIND_LABELS[remark.kind],
        number=remark.number,
        where=where,
        title=hearing.title,
    )


def moderate_remark(
    remark: Remark,
    user: User,
    *,
    publish: bool,
    reason: str | None = None,
    now: datetime | None = None,
) -> Remark:
    """Publish a remark or reject it on one of the hearings' grounds; the author is told."""
    now = now or utcnow()
    hearing = db.session.get(Hearing, remark.hearing_id)
    if hearing.protocol_issued_at is not None:
        raise Conflict(_("Протокол уже оформлен: замечания больше не модерируются."))
    if remark.status != RemarkStatus.PENDING:
        raise Conflict(_("Это замечание уже рассмотрено."))
    if publish:
        remark.status = RemarkStatus.PUBLISHED
        remark.rejection_reason = None
    else:
        chosen = next((r for r in REMARK_REJECTION_REASONS if r.value == reason), None)
        if chosen is None:
            raise FieldError("reason", _("Выберите причину отклонения из списка."))
        remark.rejection_reason = chosen
        remark.status = RemarkStatus.REJECTED
    remark.moderated_at = now
    remark.moderated_by_id = user.id
    db.session.flush()
    audit.record(
        "hearing.remark_moderated",
        remark,
        hearing_id=hearing.id,
        status=str(remark.status),
        reason=remark.rejection_reason and str(remark.rejection_reason),
    )
    if remark.author_id is not None:
        _tell_author(remark, hearing, now)
    return remark


def _tell_author(remark: Remark, hearing: Hearing, now: datetime) -> None:
    what = _remark_subject(remark, hearing)
    proposal = remark.kind == RemarkKind.PROPOSAL
    if remark.status == RemarkStatus.PUBLISHED:
        subject = (
            _("Ваше предложение опубликовано") if proposal else _("Ваше замечание опубликовано")
        )
        body = _(
            "%(what)s прошло модерацию и опубликовано. В заключении о результатах организатор "
            "укажет, учтено ли оно и почему.",
            what=what,
        )
    else:
        subject = (
            _("Ваше предложение не опубликовано")
            if proposal
            else _("Ваше замечание не опубликовано")
        )
        reason = str(REMARK_REJECTION_LABELS[remark.rejection_reason])
        body = _(
            "%(what)s не опубликовано. Причина: %(reason)s.",
            what=what,
            reason=reason[:1].lower() + reason[1:],  # after a colon, in lower case
        )
        # A late or repeated remark is not mended by sending it again.
        mendable = remark.rejection_reason not in (
            RemarkRejectionReason.OUT_OF_TIME,
            RemarkRejectionReason.REPEATED,
        )
        if mendable and now < hearing.remarks_close_at:
            body += " " + _(
                "Вы можете отправить исправленный текст до %(day)s включительно.",
                day=fmt_day(hearing.remarks_last_day),
            )
    author = db.session.get(User, remark.author_id)
    notify(
        remark.author_id,
        f"hearing-remark:{remark.id}:moderated",
        subject,
        body,
        link=hearing_link(hearing.id),
        email=author.email if author else None,
        timezone=hearing.territory.timezone,
        kind=NoticeKind.MESSAGES,
    )


def set_recommendation(
    remark: Remark,
    user: User,
    *,
    decision: str | None,
    reason: str | None,
    now: datetime | None = None,
) -> Remark:
    """The organizer's reasoned recommendation on one published remark: take into account or not."""
    now = now or utcnow()
    hearing = db.session.get(Hearing, remark.hearing_id)
    if hearing.conclusion_published_at is not None:
        raise Conflict(_("Заключение уже опубликовано: рекомендации менять нельзя."))
    if remark.status != RemarkStatus.PUBLISHED:
        raise Conflict(_("Рекомендация даётся только по опубликованным замечаниям."))
    try:
        choice = Recommendation(decision or "")
    except ValueError:
        raise FieldError("decision", _("Выберите: учесть или не учитывать.")) from None
    text = (reason or "").replace("\r\n", "\n").strip()
    if not text:
        raise FieldError(
            "reason",
            _("Обоснуйте рекомендацию: почему предложение следует учесть или не учитывать."),
        )
    if len(text) < MIN_REASON_CHARS:
        raise FieldError(
            "reason",
            _("Обоснование слишком короткое: напишите хотя бы одно предложение с причиной."),
        )
    if len(text) > MAX_REASON_CHARS:
        raise FieldError(
            "reason", _("Обоснование длиннее %(max)d знаков. Сократите его.", max=MAX_REASON_CHARS)
        )
    remark.recommendation = choice
    remark.recommendation_reason = text
    remark.recommended_at = now
    remark.recommended_by_id = user.id
    db.session.flush()
    audit.record("hearing.recommendation_set", remark, hearing_id=hearing.id, decision=str(choice))
    return remark
