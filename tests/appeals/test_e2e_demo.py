"""The "done when" path, through HTTP on the demo region: a resident reports a pothole; the
moderator, the ЦУР coordinator, the city's coordinator, executor and head each find it in the
right folder and move it on; the resident gets the answer in the feed and by e-mail, rates it 2
through the e-mail link, and the higher organization receives it for review."""

import email
import re
from email import policy
from pathlib import Path

import sqlalchemy as sa

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import User
from participation.demo import data
from participation.demo.seed import seed_demo
from participation.extensions import db
from tests.helpers import csrf_token, login_as


def persona(slug):
    return db.session.scalar(
        sa.select(User).where(User.esia_oid == data.PERSONAS[slug]["esia_oid"])
    )


def organization(slug):
    name = next(r["name"] for r in data.ORGANIZATIONS if r["slug"] == slug)
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def as_(client, slug_or_user):
    user = persona(slug_or_user) if isinstance(slug_or_user, str) else slug_or_user
    login_as(client, user)
    return user


def inbox_has(client, number, bucket):
    html = client.get(f"/backoffice/appeals/?bucket={bucket}").get_data(as_text=True)
    return f'/backoffice/appeals/{number}"' in html


def act(client, appeal_id, action, **fields):
    token = csrf_token(client, f"/backoffice/appeals/{appeal_id}")
    card = client.get(f"/backoffice/appeals/{appeal_id}").get_data(as_text=True)
    state = re.search(rf'name="{action}-state"[^>]*value="([^"]+)"', card)
    assert state, f"action {action} is not offered on the card"
    form = {"csrf_token": token, f"{action}-state": state.group(1)}
    form.update({f"{action}-{k}": v for k, v in fields.items()})
    response = client.post(f"/backoffice/appeals/{appeal_id}/{action}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response


def test_pothole_from_report_to_review_at_the_higher_organization(app, client, run_jobs):
    seed_demo()
    db.session.commit()  # (the test's outer transaction still rolls it all back)
    higher = organization("ufa-admin").parent
    assert higher.name == "Правительство Республики Башкортостан"
    potholes = db.session.scalar(sa.select(Subcategory).where(Subcategory.code == "roads.potholes"))
    ufa = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.UFA))

    # 1. The resident reports a pothole and sees the number and the due date at once.
    resident = as_(client, "resident-confirmed-ufa")
    page = client.get("/appeals/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/appeals/new",
        data={
            "csrf_token": csrf_token(client, "/appeals/new"),
            "submission_key": key,
            "text": "Огромная яма на дороге у дома 7 по улице Пушкина, уже пробили два колеса.",
            "subcategory_id": potholes.id,
            "territory_id": ufa.id,
            "address": "г. Уфа, ул. Пушкина, д. 7",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    appeal = db.session.scalars(
        sa.select(Appeal).where(Appeal.author_id == resident.id).order_by(Appeal.id.desc())
    ).first()
    assert f"зарегистрировано под номером {appeal.number}" in html
    assert "Срок ответа — до" in html
    assert appeal.fast_track and appeal.term_days == 10 and appeal.auto_routed

    # 2. Moderator: Новые → accept.
    as_(client, "pos-moderator")
    assert inbox_has(client, appeal.id, "new")
    act(client, appeal.id, "accept")

    # 3. Regional coordinator (ЦУР): Новые → confirm the addressee.
    as_(client, "cur-coordinator")
    assert inbox_has(client, appeal.id, "new")
    card = client.get(f"/backoffice/appeals/{appeal.id}").get_data(as_text=True)
    assert "На координацию" in card and "Фаст-трек" in card
    act(client, appeal.id, "confirm")
    assert inbox_has(client, appeal.id, "redirected")  # ЦУР sees what it passed on

    # 4. The city's coordinator: Новые → assign the executor.
    as_(client, "ufa-coordinator")
    assert inbox_has(client, appeal.id, "new")
    act(client, appeal.id, "assign", executor_id=persona("ufa-executor").id)

    # 5. Executor: В работе → draft answer for approval.
    as_(client, "ufa-executor")
    assert inbox_has(client, appeal.id, "in_work")
    act(client, appeal.id, "submit_draft", text="Яму заделали холодным асфальтом 14 мая.")

    # 6. Head: На согласовании → approve; the answer goes to the resident.
    as_(client, "ufa-head")
    assert inbox_has(client, appeal.id, "approval")
    act(client, appeal.id, "approve")
    run_jobs()

    # 7. The resident has the answer in the feed and an e-mail with a rating link.
    as_(client, resident)
    feed = client.get("/my/notifications").get_data(as_text=True)
    assert f"Ответ на сообщение № {appeal.number}" in feed
    letters = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in Path(app.config["MAIL_DIR"]).glob("*.eml")
    ]
    letter = next(m for m in letters if m["Subject"] == f"Ответ на сообщение № {appeal.number}")
    assert letter["To"] == resident.email
    body = letter.get_content()
    assert "Яму заделали холодным асфальтом" in body
    link = re.search(r"https?://\S+/appeals/rate/\S+", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    # 8. The resident rates it 2 through the link in the e-mail.
    page = client.get("/" + path)
    assert page.status_code == 200 and "Оцените ответ" in page.get_data(as_text=True)
    response = client.post(
        "/" + path, data={"csrf_token": csrf_token(client, "/" + path), "score": "2"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert appeal.state == "escalated"
    review = db.session.scalar(sa.select(Appeal).where(Appeal.review_of_id == appeal.id))
    assert review.holder_organization_id == higher.id and review.cycle == 2
    detail = client.get(f"/my/appeals/{appeal.id}").get_data(as_text=True)
    assert "вышестоящую организацию" in detail and f"новый номер {review.number}" in detail

    # 9. The higher organization receives it for review (demo staff of Правительство РБ)…
    reviewer = as_(client, "rb-gov-coordinator")
    assert inbox_has(client, review.id, "new")
    card = client.get(f"/backoffice/appeals/{review.id}").get_data(as_text=True)
    assert "Повторное рассмотрение" in card and "Назначить исполнителя" in card
    # …and that cycle completes: its answer reaches the resident, who rates it 5.
    act(client, review.id, "assign", executor_id=reviewer.id)
    act(client, review.id, "submit_draft", text="Проверили: яму заделали заново, с гарантией.")
    as_(client, "ufa-head")  # the city's head has no say over the government's answer
    assert client.get(f"/backoffice/appeals/{review.id}").status_code == 404
    as_(client, "rb-gov-head")
    assert inbox_has(client, review.id, "approval")
    act(client, review.id, "approve")
    as_(client, resident)
    rate = client.get(f"/my/appeals/{review.id}")
    assert "с гарантией" in rate.get_data(as_text=True)
    response = client.post(
        f"/my/appeals/{review.id}/rate",
        data={"csrf_token": csrf_token(client, f"/my/appeals/{review.id}"), "score": "5"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert review.state == "closed"
