"""Resident API: votes open to me with eligibility reasons, casting a ballot, my ballots."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.core.users import AccountLevel
from participation.extensions import db
from participation.voting.models import Ballot, BallotRule, RegisterEntry
from participation.voting.services import receipt_hash
from tests.api.openapi_check import check_problem
from tests.api.resident_support import Tokens, bearer
from tests.voting.helpers import Town, campaign, close_now


@pytest.fixture
def town(db_session):
    return Town()


@pytest.fixture
def mint(db_session):
    return Tokens()


@pytest.fixture
def voter(town):
    return town.resident(age=30)


@pytest.fixture
def token(mint, voter):
    return mint(voter)


def cast(client, token, vote, object_ids, **extra):
    return client.post(
        f"/api/v1/my/votes/{vote.id}/ballot",
        json={"object_ids": object_ids, **extra},
        headers=bearer(token),
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_my_votes_say_who_may_vote_and_why_not(client, town, mint, token):
    here = campaign(town, title="Парки Уфы")
    campaign(town, title="Стерлитамак", territory=town.other_city)
    campaign(town, title="Скоро", opens=utcnow() + timedelta(days=1))
    db.session.commit()
    body = client.get("/api/v1/my/votes", headers=bearer(token)).get_json()
    titles = {item["title"]: item for item in body["items"]}
    assert set(titles) == {"Парки Уфы", "Скоро"} and body["total"] == 2
    item = titles["Парки Уфы"]
    assert item["status"] == {"code": "open", "label": "Идёт голосование"}
    assert item["eligibility"]["allowed"] and not item["voted"]
    assert "подтверждённой учётной записью" in item["eligibility"]["rule"]
    only_open = client.get("/api/v1/my/votes?status=open", headers=bearer(token)).get_json()
    assert [i["id"] for i in only_open["items"]] == [here.id]
    # A 12-year-old and a simplified account are told why they cannot vote.
    child = client.get(
        "/api/v1/my/votes?status=open", headers=bearer(mint(town.resident(age=12)))
    ).get_json()["items"][0]["eligibility"]
    assert (child["allowed"], child["code"]) == (False, "too_young")
    assert child["reason"].startswith("Вам пока нет 14 лет.")
    simple = town.resident(level=AccountLevel.SIMPLIFIED)
    level = client.get("/api/v1/my/votes?status=open", headers=bearer(mint(simple))).get_json()
    assert level["items"][0]["eligibility"]["code"] == "level"
    bad = client.get("/api/v1/my/votes?status=soon", headers=bearer(token))
    assert bad.status_code == 422 and "query.status" in check_problem(bad)["errors"]


def test_the_vote_card_lists_my_ballot(client, town, token):
    vote = campaign(town, rule=BallotRule.APPROVAL, max_choices=2)
    draft = campaign(town, published=False)
    db.session.commit()
    card = client.get(f"/api/v1/my/votes/{vote.id}", headers=bearer(token)).get_json()
    assert [o["number"] for o in card["objects"]] == [1, 2, 3, 4, 5]
    assert card["ballot_rule"]["code"] == "approval" and card["max_choices"] == 2
    assert card["turnout"] == 0 and "до 2 объектов" in card["rule"]
    hidden = client.get(f"/api/v1/my/votes/{draft.id}", headers=bearer(token))
    assert hidden.status_code == 404


def test_casting_returns_a_receipt_once_and_one_ballot_is_kept(client, town, voter, token):
    vote = campaign(town)
    db.session.commit()
    chosen = vote.objects[1]
    response = cast(client, token, vote, [chosen.id])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    code = body["receipt_code"]
    assert len(code) == 19 and body["objects"] == [
        {"id": chosen.id, "number": 2, "title": chosen.title}
    ]
    assert body["ballot"]["campaign"]["id"] == vote.id and not body["ballot"]["can_revote"]
    # The box holds the receipt's hash and nothing about the voter.
    [ballot] = db.session.scalars(sa.select(Ballot)).all()
    assert ballot.receipt_hash == receipt_hash(code)
    # The Location is my ballot: where and when, never what.
    mine = client.get(response.headers["Location"], headers=bearer(token)).get_json()
    assert mine["id"] == body["ballot"]["id"] and mine["channel"]["code"] == "self"
    listed = client.get("/api/v1/my/ballots", headers=bearer(token)).get_json()
    assert [b["id"] for b in listed["items"]] == [mine["id"]]
    # A second ballot (a retry, or a second try) is refused by the register.
    again = cast(client, token, vote, [vote.objects[0].id])
    assert again.status_code == 409
    assert check_problem(again)["detail"] == "Вы уже проголосовали в этом голосовании."
    assert count(RegisterEntry) == 1 and count(Ballot) == 1
    card = client.get(f"/api/v1/my/votes/{vote.id}", headers=bearer(token)).get_json()
    assert card["voted"] and card["eligibility"]["code"] == "already_voted"


def test_a_closed_vote_takes_no_ballot(client, town, token):
    vote = campaign(town)
    close_now(vote)
    db.session.commit()
    response = cast(client, token, vote, [vote.objects[0].id])
    assert response.status_code == 409
    body = check_problem(response)
    assert body["type"].endswith("#problem-closed")
    assert body["detail"].startswith("Голосование завершено")
    assert count(RegisterEntry) == 0 and count(Ballot) == 0


def test_an_ineligible_resident_is_refused_with_the_reason(client, town, mint):
    vote = campaign(town)
    db.session.commit()
    child = town.resident(age=12)
    response = cast(client, mint(child), vote, [vote.objects[0].id])
    assert response.status_code == 403
    body = check_problem(response)
    assert body["type"].endswith("#problem-not-eligible")
    assert body["detail"].startswith("Вам пока нет 14 лет.")
    assert count(RegisterEntry) == 0 and count(Ballot) == 0
    # As on the site, the refusal is audited.
    assert db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.action == "voting.refused")
    ).all() == ["voting.refused"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"object_ids": []}, "object_ids", "Выберите один объект."),
        ({"object_ids": "first"}, "object_ids", "Ожидается список"),
        ({"object_ids": ["первый"]}, "object_ids.0", "целое число"),
        ({"object_ids": [1], "vote": "yes"}, "vote", "Неизвестное поле"),
        ({}, "object_ids", "Обязательное поле"),
    ],
)
def test_bad_ballots_are_refused(client, town, token, body, field, words):
    vote = campaign(town)
    db.session.commit()
    response = client.post(f"/api/v1/my/votes/{vote.id}/ballot", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert any(words in t for t in check_problem(response)["errors"][field])
    assert count(RegisterEntry) == 0 and count(Ballot) == 0


def test_choices_are_checked_by_the_voting_service(client, town, token):
    vote = campaign(town)
    other = campaign(town, title="Другое голосование")
    db.session.commit()
    two = cast(client, token, vote, [vote.objects[0].id, vote.objects[1].id])
    assert check_problem(two)["errors"] == {"object_ids": ["Выберите один объект."]}
    foreign = cast(client, token, vote, [other.objects[0].id])
    assert foreign.status_code == 422
    assert "Такого объекта нет" in check_problem(foreign)["errors"]["object_ids"][0]
    malformed = client.post(
        f"/api/v1/my/votes/{vote.id}/ballot",
        data="{object_ids: [1]}",
        content_type="application/json",
        headers=bearer(token),
    )
    assert malformed.status_code == 400
    assert count(RegisterEntry) == 0 and count(Ballot) == 0


def test_another_residents_ballot_is_not_found(client, town, token, mint):
    vote = campaign(town)
    db.session.commit()
    neighbour = mint(town.resident())
    theirs = cast(client, neighbour, vote, [vote.objects[0].id]).get_json()["ballot"]["id"]
    response = client.get(f"/api/v1/my/ballots/{theirs}", headers=bearer(token))
    assert response.status_code == 404
    assert check_problem(response)["detail"] == "Бюллетень не найден."
    assert client.get("/api/v1/my/ballots/999999", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/my/ballots", headers=bearer(token)).get_json()["items"] == []


def test_revote_with_the_receipt_code(client, town, token):
    vote = campaign(town, allow_revote=True)
    db.session.commit()
    code = cast(client, token, vote, [vote.objects[0].id]).get_json()["receipt_code"]
    wrong = cast(client, token, vote, [vote.objects[1].id], receipt_code="AAAA-BBBB-CCCC-DDDD")
    assert wrong.status_code == 422 and "receipt_code" in check_problem(wrong)["errors"]
    again = cast(client, token, vote, [vote.objects[1].id], receipt_code=code)
    assert again.status_code == 200 and again.get_json()["receipt_code"] == code
    assert count(RegisterEntry) == 1 and count(Ballot) == 1


def test_votes_need_the_votes_scope(client, town, voter, mint):
    vote = campaign(town)
    db.session.commit()
    appeals_only = mint(voter, scope="appeals profile")
    response = cast(client, appeals_only, vote, [vote.objects[0].id])
    assert response.status_code == 403
    assert check_problem(response)["type"].endswith("#problem-insufficient-scope")
    assert count(RegisterEntry) == 0


@pytest.mark.postgres
@pytest.mark.committed
def test_concurrent_ballots_of_one_person_leave_one(app, town, voter, mint):
    """Five ballots of one person at once (no Idempotency-Key here): one counts, four are 409."""
    token = mint(voter)
    vote = campaign(town)
    url, chosen = f"/api/v1/my/votes/{vote.id}/ballot", vote.objects[0].id
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(5)
    results, errors = [], []

    def send():
        try:
            barrier.wait()
            client = app.test_client()
            response = client.post(url, json={"object_ids": [chosen]}, headers=bearer(token))
            results.append(response.status_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(results) == [201, 409, 409, 409, 409]
    assert count(RegisterEntry) == 1 and count(Ballot) == 1
