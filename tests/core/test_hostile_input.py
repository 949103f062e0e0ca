"""Hostile input: ids out of the column's range, huge numbers and NUL bytes never make a 500.

The walk visits every rule of the URL map as an anonymous visitor, a resident and a staff
member holding every role, by GET and POST, with ids 0, -1, 2**31 and 10**20 in the path and
the same values (and a NUL byte) in the query string and in every form field the app knows.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from wtforms.fields.core import UnboundField

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.models import Appeal
from participation.backoffice.gate import CURRENT_ORGANIZATION
from participation.core.files import Attachment
from participation.core.forms import Form
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import Membership, Role, User
from participation.demo.seed import seed_demo
from participation.directline.models import DirectLine, Question
from participation.extensions import db, limiter
from participation.hearings.models import DraftParagraph, Hearing, HearingMaterial, Remark
from participation.polls.models import (
    Survey,
    SurveyAnswer,
    SurveyExport,
    SurveyQuestion,
    SurveySection,
)
from participation.voting.models import Campaign, VotingObject
from tests import factories as f
from tests.helpers import login_as

HOSTILE_NUMBERS = ("0", "-1", str(2**31), str(10**20))
NUL_TEXT = "x\x00y"
GARBAGE = (NUL_TEXT, "²")  # "²".isdigit() is true, yet int("²") fails
ALL_VALUES = (*HOSTILE_NUMBERS, *GARBAGE)
# Query-string names the views read themselves (not through a form).
QUERY_NAMES = [
    "page",
    "size",
    "q",
    "sort",
    "category",
    "by",
    "stage",
    "status",
    "unanswered",
    "paragraph",
    "organization_id",
    "period",
    "format",
    "origin",
    "challenge",
    "state",
    "code",
    "error",
    "text",
    "org",
    "widget",
    "next",
    "fresh",
    "confirmed",
]


def _form_field_names() -> set[str]:
    names: set[str] = {"choices", "action", "section", "widget_token", "site", "ticket", "lang"}
    pending = [Form]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    names.discard("csrf_token")
    return names


_VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def _path(rule, number: str, text: str) -> str:
    """The rule's path with `number` in every int slot and `text` in every other slot."""

    def fill(match: re.Match) -> str:
        converter, args = match.group(1), match.group(2)
        if converter == "int":
            return number
        if converter == "any":
            return args.split(",")[0].strip()
        return text.replace("\x00", "%00")

    return _VARIABLE.sub(fill, rule.rule)


def _rules(app):
    """Every rule, the ones that log out last (the walk stays logged in until then)."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint.endswith("logout"), r.rule))


def _requests(app, paths, values):
    """(value, method, path, query, form) for every rule, method and hostile value;
    `paths(rule, value)` gives the rule's path."""
    fields = sorted(_form_field_names() | _answer_field_names())
    for rule in _rules(app):
        methods = sorted(rule.methods & {"GET", "POST"})
        for value in values:
            path = paths(rule, value)
            for method in methods:
                # A GET carries the value in its query string, a POST in every form field (a
                # query string with NUL is refused before any view: tested on its own below).
                if method == "GET":
                    query = {} if "\x00" in value else dict.fromkeys(QUERY_NAMES, value)
                    yield value, method, path, query, None
                else:
                    yield value, method, path, {}, dict.fromkeys(fields, value)


def _hostile_path(rule, value: str) -> str:
    return _path(rule, value if value in HOSTILE_NUMBERS else str(2**31), value)


def _answer_field_names() -> set[str]:
    """Survey answers are read from the request by question (q<id>, q<id>_other…)."""
    names = set()
    for question in db.session.scalars(sa.select(SurveyQuestion)):
        names |= {f"q{question.id}", f"q{question.id}_other"}
        names |= {f"q{question.id}_r{option.id}" for option in question.rows}
        names |= {f"q{question.id}_o{option.id}" for option in question.choices}
    return names


# Which rows the real-id walk opens, by path variable (and blueprint, where names repeat).
_MODELS = {
    "campaign_id": Campaign,
    "object_id": VotingObject,
    "survey_id": Survey,
    "section_id": SurveySection,
    "export_id": SurveyExport,
    "answer_id": SurveyAnswer,
    "hearing_id": Hearing,
    "paragraph_id": DraftParagraph,
    "remark_id": Remark,
    "material_id": HearingMaterial,
    "event_id": DirectLine,
    "appeal_id": Appeal,
    "category_id": Category,
    "subcategory_id": Subcategory,
    "territory_id": Territory,
    "membership_id": Membership,
    "user_id": User,
}
_OWNER = ("organization_id", "host_organization_id", "holder_organization_id")


def _model(rule, variable: str):
    if variable == "question_id":
        return Question if rule.endpoint.startswith("directline") else SurveyQuestion
    return _MODELS.get(variable)


def _real_ids(rule) -> tuple[dict[str, int], int | None]:
    """Existing ids for the rule's int slots (a child's parents from the child itself) and the
    organization that owns the first one."""
    variables = [m.group(3) for m in _VARIABLE.finditer(rule.rule) if m.group(1) == "int"]
    ids: dict[str, int] = {}
    rows = {}
    for variable in reversed(variables):
        if variable in ids or (model := _model(rule, variable)) is None:
            continue
        row = db.session.scalars(sa.select(model).order_by(model.id).limit(1)).first()
        if row is None:
            continue
        ids[variable], rows[variable] = row.id, row
        for parent in variables:
            if parent not in ids and isinstance(getattr(row, parent, None), int):
                ids[parent] = getattr(row, parent)
    first = rows.get(variables[0]) if variables else None
    if first is None and variables and variables[0] in ids:
        first = db.session.get(_model(rule, variables[0]), ids[variables[0]])
    owner = next((getattr(first, name) for name in _OWNER if hasattr(first, name)), None)
    return ids, owner


def _real_strings() -> dict[str, str]:
    with_code = Organization.widget_code.is_not(None)
    code = db.session.scalar(sa.select(Organization.widget_code).where(with_code).limit(1))
    public_id = db.session.scalar(sa.select(Attachment.public_id).limit(1))
    return {"code": code, "public_id": public_id, "fmt": "csv", "direction": "up"}


def _walk(app, client, who: str, paths, organization_of=None, values=ALL_VALUES) -> list[str]:
    """Requests every rule; returns those answered with 5xx. Staff work in the organization
    that owns the page's row (`organization_of(path)`)."""
    failures = []
    current = None
    for value, method, path, query, form in _requests(app, paths, values):
        if organization_of is not None and who == "staff":
            owner = organization_of(path)
            if owner is not None and owner != current:
                with client.session_transaction() as session:
                    session[CURRENT_ORGANIZATION] = current = owner
        # buffered: a streamed export is read and closed inside the request's own context
        response = client.open(path, method=method, query_string=query, data=form, buffered=True)
        if response.status_code >= 500:
            failures.append(f"{method} {path} with {value!r} → {response.status_code}")
    return failures


@pytest.fixture
def people():
    """The demo region (every feature's demo rows), a resident who wrote messages and one
    staff member holding every role in every organization."""
    seed_demo()
    staff = f.user(last_name="Всемогущий")
    for organization in db.session.scalars(sa.select(Organization)):
        for role in Role:
            db.session.add(Membership(user=staff, organization=organization, role=role))
    db.session.flush()
    first_message = db.session.scalars(sa.select(Appeal).order_by(Appeal.id).limit(1)).first()
    resident = first_message.author
    return {"anonymous": None, "resident": resident, "staff": staff}


@pytest.mark.parametrize("who", ["anonymous", "resident", "staff"])
def test_no_route_answers_5xx_to_hostile_ids_and_values(app, client, people, who, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    monkeypatch.setattr(limiter, "enabled", False)
    if people[who] is not None:
        login_as(client, people[who])
    failures = _walk(app, client, who, _hostile_path)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("who", ["anonymous", "resident", "staff"])
def test_no_route_answers_5xx_to_hostile_values_on_real_rows(app, client, people, who, monkeypatch):
    """The same values in query strings and forms, this time on pages of existing rows."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    monkeypatch.setattr(limiter, "enabled", False)
    if people[who] is not None:
        login_as(client, people[who])
    strings = _real_strings()
    resolved = {rule.rule: _real_ids(rule) for rule in app.url_map.iter_rules()}
    owners = {}

    def real_path(rule, value):
        ids, owner = resolved[rule.rule]

        def fill(match: re.Match) -> str:
            converter, args, name = match.groups()
            if converter == "int":
                return str(ids.get(name, 2**31))
            if converter == "any":
                return args.split(",")[0].strip()
            return strings.get(name) or "x"

        path = _VARIABLE.sub(fill, rule.rule)
        owners[path] = owner
        return path

    # The path is the same for every value: the ones that are out of range or unreadable.
    values = (str(2**31), str(10**20), *GARBAGE)
    failures = _walk(app, client, who, real_path, owners.get, values)
    assert not failures, "\n".join(failures)


# --- one rule for every form: no NUL, no number the database cannot hold -------------------


def test_the_form_rule_keeps_a_field_s_own_wider_range(app, monkeypatch):
    """A budget in roubles may exceed 2**31: the field's NumberRange decides, not the rule."""
    from werkzeug.datastructures import MultiDict

    from participation.voting.forms import CampaignForm

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    with app.test_request_context(method="POST"):
        form = CampaignForm(formdata=MultiDict({"budget_limit": str(5 * 10**9)}))
        form.validate()
        assert "budget_limit" not in form.errors
        form = CampaignForm(formdata=MultiDict({"budget_limit": str(10**20)}))
        form.validate()
        assert form.errors["budget_limit"] == ["Больше нуля и не больше 10000000000000."]


# --- ids in URLs, query strings and JSON ------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", str(2**31), str(10**20)])
def test_out_of_range_ids_are_not_found(client, value):
    for url in (f"/voting/{value}", f"/polls/{value}", f"/hearings/{value}/paragraphs/{value}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Страница не найдена" in response.get_data(as_text=True)


def test_nul_in_a_path_or_query_string_is_refused(client):
    assert client.get("/files/abc%00def").status_code == 404
    response = client.get("/hearings/", query_string={"stage": "x\x00"})
    assert response.status_code == 400
    assert "Неверный запрос" in response.get_data(as_text=True)
