"""Every error under /api/v1 is application/problem+json with a Russian detail (RFC 9457)."""

from __future__ import annotations

import sqlalchemy as sa

from participation.api.models import ApiScope
from participation.core.audit import AuditEntry
from participation.extensions import db
from tests.api.conftest import bearer, issue
from tests.api.openapi_check import check_problem

NOTES = "/api/v1/probe/notes"


def post(client, token, url=NOTES, key="k-1", **kw):
    return client.post(url, headers={**bearer(token), "Idempotency-Key": key}, **kw)


def audit_count(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def test_unknown_path_is_a_404_problem(client):
    body = check_problem(client.get("/api/v1/no/such/thing"))
    assert body["status"] == 404
    assert body["title"] == "Не найдено"
    assert body["instance"] == "/api/v1/no/such/thing"
    assert body["type"].endswith("#problem-not-found")


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/api/v1/categories")
    body = check_problem(response)
    assert body["status"] == 405
    assert "GET" in response.headers["Allow"]
    assert "метод" in body["detail"].lower()


def test_wrong_content_type_is_415_and_names_the_expected_one(client, org):
    _key, token = issue(org)
    response = post(
        client, token, data="text=hello", content_type="application/x-www-form-urlencoded"
    )
    body = check_problem(response)
    assert body["status"] == 415
    assert body["detail"] == "Ожидается Content-Type: application/json."
    assert response.headers["Accept-Post"] == "application/json"
    assert audit_count("probe.note") == 0


def test_malformed_json_is_400(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, data='{"text": "a",', content_type="application/json"))
    assert body["status"] == 400
    assert body["type"].endswith("#problem-malformed-json")
    assert "JSON" in body["detail"]


def test_validation_lists_each_field_in_russian_and_refuses_unknown_fields(client, org):
    _key, token = issue(org)
    response = post(
        client, token, json={"text": "", "count": 99, "colour": "red", "tags": ["toolong"]}
    )
    body = check_problem(response)
    assert body["status"] == 422
    assert body["errors"] == {
        "text": ["Длина от 1 до 100 символов."],
        "count": ["Значение должно быть не меньше 1 и не больше 10."],
        "colour": ["Неизвестное поле."],
        "tags.0": ["Не длиннее 5 символов."],
    }
    assert audit_count("probe.note") == 0


def test_a_missing_required_field_and_a_wrong_type(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, json={"count": "много"}))
    assert body["errors"] == {"text": ["Обязательное поле."], "count": ["Ожидается целое число."]}


def test_a_json_array_instead_of_an_object(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, json=["text"]))
    assert body["status"] == 422
    assert body["errors"] == {"_body": ["Ожидается объект JSON."]}


def test_unknown_query_parameters_are_refused(client):
    body = check_problem(client.get("/api/v1/categories?regoin=5"))
    assert body["status"] == 422
    assert body["errors"] == {"query.regoin": ["Неизвестное поле."]}


def test_a_field_error_from_a_service_is_422_on_that_field_and_nothing_is_saved(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, "/api/v1/probe/fail", json={"how": "field"}))
    assert body["status"] == 422
    assert body["errors"] == {"how": ["Так нельзя."]}
    assert audit_count("probe.half_saved") == 0


def test_a_conflict_is_409(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, "/api/v1/probe/fail", json={"how": "conflict"}))
    assert (body["status"], body["detail"]) == (409, "Уже сделано.")
    assert audit_count("probe.half_saved") == 0


def test_a_refusing_business_rule_is_422(client, org):
    _key, token = issue(org)
    body = check_problem(post(client, token, "/api/v1/probe/fail", json={"how": "rule"}))
    assert (body["status"], body["detail"]) == (422, "Правило не разрешает.")
    assert body["type"].endswith("#problem-rule")


def test_a_crash_is_a_500_problem_and_nothing_is_saved(client, org, caplog):
    _key, token = issue(org)
    body = check_problem(post(client, token, "/api/v1/probe/fail", json={"how": "crash"}))
    assert body["status"] == 500
    assert "probe crash" not in body["detail"]  # no internals leak to the client
    assert audit_count("probe.half_saved") == 0
    assert any("unhandled error" in r.message for r in caplog.records)


def test_a_too_large_body_is_413(client, org):
    _key, token = issue(org)
    body = check_problem(
        post(client, token, data=b"x" * (3 * 1024 * 1024), content_type="application/json")
    )
    assert body["status"] == 413


def test_no_token_is_401_with_a_bearer_challenge(client):
    response = client.get("/api/v1/me")
    body = check_problem(response)
    assert body["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["detail"]


def test_a_lacking_scope_is_403_naming_the_scope(client, org):
    _key, token = issue(org, ApiScope.MESSAGES_READ)
    response = post(client, token, json={"text": "hi"})
    body = check_problem(response)
    assert body["status"] == 403
    assert body["detail"] == "У ключа нет области доступа: messages:write."
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert audit_count("probe.note") == 0


def test_the_rest_of_the_app_keeps_its_html_error_pages(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    legacy = client.get("/api/appeals/suggest?text=яма")
    assert legacy.status_code == 401
    assert legacy.mimetype == "application/json"
    assert "error" in legacy.get_json()
