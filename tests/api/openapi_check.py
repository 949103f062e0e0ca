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
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

from participation.api.openapi import api
from participation.api.problems import PROBLEM_JSON
from tests.conftest import IsolatedClient

API_PREFIX = "/api/v1/"
# Served under /api/v1 but not API operations: the document itself and the docs page.
NOT_OPERATIONS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})


@cache
def _openapi() -> OpenAPI:
    # from_dict checks the document itself against the OpenAPI 3.1 meta-schema.
    # Problem bodies are JSON too (openapi-core reads only a few JSON media types by itself).
    config = Config(extra_media_type_deserializers={PROBLEM_JSON: json_loads})
    return OpenAPI.from_dict(api.spec.to_dict(), config=config)


def spec_document() -> dict:
    return api.spec.to_dict()


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


class _SentRequest(WerkzeugOpenAPIRequest):
    """The request a response answers, for finding its operation: its body was consumed by
    the app already (a multipart stream cannot be read twice) and is not needed."""

    @property
    def body(self) -> bytes | None:
        return None


def check_response(response) -> None:
    request = response.request
    if not request.path.startswith(API_PREFIX) or request.path in NOT_OPERATIONS:
        return
    if request.method in ("OPTIONS", "HEAD"):
        return
    try:
        _openapi().validate_response(_SentRequest(request), WerkzeugOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        check_problem(response)


class ValidatingClient(IsolatedClient):
    """The test client of tests/api: every /api/v1 response is checked against the document."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_response(response)
        return response
