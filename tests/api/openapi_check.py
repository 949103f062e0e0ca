"""Every /api/v1 response a test produces is checked against the generated OpenAPI document.

`ValidatingClient` (the `client` of every test under tests/api) validates each response with
openapi-core: status, headers and body against the operation's documented responses. A
response of a path or method the document does not know (404, 405) must be a problem+json
body valid against the Problem schema. Endpoints added later get the check for free.
"""

from __future__ import annotations

import json
from functools import cache

import jsonschema
from flask import current_app
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

from participation.api.openapi import spec_of
from tests.conftest import IsolatedClient

API_PREFIX = "/api/v1/"
# Served under /api/v1 but not API operations: the document itself and the docs page.
NOT_OPERATIONS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})


class _SentRequest(WerkzeugOpenAPIRequest):
    """The request as sent: its body was read by the app, and responses need it not."""

    @property
    def body(self) -> bytes | None:
        return None


@cache
def _openapi(app_id: int) -> OpenAPI:
    # from_dict checks the document itself against the OpenAPI 3.1 meta-schema.
    # openapi-core parses application/json only; problem+json is JSON too. CSV must be UTF-8
    # text (the open data's ?format=csv): decoded here, so a bad byte fails the check.
    config = Config(
        extra_media_type_deserializers={
            "application/problem+json": json.loads,
            "text/csv": lambda body: body.decode("utf-8"),
        }
    )
    return OpenAPI.from_dict(spec_document(), config=config)


def spec_document() -> dict:
    return spec_of(current_app).to_dict()


def check_problem(response) -> dict:
    """The response is application/problem+json and valid against the Problem schema."""
    assert response.mimetype == "application/problem+json", (
        response.status_code,
        response.mimetype,
        response.get_data(as_text=True)[:300],
    )
    body = json.loads(response.get_data(as_text=True))
    schema = spec_document()["components"]["schemas"]["Problem"]
    jsonschema.validate(body, schema)
    assert body["status"] == response.status_code
    return body


def check_response(response) -> None:
    request = response.request
    if not request.path.startswith(API_PREFIX) or request.path in NOT_OPERATIONS:
        return
    if request.method in ("OPTIONS", "HEAD"):
        return
    try:
        _openapi(id(current_app._get_current_object())).validate_response(
            _SentRequest(request), WerkzeugOpenAPIResponse(response)
        )
    except (PathNotFound, OperationNotFound):
        check_problem(response)


class ValidatingClient(IsolatedClient):
    """The test client of tests/api: every /api/v1 response is checked against the document."""

    def open(self, *args, **kwargs):
        # Streamed answers (CSV, the ballot box) are read whole inside the request, as a
        # client would, before the check opens its own app context.
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        with self.application.app_context():
            check_response(response)
        return response
