"""The status and dates of a vote read as what happened: the actual end, and an early close."""

from datetime import UTC, datetime

from participation.voting.models import BallotRule
from participation.voting.reports import protocol_context, rule_text
from tests.voting.helpers import campaign

OPENS = datetime(2026, 1, 10, 5, 0, tzinfo=UTC)  # 10:00 in Yekaterinburg
PLANNED_END = datetime(2030, 3, 1, 5, 0, tzinfo=UTC)
CLOSED_EARLY = datetime(2026, 2, 1, 10, 30, tzinfo=UTC)  # 15:30 local


def _closed_early(town):
    return campaign(
        town,
        title="Закрытое досрочно",
        opens=OPENS,
        closes=PLANNED_END,
        closed_early_at=CLOSED_EARLY,
        close_reason="Ошибка в описании объектов",
    )


def test_an_early_closed_vote_shows_its_actual_period_and_reason(town, client):
    c = _closed_early(town)
    page = client.get(f"/voting/{c.id}").get_data(as_text=True)
    assert "с 10.01.2026 10:00, досрочно завершено 01.02.2026 в 15:30" in page
    assert "Ошибка в описании объектов" in page
    assert "01.03.2030" not in page  # the planned end never happened

    listing = client.get("/voting/").get_data(as_text=True)
    assert "досрочно завершено 01.02.2026 в 15:30" in listing
    assert "01.03.2030" not in listing


def test_a_vote_closed_on_time_lists_its_period_not_a_deadline(town, client):
    campaign(town, title="Прошлогоднее", opens=OPENS, closes=datetime(2026, 1, 20, 5, tzinfo=UTC))
    listing = client.get("/voting/?status=closed").get_data(as_text=True)
    assert "с 10.01.2026 10:00 по 20.01.2026 10:00" in listing
    assert "до 20.01.2026" not in listing


def test_the_protocol_states_the_actual_period_and_the_early_close(town, app):
    c = _closed_early(town)
    with app.test_request_context():
        context = protocol_context(c, CLOSED_EARLY)
    assert context.period.startswith("с 10.01.2026 10:00, досрочно завершено 01.02.2026 в 15:30")
    assert "Ошибка в описании объектов" in (context.early_close or "")


def test_budget_rules_say_a_project_with_no_votes_never_wins(town, app):
    c = campaign(town, rule=BallotRule.BUDGET, budget_limit=100, costs=(10, 20, 30, 40, 50))
    with app.test_request_context():
        assert "ни одного голоса, не побеждает" in rule_text(c)
