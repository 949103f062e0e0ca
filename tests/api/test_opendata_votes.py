"""Open data: published votes, their results, and the ballot box anyone can hash and recount.

Every response goes through the validating client (tests/api/openapi_check.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from datetime import timedelta

import pytest

from participation.core.territories import TerritoryLevel
from participation.voting.models import BallotRule, Channel
from participation.voting.services import cast_ballot, receipt_hash
from participation.voting.tasks import seal_ballot_box
from tests import factories
from tests.api.opendata_helpers import assert_no_personal_data, csv_rows, problem
from tests.voting.helpers import Town, campaign, close_now


@pytest.fixture
def town(db_session):
    return Town()


def _vote(town, c, positions: list[tuple[int, ...]], **kw) -> list[str]:
    codes = []
    for picks in positions:
        voter = town.resident(
            first_name="Агриппина", last_name="Избирателева", email="agrippina@example.org"
        )
        codes.append(cast_ballot(c, voter, [c.objects[p - 1].id for p in picks], **kw).code)
        town.__dict__.setdefault("voters", []).append(voter)
    return codes


def test_the_list_shows_published_votes_with_filters_and_pages(client, town):
    open_vote = campaign(town, title="Идёт сейчас")
    closed_vote = campaign(town, title="Уже закончилось")
    close_now(closed_vote)
    campaign(town, title="Черновик", published=False)
    elsewhere_region = factories.territory(TerritoryLevel.REGION, name="Другая область")
    far_city = factories.territory(parent=elsewhere_region, name="город Далёкий")
    far = campaign(town, title="Далёкое", territory=far_city)

    body = client.get("/api/v1/open/votes").get_json()
    titles = [item["title"] for item in body["items"]]
    assert "Черновик" not in titles
    assert {"Идёт сейчас", "Уже закончилось", "Далёкое"} <= set(titles)

    body = client.get(f"/api/v1/open/votes?region={town.region.id}").get_json()
    assert {item["id"] for item in body["items"]} == {open_vote.id, closed_vote.id}
    body = client.get(f"/api/v1/open/votes?municipality={far_city.id}").get_json()
    assert [item["id"] for item in body["items"]] == [far.id]
    assert body["items"][0]["territory"] == {
        "id": far_city.id,
        "oktmo": far_city.oktmo,
        "name": "город Далёкий",
    }

    closed = client.get(f"/api/v1/open/votes?region={town.region.id}&status=closed").get_json()
    assert [(i["id"], i["status"], i["status_label"]) for i in closed["items"]] == [
        (closed_vote.id, "closed", "Завершено")
    ]

    first = client.get(f"/api/v1/open/votes?region={town.region.id}&size=1").get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (2, 2, 1)
    past = client.get(f"/api/v1/open/votes?region={town.region.id}&size=1&page=3").get_json()
    assert past["items"] == [] and past["total"] == 2
    item = first["items"][0]
    assert item["links"]["self"].endswith(f"/api/v1/open/votes/{item['id']}")
    assert item["links"]["page"].endswith(f"/voting/{item['id']}")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("region=999999", "query.region"),
        ("municipality=999999", "query.municipality"),
        ("status=draft", "query.status"),
        ("size=0", "query.size"),
        ("size=1001", "query.size"),
        ("page=0", "query.page"),
        ("page=abc", "query.page"),
        ("format=xml", "query.format"),
        ("colour=red", "query.colour"),
    ],
)
def test_a_bad_filter_is_a_422_problem_naming_the_parameter(client, town, query, field):
    body = problem(client.get(f"/api/v1/open/votes?{query}"), 422)
    assert field in body["errors"], body
    assert body["errors"][field][0][0].isupper()  # a Russian sentence, not a code


def test_a_region_filter_must_name_a_region_and_a_municipality_a_municipality(client, town):
    body = problem(client.get(f"/api/v1/open/votes?region={town.city.id}"), 422)
    assert body["errors"]["query.region"] == ["Региона с таким номером нет."]
    body = problem(client.get(f"/api/v1/open/votes?municipality={town.region.id}"), 422)
    assert "query.municipality" in body["errors"]


def test_the_card_shows_objects_and_turnout_only_as_the_page_does(client, town):
    shown = campaign(town, show_turnout=True, rules_text="Голосуют жители старше 14 лет.")
    hidden = campaign(town, show_turnout=False)
    for c in (shown, hidden):
        _vote(town, c, [(1,), (2,)])
    card = client.get(f"/api/v1/open/votes/{shown.id}").get_json()
    assert card["turnout"] == 2 and card["box"] is None and card["status"] == "open"
    assert [o["title"] for o in card["objects"]][:2] == ["Парк «Кашкадан»", "Сквер на улице Ленина"]
    assert card["rules"] == "Голосуют жители старше 14 лет."
    assert "один объект" in card["rule_text"]
    assert client.get(f"/api/v1/open/votes/{hidden.id}").get_json()["turnout"] is None
    close_now(hidden)
    assert client.get(f"/api/v1/open/votes/{hidden.id}").get_json()["turnout"] == 2


def test_unknown_and_unpublished_votes_are_404(client, town):
    draft = campaign(town, published=False)
    for path in (
        "/api/v1/open/votes/999999",
        f"/api/v1/open/votes/{draft.id}",
        f"/api/v1/open/votes/{draft.id}/results",
        f"/api/v1/open/votes/{draft.id}/box",
    ):
        problem(client.get(path), 404)
    # Even the organizer's own key sees no draft here: open data is what anyone sees.
    from participation.api import services
    from participation.api.models import ApiScope
    from participation.core.users import Role

    admin = factories.staff(town.admin, Role.ADMINISTRATOR)
    issued = services.create_api_key(
        town.admin,
        "СЭД",
        [ApiScope.STATISTICS_READ.value],
        services.today() + timedelta(days=30),
        admin,
    )
    response = client.get(
        f"/api/v1/open/votes/{draft.id}", headers={"Authorization": f"Bearer {issued.token}"}
    )
    problem(response, 404)


def test_results_and_box_wait_for_the_close(client, town):
    c = campaign(town)
    _vote(town, c, [(1,)])
    for path in ("results", "results?format=csv", "box", "box?format=csv"):
        body = problem(client.get(f"/api/v1/open/votes/{c.id}/{path}"), 409)
        assert "после окончания голосования" in body["detail"]


def test_results_equal_the_page_and_a_recount_of_the_box(client, town):
    c = campaign(town, rule=BallotRule.APPROVAL, max_choices=3, winners_count=2)
    pattern = [(1, 2), (2,), (2, 3, 5), (4,), (2, 4), (4,), (5, 2), (3,)]
    codes = _vote(town, c, pattern[:-1])
    codes += _vote(town, c, pattern[-1:], channel=Channel.WIDGET)
    close_now(c)

    results = client.get(f"/api/v1/open/votes/{c.id}/results").get_json()
    assert results["ballots"] == results["voters"] == len(pattern)
    assert results["voters_by_channel"] == {"self": 7, "widget": 1, "assisted": 0}
    (group,) = results["groups"]
    assert [r["title"] for r in group["rows"] if r["winner"]] == [
        "Сквер на улице Ленина",
        "Бульвар Ибрагимова",
    ]
    assert group["rows"][0]["votes"] == 5 and group["rows"][0]["share"] == 62.5

    document = client.get(f"/api/v1/open/votes/{c.id}/box").get_json()
    recount = Counter(x for ballot in document["ballots"] for x in ballot["choices"])
    assert {r["object_id"]: r["votes"] for r in group["rows"] if r["votes"]} == dict(recount)
    hashes = [b["receipt_sha256"] for b in document["ballots"]]
    assert hashes == sorted(hashes)
    assert {receipt_hash(code).hex() for code in codes} == set(hashes)
    # The documented way for a voter: SHA-256 of the canonical receipt code.
    assert hashlib.sha256(codes[0].encode("ascii")).hexdigest() in hashes

    table = csv_rows(client.get(f"/api/v1/open/votes/{c.id}/results?format=csv"))
    assert table[0][:4] == ["Район", "Место", "№", "Объект"]
    assert ["", "1", "2", "Сквер на улице Ленина", "", "5", "62,5", "победитель"] in table


def test_the_box_bytes_hash_to_the_sealed_digests_of_the_card(client, town):
    c = campaign(town)
    _vote(town, c, [(1,), (2,), (2,)])
    close_now(c)
    card = client.get(f"/api/v1/open/votes/{c.id}").get_json()
    assert card["box"] == {
        "sealed": False,
        "sealed_at": None,
        "json_sha256": None,
        "csv_sha256": None,
    }
    unsealed_etag = client.get(f"/api/v1/open/votes/{c.id}/box").headers["ETag"]

    assert seal_ballot_box(c.id)
    card = client.get(f"/api/v1/open/votes/{c.id}").get_json()
    assert card["box"]["sealed"] and card["box"]["sealed_at"]
    json_bytes = client.get(f"/api/v1/open/votes/{c.id}/box").get_data()
    csv_response = client.get(f"/api/v1/open/votes/{c.id}/box?format=csv")
    assert hashlib.sha256(json_bytes).hexdigest() == card["box"]["json_sha256"]
    assert hashlib.sha256(csv_response.get_data()).hexdigest() == card["box"]["csv_sha256"]
    # The same bytes as the site's downloads, whose digests the protocol prints.
    assert json_bytes == client.get(f"/voting/{c.id}/box.json").get_data()
    assert csv_response.get_data() == client.get(f"/voting/{c.id}/box.csv").get_data()
    assert csv_response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True))))
    assert rows[0] == ["receipt_sha256", "choices"] and len(rows) == 4
    assert json.loads(json_bytes)["objects"][0]["title"] == "Парк «Кашкадан»"
    results = client.get(f"/api/v1/open/votes/{c.id}/results").get_json()
    assert results["box"]["csv_sha256"] == card["box"]["csv_sha256"]

    # The tag follows the bytes: sealing computes the same digest, so the tag stays.
    etag = client.get(f"/api/v1/open/votes/{c.id}/box").headers["ETag"]
    assert etag == unsealed_etag
    again = client.get(f"/api/v1/open/votes/{c.id}/box", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_every_read_has_an_etag_and_answers_304_to_it(client, town):
    c = campaign(town)
    _vote(town, c, [(1,)])
    close_now(c)
    for path in (
        "/api/v1/open/votes",
        "/api/v1/open/votes?format=csv",
        f"/api/v1/open/votes/{c.id}",
        f"/api/v1/open/votes/{c.id}?format=csv",
        f"/api/v1/open/votes/{c.id}/results",
        f"/api/v1/open/votes/{c.id}/results?format=csv",
        f"/api/v1/open/votes/{c.id}/box",
        f"/api/v1/open/votes/{c.id}/box?format=csv",
    ):
        first = client.get(path)
        assert first.status_code == 200, path
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.headers["ETag"] == etag
    # JSON and CSV of one resource are different representations: different tags.
    json_tag = client.get(f"/api/v1/open/votes/{c.id}").headers["ETag"]
    assert json_tag != client.get(f"/api/v1/open/votes/{c.id}?format=csv").headers["ETag"]
    # The list's tag changes with the list.
    before = client.get("/api/v1/open/votes").headers["ETag"]
    campaign(town, title="Новое голосование")
    assert client.get("/api/v1/open/votes").headers["ETag"] != before


def test_csv_variants_are_for_excel_in_russian(client, town):
    c = campaign(town, title="=HYPERLINK(1)")
    close_now(c)
    response = client.get(f"/api/v1/open/votes?region={town.region.id}&format=csv")
    assert response.mimetype == "text/csv"
    assert response.get_data().startswith("\ufeff".encode())
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    table = csv_rows(response)
    assert table[0][:4] == ["Номер", "Голосование", "Вид", "Статус"]
    assert table[1][1] == "'=HYPERLINK(1)"  # no formula reaches a spreadsheet
    objects = csv_rows(client.get(f"/api/v1/open/votes/{c.id}?format=csv"))
    assert objects[0][:3] == ["Номер объекта", "№ в бюллетене", "Объект"]
    assert [row[2] for row in objects[1:]][:1] == ["Парк «Кашкадан»"]


def test_nothing_personal_in_any_vote_answer(client, town):
    c = campaign(town)
    codes = _vote(town, c, [(1,), (2,)])
    close_now(c)
    seal_ballot_box(c.id)
    bodies = [
        client.get(path).get_data(as_text=True)
        for path in (
            "/api/v1/open/votes",
            "/api/v1/open/votes?format=csv",
            f"/api/v1/open/votes/{c.id}",
            f"/api/v1/open/votes/{c.id}/results",
            f"/api/v1/open/votes/{c.id}/results?format=csv",
            f"/api/v1/open/votes/{c.id}/box",
            f"/api/v1/open/votes/{c.id}/box?format=csv",
        )
    ]
    assert_no_personal_data(
        bodies,
        "Агриппина",
        "Избирателева",
        "agrippina@example.org",
        *(voter.esia_oid for voter in town.voters),
        *(voter.email for voter in town.voters),
        town.official.email,
        *codes,  # receipt codes stay with their voters; only their hashes are public
    )
