"""The result protocol (PDF) and results CSV: Cyrillic names, totals, winners, the box digest."""

import csv
import io

import sqlalchemy as sa
from pypdf import PdfReader

from participation.core.files import Attachment
from participation.extensions import db
from participation.voting.models import BallotRule, Channel, ProtocolFile, ProtocolStatus
from participation.voting.reports import protocol_pdf
from participation.voting.services import cast_ballot, request_protocol
from participation.voting.tasks import seal_ballot_box
from tests.helpers import csrf_token, login_as
from tests.voting.helpers import campaign, close_now

PROJECTS = ("Детская площадка на ул. Ленина", "Освещение двора", "Скамейки и урны", "Велопарковка")


def text_of(data: bytes) -> str:
    """The PDF's text with line breaks and runs of spaces made single spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def budget_vote(town):
    c = campaign(
        town,
        rule=BallotRule.BUDGET,
        objects=PROJECTS,
        costs=(1_200_000, 2_000_000, 900_000, 500_000),
        budget_limit=3_000_000,
        turnout_target=5,
        title="Инициативное бюджетирование «Наш двор»",
    )
    picks = [(2,), (2, 3), (1, 3), (2, 4), (1,), (3,)]
    for n, chosen in enumerate(picks):
        assisted = n == 0
        cast_ballot(
            c,
            town.resident(),
            [c.objects[i - 1].id for i in chosen],
            channel=Channel.ASSISTED if assisted else Channel.SELF,
            volunteer=town.volunteer if assisted else None,
        )
    close_now(c)
    seal_ballot_box(c.id)
    return c


def test_protocol_pdf_has_cyrillic_objects_totals_winners_and_the_digest(town):
    c = budget_vote(town)
    text = text_of(protocol_pdf(c))
    assert "Протокол об итогах голосования" in text
    assert "Инициативное бюджетирование «Наш двор»" in text
    assert "Администрация г. Уфы" in text
    assert "городской округ город Уфа" in text
    assert "Голосование доступно жителям" in text and "от 14 лет" in text
    for title in PROJECTS:
        assert title in text
    # votes: #2 → 3, #3 → 3, #1 → 2, #4 → 1; budget 3 000 000: #2 (2 000 000) wins, #3
    # (900 000) fits, #1 (1 200 000) no longer fits and is skipped, #4 (500 000) doesn't fit.
    assert "№ 2 «Освещение двора» — 3 голос" in text
    assert "не хватило бюджета" in text
    assert "Использовано бюджета: 2 900 000 ₽, остаток: 100 000 ₽." in text
    assert "Проголосовало человек (реестр) 6" in text
    assert "в том числе с помощью волонтёра 1" in text
    assert "Бюллетеней в урне 6" in text
    assert "достигнута" in text
    assert c.box_csv_sha256 in text.replace(" ", "")
    assert f"/voting/{c.id}/verify" in text
    assert "Председатель общественной комиссии" in text


def test_protocol_and_csv_downloads_for_the_official(town, client):
    c = budget_vote(town)
    login_as(client, town.official)
    response = client.get(f"/backoffice/voting/{c.id}/protocol.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Скамейки и урны" in text_of(response.get_data())
    download = client.get(f"/voting/{c.id}/results.csv", buffered=True)
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Район",
        "Место",
        "№",
        "Объект",
        "Стоимость, ₽",
        "Голоса",
        "Доля, %",
        "Итог",
    ]
    by_title = {row[3]: row for row in rows[1:]}
    assert by_title["Освещение двора"][5] == "3" and by_title["Освещение двора"][7] == "победитель"
    assert by_title["Детская площадка на ул. Ленина"][6] == "33,3"
    assert by_title["Детская площадка на ул. Ленина"][7] == "не хватило бюджета"
    box = client.get(f"/voting/{c.id}/box.csv", buffered=True)
    assert box.headers["Content-Type"] == "text/csv; charset=utf-8"
    login_as(client, town.resident())
    assert client.get(f"/backoffice/voting/{c.id}/protocol.pdf").status_code == 404


def test_large_protocols_are_built_by_a_job_and_kept_for_the_officials(town, client, run_jobs):
    c = budget_vote(town)
    protocol = request_protocol(c, town.official)
    db.session.commit()  # the job runs after the commit (in-process without Redis)
    run_jobs()
    db.session.refresh(protocol)
    assert protocol.status == ProtocolStatus.READY
    attachment = db.session.get(Attachment, protocol.attachment_id)
    login_as(client, town.official)
    page = client.get(f"/backoffice/voting/{c.id}").get_data(as_text=True)
    assert attachment.public_id in page
    download = client.get(f"/files/{attachment.public_id}", buffered=True)
    download.close()
    assert download.status_code == 200
    assert "Освещение двора" in text_of(download.get_data())
    login_as(client, town.resident())
    assert client.get(f"/files/{attachment.public_id}").status_code == 404


def test_the_protocol_request_button_works_through_the_page(town, client):
    c = budget_vote(town)
    login_as(client, town.official)
    token = csrf_token(client, f"/backoffice/voting/{c.id}")
    response = client.post(f"/backoffice/voting/{c.id}/protocol", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProtocolFile)) == 1


def test_a_protocol_with_many_districts_lists_winners_in_a_table(town):
    from participation.core.territories import TerritoryLevel
    from tests import factories

    districts = [
        factories.territory(TerritoryLevel.SETTLEMENT, parent=town.city, name=f"Посёлок {n:02d}")
        for n in range(25)
    ]
    c = campaign(town, per_district=True, objects=[f"Сквер {n}" for n in range(50)])
    for n, obj in enumerate(c.objects):
        obj.district_id = districts[n // 2].id
    db.session.flush()
    for n, district in enumerate(districts):
        cast_ballot(c, town.resident(territory=district), [c.objects[2 * n + n % 2].id])
    close_now(c)
    text = text_of(protocol_pdf(c))
    assert "Посёлок 24: бюллетеней 1" in text
    assert "Район № Объект Голоса" in text  # the winners' table header
    assert "Посёлок 07" in text and "Сквер 15" in text


def test_numbers_read_the_same_on_the_page_and_in_the_pdf_in_the_visitors_language(town, client):
    c = budget_vote(town)
    page = client.get(f"/voting/{c.id}/results").get_data(as_text=True)
    assert "<td>33,3\xa0%</td>" in page and "33.3" not in page
    assert "<td>1\xa0200\xa0000</td>" in page  # the cost, grouped the Russian way
    pdf_text = text_of(protocol_pdf(c))
    assert "33,3 %" in pdf_text.replace("\xa0", " ")
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.get(f"/voting/{c.id}/results").get_data(as_text=True)
    assert "<td>33.3%</td>" in english and "<td>1,200,000</td>" in english


def test_a_protocol_whose_job_was_lost_is_built_when_asked_again_or_by_the_sweep(town, run_jobs):
    """Pending with no job behind it (its worker was killed, or Redis was down when it was
    queued): asking again queues it again, and so does the sweep."""
    from datetime import timedelta

    from participation.core.db import utcnow
    from participation.core.jobs import run_sweeps

    asked, swept = budget_vote(town), budget_vote(town)
    long_ago = utcnow() - timedelta(hours=1)
    stuck = [
        ProtocolFile(campaign_id=c.id, requested_by_id=town.official.id, requested_at=long_ago)
        for c in (asked, swept)
    ]
    db.session.add_all(stuck)
    db.session.commit()
    assert request_protocol(asked, town.official) is stuck[0]
    db.session.commit()
    run_jobs()
    db.session.refresh(stuck[0])
    assert stuck[0].status == ProtocolStatus.READY
    run_sweeps()
    run_jobs()
    db.session.refresh(stuck[1])
    assert stuck[1].status == ProtocolStatus.READY
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProtocolFile)) == 2


def test_the_protocol_names_the_checksum_and_the_zone_without_double_brackets(town):
    c = campaign(town, objects=PROJECTS)
    text = text_of(protocol_pdf(c))
    # What «будет опубликована» agrees with is named: the checksum (feminine).
    assert "Контрольная сумма урны (SHA-256, CSV) будет опубликована после опечатывания" in text
    assert "SHA-256 урны" not in text
    # The zone label has its own brackets: the period does not wrap it in a second pair.
    assert "((" not in text and "))" not in text
    assert "время (МСК" in text
