"""What one ballot costs the database: a bounded number of statements, objects read once per
process after the first ballot has frozen them, and an edit before it seen by the next cast."""

from __future__ import annotations

import sqlalchemy as sa

from participation.extensions import db
from participation.voting.models import Ballot, BallotChoice
from participation.voting.services import ObjectData, update_object
from tests.helpers import count_statements, csrf_token, login_as
from tests.voting.helpers import campaign


def _cast(client, c, voter, position: int):
    login_as(client, voter)
    token = csrf_token(client, f"/voting/{c.id}/ballot")
    with count_statements(db.engine) as sent:
        response = client.post(
            f"/voting/{c.id}/cast",
            data={"csrf_token": token, "choices": c.objects[position - 1].id},
        )
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), [s for s in sent if s.strip() not in _TX]


_TX = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


def _objects_read(statements: list[str]) -> int:
    return sum(1 for s in statements if "FROM voting_objects" in s)


def test_a_cast_sends_the_user_the_vote_its_objects_and_three_inserts(town, client):
    c = campaign(town)
    page, sent = _cast(client, c, town.resident(), 2)
    assert "Вы проголосовали" in page and "Сквер на улице Ленина" in page
    # the person, the vote (share-locked), its objects, register + ballot + choice
    assert len(sent) <= 6, sent
    assert _objects_read(sent) == 1


def test_after_the_first_ballot_the_objects_are_not_read_again(town, client):
    c = campaign(town)
    _cast(client, c, town.resident(), 1)
    page, sent = _cast(client, c, town.resident(), 3)
    assert _objects_read(sent) == 0 and len(sent) <= 5, sent
    assert c.objects[2].title in page
    chosen = db.session.scalars(sa.select(BallotChoice.object_id).join(Ballot)).all()
    assert sorted(chosen) == sorted([c.objects[0].id, c.objects[2].id])


def test_an_object_renamed_before_the_first_ballot_shows_renamed(town, client):
    c = campaign(town)
    login_as(client, town.resident())
    csrf_token(client, f"/voting/{c.id}/ballot")  # the objects were read once already
    update_object(c.objects[1], town.official, ObjectData(title="Сквер у школы № 5"))
    db.session.commit()
    page, _sent = _cast(client, c, town.resident(), 2)
    assert "Сквер у школы № 5" in page


def test_once_the_objects_are_kept_another_votes_object_is_still_refused(town, client):
    c = campaign(town)
    other = campaign(town, title="Другое голосование")
    _cast(client, c, town.resident(), 1)  # the objects of `c` are kept from now on
    login_as(client, town.resident())
    token = csrf_token(client, f"/voting/{c.id}/ballot")
    foreign = client.post(
        f"/voting/{c.id}/cast",
        data={"csrf_token": token, "choices": other.objects[0].id},
        follow_redirects=True,
    )
    assert "Такого объекта нет в этом голосовании." in foreign.get_data(as_text=True)
    for bad in ("", "abc", "9" * 12):
        response = client.post(f"/voting/{c.id}/cast", data={"csrf_token": token, "choices": bad})
        assert response.status_code == 302  # back with the reason, nothing cast
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
