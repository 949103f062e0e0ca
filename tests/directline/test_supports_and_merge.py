"""Supports (once per person, also concurrently) and merging duplicates."""

import threading

import pytest
import sqlalchemy as sa

from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.outbox import OutboxMessage
from participation.core.workflow import InvalidTransition
from participation.directline import queries, services
from participation.directline.models import (
    Question,
    QuestionCoauthor,
    QuestionState,
    QuestionSupport,
)
from participation.extensions import db
from tests import factories as f
from tests.directline.conftest import AFTER, COLLECTING, ask, make_event, published, travel


def supporters(question) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(QuestionSupport.user_id).where(QuestionSupport.question_id == question.id)
        )
    )


def test_support_counts_once_per_person(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
        assert services.support_question(q, world.resident2) is True
        assert services.support_question(q, world.resident2) is False
        assert services.support_question(q, world.resident3) is True
    assert queries.support_counts([q.id]) == {q.id: 2}


def test_support_is_unique_in_the_database(world):
    event = make_event(world)
    with travel(COLLECTING):
        q = published(event, world.resident, world.moderator)
    db.session.add(QuestionSupport(question_id=q.id, user_id=world.resident2.id))
    db.session.flush()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(QuestionSupport(question_id=q.id, user_id=world.resident2.id))
        db.session.flush()


@pytest.mark.parametrize(
    ("state_setup", "error", "message"),
    [
        ("new", Conflict, "нельзя поддержать"),
        ("rejected", Conflict, "нельзя поддержать"),
        ("own", DomainError, "ваш вопрос"),
        ("finished", DomainError, "закончилась"),
        ("simplified", DomainError, "учётная запись"),
    ],
)
def test_support_refusals(world, state_setup, error, message):
    event = make_event(world)
    supporter = world.resident2
    with travel(COLLECTING):
        q = ask(event, world.resident)
        if state_setup != "new":
            services.publish_question(q, world.moderator)
        if state_setup == "rejected":
            services.reject_question(q, world.moderator, "advertising")
        if state_setup == "own":
            supporter = world.resident
        if state_setup == "simplified":
            supporter = world.simplified
    moment = AFTER if state_setup == "finished" else COLLECTING
    with travel(moment), pytest.raises(error, match=message):
        services.support_question(q, supporter)
    assert supporters(q) == set()


@pytest.mark.committed
def test_concurrent_supports_by_one_person_count_once(app):
    """Eight requests of the same person at the same moment: one support row."""
    from tests.directline.conftest import ensure_preset_subcategories

    with app.app_context():
        from types import SimpleNamespace

        from participation.core.organizations import OrganizationKind as K
        from participation.core.territories import TerritoryLevel as L
        from participation.core.users import Role

        w = SimpleNamespace()
        country = f.territory(L.COUNTRY, timezone="Europe/Moscow")
        region = f.territory(L.REGION, parent=country, timezone="Asia/Vladivostok")
        city = f.territory(L.URBAN_OKRUG, parent=region, timezone="Asia/Vladivostok")
        f.organization(K.OPERATOR, country)
        w.government = f.organization(K.REGIONAL, region)
        w.other_gov = w.government
        w.region = region
        w.host_authorized = f.staff(w.government, Role.AUTHORIZED)
        moderator = f.staff(w.government, Role.MODERATOR)
        author = f.user(registration_territory=city)
        supporter = f.user(registration_territory=city)
        ensure_preset_subcategories()
        event = make_event(w)
        with travel(COLLECTING):
            question = published(event, author, moderator)
        db.session.commit()
        question_id, supporter_id = question.id, supporter.id
        db.session.remove()

    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)  # before touching the database: SQLite locks on BEGIN
                q = db.session.get(Question, question_id)
                user = db.session.get(type(supporter), supporter_id)
                results.append(services.support_question(q, user))
                db.session.commit()
            except Exception as exc:  # collected and asserted below
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    with travel(COLLECTING):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(QuestionSupport)
            .where(QuestionSupport.question_id == question_id)
        )
        db.session.remove()
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(results) == [False] * 7 + [True]
    assert count == 1


def test_merge_carries_supports_and_authors_without_double_counting(world):
    event = make_event(world)
    extra = f.user(registration_territory=world.city, last_name="Четвёртый")
    with travel(COLLECTING):
        target = published(
            event, world.resident, world.moderator, "Когда починят дорогу на Ленина?"
        )
        duplicate = published(
            event, world.resident2, world.moderator, "Отремонтируйте улицу Ленина, одни ямы!"
        )
        services.support_question(target, world.resident3)  # supports both
        services.support_question(duplicate, world.resident3)
        services.support_question(duplicate, extra)  # supports only the duplicate
        services.support_question(duplicate, world.resident)  # the target's own author
        services.merge_questions(duplicate, target, world.moderator)

    db.session.refresh(duplicate)
    assert duplicate.state == QuestionState.MERGED
    assert duplicate.merged_into_id == target.id
    # resident3 counted once; the extra supporter carried over; the target's author is not a
    # supporter of their own question; the duplicate keeps no supports.
    assert supporters(target) == {world.resident3.id, extra.id}
    assert supporters(duplicate) == set()
    assert services.author_ids(target) == {world.resident.id, world.resident2.id}
    row = db.session.scalar(
        sa.select(QuestionCoauthor).where(QuestionCoauthor.question_id == target.id)
    )
    assert row.user_id == world.resident2.id and row.from_question_id == duplicate.id
    # The duplicate's author sees both: their own (merged) and the one it was merged into.
    mine = {q.id for q in queries.my_questions(event, world.resident2)}
    assert mine == {duplicate.id, target.id}


def test_merge_tells_the_duplicates_authors(world):
    event = make_event(world)
    with travel(COLLECTING):
        target = published(event, world.resident, world.moderator)
        duplicate = ask(event, world.resident2)  # still in moderation: merged straight away
        services.merge_questions(duplicate, target, world.moderator)
    notes = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.user_id == world.resident2.id)
    ).all()
    assert any(f"№ {target.id}" in n.body and "объединён" in n.body for n in notes)


def test_merge_of_merges_flattens_and_authors_follow(world):
    event = make_event(world)
    with travel(COLLECTING):
        a = published(event, world.resident, world.moderator)
        b = published(event, world.resident2, world.moderator)
        c = published(event, world.resident3, world.moderator)
        services.merge_questions(c, b, world.moderator)  # c → b
        services.merge_questions(b, a, world.moderator)  # b (with c's author) → a
    db.session.refresh(c)
    assert c.merged_into_id == a.id
    assert services.author_ids(a) == {world.resident.id, world.resident2.id, world.resident3.id}
    with travel(COLLECTING), pytest.raises(DomainError, match="ваш вопрос"):
        services.support_question(a, world.resident3)  # now one of its authors


@pytest.mark.parametrize("case", ["self", "other_event", "unpublished_target", "missing"])
def test_merge_refusals(world, case):
    event = make_event(world)
    other = make_event(world, host=world.other_gov, territory_id=None)
    with travel(COLLECTING):
        duplicate = published(event, world.resident, world.moderator)
        target = {
            "self": lambda: duplicate,
            "other_event": lambda: published(other, world.outsider, world.moderator),
            "unpublished_target": lambda: ask(event, world.resident2),
            "missing": lambda: None,
        }[case]()
        with pytest.raises(FieldError) as caught:
            services.merge_questions(duplicate, target, world.moderator)
    assert caught.value.field == "target"
    db.session.refresh(duplicate)
    assert duplicate.state == QuestionState.PUBLISHED


def test_merged_question_cannot_be_merged_again(world):
    event = make_event(world)
    with travel(COLLECTING):
        a = published(event, world.resident, world.moderator)
        b = published(event, world.resident2, world.moderator)
        services.merge_questions(b, a, world.moderator)
        with pytest.raises(InvalidTransition):
            services.merge_questions(b, a, world.moderator)
