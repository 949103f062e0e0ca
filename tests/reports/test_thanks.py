"""«Благодарность»: a thanks loaded with the classifier routes to the organization as any
message, needs no answer (never overdue) and is counted apart in the analytics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import time_machine

from participation.appeals import services as s
from participation.appeals.classifier import Subcategory
from participation.appeals.classifier_import import import_classifier
from participation.appeals.presenters import appeal_countdown
from participation.appeals.routing import add_routing_rule
from participation.appeals.tasks import sweep_appeal_deadlines
from participation.core.moderation import RejectionReason
from participation.extensions import db
from participation.reports import services as r
from participation.reports.definitions import BY_CODE
from participation.reports.rollup import rebuild, refresh_stale
from tests.appeals.conftest import submit

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
YEAR = r.Period(date(2026, 1, 1), date(2026, 12, 31))
HEADER = (
    "Код категории;Категория;Код подкатегории;Подкатегория;Ускоренная;"
    "Срок ответа, дней;Ключевые слова;Благодарность"
)


def load_thanks(w) -> Subcategory:
    rows = [
        HEADER,
        f"{w.roads.code};Дороги (тест);{w.potholes.code};Ямы и выбоины (тест);да;;;нет",
        f"{w.yards.code};Дворы (тест);{w.benches.code};Скамейки (тест);нет;;;нет",
        "thanks;Благодарность;thanks.organization;Благодарность организации;нет;;спасибо;да",
    ]
    import_classifier("\n".join(rows))
    thanks = db.session.scalars(
        sa.select(Subcategory).where(Subcategory.code == "thanks.organization")
    ).one()
    add_routing_rule(thanks.id, w.city, w.city_admin)
    db.session.flush()
    return thanks


def test_thanks_routes_to_the_organization_never_overdue_and_counted_apart(world):
    w = world
    thanks = load_thanks(w)
    with time_machine.travel(START, tick=False) as clock:
        grateful = submit(
            w,
            subcategory_id=thanks.id,
            suggested_subcategory_id=thanks.id,
            text="Спасибо администрации за новую детскую площадку во дворе дома 7!",
        )
        pothole = submit(w)
        rejected = submit(
            w,
            subcategory_id=thanks.id,
            suggested_subcategory_id=thanks.id,
            text="Спасибо, спасибо, спасибо, спасибо, спасибо, спасибо, спасибо!",
        )
        # Routed as any message: the routing rule's organization is the addressee.
        assert grateful.executor_organization_id == w.city_admin.id
        for appeal in (grateful, pothole):
            s.accept_appeal(appeal, w.moderator)
            s.confirm_addressee(appeal, w.cur_coordinator)
        s.reject_appeal(rejected, w.moderator, RejectionReason.UNCLEAR)
        assert grateful.executor_organization_id == w.city_admin.id

        # Both pass their dates: only the pothole is overdue, the thanks needs no answer.
        clock.move_to(START + timedelta(days=40))
        result = sweep_appeal_deadlines()
        assert result["overdue"] == 1
        assert pothole.overdue_flagged_at is not None
        assert grateful.overdue_flagged_at is None and grateful.soon_due_flagged_at is None
        assert pothole.is_overdue() and not grateful.is_overdue()
        assert appeal_countdown(grateful) == "благодарность, ответ не обязателен"

        city = r.Scope(w.region.id, organization_ids=frozenset({w.city_admin.id}))
        refresh_stale()
        got = r.rollup_counters(city, YEAR)["all"]
        assert got["thanks"] == 1
        assert got["received"] == 1  # the pothole only
        assert got["rejected_moderation"] == 1  # a rejected thanks is a rejection, as any
        values = r.figures(city, YEAR).values
        assert values["thanks"] == 1 and values["received"] == 1
        assert values["overdue_now"] == 1
        behind = db.session.execute(r.appeals_behind("thanks", city, YEAR)).all()
        assert [row.appeal_id for row in behind] == [grateful.id]
        overdue = db.session.execute(r.appeals_behind("overdue_now", city, YEAR)).all()
        assert [row.appeal_id for row in overdue] == [pothole.id]

        # An answer to a thanks is not an answer the on-time share counts.
        s.assign_executor(grateful, w.coordinator, w.executor.id)
        s.submit_draft(grateful, w.executor, "Спасибо за добрые слова!")
        s.approve_answer(grateful, w.head)
        refresh_stale()
        got = r.rollup_counters(city, YEAR)["all"]
        assert got["answered"] == 0 and got["thanks"] == 1
        rebuild()
        assert r.rollup_counters(city, YEAR)["all"] == got


def test_the_thanks_indicator_is_named_and_explained():
    indicator = BY_CODE["thanks"]
    assert str(indicator.name) == "Благодарности"
    assert "Считаются отдельно" in str(indicator.counts)
    assert "благодарност" in str(BY_CODE["received"].counts)


def test_a_thanks_past_its_date_is_not_overdue_nor_soon_due_on_the_curators_pages(world):
    from participation.appeals.curator import curator_overview

    w = world
    thanks = load_thanks(w)
    with time_machine.travel(START, tick=False) as clock:
        grateful = submit(w, subcategory_id=thanks.id, suggested_subcategory_id=thanks.id)
        pothole = submit(w)
        for appeal in (grateful, pothole):
            s.accept_appeal(appeal, w.moderator)
            s.confirm_addressee(appeal, w.cur_coordinator)
        db.session.flush()
        clock.move_to(grateful.answer_due_at - timedelta(hours=1))
        [row] = [r for r in curator_overview(w.city_admin).rows if r.open]
        # the pothole (fast track) is overdue by now; the thanks is not «скоро срок»
        assert (row.open, row.overdue, row.soon_due) == (2, 1, 0)
        clock.move_to(START + timedelta(days=40))
        [row] = [r for r in curator_overview(w.city_admin).rows if r.open]
        assert (row.open, row.overdue, row.soon_due) == (2, 1, 0)
