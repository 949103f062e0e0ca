"""The «Вебхуки» section of the cabinet: who opens it, the form's refusals in Russian next to
the field with nothing saved, the secret, the delivery log and «Отправить повторно»."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from participation.api.webhooks import services
from participation.api.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookEndpoint,
    WebhookSubscription,
)
from participation.appeals import services as appeals
from participation.core.audit import AuditEntry
from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.api.conftest import deliveries, endpoint_for
from tests.appeals.conftest import submit
from tests.helpers import csrf_token, login_as

PAGE = "/admin/webhooks/"
ALL = [e.value for e in EventType]


def _field_error(page: str, field: str) -> str:
    """The error text shown under the field (id="<field>-error")."""
    match = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
    assert match, f"no error next to {field}"
    return html.unescape(re.sub(r"\s+", " ", match.group(1))).strip()


def _post_new(client, **data):
    token = csrf_token(client, f"{PAGE}new")
    return client.post(f"{PAGE}new", data={"csrf_token": token, **data})


def _endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(sa.select(WebhookEndpoint)))


@pytest.fixture
def production_rules(app, monkeypatch):
    """What production enforces: https only, no internal addresses."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_LOCAL_HTTP", False)
    monkeypatch.setitem(app.config, "WEBHOOKS_BLOCK_PRIVATE_ADDRESSES", True)


def test_only_the_organizations_administrators_open_the_section(world, client):
    w = world
    assert client.get(PAGE).status_code == 302  # anonymous: to the login
    for outsider in (w.resident, w.coordinator, w.executor, w.head):
        login_as(client, outsider)
        assert client.get(PAGE).status_code == 404
        assert client.get(f"{PAGE}new").status_code == 404
    response = client.post(
        f"{PAGE}new",
        data={"csrf_token": csrf_token(client, "/"), "url": "https://a.example/h", "events": ALL},
    )
    assert response.status_code == 404 and _endpoints() == []

    login_as(client, w.administrator)
    assert client.get(PAGE).status_code == 200
    home = client.get("/backoffice/").get_data(as_text=True)
    assert 'href="/admin/webhooks/"' in home and "Вебхуки" in home
    login_as(client, w.coordinator)
    assert 'href="/admin/webhooks/"' not in client.get("/backoffice/").get_data(as_text=True)


def test_an_endpoint_is_registered_and_its_secret_shown(world, client):
    w = world
    login_as(client, w.administrator)
    response = _post_new(
        client,
        url="https://sed.example.ru/webhooks/participation",
        description="СЭД «Дело»",
        events=["appeal.assigned", "appeal.overdue"],
    )
    assert response.status_code == 302
    [endpoint] = _endpoints()
    assert endpoint.organization_id == w.city_admin.id
    assert endpoint.url == "https://sed.example.ru/webhooks/participation"
    assert set(endpoint.event_types) == {EventType.APPEAL_ASSIGNED, EventType.APPEAL_OVERDUE}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert endpoint.secret in page and "Скопируйте секрет" in page
    assert db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "webhook.endpoint_created")
    )
    listing = client.get(PAGE).get_data(as_text=True)
    assert "https://sed.example.ru/webhooks/participation" in listing
    assert "appeal.overdue" in listing


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "http://sed.example.ru/hook"}, "url", "https://"),
        ({"url": "ftp://sed.example.ru/hook"}, "url", "https://"),
        ({"url": "sed.example.ru/hook"}, "url", "https://"),
        ({"url": ""}, "url", "Укажите адрес"),
        ({"url": "https://user:pw@sed.example.ru/h"}, "url", "логин и пароль"),
        ({"url": "https://sed.example.ru:99999/h"}, "url", "с ошибкой"),
        ({"url": "https://sed.example.ru/h#part"}, "url", "после знака #"),
        ({"url": "https://sed.example.ru/" + "a" * 2000}, "url", "слишком длинный"),
        ({"events": []}, "events", "Выберите хотя бы одно событие."),
        ({"events": ["appeal.deleted"]}, "events", "из списка"),
        ({"description": "д" * 201}, "description", "Не больше 200 символов"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_saved(
    world, client, data, field, message
):
    login_as(client, world.administrator)
    values = {"url": "https://sed.example.ru/hook", "events": ALL, **data}
    response = _post_new(client, **values)
    assert response.status_code == 400
    assert message in _field_error(response.get_data(as_text=True), field)
    assert _endpoints() == []
    assert db.session.scalars(sa.select(WebhookSubscription)).all() == []


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://0.0.0.0/hook",
    ],
)
def test_production_refuses_internal_addresses(world, client, production_rules, url):
    login_as(client, world.administrator)
    response = _post_new(client, url=url, events=ALL)
    assert response.status_code == 400
    assert "внутреннюю сеть" in _field_error(response.get_data(as_text=True), "url")
    assert _endpoints() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://localhost/h",
        "https://[::1]/h",
    ],
)
def test_production_refuses_the_server_itself(world, client, production_rules, url):
    login_as(client, world.administrator)
    response = _post_new(client, url=url, events=ALL)
    assert response.status_code == 400
    error = _field_error(response.get_data(as_text=True), "url")
    assert "https://" in error or "сам сервер" in error or "внутреннюю сеть" in error
    assert _endpoints() == []


def test_production_accepts_a_public_https_address(world, client, production_rules):
    login_as(client, world.administrator)
    response = _post_new(client, url="https://93.184.215.14/hook", events=ALL)
    assert response.status_code == 302 and len(_endpoints()) == 1


def test_development_accepts_a_local_http_receiver(world, client):
    login_as(client, world.administrator)
    response = _post_new(client, url="http://127.0.0.1:8000/hook", events=ALL)
    assert response.status_code == 302 and len(_endpoints()) == 1
    response = _post_new(client, url="http://10.0.0.5/hook", events=ALL)
    assert response.status_code == 400  # plain http only to this machine


def test_editing_keeps_the_secret_and_refuses_bad_input(world, client):
    w = world
    endpoint = endpoint_for(w.city_admin, "https://sed.example.ru/a", actor=w.administrator)
    db.session.commit()
    secret = endpoint.secret
    login_as(client, w.administrator)
    url = f"{PAGE}{endpoint.id}/edit"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "url": "https://sed.example.ru/b",
            "events": [],
        },
    )
    assert response.status_code == 400
    assert "Выберите хотя бы одно событие." in _field_error(
        response.get_data(as_text=True), "events"
    )
    db.session.refresh(endpoint)
    assert endpoint.url == "https://sed.example.ru/a" and len(endpoint.event_types) == len(ALL)

    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "url": "https://sed.example.ru/b",
            "events": ["appeal.rated"],
        },
    )
    assert response.status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.url == "https://sed.example.ru/b"
    assert endpoint.event_types == [EventType.APPEAL_RATED] and endpoint.secret == secret


def test_the_same_address_twice_is_refused_next_to_the_field(world, client):
    # A double submit of the form (or a second registration) would get every event twice.
    login_as(client, world.administrator)
    values = {"url": "https://sed.example.ru/hook", "events": ALL}
    assert _post_new(client, **values).status_code == 302
    response = _post_new(client, **values)
    assert response.status_code == 400
    assert "уже зарегистрирован" in _field_error(response.get_data(as_text=True), "url")
    assert [e.url for e in _endpoints()] == ["https://sed.example.ru/hook"]
    assert len(db.session.scalars(sa.select(WebhookSubscription)).all()) == len(ALL)


def test_editing_onto_another_endpoints_address_is_refused(world, client):
    w = world
    endpoint_for(w.city_admin, "https://sed.example.ru/a", actor=w.administrator)
    second = endpoint_for(w.city_admin, "https://sed.example.ru/b", actor=w.administrator)
    db.session.commit()
    login_as(client, w.administrator)
    url = f"{PAGE}{second.id}/edit"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "url": "https://sed.example.ru/a",
            "events": ["appeal.rated"],
        },
    )
    assert response.status_code == 400
    assert "уже зарегистрирован" in _field_error(response.get_data(as_text=True), "url")
    db.session.refresh(second)
    assert second.url == "https://sed.example.ru/b" and len(second.event_types) == len(ALL)


def test_rotating_the_secret_from_the_page(world, client):
    w = world
    endpoint = endpoint_for(w.city_admin, "https://sed.example.ru/a", actor=w.administrator)
    db.session.commit()
    old = endpoint.secret
    login_as(client, w.administrator)
    page = f"{PAGE}{endpoint.id}"
    response = client.post(f"{page}/secret", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.secret != old and endpoint.previous_secret == old
    text = client.get(page).get_data(as_text=True)
    assert endpoint.secret in text and "прежним секретом" in text


def test_another_organizations_endpoint_and_delivery_are_not_found(world, client, receiver, commit):
    w = world
    town_admin = f.staff(w.town_admin, Role.ADMINISTRATOR, last_name="Соседний-Админ")
    theirs = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    [delivery] = deliveries(theirs)

    login_as(client, town_admin)
    token = csrf_token(client, PAGE)
    for url in (
        f"{PAGE}{theirs.id}",
        f"{PAGE}{theirs.id}/edit",
        f"{PAGE}deliveries/{delivery.id}",
        f"{PAGE}{10**6}",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"{PAGE}{theirs.id}/secret",
        f"{PAGE}{theirs.id}/pause",
        f"{PAGE}{theirs.id}/delete",
        f"{PAGE}{theirs.id}/edit",
        f"{PAGE}deliveries/{delivery.id}/resend",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    db.session.refresh(theirs)
    assert theirs.is_active and theirs.previous_secret is None
    assert len(receiver.requests) == 1  # nothing resent
    assert theirs.url not in client.get(PAGE).get_data(as_text=True)


def test_the_delivery_log_and_resending_by_hand(world, client, receiver, commit, run_queued):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer((500, {}, b"database is down"))
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    [delivery] = deliveries(endpoint)

    login_as(client, w.administrator)
    page = f"{PAGE}{endpoint.id}"
    text = client.get(page).get_data(as_text=True)
    assert "Отправляется" in text and "HTTP 500" in text and "database is down" in text
    assert "Отправить повторно" in text
    detail = client.get(f"{PAGE}deliveries/{delivery.id}").get_data(as_text=True)
    assert delivery.event.public_id in detail and f'"id":{appeal.id}' in html.unescape(detail)

    response = client.post(
        f"{PAGE}deliveries/{delivery.id}/resend", data={"csrf_token": csrf_token(client, page)}
    )
    assert response.status_code == 302
    run_queued()  # with Redis the resend went to the queue
    [delivery] = deliveries(endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event.public_id] * 2
    text = client.get(page).get_data(as_text=True)
    assert "Доставлено" in text


def test_pausing_holds_deliveries_and_resuming_sends_them(world, client, receiver, commit, sweep):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    commit()
    login_as(client, w.administrator)
    page = f"{PAGE}{endpoint.id}"
    client.post(f"{page}/pause", data={"csrf_token": csrf_token(client, page)})
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    assert receiver.requests == [] and deliveries() == []  # paused: no new events for it
    client.post(f"{page}/resume", data={"csrf_token": csrf_token(client, page)})
    db.session.refresh(endpoint)
    assert endpoint.is_active


def test_deleting_an_endpoint_removes_its_log(world, client, receiver, commit):
    w = world
    endpoint = endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    login_as(client, w.administrator)
    page = f"{PAGE}{endpoint.id}"
    response = client.post(f"{page}/delete", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    assert _endpoints() == [] and deliveries() == []
    assert client.get(page).status_code == 404


def test_actions_need_the_csrf_token(world, client):
    w = world
    endpoint = endpoint_for(w.city_admin, "https://sed.example.ru/a", actor=w.administrator)
    db.session.commit()
    login_as(client, w.administrator)
    assert client.post(f"{PAGE}{endpoint.id}/delete").status_code == 400
    assert len(_endpoints()) == 1


def test_the_cabinet_counts_undelivered_events(world, client, receiver, commit):
    w = world
    endpoint_for(w.city_admin, receiver.url, actor=w.administrator)
    receiver.answer(500)
    appeal = submit(w)
    appeals.accept_appeal(appeal, w.moderator)
    appeals.confirm_addressee(appeal, w.cur_coordinator)
    commit()
    login_as(client, w.administrator)
    assert "1 событие за сутки не доставлено" in client.get("/backoffice/").get_data(as_text=True)
    assert services.undelivered_count(w.city_admin) == 1


def test_production_refuses_a_name_that_resolves_inside(
    world, client, production_rules, monkeypatch
):
    import ipaddress

    from participation.api.webhooks import transport

    monkeypatch.setattr(
        transport, "resolve", lambda host, port: [ipaddress.ip_address("192.168.10.20")]
    )
    login_as(client, world.administrator)
    response = _post_new(client, url="https://sed.intranet.example.ru/hook", events=ALL)
    assert response.status_code == 400
    assert "внутреннюю сеть" in _field_error(response.get_data(as_text=True), "url")
    assert _endpoints() == []
