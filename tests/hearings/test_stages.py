"""The stage follows from the dates alone; the window opens and closes at local midnight."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from participation.extensions import db
from participation.hearings import services
from participation.hearings.models import Hearing, HearingKind
from participation.hearings.stages import Stage, stage_at, stage_sql, timeline, window_is_open
from tests.hearings.conftest import CLOSES_ON, MEETING_ON, NOTICE_AT, OPENS_ON, local, travel

ONE_SECOND = timedelta(seconds=1)
OPEN_MIDNIGHT = local(OPENS_ON, time(0, 0))  # 2026-06-07 19:00 UTC
CLOSE_MIDNIGHT = local(CLOSES_ON + timedelta(days=1), time(0, 0))  # 2026-06-21 19:00 UTC


def test_local_midnights_are_those_of_the_territory():
    assert datetime(2026, 6, 7, 19, 0, tzinfo=UTC) == OPEN_MIDNIGHT
    assert datetime(2026, 6, 21, 19, 0, tzinfo=UTC) == CLOSE_MIDNIGHT


def test_the_hearing_keeps_the_moments_of_local_midnight(discussion):
    assert discussion.remarks_open_at == OPEN_MIDNIGHT
    assert discussion.remarks_close_at == CLOSE_MIDNIGHT
    assert discussion.remarks_first_day == OPENS_ON
    assert discussion.remarks_last_day == CLOSES_ON


DISCUSSION_CASES = [
    (NOTICE_AT - ONE_SECOND, Stage.DRAFT),  # not published yet at that time? see below
    (NOTICE_AT, Stage.ANNOUNCED),
    (OPEN_MIDNIGHT - ONE_SECOND, Stage.ANNOUNCED),
    (OPEN_MIDNIGHT, Stage.REMARKS_OPEN),
    (local(MEETING_ON, time(18, 0)), Stage.REMARKS_OPEN),  # no meeting in a discussion
    (CLOSE_MIDNIGHT - ONE_SECOND, Stage.REMARKS_OPEN),
    (CLOSE_MIDNIGHT, Stage.REMARKS_CLOSED),
    (CLOSE_MIDNIGHT + timedelta(days=30), Stage.REMARKS_CLOSED),
]


@pytest.mark.parametrize(("now", "expected"), DISCUSSION_CASES[1:])
def test_stages_of_a_discussion_by_date(discussion, now, expected):
    assert stage_at(discussion, now) == expected
    assert window_is_open(discussion, now) == (expected == Stage.REMARKS_OPEN)


def test_an_unpublished_hearing_is_a_draft_whatever_the_date(make_hearing):
    hearing = make_hearing(publish=False)
    for now, _expected in DISCUSSION_CASES:
        assert stage_at(hearing, now) == Stage.DRAFT


HEARING_CASES = [
    (NOTICE_AT, Stage.ANNOUNCED),
    (local(OPENS_ON - timedelta(days=3), time(0, 0)) - ONE_SECOND, Stage.ANNOUNCED),
    (local(OPENS_ON - timedelta(days=3), time(0, 0)), Stage.EXPOSITION),
    (OPEN_MIDNIGHT, Stage.REMARKS_OPEN),
    (local(MEETING_ON, time(17, 59)), Stage.REMARKS_OPEN),
    (local(MEETING_ON, time(18, 0)), Stage.MEETING),
    (CLOSE_MIDNIGHT - ONE_SECOND, Stage.MEETING),
    (CLOSE_MIDNIGHT, Stage.REMARKS_CLOSED),
]


@pytest.mark.parametrize(("now", "expected"), HEARING_CASES)
def test_stages_of_a_public_hearing_with_an_earlier_exposition(make_hearing, now, expected):
    hearing = make_hearing(
        kind=HearingKind.PUBLIC_HEARING, exposition_starts_on=OPENS_ON - timedelta(days=3)
    )
    assert stage_at(hearing, now) == expected


def test_protocol_and_conclusion_are_the_last_stages(discussion, world):
    after = CLOSE_MIDNIGHT + timedelta(days=2)
    services.issue_protocol(discussion, world.organizer, number="1", now=after)
    assert stage_at(discussion, after) == Stage.PROTOCOL
    services.publish_conclusion(discussion, world.organizer, text="Одобрить проект.", now=after)
    assert stage_at(discussion, after) == Stage.CONCLUSION
    steps = timeline(discussion, after)
    assert [s.stage for s in steps] == [
        Stage.ANNOUNCED,
        Stage.EXPOSITION,
        Stage.REMARKS_OPEN,
        Stage.REMARKS_CLOSED,
        Stage.PROTOCOL,
        Stage.CONCLUSION,
    ]
    assert all(s.reached for s in steps) and steps[-1].current


@pytest.mark.parametrize(("now", "expected"), HEARING_CASES)
def test_the_sql_stage_agrees_with_the_python_one(make_hearing, now, expected):
    hearing = make_hearing(
        kind=HearingKind.PUBLIC_HEARING, exposition_starts_on=OPENS_ON - timedelta(days=3)
    )
    found = db.session.scalar(sa.select(stage_sql(now)).where(Hearing.id == hearing.id))
    assert found == expected.value
    listed = db.session.scalars(services.public_hearings_query(stage=expected, now=now)).all()
    assert hearing in listed


def test_the_window_closes_by_itself_at_local_midnight(discussion, world):
    with travel(CLOSE_MIDNIGHT - ONE_SECOND):
        assert services.remark_decision(world.resident, discussion).allowed
    with travel(CLOSE_MIDNIGHT):
        decision = services.remark_decision(world.resident, discussion)
        assert not decision.allowed and decision.code == "closed"
        assert "21.06.2026" in decision.reason
