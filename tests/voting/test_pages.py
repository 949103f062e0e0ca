"""Every page renders for the people it is for, and hot pages take a bounded number of queries."""

import sqlalchemy as sa
from sqlalchemy import event

from participation.extensions import db
from participation.voting.models import BallotRule
from participation.voting.services import cast_ballot
from tests.helpers import login_as
from tests.voting.helpers import campaign, close_now


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self)


def test_public_and_management_pages_render(town, client):
    open_vote = campaign(town)
    budget = campaign(town, rule=BallotRule.BUDGET, budget_limit=100, costs=(10, 20, 30, 40, 50))
    closed = campaign(town, title="Итоги прошлого года")
    cast_ballot(closed, town.resident(), [closed.objects[0].id])
    close_now(closed)
    draft = campaign(town, published=False, title="Черновик")
    pages = [
        "/voting/",
        "/voting/?status=open",
        "/voting/?status=closed",
        f"/voting/{open_vote.id}",
        f"/voting/{open_vote.id}/objects/{open_vote.objects[0].id}",
        f"/voting/{closed.id}",
        f"/voting/{closed.id}/results",
        f"/voting/{closed.id}/verify",
    ]
    for path in pages:
        assert client.get(path).status_code == 200, path
    login_as(client, town.resident(age=20))
    for path in [*pages, f"/voting/{open_vote.id}/ballot", f"/voting/{budget.id}/ballot"]:
        assert client.get(path).status_code == 200, path
    budget_page = client.get(f"/voting/{budget.id}/ballot").get_data(as_text=True)
    assert 'data-cost="20"' in budget_page and "js/voting.js" in budget_page
    login_as(client, town.official)
    for path in [
        "/backoffice/voting/",
        "/backoffice/voting/new",
        f"/backoffice/voting/{draft.id}",
        f"/backoffice/voting/{draft.id}/edit",
        f"/backoffice/voting/{draft.id}/objects/new",
        f"/backoffice/voting/{draft.id}/objects/{draft.objects[0].id}/edit",
        f"/backoffice/voting/{open_vote.id}",
        f"/backoffice/voting/{open_vote.id}/close",
        f"/backoffice/voting/{closed.id}",
    ]:
        assert client.get(path).status_code == 200, path


def test_hot_pages_take_a_bounded_number_of_queries(town, client):
    small = campaign(town)
    big = campaign(town, objects=[f"Объект {n}" for n in range(60)], title="Большое")
    for c in (small, big):
        for n in range(5):
            cast_ballot(c, town.resident(), [c.objects[n].id])
    login_as(client, town.resident())
    counts = {}
    for c in (small, big):
        for path in (f"/voting/{c.id}", f"/voting/{c.id}/ballot"):
            with QueryCounter() as counter:
                assert client.get(path).status_code == 200
            counts[path.replace(str(c.id), "ID"), c.title] = counter.count
    for path in ("/voting/ID", "/voting/ID/ballot"):
        assert counts[path, "Большое"] == counts[path, small.title], counts  # not per object
        assert counts[path, "Большое"] <= 15, counts
    with QueryCounter() as counter:
        assert client.get("/voting/").status_code == 200
    assert counter.count <= 15
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("voting_campaigns"))) == 2
    )


def test_the_verify_page_keeps_the_shell_command_for_specialists(town, client):
    closed = campaign(town, title="Итоги прошлого года")
    cast_ballot(closed, town.resident(), [closed.objects[0].id])
    close_now(closed)
    html = client.get(f"/voting/{closed.id}/verify").get_data(as_text=True)
    details = html[html.index("<details>") : html.index("</details>")]
    assert "<summary>Для специалистов</summary>" in details
    assert "sha256sum" in details
    assert html.count("sha256sum") == 1  # nowhere outside the specialists' note
