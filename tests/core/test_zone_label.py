"""Times are labelled the way residents say them, never by a tz-database name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from participation.core.i18n import zone_label

WINTER = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "label"),
    [
        ("Europe/Kaliningrad", "калининградское время (МСК−1)"),
        ("Europe/Moscow", "московское время (МСК)"),
        ("Europe/Samara", "самарское время (МСК+1)"),
        ("Asia/Yekaterinburg", "екатеринбургское время (МСК+2)"),
        ("Asia/Vladivostok", "владивостокское время (МСК+7)"),
        ("Asia/Kamchatka", "камчатское время (МСК+9)"),
    ],
)
def test_zone_label_names_the_zone_and_its_moscow_offset(tz, label):
    assert zone_label(tz, WINTER) == label


def test_the_voting_period_speaks_of_yekaterinburg_time_not_asia_yekaterinburg(app, db_session):
    from types import SimpleNamespace

    from participation.voting.reports import period_text

    campaign = SimpleNamespace(
        territory=SimpleNamespace(timezone="Asia/Yekaterinburg"),
        opens_at=WINTER,
        closes_at=WINTER.replace(day=20),
        effective_closes_at=WINTER.replace(day=20),
        closed_early_at=None,
    )
    with app.test_request_context():
        text = period_text(campaign)
    assert "екатеринбургское время (МСК+2)" in text
    assert "Asia/" not in text and "местное время, " not in text
