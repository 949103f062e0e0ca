"""Staff invitations: invite by e-mail, accept after ESIA login, expire, revoke, re-send,
the wrong person, roles the inviter cannot grant."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.admin.models import InvitationStatus, StaffInvitation
from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.core.organizations import OrganizationKind
from participation.core.outbox import OutboxMessage
from participation.core.tokens import token_hash
from participation.core.users import Membership, Role
from participation.extensions import db
from tests import factories
from tests.helpers import csrf_token, login_as


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _roles(user_id: int, organization_id: int) -> set[Role]:
    return set(
        db.session.scalars(
            sa.select(Membership.role).where(
                Membership.user_id == user_id, Membership.organization_id == organization_id
            )
        )
    )


def _letters(email: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.email == email).order_by(OutboxMessage.id)
        )
    )


def _path_of(letter: OutboxMessage) -> str:
    match = re.search(r"(/invitations/[A-Za-z0-9_-]+)$", letter.link)
    assert match, letter.link
    return match.group(1)


@pytest.fixture
def org_admin(client):
    org = factories.organization(name="Администрация городского округа Бирск")
    admin = factories.staff(org, Role.ADMINISTRATOR, last_name="Админов")
    login_as(client, admin)
    return org, admin


def _invite(client, **fields):
    data = {
        "csrf_token": csrf_token(client, "/admin/invitations/new"),
        "email": "kuznetsova@example.org",
        "last_name": "Кузнецова",
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "roles": ["coordinator", "executor"],
        **fields,
    }
    return client.post("/admin/invitations/new", data=data)


def _invited(client) -> tuple[StaffInvitation, str]:
    response = _invite(client)
    assert response.status_code == 302, _text(response)
    invitation = db.session.scalar(sa.select(StaffInvitation))
    return invitation, _path_of(_letters(invitation.email)[-1])


def test_administrator_invites_by_email_and_the_letter_is_sent(app, client, org_admin, run_jobs):
    _org, admin = org_admin
    invitation, path = _invited(client)
    run_jobs()
    db.session.expire_all()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.roles == ["coordinator", "executor"]
    raw = path.rsplit("/", 1)[1]
    assert invitation.token_hash == token_hash(raw) and raw not in invitation.token_hash
    assert invitation.expires_at - utcnow() > timedelta(days=6, hours=23)
    [letter] = _letters("kuznetsova@example.org")
    assert letter.sent_at is not None  # the relay ran after the commit
    assert "Кузнецова Анна Сергеевна" in letter.body and "Координатор, Исполнитель" in letter.body
    mail = "".join(
        p.read_text() for p in Path(app.config["MAIL_DIR"]).glob(f"*{letter.id:08d}.eml")
    )
    assert "kuznetsova@example.org" in mail
    [entry] = _audit("staff.invitation_sent")
    assert entry.actor_id == admin.id and entry.details["roles"] == ["coordinator", "executor"]
    listing = _text(client.get("/admin/"))
    assert "Приглашения" in listing and "kuznetsova@example.org" in listing
    assert "Отправлено, ссылка действует до" in listing


def test_the_term_is_a_config_key(app, client, org_admin):
    app.config["STAFF_INVITATION_DAYS"] = 2
    try:
        invitation, _path = _invited(client)
    finally:
        app.config["STAFF_INVITATION_DAYS"] = 7
    assert timedelta(days=1, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=2)


def test_invitee_logs_in_through_esia_and_accepts(app, client, org_admin):
    org, _admin = org_admin
    _invitation, path = _invited(client)
    client = app.test_client()  # the invitee's own browser, not logged in
    page = client.get(path)
    assert page.status_code == 200
    assert "Войти через Госуслуги" in _text(page) and "/login?next=/invitations/" in _text(page)
    person = factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
    login_as(client, person)
    page = _text(client.get(path))
    assert "Принять приглашение" in page and "не совпадает" not in page
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302 and response.location.endswith("/backoffice/")
    assert _roles(person.id, org.id) == {Role.COORDINATOR, Role.EXECUTOR}
    db.session.expire_all()
    invitation = db.session.scalar(sa.select(StaffInvitation))
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.accepted_by_id == person.id
    [accepted] = _audit("staff.invitation_accepted")
    assert accepted.details["name_matches"] is True
    assert {e.details["role"] for e in _audit("staff.role_added")} == {"coordinator", "executor"}
    # One-time: the same link again (by anyone) is refused and grants nothing more.
    other = factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
    login_as(client, other)
    again = client.get(path)
    assert again.status_code == 410 and "уже использована" in _text(again)
    token = csrf_token(client, "/")
    reused = client.post(path, data={"csrf_token": token})
    assert reused.status_code == 410 and "уже использована" in _text(reused)
    assert _roles(other.id, org.id) == set()


def test_another_esia_name_is_warned_and_waits_for_the_administrator(client, org_admin):
    org, admin = org_admin
    _invitation, path = _invited(client)
    stranger = factories.user(last_name="Смирнов", first_name="Олег", middle_name=None)
    login_as(client, stranger)
    page = _text(client.get(path))
    assert "Смирнов Олег" in page and "не совпадает с именем в приглашении" in page
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    assert "ждёт подтверждения" in _text(response)
    assert _roles(stranger.id, org.id) == set()
    db.session.expire_all()
    invitation = db.session.scalar(sa.select(StaffInvitation))
    assert invitation.status == InvitationStatus.AWAITING_CONFIRMATION
    # The administrator sees it waiting and confirms: now the roles are granted.
    login_as(client, admin)
    listing = _text(client.get("/admin/"))
    assert "Ждёт вашего подтверждения" in listing and "Смирнов Олег" in listing
    token = csrf_token(client, "/admin/")
    client.post(f"/admin/invitations/{invitation.id}/confirm", data={"csrf_token": token})
    assert _roles(stranger.id, org.id) == {Role.COORDINATOR, Role.EXECUTOR}
    db.session.refresh(invitation)
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.decided_by_id == admin.id
    assert len(_audit("staff.invitation_confirmed")) == 1
    assert "Ждёт вашего подтверждения" not in _text(client.get("/admin/"))
    # Confirmed twice (a double click): the second says so and grants nothing more.
    again = client.post(
        f"/admin/invitations/{invitation.id}/confirm",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "не ждёт подтверждения" in _text(again)
    assert len(_audit("staff.invitation_confirmed")) == 1
    assert len(_audit("staff.role_added")) == 2


def test_administrator_may_decline_the_other_person(client, org_admin):
    org, admin = org_admin
    _invitation, path = _invited(client)
    stranger = factories.user(last_name="Смирнов", first_name="Олег")
    login_as(client, stranger)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    invitation = db.session.scalar(sa.select(StaffInvitation))
    login_as(client, admin)
    token = csrf_token(client, "/admin/")
    client.post(f"/admin/invitations/{invitation.id}/decline", data={"csrf_token": token})
    assert _roles(stranger.id, org.id) == set()
    db.session.refresh(invitation)
    assert invitation.status == InvitationStatus.REVOKED
    assert len(_audit("staff.invitation_declined")) == 1


def test_names_differing_only_in_case_and_yo_are_the_same_person(client, org_admin):
    org, _admin = org_admin
    _invite(client, last_name="Семёнова", first_name="анна", middle_name="")
    invitation = db.session.scalar(sa.select(StaffInvitation))
    path = _path_of(_letters(invitation.email)[-1])
    person = factories.user(last_name="СЕМЕНОВА", first_name="Анна", middle_name=None)
    login_as(client, person)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert _roles(person.id, org.id) == {Role.COORDINATOR, Role.EXECUTOR}


def test_an_expired_link_is_refused_and_nothing_is_granted(client, org_admin):
    org, _admin = org_admin
    invitation, path = _invited(client)
    person = factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
    login_as(client, person)
    token = csrf_token(client, path)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    page = client.get(path)
    assert page.status_code == 410 and "Срок действия приглашения истёк" in _text(page)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 410 and "Срок действия приглашения истёк" in _text(response)
    assert _roles(person.id, org.id) == set()
    db.session.refresh(invitation)
    assert invitation.status == InvitationStatus.PENDING and invitation.accepted_by_id is None
    # The administrator sees it expired, and a re-send makes it work again.
    login_as(client, _admin)
    assert "Срок ссылки истёк" in _text(client.get("/admin/"))


def test_a_revoked_link_is_refused(client, org_admin):
    org, admin = org_admin
    invitation, path = _invited(client)
    token = csrf_token(client, "/admin/")
    response = client.post(f"/admin/invitations/{invitation.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    [entry] = _audit("staff.invitation_revoked")
    assert entry.actor_id == admin.id
    listing = _text(client.get("/admin/"))
    assert "отозвано" in listing  # the flash
    assert "Открытых приглашений нет" in listing
    person = factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
    login_as(client, person)
    page = client.get(path)
    assert page.status_code == 410 and "Приглашение отозвано" in _text(page)
    response = client.post(path, data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 410
    assert _roles(person.id, org.id) == set()


def test_resend_makes_a_new_link_and_kills_the_old_one(client, org_admin, run_jobs):
    org, _admin = org_admin
    invitation, old_path = _invited(client)
    old_hash = invitation.token_hash
    token = csrf_token(client, "/admin/")
    client.post(f"/admin/invitations/{invitation.id}/resend", data={"csrf_token": token})
    run_jobs()
    db.session.expire_all()
    letters = _letters("kuznetsova@example.org")
    assert len(letters) == 2 and all(letter.sent_at for letter in letters)
    new_path = _path_of(letters[-1])
    assert new_path != old_path
    db.session.refresh(invitation)
    assert invitation.token_hash != old_hash and invitation.sent_count == 2
    assert len(_audit("staff.invitation_resent")) == 1
    person = factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
    login_as(client, person)
    old = client.get(old_path)
    assert old.status_code == 404 and "Ссылка приглашения недействительна" in _text(old)
    client.post(new_path, data={"csrf_token": csrf_token(client, new_path)})
    assert _roles(person.id, org.id) == {Role.COORDINATOR, Role.EXECUTOR}


def test_an_unknown_link_is_a_clear_404(client):
    response = client.get("/invitations/not-a-real-token")
    assert response.status_code == 404
    assert "Ссылка приглашения недействительна" in _text(response)


def test_a_role_the_inviter_cannot_grant_is_refused_next_to_the_field(client, org_admin):
    response = _invite(client, roles=["coordinator", "regional_authorized"])
    assert response.status_code == 400
    page = _text(response)
    assert 'id="roles-error"' in page
    assert "«Уполномоченный региональный» выдаётся только в региональном органе власти" in page
    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 0
    assert _letters("kuznetsova@example.org") == []
    assert _audit("staff.invitation_sent") == []


def test_bad_invitation_form_input_is_shown_next_to_the_fields(client, org_admin):
    response = _invite(client, email="не адрес", roles=[], first_name="")
    assert response.status_code == 400
    page = _text(response)
    assert 'id="email-error"' in page and "Укажите адрес электронной почты" in page
    assert 'id="roles-error"' in page and "Выберите хотя бы одну роль" in page
    assert 'id="first_name-error"' in page and "Укажите имя" in page
    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 0


def test_an_unknown_role_and_an_over_long_surname_are_refused_at_their_fields(client, org_admin):
    response = _invite(client, roles=["coordinator", "superuser"], last_name="Я" * 101)
    assert response.status_code == 400
    page = _text(response)
    assert 'id="roles-error"' in page and 'id="last_name-error"' in page
    assert "Не длиннее 100 символов" in page
    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 0


def test_a_second_open_invitation_to_the_same_address_is_refused(client, org_admin):
    _invited(client)
    response = _invite(client, email="KUZNETSOVA@example.org")
    assert response.status_code == 400
    assert "уже отправлено действующее приглашение" in _text(response)
    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 1


def test_other_organizations_invitations_are_404(client, org_admin, caplog):
    _org, _admin = org_admin
    invitation, _path = _invited(client)
    outsider_org = factories.organization()
    outsider = factories.staff(outsider_org, Role.ADMINISTRATOR)
    login_as(client, outsider)
    token = csrf_token(client, "/admin/")
    for action in ("revoke", "resend", "confirm", "decline"):
        response = client.post(
            f"/admin/invitations/{invitation.id}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
    db.session.refresh(invitation)
    assert invitation.status == InvitationStatus.PENDING and invitation.sent_count == 1


def test_non_administrators_cannot_invite(client):
    org = factories.organization()
    login_as(client, factories.staff(org, Role.COORDINATOR))
    assert client.get("/admin/invitations/new").status_code == 404


def test_accepting_needs_the_csrf_token(client, org_admin):
    org, _admin = org_admin
    _invitation, path = _invited(client)
    person = factories.user(last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна")
    login_as(client, person)
    assert client.post(path).status_code == 400
    assert _roles(person.id, org.id) == set()


def test_regional_authorised_official_is_invited_in_a_regional_body(client):
    region = factories.organization(OrganizationKind.REGIONAL)
    login_as(client, factories.staff(region, Role.ADMINISTRATOR))
    response = _invite(client, roles=["regional_authorized"])
    assert response.status_code == 302
    response = _invite(client, email="other@example.org", roles=["authorized"])
    assert response.status_code == 400
    assert "«Уполномоченный муниципальный» выдаётся только в органе местного самоуправления" in (
        _text(response)
    )


def test_a_role_held_already_is_skipped_and_the_others_are_granted(app, client, org_admin):
    org, _admin = org_admin
    _invitation, path = _invited(client)
    # given the executor's role by hand meanwhile
    person = factories.staff(
        org, Role.EXECUTOR, last_name="Кузнецова", first_name="Анна", middle_name="Сергеевна"
    )
    client = app.test_client()
    login_as(client, person)
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert _roles(person.id, org.id) == {Role.COORDINATOR, Role.EXECUTOR}
    assert [e.details["role"] for e in _audit("staff.role_added")] == ["coordinator"]
