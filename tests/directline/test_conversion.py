"""After the broadcast: unanswered questions become ordinary messages, exactly one each."""

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal, Channel
from participation.appeals.workflow import AppealState
from participation.core.errors import Conflict, DomainError
from participation.core.outbox import OutboxMessage
from participation.directline import queries, services
from participation.directline.models import Question, QuestionState
from participation.directline.tasks import convert_unanswered_questions
from participation.extensions import db
from tests import factories as f
from tests.directline.conftest import (
    AFTER,
    COLLECTING,
    LIVE,
    ask,
    ensure_preset_subcategories,
    make_event,
    published,
    travel,
)


def appeals_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))


def test_conversion_makes_one_message_with_the_right_topic_author_place_and_link(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(
            event,
            world.resident,
            world.moderator,
            "Когда отремонтируют дорогу на улице Ленина? Одни ямы.",
            address="ул. Ленина, д. 5",
        )
    with travel(AFTER):
        conversion = services.convert_question(q, world.moderator)
    appeal = conversion.appeal
    assert conversion.created is True
    assert appeal.author_id == world.resident.id
    assert appeal.subcategory_id == world.subs["roads.road_repair"].id  # the topic's mapping
    assert appeal.text == q.text
    assert appeal.territory_id == world.city.id and appeal.address == "ул. Ленина, д. 5"
    assert appeal.channel == Channel.DIRECT_LINE  # «Источник поступления: Прямая линия»
    # Routed by topic × territory (the city's rule), waiting for the operator's moderation.
    assert appeal.executor_organization_id == world.city_admin.id
    assert appeal.holder_organization_id == world.operator.id
    assert appeal.state == AppealState.MODERATION
    # The link both ways.
    assert q.appeal_id == appeal.id and q.converted_by_id == world.moderator.id
    assert services.question_for_appeal(appeal.id).id == q.id
    # The author is told, with the message number.
    bodies = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.user_id == world.resident.id)
    ).all()
    assert any(f"сообщение № {appeal.id}" in b for b in bodies)


def test_without_an_address_the_municipality_stands_in(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident3, world.moderator, key="health")
    with travel(AFTER):
        appeal = services.convert_question(q, world.moderator).appeal
    assert appeal.address == world.town.name
    assert appeal.subcategory_id == world.subs["health.clinic_work"].id
    # No rule for health in the town: the regional centre coordinates.
    assert appeal.executor_organization_id == world.cur.id


def test_clicked_twice_still_one_message(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    before = appeals_count()
    with travel(AFTER):
        first = services.convert_question(q, world.moderator)
        second = services.convert_question(q, world.moderator)
    assert second.created is False and second.appeal.id == first.appeal.id
    assert appeals_count() == before + 1


def test_the_message_key_also_guards_against_a_lost_link(world):
    """Even if the question forgot its link, the appeals' form key finds the same message."""
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    with travel(AFTER):
        first = services.convert_question(q, world.moderator).appeal
        db.session.execute(
            sa.update(Question)
            .where(Question.id == q.id)
            .values(appeal_id=None, converted_at=None, converted_by_id=None)
        )
        db.session.expire(q)
        again = services.convert_question(q, world.moderator)
    assert again.created is False and again.appeal.id == first.id


@pytest.mark.parametrize(
    ("setup", "message"),
    [("before_end", "после окончания"), ("answered", "нельзя передать"), ("rejected", "нельзя")],
)
def test_conversion_refusals(world, setup, message):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        if setup == "rejected":
            services.reject_question(q, world.moderator, "advertising")
    if setup == "answered":
        with travel(LIVE):
            services.put_on_air(q, world.moderator)
            services.mark_answered(q, world.moderator, answer_text="Ответ.", answer_url=None)
    moment = LIVE if setup == "before_end" else AFTER
    with travel(moment), pytest.raises(Conflict, match=message):
        services.convert_question(q, world.moderator)
    assert q.appeal_id is None and appeals_count() == 0


def test_appeals_refusal_is_explained_and_nothing_is_saved(world, app):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    world.subs["roads.road_repair"].active = False  # the topic was retired meanwhile
    db.session.flush()
    with travel(AFTER), pytest.raises(DomainError, match=f"Вопрос № {q.id} не передан"):
        services.convert_question(q, world.moderator)
    assert q.appeal_id is None and appeals_count() == 0


def test_bulk_conversion_takes_every_unanswered_question_once(world):
    event = make_event(world)
    with travel(COLLECTING):
        new = ask(event, world.resident)  # never moderated: still must not be lost
        pub = published(event, world.resident2, world.moderator)
        short = published(event, world.resident3, world.moderator, key="housing")
        services.shortlist_question(short, world.moderator)
        answered = published(event, world.resident, world.moderator)
        rejected = ask(event, world.resident2)
        services.reject_question(rejected, world.moderator, "obscene")
        merged = published(event, world.resident3, world.moderator)
        services.merge_questions(merged, pub, world.moderator)
    with travel(LIVE):
        services.put_on_air(answered, world.moderator)
        services.mark_answered(answered, world.moderator, answer_text="Да.", answer_url=None)
    with travel(AFTER):
        done_single = services.convert_question(new, world.moderator).appeal
        result = convert_unanswered_questions(event.id, world.moderator.id)
        again = convert_unanswered_questions(event.id, world.moderator.id)
    assert result == {"converted": 2, "already": 0, "failed": 0}
    assert again == {"converted": 0, "already": 0, "failed": 0}
    linked = {
        q.id: q.appeal_id
        for q in db.session.scalars(sa.select(Question).where(Question.event_id == event.id))
    }
    assert linked[new.id] == done_single.id
    assert linked[pub.id] and linked[short.id]
    assert linked[answered.id] is None and linked[rejected.id] is None and linked[merged.id] is None
    assert appeals_count() == 3
    stats = queries.statistics(event)
    assert (stats.received, stats.published, stats.merged, stats.rejected) == (6, 3, 1, 1)
    assert (stats.answered_on_air, stats.converted, stats.awaiting_conversion) == (1, 3, 0)


def test_bulk_request_before_the_end_is_refused(world):
    event = make_event(world)
    with travel(LIVE), pytest.raises(Conflict, match="после окончания"):
        services.request_bulk_conversion(event, world.moderator)


@pytest.mark.committed
def test_two_moderators_converting_at_once_make_one_message(app):
    with app.app_context():
        from participation.appeals.routing import add_routing_rule
        from participation.core.organizations import OrganizationKind as K
        from participation.core.territories import TerritoryLevel as L
        from participation.core.users import Role

        country = f.territory(L.COUNTRY, timezone="Europe/Moscow")
        region = f.territory(L.REGION, parent=country, timezone="Asia/Vladivostok")
        city = f.territory(L.URBAN_OKRUG, parent=region, timezone="Asia/Vladivostok")
        f.organization(K.OPERATOR, country)
        government = f.organization(K.REGIONAL, region)
        city_admin = f.organization(K.MUNICIPAL, city)
        w = SimpleNamespace(
            government=government,
            region=region,
            host_authorized=f.staff(government, Role.AUTHORIZED),
        )
        moderators = [f.staff(government, Role.MODERATOR) for _ in range(2)]
        author = f.user(registration_territory=city)
        subs = ensure_preset_subcategories()
        add_routing_rule(subs["roads.road_repair"].id, city, city_admin)
        event = make_event(w)
        with travel(COLLECTING):
            question = published(event, author, moderators[0])
        db.session.commit()
        question_id = question.id
        moderator_ids = [m.id for m in moderators]
        db.session.remove()

    results: list[object] = []
    barrier = threading.Barrier(2)

    def worker(moderator_id: int):
        from participation.core.users import User

        with app.app_context():
            try:
                barrier.wait(timeout=10)
                q = db.session.get(Question, question_id)
                conversion = services.convert_question(q, db.session.get(User, moderator_id))
                db.session.commit()
                results.append((conversion.appeal.id, conversion.created))
            except Exception as exc:
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(m,)) for m in moderator_ids]
    with travel(AFTER):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    with app.app_context():
        appeals = db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))
        linked = db.session.get(Question, question_id).appeal_id
        db.session.remove()
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(created for _id, created in results) == [False, True]
    assert {appeal_id for appeal_id, _c in results} == {linked}
    assert appeals == 1


def test_state_is_unchanged_by_conversion(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    with travel(AFTER):
        services.convert_question(q, world.moderator)
    assert q.state == QuestionState.PUBLISHED


def test_people_who_asked_the_same_get_the_answer_of_the_message(world, client):
    """A merged duplicate's author is not the message's author: the answer reaches them in the
    feed and on their questions page; nobody else sees it."""
    from participation.appeals import services as appeals
    from participation.core.users import Role
    from tests.helpers import login_as

    event = make_event(world)
    with travel(COLLECTING):
        target = published(event, world.resident, world.moderator, "Когда починят дорогу?")
        duplicate = ask(event, world.resident2, "Дорогу на Ленина починят или нет?")
        services.merge_questions(duplicate, target, world.moderator)
    with travel(AFTER):
        appeal = services.convert_question(target, world.moderator).appeal
    cur_coordinator = f.staff(world.cur, Role.COORDINATOR)
    coordinator = f.staff(world.city_admin, Role.COORDINATOR)
    executor = f.staff(world.city_admin, Role.EXECUTOR)
    head = f.staff(world.city_admin, Role.HEAD)
    appeals.accept_appeal(appeal, world.moderator)
    appeals.confirm_addressee(appeal, cur_coordinator)
    appeals.assign_executor(appeal, coordinator, executor.id)
    answer = "Дорогу на улице Ленина отремонтируют до 1 июня."

    login_as(client, world.resident2)
    before = client.get(f"/directline/{event.id}/my").get_data(as_text=True)
    assert f"передан как сообщение № {appeal.id}" in before and answer not in before

    appeals.submit_draft(appeal, executor, answer)
    appeals.approve_answer(appeal, head)

    def notices(user):
        return db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.user_id == user.id, OutboxMessage.subject.contains("Ответ на вопрос")
            )
        ).all()

    [notice] = notices(world.resident2)
    assert answer in notice.body and f"№ {target.number}" in notice.body
    assert notices(world.resident) == []  # the author reads it in the message itself
    page = client.get(f"/directline/{event.id}/my").get_data(as_text=True)
    assert answer in page and world.city_admin.display_name in page
    question_page = f"/directline/{event.id}/questions/{target.id}"
    assert answer in client.get(question_page).get_data(as_text=True)
    login_as(client, world.resident3)  # neither author nor co-author: the public page only
    public = client.get(question_page)
    assert public.status_code == 200 and target.text in public.get_data(as_text=True)
    assert answer not in public.get_data(as_text=True)
