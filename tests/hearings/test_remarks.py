"""Remarks: who may send them and when, residency, bad input, moderation, recommendations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.outbox import OutboxMessage
from participation.core.users import AccountLevel
from participation.extensions import db
from participation.hearings import services
from participation.hearings.models import (
    Participant,
    ParticipantKind,
    ParticipantScope,
    Recommendation,
    Remark,
    RemarkRejectionReason,
    RemarkStatus,
)
from tests.hearings.conftest import CLOSES_ON, OPENS_ON, local, paragraph

IN_WINDOW = local(OPENS_ON + timedelta(days=2))


def _remark_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Remark.id)))


def submit(hearing, user, text="Предлагаю уточнить срок уборки снега.", number="2.2", **kw):
    target = paragraph(hearing, number) if number else None
    return services.submit_remark(
        hearing,
        user,
        text=text,
        kind=kw.pop("kind", "proposal"),
        paragraph_id=kw.pop("paragraph_id", target.id if target else None),
        client_token=kw.pop("client_token", None),
        now=kw.pop("now", IN_WINDOW),
    )


def test_a_resident_sends_a_remark_on_a_paragraph_and_it_waits_for_moderation(discussion, world):
    remark = submit(discussion, world.resident)
    assert remark.number == 1
    assert remark.status == RemarkStatus.PENDING
    assert remark.paragraph.number == "2.2"
    assert remark.resident is True
    participant = remark.participant
    assert participant.full_name == "Иванова Мария Петровна"
    assert participant.address.startswith("450077")
    assert participant.public_name == "Мария И."


def test_residency_is_recorded_from_the_registration_address(discussion, world):
    assert submit(discussion, world.outsider).resident is False  # Стерлитамак: same region
    assert submit(discussion, world.resident2, number=None).resident is True
    legal = submit(discussion, world.legal_rep)
    assert legal.resident is True
    assert legal.participant.kind == ParticipantKind.LEGAL_ENTITY
    assert legal.participant.public_name == "ООО «Ромашка»"
    assert legal.participant.legal_entity_ogrn == "1150280012343"


def test_residency_is_a_snapshot_taken_at_submission(discussion, world):
    remark = submit(discussion, world.outsider)
    world.outsider.registration_territory = world.ufa  # moves to Уфа afterwards
    db.session.flush()
    later = submit(discussion, world.outsider, number="1.1")
    assert remark.resident is False and later.resident is True
    assert remark.participant_id == later.participant_id  # one participant, two remarks


@pytest.mark.parametrize(
    ("who", "when", "code", "words"),
    [
        ("simplified", IN_WINDOW, "level", "упрощённая, а нужна подтверждённая"),
        ("kazan_user", IN_WINDOW, "territory", "вне территории «Республика Башкортостан»"),
        ("resident", local(OPENS_ON) - timedelta(hours=13), "not_open", "начнётся 08.06.2026"),
        (
            "resident",
            local(CLOSES_ON + timedelta(days=1)),
            "closed",
            "последним днём было 21.06.2026",
        ),
    ],
)
def test_ineligible_people_are_refused_with_a_reason_and_nothing_is_saved(
    discussion, world, who, when, code, words
):
    user = getattr(world, who)
    decision = services.remark_decision(user, discussion, when)
    assert not decision.allowed and decision.code == code
    assert words in decision.reason
    with pytest.raises(services.NotAllowed) as refused:
        submit(discussion, user, now=when)
    assert words in refused.value.message
    assert _remark_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 0


def test_anonymous_visitors_are_asked_to_log_in(discussion):
    from flask_login import AnonymousUserMixin

    decision = services.remark_decision(AnonymousUserMixin(), discussion, IN_WINDOW)
    assert decision.code == "anonymous" and "Войдите через Госуслуги" in decision.reason


def test_territory_scope_refuses_other_municipalities(make_hearing, world):
    hearing = make_hearing(participant_scope=ParticipantScope.TERRITORY)
    decision = services.remark_decision(world.outsider, hearing, IN_WINDOW)
    assert decision.code == "territory"
    assert services.remark_decision(world.resident, hearing, IN_WINDOW).allowed


def test_standard_level_hearing_admits_standard_accounts(make_hearing, world):
    hearing = make_hearing(min_account_level=AccountLevel.STANDARD)
    world.simplified.account_level = AccountLevel.STANDARD
    assert services.remark_decision(world.simplified, hearing, IN_WINDOW).allowed


def test_identification_needs_a_registration_address(discussion, world):
    world.resident.registration_address = None
    decision = services.remark_decision(world.resident, discussion, IN_WINDOW)
    assert decision.code == "no_registration" and "адреса регистрации" in decision.reason


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("   ", "text", "Напишите текст"),
        ("а" * 5001, "text", "длиннее 5000 знаков"),
    ],
)
def test_bad_text_is_refused_next_to_the_field(discussion, world, text, field, words):
    with pytest.raises(FieldError) as error:
        submit(discussion, world.resident, text=text)
    assert error.value.field == field and words in error.value.message
    assert _remark_count() == 0


def test_a_paragraph_of_another_hearing_is_refused(make_hearing, discussion, world):
    other = make_hearing(title="Другой проект")
    foreign = paragraph(other, "1.1")
    with pytest.raises(FieldError) as error:
        submit(discussion, world.resident, paragraph_id=foreign.id)
    assert error.value.field == "paragraph_id" and "нет в проекте" in error.value.message
    with pytest.raises(FieldError):
        submit(discussion, world.resident, paragraph_id=999999)
    assert _remark_count() == 0


def test_the_database_refuses_a_remark_on_another_hearings_paragraph(
    make_hearing, discussion, world
):
    other = make_hearing(title="Другой проект")
    remark = submit(discussion, world.resident)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        remark.paragraph_id = paragraph(other, "1.1").id
        db.session.flush()


def test_wrong_kind_is_refused(discussion, world):
    with pytest.raises(FieldError) as error:
        submit(discussion, world.resident, kind="complaint")
    assert error.value.field == "kind"


def test_a_double_submit_saves_one_remark(discussion, world):
    submit(discussion, world.resident, client_token="form-1")
    with pytest.raises(Conflict) as error:
        submit(discussion, world.resident, client_token="form-1")
    assert "уже отправлено" in error.value.message
    assert _remark_count() == 1
    submit(discussion, world.resident, client_token="form-2")  # a new form is a new remark
    assert _remark_count() == 2


def test_numbers_follow_the_order_of_receipt(discussion, world):
    numbers = [
        submit(discussion, u).number for u in (world.resident, world.outsider, world.resident2)
    ]
    assert numbers == [1, 2, 3]


def _outbox(user_id):
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.user_id == user_id).order_by(OutboxMessage.id)
    ).all()


def test_moderation_publishes_or_rejects_with_a_reason_and_tells_the_author(discussion, world):
    published = submit(discussion, world.resident)
    rejected = submit(discussion, world.outsider, text="Реклама: купите плитку у нас!")
    services.moderate_remark(published, world.organizer, publish=True, now=IN_WINDOW)
    services.moderate_remark(
        rejected, world.organizer, publish=False, reason="advertising", now=IN_WINDOW
    )
    assert published.status == RemarkStatus.PUBLISHED
    assert rejected.status == RemarkStatus.REJECTED
    assert rejected.rejection_reason == RemarkRejectionReason.ADVERTISING
    told = [m for m in _outbox(world.outsider.id) if m.channel == "feed"]
    assert len(told) == 1
    # The remark is a proposal: the subject says so; the reason follows the colon in lower case.
    assert told[0].subject == "Ваше предложение не опубликовано"
    assert "не опубликовано. Причина: коммерческая или рекламная информация." in told[0].body
    assert "до 21.06.2026 включительно" in told[0].body
    assert any(m.subject == "Ваше предложение опубликовано" for m in _outbox(world.resident.id))


def test_a_remark_is_called_a_remark_in_the_notice_to_its_author(discussion, world):
    remark = submit(discussion, world.resident, kind="remark")
    services.moderate_remark(remark, world.organizer, publish=False, reason="obscene")
    told = [m for m in _outbox(world.resident.id) if m.channel == "feed"][-1]
    assert told.subject == "Ваше замечание не опубликовано"
    assert told.body.startswith("Замечание № 1 к пункту 2.2 проекта")


def test_moderation_needs_a_reason_to_reject_and_happens_once(discussion, world):
    remark = submit(discussion, world.resident)
    with pytest.raises(FieldError) as error:
        services.moderate_remark(remark, world.organizer, publish=False, reason="")
    assert error.value.field == "reason"
    assert remark.status == RemarkStatus.PENDING
    services.moderate_remark(remark, world.organizer, publish=True)
    with pytest.raises(Conflict):
        services.moderate_remark(remark, world.organizer, publish=False, reason="obscene")


def test_recommendations_need_a_published_remark_and_a_reason(discussion, world):
    remark = submit(discussion, world.resident)
    with pytest.raises(Conflict):
        services.set_recommendation(
            remark, world.organizer, decision="accept", reason="Учтём полностью."
        )
    services.moderate_remark(remark, world.organizer, publish=True)
    with pytest.raises(FieldError) as error:
        services.set_recommendation(
            remark, world.organizer, decision="maybe", reason="Подумаем ещё."
        )
    assert error.value.field == "decision"
    for reason in ("", "Да."):
        with pytest.raises(FieldError) as error:
            services.set_recommendation(remark, world.organizer, decision="accept", reason=reason)
        assert error.value.field == "reason"
    services.set_recommendation(
        remark, world.organizer, decision="decline", reason="Противоречит СП 82.13330.2016."
    )
    assert remark.recommendation == Recommendation.DECLINE


def test_after_the_protocol_remarks_are_no_longer_moderated(discussion, world):
    remark = submit(discussion, world.resident)
    after = local(CLOSES_ON + timedelta(days=1))
    with pytest.raises(DomainError) as error:
        services.issue_protocol(discussion, world.organizer, number="7", now=after)
    assert "1 ещё ждёт модерации" in error.value.message
    services.moderate_remark(remark, world.organizer, publish=True, now=after)
    services.issue_protocol(discussion, world.organizer, number="7", now=after)
    with pytest.raises(Conflict) as error:
        services.moderate_remark(remark, world.organizer, publish=True, now=after)
    assert "Протокол уже оформлен" in error.value.message
    # Recommendations are still given after the protocol: the conclusion needs them.
    services.set_recommendation(
        remark, world.organizer, decision="accept", reason="Учтено в редакции п. 2.2.", now=after
    )


HEARINGS_OWN_GROUNDS = {
    "unidentified": "Не позволяет установить участника",
    "repeated": "Повторяет ранее поданное замечание",
    "out_of_time": "Поступило вне срока",
}


def test_the_moderation_form_offers_the_hearings_grounds_only(app):
    from participation.hearings.forms import ModerationForm

    with app.test_request_context():
        choices = ModerationForm().reason.iter_choices()
        offered = {value: str(label) for value, label, *_ in choices if value}
    for code, label in HEARINGS_OWN_GROUNDS.items():
        assert offered[code] == label
    assert "Содержит нецензурные или оскорбительные выражения" in offered.values()
    assert "Не относится к предмету обсуждения или не позволяет понять суть" in offered.values()
    # Neither the messages' reason nor its old hearings' wording is offered any more.
    assert "several_problems" not in offered
    assert "Несколько проблем в одном сообщении" not in offered.values()
    assert "Несколько предложений в одном замечании" not in offered.values()


def test_remarks_are_rejected_on_the_grounds_for_remarks_not_the_messages_reasons(
    discussion, world
):
    remark = submit(discussion, world.resident)
    with pytest.raises(FieldError) as error:
        services.moderate_remark(
            remark, world.organizer, publish=False, reason="several_problems", now=IN_WINDOW
        )
    assert error.value.message == "Выберите причину отклонения из списка."
    assert remark.status == RemarkStatus.PENDING
    services.moderate_remark(
        remark, world.organizer, publish=False, reason="obscene", now=IN_WINDOW
    )
    told = [m for m in _outbox(world.resident.id) if m.channel == "feed"]
    assert "Причина: содержит нецензурные или оскорбительные выражения." in told[-1].body


@pytest.mark.parametrize(("code", "label"), HEARINGS_OWN_GROUNDS.items())
def test_a_remark_is_rejected_on_a_hearings_own_ground_and_its_author_is_told(
    discussion, world, code, label
):
    remark = submit(discussion, world.resident)
    services.moderate_remark(remark, world.organizer, publish=False, reason=code, now=IN_WINDOW)
    db.session.expire_all()
    stored = db.session.get(Remark, remark.id)
    assert stored.status == RemarkStatus.REJECTED
    assert stored.rejection_reason == RemarkRejectionReason(code)
    told = [m for m in _outbox(world.resident.id) if m.channel == "feed"][-1]
    assert f"Причина: {label.lower()}." in told.body
    # A late or repeated remark is not mended by sending it again; an unidentified one is.
    invited = "Вы можете отправить исправленный текст" in told.body
    assert invited is (code == "unidentified")


def test_the_database_holds_each_hearings_ground_and_refuses_any_other(discussion, world):
    remark = submit(discussion, world.resident)
    update = sa.text(
        "UPDATE hearing_remarks SET status = 'rejected', rejection_reason = :reason WHERE id = :id"
    )
    for reason in RemarkRejectionReason:
        with db.session.begin_nested():
            db.session.execute(update, {"reason": reason.value, "id": remark.id})
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(update, {"reason": "spam", "id": remark.id})
