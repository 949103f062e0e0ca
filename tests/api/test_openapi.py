"""The OpenAPI 3.1 document is generated from the code and served; the docs page is ours."""

from __future__ import annotations

import re

from openapi_core import OpenAPI

from tests.api.openapi_check import check_response


def test_the_document_is_openapi_3_1_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    OpenAPI.from_dict(document)  # raises if the document breaks the 3.1 meta-schema
    assert {"/api/v1/categories", "/api/v1/me"} <= set(document["paths"])
    assert set(document["components"]["securitySchemes"]) == {"ApiKey", "ResidentToken"}


def _exempt_posts(app) -> set[str]:
    """The document paths of POST views marked idempotency_exempt."""
    from participation.api.idempotency import is_exempt

    return {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and is_exempt(app.view_functions[rule.endpoint])
    }


def test_every_operation_documents_its_problems_and_posts_their_idempotency_key(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    exempt_posts = _exempt_posts(app)
    assert "/api/v1/probe/exempt" in exempt_posts
    problem = document["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(problem) == ["application/problem+json"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["responses"]["default"] == {
                "$ref": "#/components/responses/DEFAULT_ERROR"
            }, (path, method)
            parameters = [p.get("$ref") for p in operation.get("parameters", [])]
            exempt = path in exempt_posts
            if method == "post" and not exempt:
                assert "#/components/parameters/IDEMPOTENCY_KEY" in parameters, path
            if "requestBody" in operation:
                assert "415" in operation["responses"], path


def test_the_key_endpoint_names_its_security_and_the_public_one_none(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["paths"]["/api/v1/me"]["get"]["security"] == [{"ApiKey": []}]
    assert "security" not in document["paths"]["/api/v1/categories"]["get"]
    notes = document["paths"]["/api/v1/probe/notes"]["post"]
    assert notes["security"] == [{"ApiKey": ["messages:write"]}]


def test_the_docs_page_loads_every_asset_from_our_own_origin(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    assert "/static/vendor/swagger-ui/swagger-ui.css" in assets
    assert "/static/js/api-docs.js" in assets
    assert all(a.startswith("/static/") for a in assets), assets
    assert "<script>" not in html  # the CSP allows no inline script
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.get_data()) > 100, asset
        served.close()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_vendored_ui_keeps_its_licence(client):
    licence = client.get("/static/vendor/swagger-ui/LICENSE")
    assert licence.status_code == 200
    assert "Apache License" in licence.get_data(as_text=True)
    licence.close()


def test_the_docs_page_lists_every_problem_type_as_an_anchor(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    problem = client.get("/api/v1/nowhere").get_json()
    assert problem["type"].endswith("/api/v1/docs#problem-not-found")
    for kind in ("validation", "key-revoked", "key-expired", "rate-limited", "malformed-json"):
        assert f'id="problem-{kind}"' in html


def test_the_validating_client_catches_a_response_the_document_does_not_allow(client, app):
    """The safety net itself: a body the schema forbids is reported."""
    import pytest
    from openapi_core.validation.response.exceptions import InvalidData

    response = client.get("/api/v1/categories")
    response.set_data(b'{"categories": "not a list", "region_id": null}')
    with app.app_context(), pytest.raises(InvalidData):
        check_response(response)
