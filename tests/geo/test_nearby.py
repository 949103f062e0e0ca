"""Open messages near a point: radius, ordering, related topics, age, states, nothing personal."""

from __future__ import annotations

import pytest

from participation.appeals.workflow import AppealState
from participation.core.errors import FieldError
from participation.geo.services import nearby_appeals
from tests.geo.conftest import UFA, message, offset


def test_nearest_first_within_the_radius(geo):
    far = message(geo, offset(UFA, north_m=120))
    near = message(geo, offset(UFA, east_m=30))
    middle = message(geo, offset(UFA, north_m=-70, east_m=-20))
    message(geo, offset(UFA, north_m=170))  # beyond 150 m
    found = nearby_appeals(*UFA, geo.potholes.id)
    assert [m.id for m in found] == [near.id, middle.id, far.id]
    assert [m.distance_m for m in found] == [30, 73, 120]
    wider = nearby_appeals(*UFA, geo.potholes.id, radius_m=200)
    assert len(wider) == 4


def test_the_bounding_box_does_not_cut_the_circle(geo):
    # On the diagonal, just inside the radius: the box's corner is not needed, its edge is.
    inside = message(geo, offset(UFA, north_m=100, east_m=100))  # 141 m
    message(geo, offset(UFA, north_m=110, east_m=110))  # 156 m: in the box, out of the circle
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id)] == [inside.id]


def test_same_and_related_subcategories_only(geo):
    same = message(geo, offset(UFA, east_m=10))
    related = message(geo, offset(UFA, east_m=20), subcategory=geo.marking)  # same category
    message(geo, offset(UFA, east_m=5), subcategory=geo.benches)  # another category
    found = nearby_appeals(*UFA, geo.potholes.id)
    assert [(m.id, m.same_subcategory) for m in found] == [(same.id, True), (related.id, False)]
    assert found[1].subcategory_code == geo.marking.code


def test_the_last_30_days_only(geo):
    recent = message(geo, offset(UFA, east_m=10), age_days=29)
    message(geo, offset(UFA, east_m=5), age_days=31)
    assert [m.id for m in nearby_appeals(*UFA, geo.potholes.id)] == [recent.id]
    assert len(nearby_appeals(*UFA, geo.potholes.id, days=40)) == 2


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        (AppealState.MODERATION, True),
        (AppealState.COORDINATION, True),
        (AppealState.IN_WORK, True),
        (AppealState.POSTPONED, True),
        (AppealState.REJECTED, False),
        (AppealState.ANSWERED, False),
        (AppealState.CLOSED, False),
        (AppealState.ESCALATED, False),
    ],
)
def test_open_messages_only(geo, state, shown):
    appeal = message(geo, offset(UFA, east_m=10), state=state)
    found = nearby_appeals(*UFA, geo.potholes.id)
    assert [m.id for m in found] == ([appeal.id] if shown else [])


def test_messages_without_a_point_are_not_found(geo):
    from tests.appeals.conftest import submit

    submit(geo)  # an address only
    assert nearby_appeals(*UFA, geo.potholes.id) == []


def test_nothing_personal(geo):
    message(geo, offset(UFA, east_m=10), author=geo.other_resident)
    (found,) = nearby_appeals(*UFA, geo.potholes.id)
    assert set(vars(found)) == {
        "id",
        "number",
        "subcategory_id",
        "subcategory_code",
        "subcategory_name",
        "same_subcategory",
        "state",
        "state_label",
        "distance_m",
        "registered_on",
    }
    assert found.state_label == "Проверяется модератором"


def test_limit(geo):
    for i in range(5):
        message(geo, offset(UFA, east_m=10 * (i + 1)))
    assert len(nearby_appeals(*UFA, geo.potholes.id, limit=3)) == 3


@pytest.mark.parametrize("radius", [0, -5, 2001, 10**9, 1.5, "150", True])
def test_bad_radius(geo, radius):
    with pytest.raises(FieldError) as caught:
        nearby_appeals(*UFA, geo.potholes.id, radius_m=radius)
    assert caught.value.field == "radius"


def test_bad_point_and_unknown_subcategory(geo):
    with pytest.raises(FieldError) as caught:
        nearby_appeals(float("nan"), 55.9, geo.potholes.id)
    assert caught.value.field == "latitude"
    with pytest.raises(FieldError) as caught:
        nearby_appeals(*UFA, 10**9)
    assert caught.value.field == "subcategory"
