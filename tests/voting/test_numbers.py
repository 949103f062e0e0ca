"""Objects are numbered within their campaign (1, 2, 3…), frozen from publication on."""

import csv
import io

import pytest
import sqlalchemy as sa
import sqlalchemy.exc

from participation.extensions import db
from participation.voting.models import VotingObject
from participation.voting.reports import protocol_pdf
from participation.voting.services import (
    ObjectData,
    add_object,
    cast_ballot,
    create_campaign,
    delete_object,
    publish_campaign,
)
from tests.helpers import login_as
from tests.voting.helpers import campaign, close_now
from tests.voting.test_manage import data
from tests.voting.test_protocol import text_of


def _new_vote(town, *titles):
    c = create_campaign(town.admin, town.official, data(town))
    for title in titles:
        add_object(c, town.official, ObjectData(title=title))
    return c


def test_a_new_vote_numbers_its_objects_from_one_on_every_page(town, client):
    campaign(town, title="Прошлое голосование")  # five objects with lower database ids
    c = _new_vote(town, "Парк", "Сквер", "Набережная")
    assert [o.number for o in c.objects] == [1, 2, 3]
    assert min(o.id for o in c.objects) > 5  # the database ids are not what people see
    publish_campaign(c, town.official)

    page = client.get(f"/voting/{c.id}").get_data(as_text=True)
    assert "№ 1" in page and "№ 3" in page
    assert f"№ {c.objects[0].id}" not in page
    card = client.get(f"/voting/{c.id}/objects/{c.objects[1].id}").get_data(as_text=True)
    assert "<dd>2</dd>" in card

    login_as(client, town.resident())
    ballot = client.get(f"/voting/{c.id}/ballot").get_data(as_text=True)
    assert "№ 2. Сквер" in ballot

    cast_ballot(c, town.resident(), [c.objects[2].id])
    close_now(c)
    results = client.get(f"/voting/{c.id}/results").get_data(as_text=True)
    assert "<td>3</td><td>Набережная</td>" in results
    csv_text = (
        client.get(f"/voting/{c.id}/results.csv", buffered=True).get_data().decode("utf-8-sig")
    )
    rows = list(csv.reader(io.StringIO(csv_text), delimiter=";"))
    assert rows[1][2] == "3"  # the object's number column
    assert "№ 3 «Набережная» — 1 голос" in text_of(protocol_pdf(c))


def test_deleting_in_a_draft_renumbers_but_publication_freezes_the_numbers(town):
    c = _new_vote(town, "Парк", "Сквер", "Набережная", "Бульвар")
    delete_object(c.objects[1], town.official)
    db.session.refresh(c)
    assert [(o.number, o.title) for o in c.objects] == [
        (1, "Парк"),
        (2, "Набережная"),
        (3, "Бульвар"),
    ]

    publish_campaign(c, town.official)
    delete_object(c.objects[0], town.official)  # before the first ballot objects may still go
    added = add_object(c, town.official, ObjectData(title="Сад"))
    db.session.refresh(c)
    assert [(o.number, o.title) for o in c.objects] == [
        (2, "Набережная"),
        (3, "Бульвар"),
        (4, "Сад"),
    ]
    assert added.number == 4


def test_a_number_is_unique_within_a_campaign(town):
    c = _new_vote(town, "Парк", "Сквер")
    other = _new_vote(town, "Парк")
    assert other.objects[0].number == 1  # the same number in another campaign is fine
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(VotingObject(campaign_id=c.id, number=1, title="Дубль"))
        db.session.flush()
