"""The "done when" path over HTTP on the demo region: residents ask and support questions on
the Head of the Republic's direct line; the platform's moderator merges two duplicates, runs the
broadcast and finishes it; the unanswered questions become messages in the operator's inbox,
routed by topic and place; the live page shows what was answered; the authors are told."""

import re

import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.core.outbox import OutboxMessage
from participation.core.territories import Territory
from participation.core.users import User
from participation.demo import data
from participation.demo.seed import seed_demo
from participation.directline.demo import TITLE
from participation.directline.models import DirectLine, Question, QuestionState
from participation.extensions import db
from tests.helpers import csrf_token, login_as


def persona(slug: str) -> User:
    return db.session.scalar(
        sa.select(User).where(User.esia_oid == data.PERSONAS[slug]["esia_oid"])
    )


def question_by_text(start: str) -> Question:
    db.session.expire_all()
    return db.session.scalar(sa.select(Question).where(Question.text.startswith(start)))


def post(client, url: str, page: str, **fields):
    response = client.post(url, data={"csrf_token": csrf_token(client, page), **fields})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def flashes(client, page: str) -> str:
    return client.get(page).get_data(as_text=True)


def test_direct_line_from_questions_to_messages(app, client, run_jobs):
    seed_demo()
    db.session.commit()  # (the test's outer transaction still rolls it all back)
    event = db.session.scalar(sa.select(DirectLine).where(DirectLine.title == TITLE))
    base = f"/directline/{event.id}"
    manage = f"/backoffice/directline/{event.id}"
    ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))

    # 1. A resident finds the direct line and asks a question (standard account is enough).
    login_as(client, persona("resident-standard-ufa"))
    index = client.get("/directline/").get_data(as_text=True)
    assert TITLE in index and "Идёт приём вопросов" in index
    ask_page = client.get(f"{base}/ask").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', ask_page).group(1)
    housing = next(c for c in event.categories if c.name == "ЖКХ и многоквартирные дома")
    post(
        client,
        f"{base}/ask",
        f"{base}/ask",
        submission_key=key,
        category_id=housing.id,
        text="Когда заменят лифт в доме 107 по улице Мингажева? Он стоит уже месяц.",
        territory_id=ufa.id,
        address="г. Уфа, ул. Мингажева, д. 107",
    )
    mine = client.get(f"{base}/my").get_data(as_text=True)
    assert "Когда заменят лифт" in mine and "На модерации" in mine

    # A simplified account is told why it cannot ask.
    login_as(client, persona("resident-simplified-ufa"))
    refusal = client.get(f"{base}/ask").get_data(as_text=True)
    assert "Стандартная" in refusal or "стандартная" in refusal

    # 2. Another resident supports the published question about the road.
    road = question_by_text("Когда отремонтируют улицу Менделеева")
    duplicate = question_by_text("Будет ли капитальный ремонт улицы Менделеева")
    login_as(client, persona("resident-confirmed-ufa"))
    page = client.get(base).get_data(as_text=True)
    assert road.text in page
    post(client, f"{base}/questions/{duplicate.id}/support", base)
    # 3. The moderator publishes the new question, merges the two road duplicates.
    moderator = persona("pos-moderator")
    login_as(client, moderator)
    queue = client.get(manage).get_data(as_text=True)
    assert "Когда заменят лифт" in queue
    lift = question_by_text("Когда заменят лифт")
    post(client, f"{manage}/questions/{lift.id}/publish", manage, state="new")
    post(
        client,
        f"{manage}/questions/{duplicate.id}/merge",
        manage,
        state="published",
        target=str(road.id),
    )
    road, duplicate = question_by_text("Когда отремонтируют"), question_by_text("Будет ли")
    assert duplicate.state == QuestionState.MERGED and duplicate.merged_into_id == road.id
    road_page = client.get(f"{base}/questions/{road.id}").get_data(as_text=True)
    # Road: 3 supporters (the duplicate's author among them); the duplicate: 2 (one of them
    # also supports the road) plus the road's own author. After the merge: the person who
    # supported both counts once, the duplicate's author is a co-author rather than a
    # supporter, the road's author does not support her own question: 3 supporters.
    assert "Задали такой же вопрос</dt><dd>1<" in road_page
    assert "Поддержали</dt><dd>3<" in road_page
    told = db.session.scalars(
        sa.select(OutboxMessage.body).where(
            OutboxMessage.user_id == persona("resident-standard-ufa").id
        )
    ).all()
    assert any("объединён" in b for b in told)

    # 4. The broadcast: start it, shortlist, on air, answered.
    broadcast = f"{manage}/broadcast"
    post(client, f"{manage}/start", broadcast)
    post(client, f"{manage}/questions/{road.id}/shortlist", manage, state="published")
    post(client, f"{manage}/questions/{road.id}/on_air", broadcast, state="shortlisted")
    live = client.get(f"{base}/live.json").get_json()
    assert live["phase"] == "live" and live["current"]["id"] == road.id
    post(
        client,
        f"{manage}/questions/{road.id}/answer",
        broadcast,
        state="on_air",
        answer_text="Капитальный ремонт улицы Менделеева включён в план следующего года.",
        answer_url="https://tv.bashkortostan.example/rec#t=754",
    )
    live_page = client.get(f"{base}/live").get_data(as_text=True)
    assert "включён в план следующего года" in live_page and ">Обновить</a>" in live_page
    post(client, f"{manage}/finish", broadcast)

    # 5. After the broadcast: every unanswered question becomes a message, once.
    waiting = [
        q.id
        for q in db.session.scalars(
            sa.select(Question).where(
                Question.event_id == event.id,
                Question.state.in_(
                    [QuestionState.NEW, QuestionState.PUBLISHED, QuestionState.SHORTLISTED]
                ),
            )
        )
    ]
    appeals_before = db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))
    results = f"{manage}/results"
    post(client, f"{manage}/convert-all", results)
    post(client, f"{manage}/convert-all", results)  # clicked twice
    run_jobs()  # (with Redis the conversion runs in a worker)
    db.session.expire_all()
    appeals_after = db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))
    assert appeals_after - appeals_before == len(waiting) == 6
    summary = client.get(results).get_data(as_text=True)
    assert "Все вопросы без ответа переданы как сообщения" in summary

    lift = question_by_text("Когда заменят лифт")
    appeal = db.session.get(Appeal, lift.appeal_id)
    assert appeal.author_id == persona("resident-standard-ufa").id
    assert appeal.subcategory.code == "mkd.management_company"
    uk = next(o for o in data.ORGANIZATIONS if o["slug"] == "ufa-uk-zhilservis")
    assert appeal.executor_organization.name == uk["name"]  # the Уфа rule for this topic
    # The message waits in the platform operator's moderation inbox, like any other.
    inbox = client.get("/backoffice/appeals/?bucket=new").get_data(as_text=True)
    assert f'/backoffice/appeals/{appeal.id}"' in inbox

    # The author sees it in the cabinet and on the direct line.
    login_as(client, persona("resident-standard-ufa"))
    mine = client.get(f"{base}/my").get_data(as_text=True)
    assert f"/my/appeals/{appeal.id}" in mine
    assert client.get(f"/my/appeals/{appeal.id}").status_code == 200
    # The public page shows the answer and the figures.
    public = client.get(base).get_data(as_text=True)
    assert "Итоги" in public and "включён в план следующего года" in public


def test_the_readme_s_cur_coordinator_moderates_the_demo_direct_line(app, client):
    """README: `cur-coordinator` — «moderation and routing of messages, direct line»."""
    seed_demo()
    event = db.session.scalar(sa.select(DirectLine).where(DirectLine.title == TITLE))
    login_as(client, persona("cur-coordinator"))
    listing = client.get("/backoffice/directline/").get_data(as_text=True)
    assert TITLE in listing
    assert "Прямых линий, которые вы модерируете, пока нет" not in listing
    assert client.get(f"/backoffice/directline/{event.id}").status_code == 200
