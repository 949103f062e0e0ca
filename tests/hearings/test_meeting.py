"""The meeting of participants (публичные слушания): registration and speeches."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from participation.core.errors import Conflict, DomainError, FieldError
from participation.hearings import services
from participation.hearings.models import (
    Attendance,
    HearingKind,
    ParticipantKind,
    RemarkSource,
    RemarkStatus,
)
from tests.hearings.conftest import CLOSES_ON, MEETING_ON, OPENS_ON, local, paragraph

AT_MEETING = local(MEETING_ON, time(18, 30))


def attendee(**kw) -> services.AttendeeInput:
    values = {
        "kind": ParticipantKind.PERSON,
        "attendance": Attendance.IN_PERSON,
        "last_name": "Кузнецова",
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "birth_date": date(1990, 4, 1),
        "address": "450000, г. Уфа, ул. Пушкина, д. 1",
        "resident": True,
    }
    values.update(kw)
    return services.AttendeeInput(**values)


@pytest.fixture
def hearing(make_hearing):
    return make_hearing(kind=HearingKind.PUBLIC_HEARING)


def test_register_attendees_and_record_their_speeches(hearing, world):
    anna = services.register_attendee(hearing, world.organizer, attendee(), now=AT_MEETING)
    online = services.register_attendee(
        hearing,
        world.organizer,
        attendee(
            last_name="Орлов",
            first_name="Олег",
            attendance=Attendance.ONLINE,
            resident=False,
            birth_date=date(1965, 2, 2),
        ),
        now=AT_MEETING,
    )
    speech = services.record_speech(
        hearing,
        world.organizer,
        participant_id=anna.id,
        paragraph_id=paragraph(hearing, "2.1").id,
        kind="remark",
        text="Уборка ежедневно невозможна во дворах частного сектора.",
        now=AT_MEETING,
    )
    assert speech.source == RemarkSource.MEETING
    assert speech.status == RemarkStatus.PUBLISHED  # recorded by the organizer
    assert speech.resident is True and speech.author_id is None
    other = services.record_speech(
        hearing,
        world.organizer,
        participant_id=online.id,
        paragraph_id=None,
        kind="proposal",
        text="Провести собрание повторно.",
        now=AT_MEETING,
    )
    assert other.resident is False and other.number == 2
    data = services.document_data(hearing)
    assert (data.in_person_count, data.online_count) == (1, 1)


def test_a_platform_participant_who_comes_in_person_is_one_participant(hearing, world):
    services.submit_remark(
        hearing,
        world.resident,
        text="Письменное предложение.",
        kind="proposal",
        paragraph_id=None,
        client_token=None,
        now=local(OPENS_ON),
    )
    again = services.register_attendee(
        hearing,
        world.organizer,
        attendee(last_name="ИВАНОВА", first_name="Мария", birth_date=date(1988, 3, 17)),
        now=AT_MEETING,
    )
    assert again.user_id == world.resident.id and again.attendance == Attendance.IN_PERSON
    assert services.document_data(hearing).participant_count == 1
    with pytest.raises(Conflict):
        services.register_attendee(
            hearing,
            world.organizer,
            attendee(last_name="Иванова", first_name="Мария", birth_date=date(1988, 3, 17)),
            now=AT_MEETING,
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"last_name": " "}, "last_name"),
        ({"birth_date": None}, "birth_date"),
        ({"birth_date": date(2030, 1, 1)}, "birth_date"),
        ({"address": ""}, "address"),
        (
            {
                "kind": ParticipantKind.LEGAL_ENTITY,
                "legal_entity_name": "ООО «Вектор»",
                "legal_entity_ogrn": "123",
            },
            "legal_entity_ogrn",
        ),
        (
            {
                "kind": ParticipantKind.LEGAL_ENTITY,
                "legal_entity_name": "",
                "legal_entity_ogrn": "1020202020202",
            },
            "legal_entity_name",
        ),
    ],
)
def test_bad_attendee_data_is_refused(hearing, world, overrides, field):
    with pytest.raises(FieldError) as error:
        services.register_attendee(hearing, world.organizer, attendee(**overrides), now=AT_MEETING)
    assert error.value.field == field
    assert services.meeting_attendees(hearing) == []


def test_registration_opens_on_the_meeting_day_and_closes_with_the_protocol(hearing, world):
    with pytest.raises(DomainError) as early:
        services.register_attendee(
            hearing,
            world.organizer,
            attendee(),
            now=local(MEETING_ON, time(0, 0)) - timedelta(seconds=1),
        )
    assert "в день собрания (19.06.2026)" in early.value.message
    services.register_attendee(
        hearing, world.organizer, attendee(), now=local(MEETING_ON, time(0, 0))
    )
    after = local(CLOSES_ON + timedelta(days=1))
    services.issue_protocol(hearing, world.organizer, number="5", now=after)
    with pytest.raises(Conflict):
        services.register_attendee(
            hearing, world.organizer, attendee(last_name="Новиков"), now=after
        )


def test_a_speech_needs_a_registered_participant_of_this_hearing(hearing, make_hearing, world):
    with pytest.raises(FieldError) as error:
        services.record_speech(
            hearing,
            world.organizer,
            participant_id=None,
            paragraph_id=None,
            kind="remark",
            text="Текст",
            now=AT_MEETING,
        )
    assert error.value.field == "participant_id"
    other = make_hearing(kind=HearingKind.PUBLIC_HEARING, title="Другие слушания")
    stranger = services.register_attendee(other, world.organizer, attendee(), now=AT_MEETING)
    with pytest.raises(FieldError):
        services.record_speech(
            hearing,
            world.organizer,
            participant_id=stranger.id,
            paragraph_id=None,
            kind="remark",
            text="Текст",
            now=AT_MEETING,
        )


def test_discussions_have_no_meeting(discussion, world):
    with pytest.raises(DomainError) as error:
        services.register_attendee(discussion, world.organizer, attendee(), now=AT_MEETING)
    assert "только на публичных слушаниях" in error.value.message


def test_a_public_hearing_needs_a_meeting_inside_the_window(world, make_hearing):
    with pytest.raises(FieldError) as error:
        make_hearing(kind=HearingKind.PUBLIC_HEARING, meeting_date=CLOSES_ON + timedelta(days=1))
    assert error.value.field == "meeting_date"
    with pytest.raises(FieldError) as error:
        make_hearing(kind=HearingKind.PUBLIC_HEARING, meeting_place=None)
    assert error.value.field == "meeting_place"


def test_the_meeting_pages_register_and_record_over_http(client, hearing, world):
    from tests.hearings.conftest import travel
    from tests.helpers import csrf_token, login_as

    page = f"/backoffice/hearings/{hearing.id}/meeting"
    with travel(AT_MEETING):
        login_as(client, world.organizer)
        token = csrf_token(client, page)
        bad = client.post(
            f"{page}/attendees",
            data={
                "csrf_token": token,
                "kind": "person",
                "attendance": "in_person",
                "last_name": "Кузнецова",
                "first_name": "Анна",
                "address": "г. Уфа",
            },
        )
        assert bad.status_code == 400 and "Укажите дату рождения." in bad.get_data(as_text=True)
        ok = client.post(
            f"{page}/attendees",
            data={
                "csrf_token": token,
                "kind": "person",
                "attendance": "online",
                "last_name": "Кузнецова",
                "first_name": "Анна",
                "birth_date": "1990-04-01",
                "address": "г. Уфа, ул. Пушкина, д. 1",
                "resident": "y",
            },
        )
        assert ok.status_code == 302
        html = client.get(page).get_data(as_text=True)
        assert "Кузнецова Анна" in html and "Онлайн" in html
        attendee = services.meeting_attendees(hearing)[0]
        speech = client.post(
            f"{page}/speeches",
            data={
                "csrf_token": token,
                "participant_id": attendee.id,
                "paragraph_id": "0",
                "kind": "remark",
                "text": "Выступление о проекте в целом.",
            },
        )
        assert speech.status_code == 302
        assert "Выступление записано как № 1." in client.get(speech.location).get_data(as_text=True)
    assert services.document_data(hearing).residents[0].source == "На собрании участников"
