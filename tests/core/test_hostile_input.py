"""Hostile input: ids out of the column's range, huge numbers and NUL bytes never make a 500.

The walk visits every rule of the URL map as an anonymous visitor, a resident and a staff
member holding every role, by GET and POST, with ids 0, -1, 2**31 and 10**20 in the path and
the same values (and a NUL byte) in the query string and in every form field the app knows.
"""

from __future__ import annotations

import re

import pytest
from wtforms.fields.core import UnboundField

from participation.core.forms import Form
from participation.core.organizations import OrganizationKind
from participation.core.territories import TerritoryLevel
from participation.core.users import Membership, Role
from participation.extensions import db
from tests import factories as f
from tests.helpers import login_as

HOSTILE_NUMBERS = ("0", "-1", str(2**31), str(10**20))
NUL_TEXT = "x\x00y"
GARBAGE = (NUL_TEXT, "²")  # "²".isdigit() is true, yet int("²") fails
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


def _requests(app):
    """(method, path, query, form) for every rule, method and hostile value."""
    fields = sorted(_form_field_names())
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        methods = sorted(rule.methods & {"GET", "POST"})
        for value in (*HOSTILE_NUMBERS, *GARBAGE):
            number = value if value in HOSTILE_NUMBERS else str(2**31)
            path = _path(rule, number, value)
            query = dict.fromkeys(QUERY_NAMES, value)
            for method in methods:
                form = dict.fromkeys(fields, value) if method == "POST" else None
                yield method, path, query, form


@pytest.fixture
def people():
    country = f.territory(TerritoryLevel.COUNTRY)
    region = f.territory(TerritoryLevel.REGION, parent=country)
    city = f.territory(TerritoryLevel.URBAN_OKRUG, parent=region)
    municipal = f.organization(OrganizationKind.MUNICIPAL, city, name="А. Администрация")
    operator = f.organization(OrganizationKind.OPERATOR, country, name="Б. Оператор")
    staff = f.staff(municipal, *Role)
    for role in Role:
        db.session.add(Membership(user=staff, organization=operator, role=role))
    db.session.flush()
    return {"anonymous": None, "resident": f.user(), "staff": staff}


@pytest.mark.parametrize("who", ["anonymous", "resident", "staff"])
def test_no_route_answers_5xx_to_hostile_ids_and_values(app, client, people, who, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    if people[who] is not None:
        login_as(client, people[who])
    failures = []
    for method, path, query, form in _requests(app):
        response = client.open(path, method=method, query_string=query, data=form)
        if response.status_code >= 500:
            failures.append(f"{method} {path} → {response.status_code}")
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
