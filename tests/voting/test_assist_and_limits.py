"""Assisted voting by a volunteer, rate limits with audited refusals, privacy of the register."""

import re

import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.core.organizations import OrganizationKind
from participation.core.users import Role
from participation.extensions import db, limiter
from participation.voting.models import Ballot, Channel, RegisterEntry
from participation.voting.services import cast_ballot
from tests import factories
from tests.helpers import csrf_token, login_as
from tests.voting.helpers import campaign

CODE = re.compile(r"<code>([A-Z0-9-]{19})</code>")


def test_a_volunteer_registers_a_present_residents_vote(town, client):
    c = campaign(town)
    resident = town.resident(age=80, first_name="Зухра", last_name="Галиева")
    login_as(client, town.volunteer)
    assert "Помочь жителю проголосовать" in client.get(f"/voting/{c.id}").get_data(as_text=True)
    token = csrf_token(client, f"/voting/{c.id}/assist")
    response = client.post(f"/voting/{c.id}/assist", data={"csrf_token": token, "esia_oid": "12ab"})
    assert "OID состоит только из цифр" in response.get_data(as_text=True)
    response = client.post(f"/voting/{c.id}/assist", data={"csrf_token": token, "esia_oid": "777"})
    assert "Житель с таким OID не найден" in response.get_data(as_text=True)
    response = client.post(
        f"/voting/{c.id}/assist", data={"csrf_token": token, "esia_oid": resident.esia_oid}
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Галиева Зухра" in page and "Сверьте ФИО и дату рождения" in page

    choice = c.objects[1].id
    response = client.post(
        f"/voting/{c.id}/assist/ballot", data={"csrf_token": token, "choices": choice}
    )
    assert "Подтвердите, что проверили документ жителя" in response.get_data(as_text=True)
    response = client.post(
        f"/voting/{c.id}/assist/ballot",
        data={"csrf_token": token, "choices": choice, "identity_checked": "y"},
    )
    assert "Подтвердите выбор" in response.get_data(as_text=True)
    response = client.post(
        f"/voting/{c.id}/assist/cast",
        data={"csrf_token": token, "choices": choice, "identity_checked": "y"},
    )
    assert response.status_code == 200 and CODE.search(response.get_data(as_text=True))
    entry = db.session.scalar(sa.select(RegisterEntry))
    assert (entry.user_id, entry.channel, entry.volunteer_id) == (
        resident.id,
        Channel.ASSISTED,
        town.volunteer.id,
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
    lookups = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "voting.assist_lookup")
    ).all()
    assert len(lookups) == 2 and all(a.actor_id == town.volunteer.id for a in lookups)


def test_only_volunteers_of_the_organizer_may_assist(town, client):
    c = campaign(town)
    other = factories.organization(OrganizationKind.MUNICIPAL, territory_=town.other_city)
    for who in (town.resident(), town.official, factories.staff(other, Role.VOLUNTEER)):
        login_as(client, who)
        assert client.get(f"/voting/{c.id}/assist").status_code == 404


def test_casting_is_rate_limited_per_person_and_refusals_are_audited(town, client, app):
    c = campaign(town)
    voter = town.resident()
    login_as(client, voter)
    token = csrf_token(client, f"/voting/{c.id}/ballot")
    app.config["VOTING_CAST_LIMIT_PER_USER"] = "3 per minute"
    try:
        codes = [
            client.post(
                f"/voting/{c.id}/cast", data={"csrf_token": token, "choices": c.objects[0].id}
            ).status_code
            for _ in range(5)
        ]
    finally:
        app.config.pop("VOTING_CAST_LIMIT_PER_USER")
        limiter.reset()
    assert codes == [200, 302, 302, 429, 429]
    actions = db.session.scalars(
        sa.select(AuditEntry.details).where(AuditEntry.action == "voting.refused")
    ).all()
    assert [a["code"] for a in actions] == [
        "already_voted",
        "already_voted",
        "rate_limited",
        "rate_limited",
    ]


def test_no_page_tells_others_whether_someone_voted(town, client):
    c = campaign(town)
    voter, other = town.resident(last_name="Сидоренко", esia_oid="555000111"), town.resident()
    cast_ballot(c, voter, [c.objects[0].id])
    login_as(client, other)
    page = client.get(f"/voting/{c.id}").get_data(as_text=True)
    assert "Вы проголосовали" not in page and "Проголосовать" in page
    login_as(client, town.official)
    manage = client.get(f"/backoffice/voting/{c.id}").get_data(as_text=True)
    assert "Сидоренко" not in manage and "555000111" not in manage


def test_a_page_for_a_missing_campaign_or_object_is_404(town, client):
    c = campaign(town)
    other = campaign(town, title="Другое")
    assert client.get("/voting/999999").status_code == 404
    assert client.get(f"/voting/{c.id}/objects/{other.objects[0].id}").status_code == 404
    assert client.get(f"/voting/{c.id}/objects/{c.objects[0].id}").status_code == 200
