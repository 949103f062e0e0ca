"""Resident API: my messages (list, card, history, answer and its files), rating, rework, feed."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from participation.appeals import services as s
from participation.appeals.models import Appeal, AppealRating
from participation.appeals.workflow import AppealState
from participation.core.outbox import Notification, relay_outbox
from participation.extensions import db
from tests.api.conftest import issue
from tests.api.openapi_check import check_problem
from tests.api.resident_support import Tokens, bearer, jpeg, pdf, posting
from tests.appeals.conftest import submit, world  # noqa: F401
from tests.appeals.test_lifecycle import to_work


@pytest.fixture
def mint(db_session):
    return Tokens()


@pytest.fixture
def token(mint, world):  # noqa: F811
    return mint(world.resident)


def answered(w, appeal, *files: tuple[bytes, str]):
    """Move the message to «answered» with an answer carrying `files`."""
    to_work(w, appeal)
    uploads = [FileStorage(io.BytesIO(data), name) for data, name in files]
    s.submit_draft(appeal, w.executor, "Яму заделали 12 мая, фото прилагаем.", uploads)
    s.approve_answer(appeal, w.head)
    db.session.commit()
    return appeal


def get(client, token, url, **headers):
    return client.get(url, headers=bearer(token, **headers))


def rate(client, token, appeal, body, key=None):
    return client.post(
        f"/api/v1/my/appeals/{appeal.id}/rating", json=body, headers=posting(token, key)
    )


def test_my_list_pages_by_cursor_and_shows_only_mine(client, world, token):  # noqa: F811
    w = world
    mine = [submit(w) for _ in range(3)]
    submit(w, author=w.other_resident)
    db.session.commit()
    first = get(client, token, "/api/v1/my/appeals?limit=2").get_json()
    assert [a["id"] for a in first["items"]] == [mine[2].id, mine[1].id]
    assert first["items"][0]["status"]["label"] == "Проверяется модератором"
    second = get(client, token, f"/api/v1/my/appeals?limit=2&cursor={first['next_cursor']}")
    assert [a["id"] for a in second.get_json()["items"]] == [mine[0].id]
    assert second.get_json()["next_cursor"] is None
    bad = get(client, token, "/api/v1/my/appeals?cursor=not-a-cursor")
    assert bad.status_code == 422
    assert "Неверный курсор" in check_problem(bad)["errors"]["query.cursor"][0]
    assert get(client, token, "/api/v1/my/appeals?limit=500").status_code == 422
    assert get(client, token, "/api/v1/my/appeals?page=2").status_code == 422  # unknown


def test_card_has_status_deadline_history_answer_and_files(client, world, token):  # noqa: F811
    w = world
    appeal = answered(w, submit(w), (jpeg(), "после.jpg"), (pdf(), "акт.pdf"))
    response = get(client, token, f"/api/v1/my/appeals/{appeal.id}")
    assert response.status_code == 200
    card = response.get_json()
    assert card["status"] == {"code": "answered", "label": "Получен ответ"}
    assert card["answer"]["text"].startswith("Яму заделали")
    assert card["answer"]["organization"]["name"] == w.city_admin.name
    assert card["actions"] == {"can_rate": True, "can_return_for_rework": True}
    assert card["deadline"]["term_days"] == 10 and card["deadline"]["countdown"] is None
    # The resident's timeline: internal steps (assignment, drafts) stay internal.
    assert [h["action"] for h in card["history"]] == ["submit", "confirm", "approve"]
    assert card["history"][-1]["label"] == "Ответ утверждён и направлен заявителю"
    photo, act = card["answer"]["files"]
    download = get(client, token, photo["url"])
    assert download.status_code == 200 and download.mimetype == "image/jpeg"
    cached = get(client, token, photo["url"], **{"If-None-Match": download.headers["ETag"]})
    assert cached.status_code == 304
    assert get(client, token, act["url"]).mimetype == "application/pdf"
    # An unchanged card answers 304 to its ETag.
    again = get(
        client,
        token,
        f"/api/v1/my/appeals/{appeal.id}",
        **{"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_files_of_other_messages_and_drafts_are_not_reachable(client, world, token, mint):  # noqa: F811
    w = world
    mine = answered(w, submit(w), (jpeg(), "ответ.jpg"))
    theirs = answered(w, submit(w, author=w.other_resident), (jpeg(), "чужой.jpg"))
    other_token = mint(w.other_resident)
    their_file = get(client, other_token, f"/api/v1/my/appeals/{theirs.id}").get_json()["answer"][
        "files"
    ][0]["id"]
    # Another message's file through my message's address: no such file here.
    response = get(client, token, f"/api/v1/my/appeals/{mine.id}/files/{their_file}")
    assert response.status_code == 404 and check_problem(response)["detail"] == "Файл не найден."
    # Another resident's message: 404, as if it did not exist.
    for url in (
        f"/api/v1/my/appeals/{theirs.id}",
        f"/api/v1/my/appeals/{theirs.id}/files/{their_file}",
    ):
        assert get(client, token, url).status_code == 404
    assert get(client, token, "/api/v1/my/appeals/2147483647").status_code == 404
    # A draft answer (not approved) is not the resident's to read.
    draft_appeal = to_work(w, submit(w))
    s.submit_draft(draft_appeal, w.executor, "Черновик", [FileStorage(io.BytesIO(jpeg()), "ч.jpg")])
    db.session.commit()
    from participation.core.files import Attachment

    draft_file = db.session.scalars(
        sa.select(Attachment).where(Attachment.original_name == "ч.jpg")
    ).one()
    card = get(client, token, f"/api/v1/my/appeals/{draft_appeal.id}").get_json()
    assert card["answer"] is None and card["status"]["label"] == "В работе"
    url = f"/api/v1/my/appeals/{draft_appeal.id}/files/{draft_file.public_id}"
    assert get(client, token, url).status_code == 404


def test_a_good_rating_closes_the_message(client, world, token):  # noqa: F811
    appeal = answered(world, submit(world))
    response = rate(client, token, appeal, {"score": 4, "comment": "Спасибо"})
    assert response.status_code == 201, response.get_json()
    card = response.get_json()
    assert response.headers["Location"] == f"/api/v1/my/appeals/{appeal.id}"
    assert card["status"]["code"] == "closed" and card["rating"]["score"] == 4
    assert card["actions"] == {"can_rate": False, "can_return_for_rework": False}
    assert card["review"] is None
    # A second rating is refused and changes nothing.
    twice = rate(client, token, appeal, {"score": 1})
    assert twice.status_code == 409
    assert check_problem(twice)["detail"] == "Вы уже оценили этот ответ."
    assert db.session.scalars(sa.select(AppealRating.score)).all() == [4]


def test_a_low_rating_escalates_as_in_the_cabinet(client, world, token):  # noqa: F811
    w = world
    appeal = answered(w, submit(w))
    card = rate(client, token, appeal, {"score": 2, "comment": "Яму не заделали"}).get_json()
    assert card["status"] == {
        "code": "escalated",
        "label": "На рассмотрении вышестоящей организации",
    }
    review = db.session.get(Appeal, card["review"]["id"])
    assert review.review_of_id == appeal.id and review.executor_organization_id == w.government.id
    assert card["review"]["organization"]["name"] == w.government.name
    assert [h["action"] for h in card["history"]][-1] == "escalate"
    # The review is the resident's message too.
    review_card = get(client, token, f"/api/v1/my/appeals/{review.id}").get_json()
    assert review_card["review_of_id"] == appeal.id


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"score": 6}, "score", "от 1 до 5"),
        ({"score": 0}, "score", "от 1 до 5"),
        ({"score": "5"}, "score", "целое число"),
        ({"score": 4.5}, "score", "целое число"),
        ({}, "score", "Обязательное поле"),
        ({"score": 5, "stars": 5}, "stars", "Неизвестное поле"),
        ({"score": 5, "comment": "x" * 2001}, "comment", "Не больше 2000 символов"),
    ],
)
def test_bad_ratings_are_refused(client, world, token, body, field, words):  # noqa: F811
    appeal = answered(world, submit(world))
    response = rate(client, token, appeal, body)
    assert response.status_code == 422
    assert any(words in t for t in check_problem(response)["errors"][field])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppealRating)) == 0
    assert db.session.get(Appeal, appeal.id).state == AppealState.ANSWERED


def test_rating_needs_an_answer_json_and_my_message(client, world, token, mint):  # noqa: F811
    w = world
    waiting = submit(w)
    db.session.commit()
    early = rate(client, token, waiting, {"score": 5})
    assert early.status_code == 409
    assert check_problem(early)["detail"] == "Оценить можно только полученный ответ."
    appeal = answered(w, submit(w))
    malformed = client.post(
        f"/api/v1/my/appeals/{appeal.id}/rating",
        data='{"score": 5,',
        content_type="application/json",
        headers=posting(token),
    )
    assert malformed.status_code == 400
    assert check_problem(malformed)["type"].endswith("#problem-malformed-json")
    form = client.post(
        f"/api/v1/my/appeals/{appeal.id}/rating", data={"score": "5"}, headers=posting(token)
    )
    assert form.status_code == 415
    stranger = rate(client, mint(w.other_resident), appeal, {"score": 1})
    assert stranger.status_code == 404
    assert db.session.get(Appeal, appeal.id).state == AppealState.ANSWERED


def test_rework_once_instead_of_a_rating(client, world, token):  # noqa: F811
    appeal = answered(world, submit(world))
    url = f"/api/v1/my/appeals/{appeal.id}/rework"
    empty = client.post(url, json={"comment": "  "}, headers=posting(token))
    assert "Напишите, что не так" in check_problem(empty)["errors"]["comment"][0]
    response = client.post(url, json={"comment": "Яма осталась"}, headers=posting(token))
    assert response.status_code == 200
    assert response.get_json()["status"] == {"code": "in_work", "label": "В работе"}
    again = client.post(url, json={"comment": "Ещё раз"}, headers=posting(token))
    assert again.status_code == 409


def test_notifications_list_and_mark_read(client, world, token):  # noqa: F811
    w = world
    appeal = submit(w)
    db.session.commit()
    relay_outbox()  # the feed is filled by the relay, as after a commit in production
    response = get(client, token, "/api/v1/my/notifications")
    body = response.get_json()
    assert body["unread_count"] == 1
    [item] = body["items"]
    assert item["appeal_id"] == appeal.id and not item["read"]
    assert f"№ {appeal.number}" in item["title"]
    answered(w, appeal)
    relay_outbox()
    newest = get(client, token, "/api/v1/my/notifications?limit=1").get_json()
    assert newest["unread_count"] >= 2 and newest["next_cursor"]
    # Only what the app has shown is marked: up to the first notice.
    marked = client.post(
        "/api/v1/my/notifications/read", json={"up_to_id": item["id"]}, headers=posting(token)
    ).get_json()
    assert marked == {"marked": 1, "unread_count": newest["unread_count"] - 1}
    everything = client.post("/api/v1/my/notifications/read", json={}, headers=posting(token))
    assert everything.get_json()["unread_count"] == 0
    unread = sa.select(sa.func.count()).where(
        Notification.user_id == w.resident.id, Notification.read_at.is_(None)
    )
    assert db.session.scalar(unread) == 0


def test_who_may_call_the_resident_api(client, world, token, mint):  # noqa: F811
    from tests.api.conftest import Org

    url = "/api/v1/my/appeals"
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"]
    _key, raw_key = issue(Org(world.city_admin, world.administrator))
    by_key = client.get(url, headers=bearer(raw_key))
    assert by_key.status_code == 403
    assert "только жителю" in check_problem(by_key)["detail"]
    votes_only = mint(world.resident, scope="votes")
    narrow = client.get(url, headers=bearer(votes_only))
    assert narrow.status_code == 403
    assert check_problem(narrow)["type"].endswith("#problem-insufficient-scope")
    assert 'scope="appeals"' in narrow.headers["WWW-Authenticate"]
    mint.revoke(token)
    revoked = client.get(url, headers=bearer(token))
    assert revoked.status_code == 401
    in_query = client.get(f"{url}?access_token={votes_only}")
    assert in_query.status_code == 400


def test_someone_elses_message_reads_exactly_like_a_missing_one(client, world, token):  # noqa: F811
    theirs = submit(world, author=world.other_resident)
    db.session.commit()
    foreign = client.get(f"/api/v1/my/appeals/{theirs.id}", headers=bearer(token))
    missing = client.get(f"/api/v1/my/appeals/{theirs.id + 1000}", headers=bearer(token))
    assert foreign.status_code == missing.status_code == 404
    one, other = check_problem(foreign), check_problem(missing)
    assert {k: v for k, v in one.items() if k != "instance"} == {
        k: v for k, v in other.items() if k != "instance"
    }
