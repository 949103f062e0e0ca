"""Protocol hygiene: Bearer only, no cookies or CSRF on token calls, CORS for configured
origins only, ETag → 304, rate limits per key with Retry-After, resident tokens by the hook."""

from __future__ import annotations

import time

import pytest

from participation.appeals.classifier import Category, Subcategory
from participation.auth.sessions import SEEN_AT
from participation.core.users import Role
from participation.extensions import db
from tests import factories as f
from tests.api.conftest import bearer, issue
from tests.api.openapi_check import check_problem
from tests.api.resident_support import Tokens
from tests.helpers import login_as


def test_a_bearer_call_sets_no_cookie_even_when_a_session_came_along(client, org):
    _key, token = issue(org)
    login_as(client, org.admin)
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - 600  # due for renewal: a page would reset it
    page = client.get("/backoffice/")
    assert "Set-Cookie" in page.headers  # the cabinet renews the session cookie …
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - 600
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # … a token call never does
    anonymous = client.get("/api/v1/categories")
    assert "Set-Cookie" not in anonymous.headers


def test_a_session_cookie_authorizes_nothing_under_the_api(client, org):
    login_as(client, org.admin)
    assert client.get("/backoffice/").status_code == 200
    body = check_problem(client.get("/api/v1/me"))
    assert body["status"] == 401


def test_token_posts_need_no_csrf_token(client, org, app):
    assert app.config["WTF_CSRF_ENABLED"]
    _key, token = issue(org)
    response = client.post(
        "/api/v1/probe/notes",
        json={"text": "без CSRF"},
        headers={**bearer(token), "Idempotency-Key": "csrf-free"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "query", ["access_token={t}", "api_key={t}", "token={t}", "region={t}"], ids=str
)
def test_a_token_in_the_query_string_is_refused(client, org, query):
    _key, token = issue(org)
    response = client.get("/api/v1/me?" + query.format(t=token))
    body = check_problem(response)
    assert body["status"] == 400
    assert body["type"].endswith("#problem-token-in-query")
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Token rvk_x", "Bearer a b"], ids=str
)
def test_only_the_bearer_scheme_is_accepted(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    body = check_problem(response)
    assert body["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="api"')


def test_a_bad_token_is_refused_even_on_a_public_endpoint(client):
    assert client.get("/api/v1/categories").status_code == 200
    response = client.get("/api/v1/categories", headers=bearer("rvk_deadbeef_nothing"))
    assert check_problem(response)["status"] == 401


# --- CORS ---------------------------------------------------------------------------------


def test_no_origin_is_allowed_by_default(client, app):
    assert app.config["API_CORS_ORIGINS"] == ()
    response = client.get("/api/v1/categories", headers={"Origin": "https://app.example.ru"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_configured_origin_is_allowed_and_another_is_not(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_CORS_ORIGINS", ("https://app.example.ru",))
    allowed = client.get("/api/v1/categories", headers={"Origin": "https://app.example.ru"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.ru"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    denied = client.get("/api/v1/categories", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in denied.headers
    problem = client.get("/api/v1/nowhere", headers={"Origin": "https://app.example.ru"})
    assert problem.headers["Access-Control-Allow-Origin"] == "https://app.example.ru"
    page = client.get("/", headers={"Origin": "https://app.example.ru"})
    assert "Access-Control-Allow-Origin" not in page.headers  # the API only


def test_a_preflight_from_a_configured_origin(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_CORS_ORIGINS", ("https://app.example.ru",))
    headers = {
        "Origin": "https://app.example.ru",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }
    response = client.options("/api/v1/probe/notes", headers=headers)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.ru"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip() for h in allowed.split(",")
    }
    foreign = client.options(
        "/api/v1/probe/notes", headers={**headers, "Origin": "https://evil.example.com"}
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers


# --- ETag ---------------------------------------------------------------------------------


def test_categories_answer_304_to_their_etag_and_a_new_one_after_a_change(client):
    category = Category(code="roads", name="Дороги", position=1)
    db.session.add(category)
    db.session.flush()
    db.session.add(Subcategory(category=category, code="roads.pits", name="Ямы", fast_track=True))
    db.session.commit()
    first = client.get("/api/v1/categories")
    etag = first.headers["ETag"]
    subs = first.get_json()["categories"][0]["subcategories"]
    assert subs == [
        {
            "id": subs[0]["id"],
            "code": "roads.pits",
            "name": "Ямы",
            "fast_track": True,
            "answer_days": 10,
        }
    ]
    again = client.get("/api/v1/categories", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    db.session.add(Subcategory(category=category, code="roads.marks", name="Разметка"))
    db.session.commit()
    changed = client.get("/api/v1/categories", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_the_key_card_has_an_etag_too(client, org):
    _key, token = issue(org)
    first = client.get("/api/v1/me", headers=bearer(token))
    again = client.get(
        "/api/v1/me", headers={**bearer(token), "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_categories_for_an_unknown_territory(client):
    body = check_problem(client.get("/api/v1/categories?region=999999"))
    assert body["status"] == 422
    assert body["errors"] == {"region": ["Территория не найдена."]}


# --- rate limits --------------------------------------------------------------------------


def test_each_key_has_its_own_limit_answered_by_a_429_problem(client, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    _key, token = issue(org)
    _other, other_token = issue(org, name="Другая система")
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    limited = client.get("/api/v1/me", headers=bearer(token))
    body = check_problem(limited)
    assert body["status"] == 429
    assert body["title"] == "Слишком много запросов"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/me", headers=bearer(other_token)).status_code == 200
    assert client.get("/api/v1/categories").status_code == 200  # anonymous: by address


# --- resident tokens ------------------------------------------------------------------------


def test_a_resident_token_makes_the_resident_the_caller(client, org):
    resident = f.user(last_name="Жителева")
    token = Tokens()(resident)
    db.session.commit()
    response = client.get("/api/v1/probe/mine", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["id"] == resident.id
    assert "Set-Cookie" not in response.headers
    assert check_problem(client.get("/api/v1/me", headers=bearer(token)))["status"] == 403
    _key, key_token = issue(org)
    assert (
        check_problem(client.get("/api/v1/probe/mine", headers=bearer(key_token)))["status"] == 403
    )
    body = check_problem(client.get("/api/v1/probe/mine", headers=bearer("some-app-token")))
    assert (body["status"], body["title"]) == (401, "Неверный токен")


def test_a_staff_member_with_a_resident_token_is_still_a_resident_here(client, org):
    coordinator = f.staff(org.organization, Role.COORDINATOR)
    token = Tokens()(coordinator)
    db.session.commit()
    assert check_problem(client.get("/api/v1/me", headers=bearer(token)))["status"] == 403
