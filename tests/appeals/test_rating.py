"""Rating: in the cabinet and through the signed, expiring link from the e-mail."""

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from participation.appeals import services as s
from participation.appeals.models import Appeal, AppealRating, RatingVia
from participation.core.db import utcnow
from participation.core.outbox import OutboxMessage
from participation.extensions import db
from tests.appeals.conftest import submit
from tests.appeals.test_lifecycle import to_answered
from tests.helpers import csrf_token, login_as


def _link_path(appeal):
    letter = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.channel == "email", OutboxMessage.subject.contains("Ответ на сообщение")
        )
    ).one()
    assert letter.link.startswith("http")
    return "/" + letter.link.split("://", 1)[1].split("/", 1)[1]


def _rate(client, path, score):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "score": score})


def test_link_rates_without_logging_in(client, world):
    appeal = to_answered(world, submit(world))
    path = _link_path(appeal)
    page = client.get(path).get_data(as_text=True)
    assert "Яму заделали" in page and "Оцените ответ" in page
    assert _rate(client, path, "4").status_code == 302
    rating = db.session.scalars(sa.select(AppealRating)).one()
    assert (
        rating.score == 4 and rating.via == RatingVia.LINK and rating.author_id == world.resident.id
    )
    db.session.refresh(appeal)
    assert appeal.state == "closed"
    assert "Ответ оценён: 4 из 5" in client.get(path).get_data(as_text=True)
    # A second try by the same link changes nothing.
    _rate(client, path, "1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppealRating)) == 1


def test_link_expires(client, world):
    appeal = to_answered(world, submit(world))
    path = _link_path(appeal)
    with time_machine.travel(utcnow() + timedelta(days=31)):
        response = client.get(path)
    assert response.status_code == 404
    assert "Срок действия ссылки истёк" in response.get_data(as_text=True)


def test_forged_or_altered_link_is_refused(client, world):
    appeal = to_answered(world, submit(world))
    path = _link_path(appeal)
    token = path.rsplit("/", 1)[1]
    assert client.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 404
    assert client.get("/appeals/rate/not-a-token").status_code == 404
    other = to_answered(world, submit(world, author=world.other_resident))
    # A token for one message cannot be replayed for another (the id is signed).
    assert s.appeal_from_rating_token(token).id == appeal.id != other.id


def test_cabinet_rating_form_rejects_bad_scores(client, world):
    appeal = to_answered(world, submit(world))
    login_as(client, world.resident)
    url = f"/my/appeals/{appeal.id}"
    assert "Оцените ответ" in client.get(url).get_data(as_text=True)
    for bad in ("0", "6", "", "пять"):
        response = client.post(
            f"{url}/rate", data={"csrf_token": csrf_token(client, url), "score": bad}
        )
        assert response.status_code == 400
        assert "Поставьте оценку от 1 до 5" in response.get_data(as_text=True)
    assert appeal.state == "answered"
    response = client.post(
        f"{url}/rate", data={"csrf_token": csrf_token(client, url), "score": "1"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.scalar(sa.select(Appeal).where(Appeal.review_of_id == appeal.id))
    assert review is not None and review.holder_organization_id == world.government.id
    response = client.post(
        f"{url}/rate", data={"csrf_token": csrf_token(client, url), "score": "5"}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppealRating)) == 1
    page = client.get(url).get_data(as_text=True)
    assert "Ваша оценка ответа: 1 из 5" in page and f"новый номер {review.number}" in page


def test_cabinet_rework_then_timeline(client, world):
    appeal = to_answered(world, submit(world))
    login_as(client, world.resident)
    url = f"/my/appeals/{appeal.id}"
    response = client.post(
        f"{url}/rework", data={"csrf_token": csrf_token(client, url), "comment": ""}
    )
    assert response.status_code == 400 and "Напишите, что не так" in response.get_data(as_text=True)
    response = client.post(
        f"{url}/rework", data={"csrf_token": csrf_token(client, url), "comment": "Яма на месте"}
    )
    assert response.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Заявитель вернул ответ на доработку" in html
    # Internal steps (assignment, drafts) are not shown to the resident.
    assert "Назначен исполнитель" not in html
    assert re.search(r"Сообщение зарегистрировано", html)


def test_my_list_shows_only_mine_with_status(client, world):
    mine = submit(world)
    submit(world, author=world.other_resident)
    login_as(client, world.resident)
    html = client.get("/my/appeals").get_data(as_text=True)
    assert f"/my/appeals/{mine.id}" in html and "Проверяется модератором" in html
    assert html.count('class="card appeal-card"') == 1


def test_a_caller_without_an_account_gets_the_answer_by_email_and_rates_by_link(client, world):
    from participation.appeals.models import Channel
    from participation.appeals.services import Caller

    appeal = submit(
        world,
        author=world.cur_operator,
        channel=Channel.OPERATOR,
        caller=Caller("Петров Иван", "+7 900 000-00-00", "caller@example.org"),
    )
    assert appeal.author_id is None and appeal.contact_email == "caller@example.org"
    to_answered(world, appeal)
    letter = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.email == "caller@example.org",
            OutboxMessage.subject.contains("Ответ на сообщение"),
        )
    ).one()
    assert letter.user_id is None
    path = "/" + letter.link.split("://", 1)[1].split("/", 1)[1]
    assert _rate(client, path, "5").status_code == 302
    rating = db.session.scalars(sa.select(AppealRating)).one()
    assert rating.author_id is None and rating.score == 5
