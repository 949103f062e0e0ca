"""Open311 POST requests: a partner system with an organization's API key files a caller's
message on the operator channel, through the operator form's own service; and every refusal."""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from participation.api import services as keys
from participation.api.models import ApiScope
from participation.appeals.models import Appeal, AppealEvent, Channel
from participation.appeals.workflow import AppealState as S
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.api.open311 import BASE, FORMATS, POST_FIELDS, REQUEST_FIELDS, records
from tests.api.test_open311 import errors

FORM = {
    "service_code": None,  # set per test (the world's topic codes differ from run to run)
    "lat": "56.838011",
    "long": "60.597465",
    "address_string": "г. Тестовск, ул. Ленина, д. 5",
    "description": "Большая яма на дороге у дома 5, машины объезжают её по встречной полосе.",
    "first_name": "Анна",
    "last_name": "Звонарёва",
    "phone": "+7 900 111-22-33",
    "email": "zvonareva@example.org",
}


_names = itertools.count(1)


def issue(organization, admin, *scopes: ApiScope, days: int = 30) -> str:
    issued = keys.create_api_key(
        organization,
        f"Контакт-центр 311 № {next(_names)}",
        [s.value for s in scopes or (ApiScope.MESSAGES_WRITE,)],
        keys.today() + timedelta(days=days),
        admin,
    )
    db.session.flush()
    return issued.token


@pytest.fixture
def partner(world):
    """The city administration's key for its 311 call centre (messages:write)."""
    w = world
    return SimpleNamespace(w=w, token=issue(w.city_admin, w.administrator))


def form(partner, **changes) -> dict:
    data = {**FORM, "service_code": partner.w.potholes.code, "api_key": partner.token}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post(client, data, fmt="json", **kw):
    return client.post(f"{BASE}/requests.{fmt}", data=data, **kw)


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_partner_files_a_message_on_the_operator_channel(client, partner, fmt):
    w = partner.w
    response = post(client, form(partner), fmt)  # no CSRF token: the api_key authenticates
    assert response.status_code == 200, response.get_data(as_text=True)
    [item] = records(response, fmt, "service_requests")
    assert list(item) == POST_FIELDS
    number = item["service_request_id"]
    assert number.isdigit() and item["account_id"] is None
    assert f"№ {number}" in item["service_notice"]

    appeal = db.session.get(Appeal, int(number))
    key = keys.find_api_key(partner.token)
    # The operator form's rules: the caller's identity kept, no author, routed by the rules.
    assert appeal.channel == Channel.OPERATOR and appeal.author_id is None
    assert appeal.submitted_by_id == key.user_id
    assert (appeal.caller_name, appeal.caller_phone, appeal.caller_email) == (
        "Звонарёва Анна",
        "+7 900 111-22-33",
        "zvonareva@example.org",
    )
    assert appeal.territory_id == w.city.id  # the key's municipality
    assert appeal.executor_organization_id == w.city_admin.id and appeal.auto_routed
    assert appeal.state == S.MODERATION and appeal.holder_organization_id == w.operator.id
    assert appeal.fast_track and appeal.term_days == 10  # the same deadlines
    assert str(appeal.latitude) == "56.838011"
    assert (
        appeal.answer_due_at.astimezone(w.city.tz).strftime("%d.%m.%Y") in (item["service_notice"])
    )
    [event] = db.session.scalars(sa.select(AppealEvent).where(AppealEvent.appeal_id == appeal.id))
    assert (event.action, event.actor_role) == ("submit", Role.OPERATOR.value)

    # Tracked through GET at once, without anything personal.
    shown = client.get(f"{BASE}/requests/{number}.{fmt}")
    [request_item] = records(shown, fmt, "service_requests")
    assert list(request_item) == REQUEST_FIELDS
    assert request_item["status"] == "open"
    body = shown.get_data(as_text=True)
    for secret in ("Звонарёва", "Анна", "111-22-33", "zvonareva", FORM["description"][:20]):
        assert secret not in body


def test_address_id_names_the_municipality(client, world):
    w = world
    cur_admin = f.staff(w.cur, Role.ADMINISTRATOR, last_name="Цуров-Админ")
    partner = SimpleNamespace(w=w, token=issue(w.cur, cur_admin))  # a region-wide centre
    data = form(partner, service_code=w.benches.code)
    [text] = errors(post(client, data), "json", 400)
    assert text.startswith("address_id:")
    response = post(client, {**data, "address_id": w.town.oktmo})
    assert response.status_code == 200, response.get_data(as_text=True)
    [item] = records(response, "json", "service_requests")
    appeal = db.session.get(Appeal, int(item["service_request_id"]))
    assert appeal.territory_id == w.town.id
    assert appeal.executor_organization_id == w.town_admin.id  # the benches' rule


@pytest.mark.parametrize("fmt", FORMATS)
def test_keys_that_do_not_open_the_door_are_403(client, partner, fmt):
    w = partner.w
    reader = issue(w.city_admin, w.administrator, ApiScope.MESSAGES_READ)
    expired = issue(w.city_admin, w.administrator)
    keys.find_api_key(expired).expires_at = keys.find_api_key(expired).created_at
    revoked = issue(w.city_admin, w.administrator)
    keys.revoke_api_key(keys.find_api_key(revoked), w.administrator)
    db.session.flush()
    before = count()
    cases = [
        ({"api_key": None}, "не передан"),
        ({"api_key": "rvk_0000_unknown"}, "неверен"),
        ({"api_key": "просто строка"}, "неверен"),
        ({"api_key": reader}, "messages:write"),
        ({"api_key": expired}, "истёк"),
        ({"api_key": revoked}, "отозван"),
    ]
    for changes, said in cases:
        [text] = errors(post(client, form(partner, **changes), fmt), fmt, 403)
        assert said in text, (changes, text)
    # A key in the address is refused even when it is right (addresses end up in logs).
    response = client.post(
        f"{BASE}/requests.{fmt}?api_key={partner.token}", data=form(partner, api_key=None)
    )
    [text] = errors(response, fmt, 403)
    assert "в теле запроса" in text
    assert count() == before


BAD = [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "no.such.code"}, 404, "service_code"),
    ({"first_name": None}, 400, "first_name"),
    ({"last_name": " "}, 400, "last_name"),
    ({"last_name": "Ж" * 101}, 400, "last_name"),
    ({"phone": None, "email": None}, 400, "phone, email"),
    ({"phone": "звоните"}, 400, "phone"),
    ({"email": "not-an-email"}, 400, "email"),
    ({"description": None}, 400, "description"),
    ({"description": "Яма"}, 400, "description"),
    ({"description": "Я" * 4001}, 400, "description"),
    ({"lat": None, "long": None, "address_string": None}, 400, "lat и long"),
    ({"long": None, "address_string": None}, 400, "long"),
    ({"lat": "north"}, 400, "lat"),
    ({"long": "NaN"}, 400, "long"),
    ({"lat": "91"}, 400, "lat"),
    ({"address_id": "99999999"}, 400, "address_id"),
    ({"address_string": "д" * 501}, 400, "address_string"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("changes", "status", "named"), BAD)
def test_bad_input_is_refused_and_nothing_is_kept(client, partner, fmt, changes, status, named):
    before = count()
    texts = errors(post(client, form(partner, **changes), fmt), fmt, status)
    assert any(text.startswith(named) or named in text for text in texts), texts
    assert count() == before


def test_a_retired_topic_or_a_place_without_an_executor_is_400(client, partner):
    w = partner.w
    [text] = errors(post(client, form(partner, service_code=w.retired.code)), "json", 400)
    assert text.startswith("service_code:")
    elsewhere = f.territory(L.URBAN_OKRUG, parent=f.territory(L.REGION, parent=w.country))
    [text] = errors(post(client, form(partner, address_id=elsewhere.oktmo)), "json", 400)
    assert text.startswith("address_id:") and "нет исполнителя" in text


def test_several_problems_are_listed_together(client, partner):
    data = form(partner, first_name=None, last_name=None, lat="x", service_code=None)
    texts = errors(post(client, data, "xml"), "xml", 400)
    assert [t.split(":")[0] for t in texts] == ["service_code", "first_name", "last_name", "lat"]


def test_the_idempotency_key_makes_a_retry_harmless(client, partner):
    headers = {"Idempotency-Key": "call-2026-12-05-0001"}
    first = records(post(client, form(partner), headers=headers), "json", "service_requests")
    before = count()
    again = records(post(client, form(partner), headers=headers), "json", "service_requests")
    assert again[0]["service_request_id"] == first[0]["service_request_id"]
    assert count() == before
    # The same key for another message is a mistake, said as such.
    other = form(partner, description="Не горит фонарь у дома 7 по улице Мира уже неделю.")
    [text] = errors(post(client, other, headers=headers), "json", 400)
    assert "Idempotency-Key" in text
    # Without the header every POST is a new message; a malformed key is refused.
    post(client, form(partner))
    assert count() == before + 1
    [text] = errors(post(client, form(partner), headers={"Idempotency-Key": "ключ"}), "json", 400)
    assert text.startswith("Idempotency-Key")


def test_an_older_key_without_the_operator_role_is_told_what_to_do(client, partner):
    from participation.core.users import Membership

    key = keys.find_api_key(partner.token)
    db.session.execute(
        sa.delete(Membership).where(
            Membership.user_id == key.user_id, Membership.role == Role.OPERATOR
        )
    )
    db.session.expire_all()
    [text] = errors(post(client, form(partner)), "json", 403)
    assert "выпустите новый ключ" in text


def test_messages_write_keys_are_intake_operators_of_their_organization(partner):
    key = keys.find_api_key(partner.token)
    assert key.user.roles_in(partner.w.city_admin.id) == {
        Role.COORDINATOR,
        Role.EXECUTOR,
        Role.OPERATOR,
    }


def test_filing_is_rate_limited_per_key(client, partner):
    bad = form(partner, api_key="rvk_0000_unknown")
    for _ in range(60):
        assert post(client, bad).status_code == 403
    response = post(client, bad)
    [text] = errors(response, "json", 429)
    assert text and "Retry-After" in response.headers
    # Another key has its own allowance.
    assert post(client, form(partner)).status_code == 200


def test_a_municipality_key_of_another_kind_of_organization(client, world):
    """An institution's key files on its own municipality too (its territory is the city)."""
    w = world
    hospital = f.organization(K.INSTITUTION, w.city, name="Городская больница")
    admin = f.staff(hospital, Role.ADMINISTRATOR, last_name="Главврач")
    partner = SimpleNamespace(w=w, token=issue(hospital, admin))
    response = post(client, form(partner))
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_that_is_not_a_form_is_400(client, partner, fmt):
    before = count()
    response = client.post(f"{BASE}/requests.{fmt}", json=form(partner))
    [text] = errors(response, fmt, 400)
    assert "application/x-www-form-urlencoded" in text and "application/json" in text
    assert count() == before
    # multipart is a form too (what curl -F sends)
    response = client.post(
        f"{BASE}/requests.{fmt}", data=form(partner), content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
