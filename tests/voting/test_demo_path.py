"""The whole path over HTTP, as in the demo: create, vote, refuse, close, protocol, recount."""

import csv
import hashlib
import io
import re
from datetime import timedelta

import sqlalchemy as sa
from pypdf import PdfReader

from participation.core.db import utcnow
from participation.extensions import db
from participation.voting.models import Ballot, Campaign, RegisterEntry
from tests.helpers import csrf_token, login_as
from tests.voting.helpers import SPACES

CODE = re.compile(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>")


def post(client, url, data, form_url=None):
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data})


def test_landscaping_vote_from_creation_to_recount(town, client, run_jobs):
    teen = town.resident(age=15)
    child = town.resident(age=13)
    neighbour = town.resident(territory=town.other_city)

    # An official of Уфа creates a landscaping vote with five public spaces and publishes it.
    login_as(client, town.official)
    now = utcnow().astimezone(town.city.tz)
    response = post(
        client,
        "/backoffice/voting/new",
        {
            "title": "Выбираем пространство для благоустройства 2027",
            "kind": "landscaping",
            "territory_id": town.city.id,
            "opens_local": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "closes_local": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
            "ballot_rule": "single",
            "winners_count": "1",
            "min_level": "confirmed",
            "min_age": "14",
            "show_turnout": "y",
        },
    )
    assert response.status_code == 302
    campaign = db.session.scalar(sa.select(Campaign))
    manage = f"/backoffice/voting/{campaign.id}"
    for title in SPACES:
        response = post(
            client,
            f"{manage}/objects/new",
            {"title": title, "address": "г. Уфа", "description": "Описание"},
        )
        assert response.status_code == 302
    response = post(client, f"{manage}/publish", {}, form_url=manage)
    assert "Голосование опубликовано" in client.get(manage).get_data(as_text=True)
    ids = [o.id for o in campaign.objects]
    assert len(ids) == 5

    # A confirmed 15-year-old resident of Уфа votes: ballot → confirmation → receipt.
    login_as(client, teen)
    page = client.get(f"/voting/{campaign.id}").get_data(as_text=True)
    assert "Проголосовать" in page and "Набережная реки Белой" in page
    response = post(client, f"/voting/{campaign.id}/ballot", {"choices": ids[2]})
    assert "Подтвердите выбор" in response.get_data(as_text=True)
    token = csrf_token(client, f"/voting/{campaign.id}/ballot")
    response = client.post(
        f"/voting/{campaign.id}/cast", data={"csrf_token": token, "choices": ids[2]}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    receipt = CODE.search(response.get_data(as_text=True)).group(1)
    receipt_page = response.get_data(as_text=True)
    details = receipt_page[receipt_page.index("<details>") : receipt_page.index("</details>")]
    assert "<summary>Для специалистов</summary>" in details and "SHA-256" in details
    assert receipt_page.count("SHA-256") == 1  # the resident's text has no jargon
    page = client.get(f"/voting/{campaign.id}").get_data(as_text=True)
    assert "Вы проголосовали" in page
    assert f'href="/voting/{campaign.id}/ballot"' not in page  # no vote button any more
    again = client.post(
        f"/voting/{campaign.id}/cast", data={"csrf_token": token, "choices": ids[0]}
    )
    assert again.status_code == 302
    assert "Вы уже проголосовали" in client.get(again.location).get_data(as_text=True)

    # A 13-year-old and a resident of another municipality are refused with reasons.
    login_as(client, child)
    assert "Вам пока нет 14 лет" in client.get(f"/voting/{campaign.id}").get_data(as_text=True)
    response = client.get(f"/voting/{campaign.id}/ballot")
    assert response.status_code == 403 and "Вам пока нет 14 лет" in response.get_data(as_text=True)
    login_as(client, neighbour)
    response = client.get(f"/voting/{campaign.id}/ballot")
    assert response.status_code == 403
    assert "зарегистрированы вне территории" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1

    # The official closes the vote (early, with a reason) and downloads the protocol.
    login_as(client, town.official)
    response = post(client, f"{manage}/close", {"reason": "Досрочно для демонстрации"})
    assert response.status_code == 302
    run_jobs()  # the sealing job (queued after the commit; without Redis it already ran)
    db.session.refresh(campaign)
    assert campaign.box_csv_sha256
    pdf = client.get(f"{manage}/protocol.pdf")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_data())).pages).split()
    )
    assert "Набережная реки Белой" in text and "Бульвар Ибрагимова" in text
    assert "Бюллетеней в урне 1" in text and "Досрочно для демонстрации" in text
    assert "№ 3 «Набережная реки Белой» — 1 голос" in text

    # Anyone downloads the ballot box, checks its digest and a receipt.
    client.post("/logout")
    with client.session_transaction() as session:
        session.clear()
    box = client.get(f"/voting/{campaign.id}/box.csv", buffered=True).get_data()
    assert hashlib.sha256(box).hexdigest() == campaign.box_csv_sha256
    rows = list(csv.reader(io.StringIO(box.decode())))
    assert rows[1] == [hashlib.sha256(receipt.encode()).hexdigest(), str(ids[2])]
    response = post(client, f"/voting/{campaign.id}/verify", {"code": receipt.lower()})
    assert "Бюллетень с этим кодом есть в урне" in response.get_data(as_text=True)
    response = post(client, f"/voting/{campaign.id}/verify", {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert "Бюллетеня с таким кодом в урне нет" in response.get_data(as_text=True)
    response = post(client, f"/voting/{campaign.id}/verify", {"code": "не код"})
    assert "Код состоит из 16 букв и цифр" in response.get_data(as_text=True)
    results = client.get(f"/voting/{campaign.id}/results").get_data(as_text=True)
    assert "победитель" in results and "Набережная реки Белой" in results
