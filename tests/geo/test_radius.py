"""Per-subcategory radius of «Похожие сообщения рядом»: the search, the API, the admin page."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from participation.core.audit import AuditEntry
from participation.core.errors import FieldError
from participation.core.organizations import OrganizationKind
from participation.core.territories import TerritoryLevel
from participation.core.users import Role
from participation.extensions import db
from participation.geo.services import nearby_appeals, set_nearby_radius
from tests import factories
from tests.geo.conftest import UFA, message, offset
from tests.helpers import login_as


@pytest.fixture
def operator_admin():
    country = factories.territory(TerritoryLevel.COUNTRY)
    operator = factories.organization(OrganizationKind.OPERATOR, territory_=country)
    return factories.staff(operator, Role.ADMINISTRATOR)


def _csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_subcategory_radius_is_the_default_of_the_search(geo, operator_admin):
    near = message(geo, offset(UFA, east_m=100))
    far = message(geo, offset(UFA, east_m=400))
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id)] == [near.id]
    set_nearby_radius(geo.potholes, "500", operator_admin)
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id)] == [near.id, far.id]
    # An explicit radius still wins over the subcategory's.
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id, radius_m=150)] == [near.id]
    set_nearby_radius(geo.potholes, "50", operator_admin)
    assert nearby_appeals(*UFA, geo.potholes.id) == []
    set_nearby_radius(geo.potholes, "", operator_admin)  # back to the default 150 m
    assert geo.potholes.nearby_radius_m is None
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id)] == [near.id]


def test_a_related_message_is_searched_with_the_chosen_topics_radius(geo, operator_admin):
    related = message(geo, offset(UFA, north_m=300), subcategory=geo.marking)
    set_nearby_radius(geo.potholes, 400, operator_admin)
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id)] == [related.id]
    assert nearby_appeals(*UFA, geo.marking.id) == []  # the marking's own: 150 m


@pytest.mark.parametrize("raw", ["0", "2001", "-5", "1.5", "сто", "1e3", "٣٠٠"])
def test_bad_radius_is_refused_and_nothing_changes(geo, operator_admin, raw):
    set_nearby_radius(geo.potholes, "300", operator_admin)
    with pytest.raises(FieldError) as caught:
        set_nearby_radius(geo.potholes, raw, operator_admin)
    assert caught.value.field == "nearby_radius_m"
    assert "целое число метров от 1 до 2000" in str(caught.value.message)
    assert geo.potholes.nearby_radius_m == 300


def test_the_database_refuses_a_radius_out_of_range(geo):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        geo.potholes.nearby_radius_m = 5000
        db.session.flush()


def test_the_api_uses_the_subcategory_radius_unless_one_is_given(client, geo, operator_admin):
    near = message(geo, offset(UFA, east_m=100))
    far = message(geo, offset(UFA, east_m=400))
    set_nearby_radius(geo.potholes, "500", operator_admin)

    def url(code, **more):
        return "/api/v1/messages/nearby?" + urlencode(
            {"lat": UFA[0], "lon": UFA[1], "service_code": code, **more}
        )

    body = client.get(url(geo.potholes.code))
    assert body.status_code == 200, body.get_json()
    assert body.get_json()["radius"] == 500
    assert [m["id"] for m in body.get_json()["messages"]] == [near.id, far.id]
    given = client.get(url(geo.potholes.code, radius=150))
    assert given.get_json()["radius"] == 150
    assert [m["id"] for m in given.get_json()["messages"]] == [near.id]
    other = client.get(url(geo.marking.code))
    assert other.get_json()["radius"] == 150


def test_the_operator_administrator_sets_the_radius_on_the_subcategory_page(
    client, geo, operator_admin
):
    login_as(client, operator_admin)
    url = f"/admin/classifier/subcategories/{geo.potholes.id}"
    page = client.get(url)
    assert "Похожие сообщения рядом" in page.text and "Сейчас: 150 м." in page.text
    token = _csrf(client, url)
    done = client.post(f"{url}/nearby-radius", data={"csrf_token": token, "nearby_radius_m": "400"})
    assert done.status_code == 302
    assert "в радиусе 400 м" in client.get(done.headers["Location"]).text
    db.session.expire_all()
    assert geo.potholes.nearby_radius_m == 400
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "classifier.subcategory_nearby_radius")
    ).all()
    assert [(e.details["old_radius_m"], e.details["new_radius_m"]) for e in entries] == [
        (None, 400)
    ]

    bad = client.post(f"{url}/nearby-radius", data={"csrf_token": token, "nearby_radius_m": "5км"})
    assert bad.status_code == 400
    assert "Радиус — целое число метров от 1 до 2000" in bad.text
    assert 'aria-invalid="true"' in bad.text
    db.session.expire_all()
    assert geo.potholes.nearby_radius_m == 400

    cleared = client.post(f"{url}/nearby-radius", data={"csrf_token": token, "nearby_radius_m": ""})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert geo.potholes.nearby_radius_m is None


def test_only_the_operators_administrators_set_the_radius(client, geo):
    moderator = factories.staff(geo.operator, Role.MODERATOR)
    login_as(client, moderator)
    token = _csrf(client, "/")  # the layout's own forms carry the session's token
    url = f"/admin/classifier/subcategories/{geo.potholes.id}/nearby-radius"
    response = client.post(url, data={"csrf_token": token, "nearby_radius_m": "400"})
    assert response.status_code == 404
    db.session.expire_all()
    assert geo.potholes.nearby_radius_m is None
