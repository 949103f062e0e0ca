"""Results: counted in SQL, hidden until the close, equal to a recount of the published box."""

import csv
import hashlib
import io
import json
import re
from collections import Counter

import sqlalchemy as sa

from participation.extensions import db
from participation.voting import box
from participation.voting.models import BallotRule, Channel
from participation.voting.services import cast_ballot, receipt_hash
from participation.voting.tally import count_votes, tally_campaign
from participation.voting.tasks import seal_ballot_box, seal_closed_campaigns
from tests.helpers import login_as
from tests.voting.helpers import campaign, close_now


def vote_pattern(town, c, pattern):
    """pattern: list of object positions tuples; one resident per ballot."""
    codes = []
    for picks in pattern:
        result = cast_ballot(c, town.resident(), [c.objects[p - 1].id for p in picks])
        codes.append(result.code)
    return codes


def recount_csv(data: bytes) -> tuple[Counter, int]:
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == ["receipt_sha256", "choices"]
    votes = Counter()
    for _receipt, choices in rows[1:]:
        votes.update(int(x) for x in choices.split())
    return votes, len(rows) - 1


def test_tally_equals_a_recount_of_the_published_box(town, client):
    c = campaign(town, rule=BallotRule.APPROVAL, max_choices=3, winners_count=2)
    pattern = [(1, 2), (2,), (2, 3, 5), (4,), (2, 4), (4,), (5, 2), (3,)]
    codes = vote_pattern(town, c, pattern)
    close_now(c)
    tally = tally_campaign(c)

    csv_bytes = client.get(f"/voting/{c.id}/box.csv", buffered=True).get_data()
    votes, ballots = recount_csv(csv_bytes)
    assert ballots == tally.ballots == len(pattern)
    assert {r.id: r.votes for r in tally.rows if r.votes} == dict(votes)
    assert [r.title for r in tally.winners] == ["Сквер на улице Ленина", "Бульвар Ибрагимова"]

    document = json.loads(client.get(f"/voting/{c.id}/box.json", buffered=True).get_data())
    json_votes = Counter(x for b in document["ballots"] for x in b["choices"])
    assert json_votes == votes
    assert {o["id"]: o["title"] for o in document["objects"]}[c.objects[0].id] == "Парк «Кашкадан»"
    # Every voter finds their ballot by the SHA-256 of their code; rows are in hash order.
    hashes = [b["receipt_sha256"] for b in document["ballots"]]
    assert sorted(hashes) == hashes
    assert {receipt_hash(code).hex() for code in codes} == set(hashes)
    assert hashlib.sha256(codes[0].encode()).hexdigest() in hashes


def test_single_choice_ballots_count_as_the_sum_of_votes(town):
    c = campaign(town)
    vote_pattern(town, c, [(1,), (1,), (3,)])
    close_now(c)
    tally = tally_campaign(c)
    assert tally.ballots == 3 and tally.voters == 3
    assert [(r.id, r.votes, r.rank) for r in tally.rows][:2] == [
        (c.objects[0].id, 2, 1),
        (c.objects[2].id, 1, 2),
    ]
    assert round(tally.rows[0].share, 1) == 66.7
    assert count_votes(c.id) == {c.objects[0].id: 2, c.objects[2].id: 1}


def test_sealing_publishes_digests_that_match_the_downloads(town, client):
    c = campaign(town)
    vote_pattern(town, c, [(1,), (2,), (2,)])
    assert not seal_ballot_box(c.id)  # still open: nothing to seal
    close_now(c)
    assert seal_closed_campaigns() == 0  # closed less than a minute ago: not yet
    assert seal_ballot_box(c.id)
    db.session.refresh(c)
    csv_bytes = client.get(f"/voting/{c.id}/box.csv", buffered=True).get_data()
    json_bytes = client.get(f"/voting/{c.id}/box.json", buffered=True).get_data()
    assert hashlib.sha256(csv_bytes).hexdigest() == c.box_csv_sha256
    assert hashlib.sha256(json_bytes).hexdigest() == c.box_json_sha256
    page = client.get(f"/voting/{c.id}/verify").get_data(as_text=True)
    assert c.box_csv_sha256 in page


def test_nobody_sees_results_before_the_close(town, client):
    c = campaign(town)
    vote_pattern(town, c, [(1,)])
    for who in (None, town.official, town.resident()):
        if who is not None:
            login_as(client, who)
        for path in ("results", "results.csv", "box.csv", "box.json"):
            response = client.get(f"/voting/{c.id}/{path}", buffered=True)
            assert response.status_code == 403, (who, path)
            assert "после окончания голосования" in response.get_data(as_text=True)
    login_as(client, town.official)
    manage = client.get(f"/backoffice/voting/{c.id}").get_data(as_text=True)
    assert "Проголосовало" in manage
    assert "Парк «Кашкадан»" in manage and "не видно никому" in manage
    assert client.get(f"/backoffice/voting/{c.id}/protocol.pdf").status_code == 302


def test_turnout_is_shown_during_the_vote_only_if_the_campaign_allows(town, client):
    shown = campaign(town, show_turnout=True)
    hidden = campaign(town, show_turnout=False, title="Без явки")
    for c in (shown, hidden):
        vote_pattern(town, c, [(1,), (2,)])
    assert re.search(
        r"Проголосовал\w* 2 ", client.get(f"/voting/{shown.id}").get_data(as_text=True)
    )
    assert "Проголосовал" not in client.get(f"/voting/{hidden.id}").get_data(as_text=True)


def test_voters_by_channel_in_the_tally(town):
    c = campaign(town)
    cast_ballot(c, town.resident(), [c.objects[0].id])
    cast_ballot(
        c, town.resident(), [c.objects[0].id], channel=Channel.ASSISTED, volunteer=town.volunteer
    )
    cast_ballot(c, town.resident(), [c.objects[1].id], channel=Channel.WIDGET)
    close_now(c)
    tally = tally_campaign(c)
    assert tally.voters_by_channel == {Channel.SELF: 1, Channel.WIDGET: 1, Channel.ASSISTED: 1}


def test_per_district_results_have_their_own_winners(town):
    from participation.core.territories import TerritoryLevel
    from tests import factories

    north = factories.territory(TerritoryLevel.SETTLEMENT, parent=town.city, name="Северный")
    south = factories.territory(TerritoryLevel.SETTLEMENT, parent=town.city, name="Южный")
    c = campaign(town, per_district=True)
    for obj, district in zip(c.objects, [north, north, south, south, south], strict=True):
        obj.district_id = district.id
    db.session.flush()
    for territory, position in [
        (north, 2),
        (north, 2),
        (north, 1),
        (south, 5),
        (south, 3),
        (south, 5),
    ]:
        cast_ballot(c, town.resident(territory=territory), [c.objects[position - 1].id])
    close_now(c)
    tally = tally_campaign(c)
    assert [(g.district.name, g.ballots, [w.title for w in g.winners]) for g in tally.groups] == [
        ("Северный", 3, ["Сквер на улице Ленина"]),
        ("Южный", 3, ["Сад имени Аксакова"]),
    ]
    one = tally_campaign(c, district_id=south.id)
    assert one.ballots == 3 and one.voters is None
    assert {r.title: r.votes for r in one.rows} == {
        "Набережная реки Белой": 1,
        "Бульвар Ибрагимова": 0,
        "Сад имени Аксакова": 2,
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("voting_ballots"))) == 6
    assert list(box.iter_ballots(c.id))  # the box streams
