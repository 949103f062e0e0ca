"""Retention purge: statistics and ballot boxes equal before and after, the dry run changes
nothing, a second run changes nothing, terms end where they say, each run is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from participation.appeals.models import Appeal, AppealAnswer, AppealEvent, AppealRating
from participation.appeals.tasks import sweep_appeal_deadlines
from participation.core.audit import AuditEntry
from participation.core.files import Attachment, attachment_path, store_file
from participation.core.outbox import Channel as OutboxChannel
from participation.core.outbox import Notification, OutboxMessage
from participation.directline.models import DirectLine, Question
from participation.extensions import db
from participation.hearings.models import Hearing, Participant, Remark, RemarkStatus
from participation.polls.engine import load_questionnaire
from participation.polls.models import (
    AgeBand,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
    TextStatus,
)
from participation.polls.results import totals_raw
from participation.privacy import retention
from participation.privacy.retention import PLACEHOLDER, purge_personal_data
from participation.reports import participation as figures
from participation.reports.models import (
    ANSWER_SUMMARY_TABLES,
    SUMMARY_TABLES,
    AppealAnswerDays,
    AppealDayRollup,
    HeatCellRollup,
)
from participation.reports.rollup import rebuild, refresh_stale
from participation.reports.services import Period, Scope
from participation.voting import box, tally
from participation.voting.models import Ballot, RegisterEntry
from participation.voting.services import cast_ballot
from participation.widgets.models import WidgetSession
from tests.reports.conftest import directline, hearing, local, question, remark
from tests.reports.test_rollup import START
from tests.voting.helpers import Town, campaign, close_now

PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg of a pothole" * 10
# Five years and a day after the story's messages were closed (March 2026).
LATER = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def _survey(w, resident) -> Survey:
    """A closed named survey (ended 30 April 2026): one free-text question, two responses and
    a draft nobody sent."""
    s = Survey(
        organization_id=w.city_admin.id,
        title="Как вам двор?",
        anonymous=False,
        starts_at=datetime(2026, 4, 1, tzinfo=UTC),
        ends_at=datetime(2026, 4, 30, tzinfo=UTC),
        published_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    db.session.add(s)
    db.session.flush()
    section = SurveySection(survey_id=s.id)
    db.session.add(section)
    db.session.flush()
    text = SurveyQuestion(
        survey_id=s.id, section_id=section.id, kind=QuestionKind.TEXT, text="Что улучшить?"
    )
    db.session.add(text)
    db.session.flush()
    for who, words in ((resident, "Я, Иванова из кв. 5, прошу скамейку"), (None, "Свет")):
        r = SurveyResponse(
            survey_id=s.id,
            respondent_id=who.id if who else None,
            submitted_at=datetime(2026, 4, 10, 7, tzinfo=UTC),
            age_band=AgeBand.A25_34,
        )
        db.session.add(r)
        db.session.flush()
        db.session.add(
            SurveyAnswer(
                response_id=r.id,
                question_id=text.id,
                text_value=words,
                text_status=TextStatus.APPROVED,
            )
        )
    db.session.add(SurveyDraft(survey_id=s.id, user_id=w.other_resident.id, answers={"x": 1}))
    db.session.flush()
    return s


@pytest.fixture
def everything(story):
    """The story's messages (one with a photo), a survey, a hearing, a direct line, a closed
    vote with ballots, an old widget login, an old feed item and a sent e-mail."""
    w, cases = story
    # Two months on, the answered messages nobody rated are closed by the deadline sweep; the
    # redirected one is still open at the town's administration.
    with time_machine.travel(START + timedelta(days=60), tick=False):
        sweep_appeal_deadlines()
    photo = store_file(
        PHOTO,
        "двор.jpg",
        "image/jpeg",
        uploaded_by_id=w.resident.id,
        attached_to=("appeal", cases["exact"].id),
    )
    w.photo = photo
    w.survey = _survey(w, w.resident)
    h = hearing(w.city_admin, w.city, date(2026, 5, 1), date(2026, 5, 14))
    w.remark = remark(h, local(date(2026, 5, 2)), text="Уберите баки от дома 12, кв. 3")
    w.remark.author_id = w.resident.id
    line = directline(w, w.government)
    w.question = question(w, line, w.city, local(date(2026, 5, 5)))
    w.question.address = "ул. Ленина, 5, кв. 7"

    town = Town()
    w.campaign = c = campaign(town)
    for voter in (town.resident(), town.resident(), town.resident()):
        cast_ballot(c, voter, [c.objects[voter.id % 2].id])
    close_now(c)
    db.session.add(
        WidgetSession(
            organization_id=w.city_admin.id,
            user_id=w.resident.id,
            token_hash="a" * 64,
            ticket_id="t" * 32,
            session_version=1,
            site="https://school.example.org",
            created_at=START,
            last_seen_at=START,
        )
    )
    mail = OutboxMessage(
        dedup_key="retention-test",
        channel=OutboxChannel.EMAIL,
        user_id=w.resident.id,
        email="zhitelnitsa@example.org",
        subject="Ответ на сообщение",
        body="Уважаемая Жительница, яму у дома 5 заделали.",
        created_at=START,
        sent_at=START,
    )
    db.session.add(mail)
    db.session.flush()
    db.session.add(
        Notification(user_id=w.resident.id, title="Ответ", body="Яма у дома 5", created_at=START)
    )
    db.session.flush()
    refresh_stale()
    db.session.commit()  # the outbox relay turns the story's notices into feed items now
    return w, cases


def statistics(w) -> dict:
    """Every figure the purge must keep: the rollup recounted from the base tables, the
    participation indicators, the survey's results, the vote's box, digests and count."""
    rebuild()
    rollup = {}
    for model in (
        AppealDayRollup,
        AppealAnswerDays,
        HeatCellRollup,
        *(m for m, _grain, _keys in (*SUMMARY_TABLES, *ANSWER_SUMMARY_TABLES)),
    ):
        columns = [c for c in model.__table__.c if c.name != "id"]
        rollup[model.__tablename__] = sorted(
            tuple(str(v) for v in row) for row in db.session.execute(sa.select(*columns))
        )
    scope = Scope(region_id=w.region.id)
    c = w.campaign
    return {
        "rollup": rollup,
        "participation": figures.figures(scope, YEAR).values,
        "survey": totals_raw(w.survey.id, load_questionnaire(w.survey.id)),
        "box_csv": box.digest(box.csv_chunks(c)),
        "box_json": box.digest(box.json_chunks(c)),
        "votes": tally.count_votes(c.id),
        "ballots": db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)),
        "register": db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry)),
    }


def purge(**kw):
    return {r.kind: r.counts for r in purge_personal_data(now=LATER, **kw)}


def test_purge_keeps_statistics_and_ballot_boxes_and_removes_personal_data(everything):
    w, cases = everything
    path = attachment_path(w.photo)
    assert path.exists()
    before = statistics(w)
    assert before["rollup"]["report_appeal_days"] and before["votes"]
    assert before["participation"]["survey_answers"] == 2

    counts = purge()
    db.session.commit()

    assert counts["messages"] == {"messages": 7, "files": 1}  # all but the open one
    assert counts["survey_answers"] == {"named_responses": 1, "text_answers": 2, "drafts": 1}
    assert counts["hearings"] == {"participants": 1, "remarks": 1}
    assert counts["directline"] == {"questions": 1}
    assert counts["sessions"] == {"widget_sessions": 1}
    assert counts["notifications"]["feed_items"] >= 1  # the story's notices too
    assert counts["notifications"]["sent_emails"] >= 1
    db.session.expire_all()
    assert statistics(w) == before

    # Nothing personal is left, and every counted row is still there.
    open_one = cases["redirected"].id
    texts = dict(db.session.execute(sa.select(Appeal.id, Appeal.text)).all())
    assert len(texts) == 8 and texts.pop(open_one).startswith("Большая яма")
    assert set(texts.values()) == {PLACEHOLDER}
    assert db.session.scalar(sa.select(sa.func.count()).where(Appeal.address.is_not(None))) == 1
    assert set(
        db.session.scalars(sa.select(AppealAnswer.text).where(AppealAnswer.appeal_id != open_one))
    ) == {PLACEHOLDER}
    closed = AppealEvent.appeal_id != open_one
    assert not db.session.scalars(
        sa.select(AppealEvent.comment).where(AppealEvent.comment.is_not(None), closed)
    ).all()
    assert not db.session.scalars(
        sa.select(AppealRating.comment).where(AppealRating.comment.is_not(None))
    ).all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppealRating)) == 3
    photo = db.session.get(Attachment, w.photo.id)
    assert photo.deleted_at is not None and photo.original_name == "удалено"
    assert not path.exists()
    with pytest.raises(FileNotFoundError):
        attachment_path(photo)
    assert set(db.session.scalars(sa.select(SurveyAnswer.text_value))) == {PLACEHOLDER}
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(SurveyResponse.respondent_id.is_not(None))
        )
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 2
    person = db.session.scalar(sa.select(Participant))
    assert (person.last_name, person.first_name, person.address) == (PLACEHOLDER, "", PLACEHOLDER)
    assert person.birth_date == date(1990, 1, 1) and person.resident
    remark_row = db.session.get(Remark, w.remark.id)
    assert remark_row.text == PLACEHOLDER and remark_row.status == RemarkStatus.PUBLISHED
    q = db.session.get(Question, w.question.id)
    assert (q.text, q.address) == (PLACEHOLDER, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WidgetSession)) == 0
    mail = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.dedup_key == "retention-test")
    )
    assert (mail.email, mail.body, mail.dedup_key) == (PLACEHOLDER, PLACEHOLDER, "retention-test")
    # (the test's own "now" is December 2026, long before LATER: only the story's are old)
    assert not db.session.scalars(
        sa.select(Notification.id).where(Notification.created_at < datetime(2026, 7, 1, tzinfo=UTC))
    ).all()


def test_a_run_is_audited_once_per_kind_and_a_second_run_changes_nothing(everything):
    w, _cases = everything
    purge()
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "privacy.purge").order_by(AuditEntry.id)
    ).all()
    assert [e.object_id for e in entries] == [k.name for k in retention.KINDS]
    assert entries[0].details["counts"] == {"messages": 7, "files": 1}
    after_first = statistics(w)
    texts = sorted(db.session.scalars(sa.select(Appeal.text)))

    again = purge()
    assert all(v == 0 for counts in again.values() for v in counts.values()), again
    assert purge(dry_run=True) == again
    assert statistics(w) == after_first
    assert sorted(db.session.scalars(sa.select(Appeal.text))) == texts


def test_a_dry_run_counts_what_a_run_changes_and_changes_nothing(everything):
    w, _cases = everything
    before = statistics(w)
    texts = sorted(db.session.scalars(sa.select(Appeal.text)))
    audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    path = attachment_path(w.photo)

    planned = purge(dry_run=True)
    db.session.expire_all()

    assert sorted(db.session.scalars(sa.select(Appeal.text))) == texts
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audits
    assert path.exists() and db.session.get(Attachment, w.photo.id).deleted_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WidgetSession)) == 1
    assert statistics(w) == before
    assert purge() == planned


def _closed_at(appeal_id: int) -> datetime:
    return db.session.scalar(sa.select(Appeal.closed_at).where(Appeal.id == appeal_id))


def test_the_term_ends_exactly_n_years_after_closing(everything, app):
    _w, cases = everything
    rejected = cases["rejected"].id
    closed = _closed_at(rejected)
    assert app.config["RETENTION_MESSAGES_YEARS"] == 5
    at_term = closed.replace(year=closed.year + 5)

    purge_personal_data(now=at_term)  # closed exactly five years ago: still kept
    assert db.session.get(Appeal, rejected).text != PLACEHOLDER
    purge_personal_data(now=at_term + timedelta(seconds=1))  # a second more: anonymised
    db.session.expire_all()
    assert db.session.get(Appeal, rejected).text == PLACEHOLDER


def test_open_messages_and_recent_data_are_never_touched(world):
    from tests.appeals.conftest import submit

    with time_machine.travel(START, tick=False):
        fresh = submit(world)
    counts = {r.kind: r.counts for r in purge_personal_data(now=LATER)}
    assert counts["messages"] == {"messages": 0, "files": 0}
    assert db.session.get(Appeal, fresh.id).text.startswith("Большая яма")


def test_a_shorter_term_from_the_settings(everything, app, monkeypatch):
    _w, _cases = everything
    # With the default 5 years nothing of 2026 is due in 2028; with 1 year it is.
    in_2028 = datetime(2028, 1, 1, tzinfo=UTC)
    assert {r.kind: r.counts for r in purge_personal_data(now=in_2028, dry_run=True)}["messages"][
        "messages"
    ] == 0
    monkeypatch.setitem(app.config, "RETENTION_MESSAGES_YEARS", 1)
    assert {r.kind: r.counts for r in purge_personal_data(now=in_2028, dry_run=True)}["messages"][
        "messages"
    ] == 7


def test_29_february_minus_years_is_28_february():
    leap = datetime(2028, 2, 29, 10, tzinfo=UTC)
    assert retention.years_before(leap, 1) == datetime(2027, 2, 28, 10, tzinfo=UTC)
    assert retention.years_before(leap, 4) == datetime(2024, 2, 29, 10, tzinfo=UTC)


def test_the_sweep_runs_once_a_day(everything):
    from participation.privacy.tasks import sweep_retention

    with time_machine.travel(LATER, tick=False):
        first = sweep_retention()
        assert first["messages"] == 8  # 7 messages and their 1 file
        assert sweep_retention() == "not due"
    with time_machine.travel(LATER + timedelta(days=1, seconds=1), tick=False):
        assert sweep_retention() == {k.name: 0 for k in retention.KINDS}


def test_the_command_dry_run_lists_what_it_would_anonymise(everything, app):
    runner = app.test_cli_runner()
    with time_machine.travel(LATER, tick=False):
        out = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "Пробный запуск: ничего не изменено" in out.output
    assert "Сообщения (срок 5 лет" in out.output and "сообщений: 7, файлов: 1" in out.output
    assert db.session.scalar(sa.select(sa.func.count()).where(Appeal.text == PLACEHOLDER)) == 0
    with time_machine.travel(LATER, tick=False):
        out = runner.invoke(args=["privacy", "purge"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Обезличено:")
    assert db.session.scalar(sa.select(sa.func.count()).where(Appeal.text == PLACEHOLDER)) == 7


@pytest.mark.parametrize(
    ("kind", "count", "moment"),
    [
        ("survey_answers", "named_responses", lambda w: years_after(w.survey.ends_at, 3)),
        ("hearings", "remarks", lambda w: years_after(w.remark_closes_at, 5)),
        ("directline", "questions", lambda w: years_after(w.line_ends_at, 3)),
        ("sessions", "widget_sessions", lambda w: START + timedelta(days=365)),
        ("notifications", "sent_emails", lambda w: START + timedelta(days=365)),
    ],
)
def test_each_kind_is_kept_to_the_end_of_its_term(everything, kind, count, moment):
    """At the exact end of the term the data is kept; one second later it is due."""
    w, _cases = everything
    w.remark_closes_at = db.session.scalar(
        sa.select(Hearing.remarks_close_at).where(Hearing.id == w.remark.hearing_id)
    )
    w.line_ends_at = db.session.scalar(
        sa.select(DirectLine.ends_at).where(DirectLine.id == w.question.event_id)
    )
    end = moment(w)

    def due(now: datetime) -> int:
        results = purge_personal_data(now=now, dry_run=True)
        return next(r.counts[count] for r in results if r.kind == kind)

    assert due(end) == 0
    assert due(end + timedelta(seconds=1)) == 1


def years_after(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)
