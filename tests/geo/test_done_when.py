"""Issue #16's "done when", through HTTP on the demo region: Иванова puts a pothole on the map in
Уфа, sees that a neighbour reported it yesterday and joins it; another resident sends a
duplicate anyway and the city's coordinator merges it; the one answer reaches all three, and
each rates it; the ЦУР curator turns on the public map and sees the point once; the analytics
heat map shows the same places."""

from __future__ import annotations

import re

import sqlalchemy as sa

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal, AppealRating
from participation.appeals.workflow import AppealState
from participation.core.db import utcnow
from participation.core.territories import Territory
from participation.demo import data
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.reports.demo import seed_history
from tests.appeals.test_e2e_demo import act, as_, persona
from tests.helpers import csrf_token

NEAR = {"latitude": "54.725080", "longitude": "56.013600"}  # ~20 m from the neighbour's point


def _form(client, **fields):
    page = client.get("/appeals/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    return {"csrf_token": csrf_token(client, "/appeals/new"), "submission_key": key, **fields}


def test_join_merge_one_answer_three_ratings(app, client, run_jobs):
    seed_demo()
    seed_history(utcnow().date(), per_year=600)  # a year of the region's messages, with points
    db.session.commit()
    potholes = db.session.scalar(sa.select(Subcategory).where(Subcategory.code == "roads.potholes"))
    ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))
    neighbours = db.session.scalar(
        sa.select(Appeal).where(Appeal.submission_key == "demo-appeal-0009")
    )

    # 1. Иванова's point is next to the neighbour's pothole of yesterday: she joins it.
    ivanova = as_(client, "resident-confirmed-ufa")
    fields = {"subcategory_id": potholes.id, "territory_id": ufa.id, **NEAR}
    nearby = client.get(
        f"/appeals/new/nearby?lat={NEAR['latitude']}&lon={NEAR['longitude']}"
        f"&subcategory_id={potholes.id}"
    ).get_data(as_text=True)
    assert f"Присоединиться к № {neighbours.number}" in nearby
    response = client.post(
        "/appeals/new",
        data=_form(client, text="", join=str(neighbours.id), **fields),
        follow_redirects=True,
    )
    assert f"Вы присоединились к сообщению № {neighbours.number}" in response.get_data(as_text=True)
    joined = db.session.scalar(
        sa.select(Appeal).where(Appeal.author_id == ivanova.id).order_by(Appeal.id.desc())
    )
    assert joined.merged_into_id == neighbours.id

    # 2. Another resident sends a duplicate anyway; it reaches the city's coordinator.
    other = as_(client, "resident-simplified-ufa")
    text = "Яма у остановки на Менделеева, глубокая, машины бьют колёса."
    client.post("/appeals/new", data=_form(client, text=text, address="", **fields))
    duplicate = db.session.scalar(sa.select(Appeal).where(Appeal.author_id == other.id))
    as_(client, "pos-moderator")
    act(client, duplicate.id, "accept")
    as_(client, "cur-coordinator")
    act(client, duplicate.id, "confirm")

    # 3. The coordinator sees the neighbour's message among the candidates and merges.
    as_(client, "ufa-coordinator")
    card = f"/backoffice/appeals/{duplicate.id}"
    assert f"Это повтор № {neighbours.number}" in client.get(card).get_data(as_text=True)
    response = client.post(
        f"{card}/merge", data={"csrf_token": csrf_token(client, card), "main": neighbours.id}
    )
    assert response.status_code == 302
    page = client.get(f"/backoffice/appeals/{neighbours.id}").get_data(as_text=True)
    assert "С этим сообщением 2 повтора" in page

    # 4. The executor answers the neighbour's message, the head approves: one answer for all.
    as_(client, "ufa-executor")
    act(client, neighbours.id, "submit_draft", text="Яму у остановки заделали 6 декабря.")
    as_(client, "ufa-head")
    act(client, neighbours.id, "approve")
    run_jobs()

    # 5. Each of the three has the answer and rates it in their own cabinet.
    for slug, appeal, score in (
        ("resident-standard-ufa", neighbours, 5),
        ("resident-confirmed-ufa", joined, 4),
        ("resident-simplified-ufa", duplicate, 3),
    ):
        user = as_(client, slug)
        assert persona(slug).id == user.id
        page = client.get(f"/my/appeals/{appeal.id}").get_data(as_text=True)
        assert "Яму у остановки заделали 6 декабря." in page
        response = client.post(
            f"/my/appeals/{appeal.id}/rate",
            data={"csrf_token": csrf_token(client, f"/my/appeals/{appeal.id}"), "score": score},
        )
        assert response.status_code == 302
    db.session.expire_all()
    ratings = db.session.execute(
        sa.select(AppealRating.appeal_id, AppealRating.score).where(
            AppealRating.appeal_id.in_([neighbours.id, joined.id, duplicate.id])
        )
    ).all()
    assert sorted(ratings) == sorted([(neighbours.id, 5), (joined.id, 4), (duplicate.id, 3)])
    assert {db.session.get(Appeal, a).state for a, _ in ratings} == {AppealState.CLOSED}

    # 6. The region's ЦУР curator turns the public map on: the pothole is one point (the two
    #    duplicates are not shown apart), nothing personal.
    as_(client, "cur-curator")
    settings = "/backoffice/map/public"
    response = client.post(
        settings, data={"csrf_token": csrf_token(client, settings), "public_map": "y"}
    )
    assert response.status_code == 302
    client.get("/logout")
    region = ufa.parent
    assert client.get(f"/map/{region.oktmo}").status_code == 200
    box = "54.720,56.005,54.730,56.020"  # around the stop on ул. Менделеева
    shown = client.get(f"/api/v1/geo/regions/{region.id}/map?bbox={box}&limit=1000").get_json()
    ids = {point["id"] for point in shown["points"]}
    assert neighbours.id in ids and not ids & {joined.id, duplicate.id}
    assert all(point["text"] is None for point in shown["points"])

    # 7. The analytics heat map shows the same places: each of its busiest 1 km cells of the
    #    year holds points of the public map (which is not limited to a period).
    heat = client.get(
        f"/api/v1/open/statistics/regions/{region.id}/heatmap?grain=year&cell=1000"
        "&bbox=55.70,54.60,56.20,54.90"
    ).get_json()
    assert heat["cells"] and all(cell["count"] >= 5 for cell in heat["cells"])
    for top in sorted(heat["cells"], key=lambda cell: -cell["count"])[:3]:
        inside = client.get(
            f"/api/v1/geo/regions/{region.id}/map?limit=1000&bbox="
            f"{top['south']},{top['west']},{top['north']},{top['east']}"
        ).get_json()
        assert inside["points"], top
