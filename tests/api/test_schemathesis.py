"""A property-based run over the whole generated OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json gets generated requests — valid and invalid query
strings, path ids, headers and bodies — sent to the app in process (WSGI). Bounded for the
suite (MAX_EXAMPLES per operation, well under two minutes in all); the longer run by hand is
in the README («Property-based run»). Checks: no server error, and every answer (status,
content type, headers, body) is one the document declares.

Requests carry a key of the fixture's organization (all scopes), or, where the document asks
for a resident's token, the token of a resident of the fixture's town (all scopes), so every
operation is reached past authentication.
Path ids are drawn half of the time from rows the fixture made (a published vote that is
over, a survey with public results, a published hearing, a region with statistics), so the
200 answers are exercised, not only the 404s.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from flask.globals import _cv_app
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from participation.extensions import db, limiter
from participation.geo.map_data import set_public_map
from participation.voting.services import cast_ballot
from participation.voting.tasks import seal_ballot_box
from tests.api.conftest import issue
from tests.api.resident_support import Tokens

# The path ids drawn from rows the fixture makes (see _seed).
KNOWN_IDS = frozenset({"vote_id", "campaign_id", "survey_id", "hearing_id", "region_id"})
# A generated period (grain + day) is seldom one with statistics: whether these answer 2xx
# depends on the draw, so they are left out of the 2xx check (test_opendata_statistics.py
# checks their answers).
# So is a drawn point inside a drawn region, or a drawn service_code that names a topic
# (tests/geo/test_api.py checks those answers), or a drawn bbox that is four numbers in order
# (tests/geo/test_public_map.py checks the public map's answers; its map is on in _seed).
RARELY_VALID_QUERY = (
    "GET /api/v1/open/statistics/regions/{region_id}/",
    "GET /api/v1/geo/locate",
    "GET /api/v1/messages/nearby",
    "GET /api/v1/geo/regions/{region_id}/map",
)
SEEN: dict[str, list[int]] = {}  # operation → statuses answered in this run
# The test-only probe (tests/api/probe.py) crashes on purpose there: not an API operation.
DELIBERATE_FAILURES = frozenset({"/api/v1/probe/fail"})
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def isolated(app):
    """The app as WSGI, each request in its own app context (as tests/conftest's client does)
    and read whole inside it (streamed answers included)."""

    def call(environ, start_response):
        token = _cv_app.set(None)
        try:
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                getattr(result, "close", lambda: None)()
        finally:
            _cv_app.reset(token)

    return call


def _seed(org) -> tuple[dict[str, list[int]], object]:
    """Rows the generated ids are drawn from, so that the open data answers 200 too, and a
    resident of the town (the residents' operations are called with their token)."""
    from participation.core.db import utcnow
    from participation.core.territories import TerritoryLevel
    from participation.hearings import services as hearings
    from tests import factories
    from tests.hearings.conftest import hearing_input
    from tests.voting.helpers import Town, campaign, close_now

    town = Town()
    vote = campaign(town)
    for position in (1, 2, 2):
        cast_ballot(vote, town.resident(), [vote.objects[position - 1].id])
    close_now(vote)
    seal_ballot_box(vote.id)
    running = campaign(town, title="Идёт")

    from participation.polls.models import QuestionKind
    from participation.polls.services import QuestionData, SurveySettings, add_question
    from participation.polls.services import create_survey as new_survey

    now = utcnow()
    survey = new_survey(
        town.admin,
        town.official,
        SurveySettings(
            title="Опрос",
            description="",
            anonymous=True,
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(days=1),
            territory_ids=[town.city.id],
            results_public=True,
        ),
    )
    add_question(
        survey.sections[0],
        QuestionData(kind=QuestionKind.SINGLE, text="Парк?", options=["Да", "Нет"]),
    )
    survey.published_at = now - timedelta(days=3)

    class World:  # what tests.hearings.conftest.hearing_input reads
        ufa = town.city

    hearing = hearings.create_hearing(town.admin, town.official, hearing_input(World()))
    hearings.publish_notice(hearing, town.official, now=datetime(2026, 6, 1, 5, tzinfo=UTC))
    other_region = factories.territory(TerritoryLevel.REGION)
    set_public_map(town.region, enabled=True, publish_texts=True, actor_id=None)
    resident = town.resident()
    db.session.commit()
    known = {
        "vote_id": [vote.id, running.id],
        "campaign_id": [running.id, vote.id],
        "survey_id": [survey.id],
        "hearing_id": [hearing.id],
        "region_id": [town.region.id, other_region.id],
    }
    assert set(known) == KNOWN_IDS
    return known, resident


@pytest.fixture
def api_schema(app, org, monkeypatch):
    # Hundreds of requests a minute from one address: the API's rate limit is tested elsewhere.
    monkeypatch.setattr(limiter, "enabled", False)
    _key, key_token = issue(org)
    known, resident = _seed(org)
    tokens = {"ApiKey": key_token, "ResidentToken": Tokens()(resident)}
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated(app))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        # Half of the time, a real row for each id the path has.
        if not path_parameters:
            return st.just(path_parameters)
        strategies = {
            name: st.one_of(st.just(value), st.sampled_from(known[name]))
            if name in known
            else st.just(value)
            for name, value in path_parameters.items()
        }
        return st.fixed_dictionaries(strategies)

    return schema, tokens


def _token_for(operation, tokens: dict[str, str]) -> str:
    """The resident's token where the operation asks for one, else the organization's key."""
    for requirement in operation.definition.raw.get("security") or []:
        for scheme in requirement:
            return tokens[scheme]
    return tokens["ApiKey"]


def _run(operation, token: str) -> None:
    """Generated requests for one operation: valid ones, then ones that break the document."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case) -> None:
        # Every request is the key's: a generated Authorization header would only be refused.
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = {**headers, "Authorization": f"Bearer {token}"}
        response = case.call()
        SEEN.setdefault(f"{operation.method.upper()} {operation.path}", []).append(
            response.status_code
        )
        case.validate_response(response, checks=CHECKS)

    run()


def test_the_whole_api_answers_as_documented(api_schema):
    # (schemathesis' own pytest loader does not run on pytest 9 yet: one test, every operation)
    schema, tokens = api_schema
    failures, operations = [], 0
    SEEN.clear()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in DELIBERATE_FAILURES:
            continue
        operations += 1
        try:
            _run(operation, _token_for(operation, tokens))
        except Exception as exc:  # every operation is tried; all failures are reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert operations >= 20
    # The run reached past the 404s and 422s: every read whose ids the fixture seeds answered
    # 2xx at least once (writes and unseeded ids may fairly answer only 4xx).
    seeded = {
        name
        for name, statuses in SEEN.items()
        if name.startswith("GET ")
        and set(re.findall(r"{(\w+)}", name)) <= set(KNOWN_IDS)
        and not name.startswith(RARELY_VALID_QUERY)
    }
    never_2xx = sorted(n for n in seeded if not any(200 <= s < 300 for s in SEEN[n]))
    assert len(seeded) >= 15
    assert not never_2xx, {n: SEEN[n] for n in never_2xx}
