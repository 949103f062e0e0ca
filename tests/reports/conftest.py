"""A small region for the participation, rating and public statistics tests, and row makers
(the messages' tests use `world` from tests/appeals/conftest.py).

Уфимск (urban okrug, connected), Степной район (with a settlement; its administration confirmed
readiness late) and Безадминистративный район (no administration on the platform); another
region whose figures must never leak in. Local days are Asia/Yekaterinburg (UTC+5).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.models import Channel
from participation.core.moderation import RejectionReason
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import Role
from participation.directline.models import DirectLine, DirectLineCategory, Question, QuestionState
from participation.extensions import db
from participation.hearings.models import (
    Hearing,
    HearingKind,
    Participant,
    ParticipantKind,
    Remark,
    RemarkKind,
    RemarkSource,
    RemarkStatus,
)
from participation.polls.models import AgeBand, Survey, SurveyResponse
from participation.reports.models import AppealDayRollup
from participation.reports.rollup import recount_summaries
from participation.reports.services import Period, Scope
from participation.voting.models import Ballot, Campaign
from participation.widgets.models import WidgetSettings, WidgetSiteDay
from tests import factories as f
from tests.appeals.conftest import world  # noqa: F401  (the messages' small region)

TZ = "Asia/Yekaterinburg"
_n = itertools.count(1)
MAY = Period(date(2026, 5, 1), date(2026, 5, 31))


def local(day: date, at: time = time(12, 0), tz: str = TZ) -> datetime:
    """Local wall-clock time in `tz` as a UTC moment."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.fixture
def w(db_session):
    w = SimpleNamespace()
    w.country = f.territory(L.COUNTRY, timezone="Europe/Moscow")
    w.region = f.territory(L.REGION, parent=w.country, name="Республика Проба", timezone=TZ)
    w.city = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Уфимск", timezone=TZ)
    w.district = f.territory(
        L.MUNICIPAL_DISTRICT, parent=w.region, name="Степной район", timezone=TZ
    )
    w.village = f.territory(L.SETTLEMENT, parent=w.district, name="село Ключи", timezone=TZ)
    w.bare = f.territory(
        L.MUNICIPAL_DISTRICT, parent=w.region, name="Безадминистративный район", timezone=TZ
    )
    w.other_region = f.territory(L.REGION, parent=w.country, name="Чужая область")
    w.other_city = f.territory(L.URBAN_OKRUG, parent=w.other_region, name="город Чужой")

    w.government = f.organization(K.REGIONAL, w.region, name="Правительство Республики Проба")
    w.cur = f.organization(K.REGIONAL_CENTRE, w.region, name="ЦУР Республики Проба")
    w.city_admin = f.organization(
        K.MUNICIPAL, w.city, name="Администрация г. Уфимска", parent=w.government
    )
    w.school = f.organization(K.INSTITUTION, w.city, name="Школа № 7", parent=w.city_admin)
    w.district_admin = f.organization(
        K.MUNICIPAL, w.district, name="Администрация Степного района", parent=w.government
    )
    # Confirmed readiness only in June: not connected in May.
    w.district_admin.ready_confirmed_at = local(date(2026, 6, 3))
    w.district_admin.training_confirmed_at = local(date(2026, 6, 3))
    w.city_admin.ready_confirmed_at = local(date(2026, 4, 1))
    w.city_admin.training_confirmed_at = local(date(2026, 4, 2))
    w.other_admin = f.organization(K.MUNICIPAL, w.other_city, name="Администрация г. Чужого")
    w.other_admin.ready_confirmed_at = w.other_admin.training_confirmed_at = local(date(2026, 1, 9))

    w.cur_curator = f.staff(w.cur, Role.CURATOR, last_name="Кураторская", email="curator@proba.ru")
    w.cur_coordinator = f.staff(w.cur, Role.COORDINATOR, last_name="Цуровский")
    w.gov_curator = f.staff(w.government, Role.CURATOR, last_name="Правительственная")
    w.city_head = f.staff(w.city_admin, Role.HEAD, last_name="Главнокомандующий")
    w.city_curator = f.staff(w.city_admin, Role.CURATOR, last_name="Городская")
    w.other_curator = f.staff(w.other_admin, Role.CURATOR, last_name="Чужеземцева")
    w.resident = f.user(
        registration_territory=w.city,
        last_name="Жителькина",
        first_name="Агриппина",
        email="agrippina.zhitelkina@example.org",
    )

    w.category = Category(code=f"rep.cat{next(_n)}", name="Дороги (отчёт)", position=1)
    db.session.add(w.category)
    db.session.flush()
    w.potholes = Subcategory(
        category=w.category, code=f"rep.sub{next(_n)}", name="Ямы (отчёт)", position=1
    )
    w.lights = Subcategory(
        category=w.category, code=f"rep.sub{next(_n)}", name="Фонари (отчёт)", position=2
    )
    db.session.add_all([w.potholes, w.lights])
    db.session.flush()
    return w


def scope(w, **kw) -> Scope:
    return Scope(region_id=w.region.id, **kw)


# --- row makers -------------------------------------------------------------------------------


def campaign(org, territory, opens: datetime, closes: datetime, **kw) -> Campaign:
    row = Campaign(
        organization_id=org.id,
        territory_id=territory.id,
        title=kw.pop("title", f"Голосование {next(_n)}"),
        opens_at=opens,
        closes_at=closes,
        published_at=kw.pop("published_at", opens),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def ballot(c: Campaign, day: date, district=None) -> Ballot:
    row = Ballot(
        campaign_id=c.id,
        cast_on=day,
        receipt_hash=uuid.uuid4().bytes + uuid.uuid4().bytes,
        district_id=district.id if district else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def survey(org, starts: datetime, ends: datetime, **kw) -> Survey:
    row = Survey(
        organization_id=org.id,
        title=kw.pop("title", f"Опрос {next(_n)}"),
        starts_at=starts,
        ends_at=ends,
        published_at=kw.pop("published_at", starts),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def response(s: Survey, at: datetime) -> SurveyResponse:
    row = SurveyResponse(survey_id=s.id, submitted_at=at, age_band=AgeBand.A25_34)
    db.session.add(row)
    db.session.flush()
    return row


def hearing(org, territory, first_day: date, last_day: date, published=True) -> Hearing:
    """A public discussion taking remarks on local days first_day…last_day."""
    from datetime import timedelta

    opens = local(first_day, time(0, 0))
    closes = local(last_day + timedelta(days=1), time(0, 0))
    row = Hearing(
        kind=HearingKind.PUBLIC_DISCUSSION,
        title=f"Проект {next(_n)}",
        subject="Правила благоустройства",
        organization_id=org.id,
        organizer_address="ул. Ленина, 1",
        territory_id=territory.id,
        initiator="Администрация",
        draft_text="1.1. Текст.",
        exposition_place="Администрация",
        exposition_starts_at=opens,
        exposition_ends_at=closes,
        exposition_hours="9–18",
        consultations="По телефону",
        remarks_open_at=opens,
        remarks_close_at=closes,
        notice_published_at=opens if published else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def remark(h: Hearing, at: datetime, status=RemarkStatus.PUBLISHED, text="Замечание") -> Remark:
    person = Participant(
        hearing_id=h.id,
        kind=ParticipantKind.PERSON,
        last_name="Замечательная",
        first_name="Ирина",
        birth_date=date(1990, 1, 1),
        address="ул. Мира, 2",
        resident=True,
    )
    db.session.add(person)
    db.session.flush()
    row = Remark(
        hearing_id=h.id,
        number=next(_n),
        participant_id=person.id,
        kind=RemarkKind.REMARK,
        source=RemarkSource.PLATFORM,
        text=text,
        resident=True,
        submitted_at=at,
        status=status,
        rejection_reason=RejectionReason.UNCLEAR if status == RemarkStatus.REJECTED else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def directline(w, org) -> DirectLine:
    line = DirectLine(
        title=f"Прямая линия {next(_n)}",
        speaker="Глава",
        host_organization_id=org.id,
        questions_open_at=local(date(2026, 5, 1)),
        questions_close_at=local(date(2026, 5, 20)),
        starts_at=local(date(2026, 5, 20)),
        ends_at=local(date(2026, 5, 20), time(18, 0)),
        stream_url="https://example.org/stream",
    )
    db.session.add(line)
    db.session.flush()
    topic = DirectLineCategory(event_id=line.id, name="Дороги", subcategory_id=w.potholes.id)
    db.session.add(topic)
    db.session.flush()
    line.topic = topic
    return line


def question(
    w, line, territory, at: datetime, state=QuestionState.PUBLISHED, answered=None, into=None
):
    row = Question(
        event_id=line.id,
        author_id=w.resident.id,
        submission_key=uuid.uuid4().hex,
        category_id=line.topic.id,
        text="Когда починят дорогу?",
        territory_id=territory.id,
        state=state,
        created_at=at,
        answered_at=answered,
        answer_text="Починим летом." if answered else None,
        merged_into_id=into.id if into else None,
        rejection_reason=RejectionReason.UNCLEAR if state == QuestionState.REJECTED else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def widget(org, site_url: str | None = "https://city.example.org", generated=True):
    row = WidgetSettings(
        organization_id=org.id,
        site_url=site_url,
        code_generated_at=local(date(2026, 1, 1)) if generated else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def site_day(org, day: date, views: int, site="https://city.example.org"):
    row = WidgetSiteDay(organization_id=org.id, site=site, day=day, views=views)
    db.session.add(row)
    db.session.flush()
    return row


def rollup(w, org, territory, day: date, subcategory=None, **counters) -> AppealDayRollup:
    """A hand-written rollup row, and its month's sums (the rollup itself is tested against
    the base tables)."""
    municipality = territory if territory.level != L.SETTLEMENT else territory.parent
    sub = subcategory or w.potholes
    row = AppealDayRollup(
        day=day,
        region_id=w.region.id,
        municipality_id=municipality.id,
        territory_id=territory.id,
        organization_id=org.id,
        category_id=sub.category_id,
        subcategory_id=sub.id,
        channel=Channel.PORTAL,
        **counters,
    )
    db.session.add(row)
    db.session.flush()
    recount_summaries(day, day)
    return row


MAY_REMARK_TEXT = "Уберите мусорные баки от окон дома 12, в них роется Агриппина"


def fill_may(w) -> None:
    """Уфимск in May 2026 (the public figures' fixture): 3 pothole messages (a small count),
    12 on street lights with 3 ratings; 7 street-light messages in April; 3 ballots, a
    published remark and a direct-line question."""
    from participation.hearings.models import RemarkStatus

    rollup(w, w.city_admin, w.city, date(2026, 5, 5), received=3, answered=3, answered_on_time=3)
    rollup(
        w,
        w.city_admin,
        w.city,
        date(2026, 5, 6),
        subcategory=w.lights,
        received=12,
        answered=10,
        answered_on_time=9,
        ratings=3,
        rating_sum=15,
        rated_high=3,
    )
    rollup(w, w.city_admin, w.city, date(2026, 4, 6), subcategory=w.lights, received=7)
    c = campaign(w.city_admin, w.city, local(date(2026, 5, 1)), local(date(2026, 5, 10)))
    for day in (1, 2, 3):
        ballot(c, date(2026, 5, day))
    h = hearing(w.city_admin, w.city, date(2026, 5, 1), date(2026, 5, 14))
    remark(h, local(date(2026, 5, 2)), status=RemarkStatus.PUBLISHED, text=MAY_REMARK_TEXT)
    question(w, directline(w, w.government), w.city, local(date(2026, 5, 5)))
