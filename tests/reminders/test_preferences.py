"""The preferences page: reached from the profile, CSRF-protected, saved all at once, and what
it saves decides the letters (the feed gets everything)."""

from __future__ import annotations

import sqlalchemy as sa

from participation.core.outbox import notify
from participation.core.preferences import NoticeKind, NotificationPreference, email_choices
from participation.core.users import Role
from participation.extensions import db
from tests import factories
from tests.helpers import csrf_token, login_as
from tests.reminders.conftest import feed, letters

URL = "/my/notification-settings"


def _saved(user) -> dict:
    return dict(
        db.session.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.email).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )


def test_reached_from_the_profile_with_defaults(client, db_session):
    person = factories.user()
    login_as(client, person)
    profile = client.get("/my/profile").get_data(as_text=True)
    assert f'href="{URL}"' in profile and "Настройки уведомлений" in profile
    page = client.get(URL).get_data(as_text=True)
    assert "Все уведомления всегда приходят в ленту" in page
    assert "Напоминания: голосование, в котором я не голосовал, скоро закончится" in page
    assert '<input checked id="reminders" name="reminders" type="checkbox"' in page
    assert '<input id="announcements" name="announcements" type="checkbox"' in page  # opt-in
    assert 'name="announcements"' in page and 'name="deadlines"' not in page  # not staff


def test_saving_switches_kinds_on_and_off(client, db_session):
    person = factories.user()
    login_as(client, person)
    token = csrf_token(client, URL)
    answer = client.post(URL, data={"csrf_token": token, "announcements": "y", "messages": "y"})
    assert answer.status_code == 302
    assert _saved(person) == {
        NoticeKind.MESSAGES: True,
        NoticeKind.REMINDERS: False,
        NoticeKind.ANNOUNCEMENTS: True,
    }
    assert "Настройки уведомлений сохранены" in client.get(URL).get_data(as_text=True)
    # A resident cannot switch on the staff kind by adding the field.
    client.post(URL, data={"csrf_token": token, "deadlines": "y"})
    assert NoticeKind.DEADLINES not in _saved(person)
    assert _saved(person)[NoticeKind.MESSAGES] is False


def test_staff_choose_deadline_letters(client, db_session, run_jobs):
    org = factories.organization()
    clerk = factories.staff(org, Role.EXECUTOR)
    login_as(client, clerk)
    token = csrf_token(client, URL)
    assert 'name="deadlines"' in client.get(URL).get_data(as_text=True)
    client.post(URL, data={"csrf_token": token, "messages": "y"})
    assert _saved(clerk)[NoticeKind.DEADLINES] is False
    notify(clerk.id, "t:due", "Скоро срок", "…", email=clerk.email, kind=NoticeKind.DEADLINES)
    db.session.commit()
    run_jobs()
    assert letters(clerk, "t:due") == []
    assert [n.title for n in feed(clerk)] == ["Скоро срок"]


def test_without_csrf_nothing_is_saved(client, db_session):
    person = factories.user()
    login_as(client, person)
    answer = client.post(URL, data={"announcements": "y"})
    assert answer.status_code == 400
    assert _saved(person) == {}


def test_letters_switched_on_without_an_address_are_refused(client, db_session):
    person = factories.user(email=None)
    login_as(client, person)
    token = csrf_token(client, URL)
    answer = client.post(URL, data={"csrf_token": token, "reminders": "y", "messages": "y"})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "нет адреса электронной почты" in text and "Настройки не сохранены" in text
    assert _saved(person) == {}
    # Everything off is a valid choice without an address.
    assert client.post(URL, data={"csrf_token": token}).status_code == 302
    assert set(_saved(person).values()) == {False}


def test_anonymous_is_sent_to_log_in(client, db_session):
    answer = client.get(URL)
    assert answer.status_code in (302, 401)


def test_the_answer_to_my_message_follows_my_choice(db_session, run_jobs):
    person = factories.user()
    assert email_choices(person.id)[NoticeKind.MESSAGES] is True
    db.session.add(NotificationPreference(user_id=person.id, kind=NoticeKind.MESSAGES, email=False))
    db.session.flush()
    notify(person.id, "t:answer", "Ответ", "…", email=person.email, kind=NoticeKind.MESSAGES)
    # A notice of no kind (an operational one) is not filtered.
    notify(person.id, "t:other", "Другое", "…", email=person.email)
    db.session.commit()
    run_jobs()
    assert letters(person, "t:answer") == []
    assert len(letters(person, "t:other")) == 1
    assert {n.title for n in feed(person)} == {"Ответ", "Другое"}
