"""Duplicates: joining a message, merging, one answer for every author, ratings per author, undo."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from participation.appeals import services as s
from participation.appeals.models import Appeal, AppealEvent, AppealRating, MergeKind
from participation.appeals.permissions import can_return_for_rework, can_view_answer_files
from participation.appeals.services.merging import (
    duplicate_candidates,
    join_appeal,
    merge_appeals,
    unmerge_appeal,
)
from participation.appeals.workflow import AppealState as S
from participation.core.audit import AuditEntry
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.outbox import OutboxMessage
from participation.core.users import Membership, Role
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import new_key, submit
from tests.appeals.test_lifecycle import to_work

POINT = {"latitude": Decimal("54.7388"), "longitude": Decimal("55.9721")}


def _answers_to(user):
    return [
        m.subject
        for m in db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.user_id == user.id,
                OutboxMessage.subject.contains("Ответ на сообщение"),
                OutboxMessage.channel == "feed",
            )
        )
    ]


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_a_resident_joins_gets_the_answer_and_rates_it_separately(world):
    w = world
    main = to_work(w, submit(w, **POINT))
    follower = join_appeal(main, w.other_resident, submission_key=new_key(), **POINT)
    assert follower.state == S.MERGED and follower.merged_into_id == main.id
    assert follower.merge_kind == MergeKind.JOINED and follower.author_id == w.other_resident.id
    assert follower.answer_due_at == main.answer_due_at
    assert "Присоединение к сообщению" in follower.text
    # Waiting followers are neither open (no deadline sweeps) nor in anyone's inbox folder.
    assert not follower.is_open and follower.bucket.value == "done"

    s.submit_draft(main, w.executor, "Яму заделали 12 мая.")
    s.approve_answer(main, w.head)
    db.session.refresh(follower)
    assert follower.state == S.ANSWERED and follower.answered_at == main.answered_at
    assert s.approved_answer(follower).text == "Яму заделали 12 мая."
    assert _answers_to(w.resident) and _answers_to(w.other_resident)

    s.rate_appeal(main, w.resident, 5)
    s.rate_appeal(follower, w.other_resident, 4)
    scores = dict(db.session.execute(sa.select(AppealRating.author_id, AppealRating.score)).all())
    assert scores == {w.resident.id: 5, w.other_resident.id: 4}
    assert main.state == S.CLOSED and follower.state == S.CLOSED
    with pytest.raises(Conflict):  # each author rates once
        s.rate_appeal(follower, w.other_resident, 3)


def test_a_low_rating_of_a_follower_escalates_that_authors_message_only(world):
    w = world
    main = to_work(w, submit(w))
    follower = join_appeal(main, w.other_resident, submission_key=new_key(), text="Тоже тут яма")
    assert follower.text == "Тоже тут яма"
    s.submit_draft(main, w.executor, "Ответ.")
    s.approve_answer(main, w.head)
    s.rate_appeal(follower, w.other_resident, 1)
    assert follower.state == S.ESCALATED and main.state == S.ANSWERED
    review = s.review_cycle_of(follower)
    assert review.author_id == w.other_resident.id
    assert review.executor_organization_id == w.government.id


def test_a_follower_cannot_send_the_common_answer_back_but_sees_its_files(world):
    w = world
    main = to_work(w, submit(w))
    follower = join_appeal(main, w.other_resident, submission_key=new_key())
    answer_id = s.submit_draft(main, w.executor, "Ответ.").details.get("answer_id")
    answer_id = answer_id or s.current_draft(main).id
    assert not can_view_answer_files(w.other_resident, str(answer_id))  # not sent yet
    s.approve_answer(main, w.head)
    db.session.refresh(follower)
    assert not can_return_for_rework(w.other_resident, follower)
    with pytest.raises(Conflict, match="можно только оценить"):
        s.return_for_rework(follower, w.other_resident, "Не сделали")
    assert can_view_answer_files(w.other_resident, str(answer_id))
    assert not can_view_answer_files(f.user(), str(answer_id))


def test_joining_refusals_save_nothing(world):
    w = world
    fresh = submit(w)  # still with the moderator
    before = _count(Appeal)
    with pytest.raises(Conflict, match="на модерации"):
        join_appeal(fresh, w.other_resident, submission_key=new_key())
    main = to_work(w, submit(w))
    before = _count(Appeal)
    with pytest.raises(Conflict, match="ваше собственное"):
        join_appeal(main, w.resident, submission_key=new_key())
    with pytest.raises(FieldError):
        join_appeal(main, w.other_resident, submission_key="bad")
    with pytest.raises(FieldError, match="Широта"):
        join_appeal(
            main,
            w.other_resident,
            submission_key=new_key(),
            latitude=Decimal("91"),
            longitude=Decimal("0"),
        )
    assert _count(Appeal) == before
    key = new_key()
    first = join_appeal(main, w.other_resident, submission_key=key)
    assert join_appeal(main, w.other_resident, submission_key=key).id == first.id  # resent form
    with pytest.raises(Conflict, match="уже присоединились"):
        join_appeal(main, w.other_resident, submission_key=new_key())
    assert _count(Appeal) == before + 1
    s.submit_draft(main, w.executor, "Ответ.")
    s.approve_answer(main, w.head)
    with pytest.raises(Conflict, match="завершена"):
        join_appeal(main, f.user(registration_territory=w.city), submission_key=new_key())


def test_staff_merge_one_answer_to_both_authors_and_history(world):
    w = world
    main = to_work(w, submit(w))
    duplicate = to_work(w, submit(w, author=w.other_resident))
    merge_appeals(duplicate, main, w.coordinator, "Та же яма")
    assert duplicate.state == S.MERGED and duplicate.merge_kind == MergeKind.MERGED
    actions = db.session.scalars(
        sa.select(AppealEvent.action).where(AppealEvent.appeal_id.in_([main.id, duplicate.id]))
    ).all()
    assert "merge" in actions and "merge_in" in actions
    assert _count(AuditEntry, AuditEntry.action == "appeal.merged") == 1
    told = db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.user_id == w.other_resident.id)
    ).all()
    assert any("объединено" in subject for subject in told)

    s.submit_draft(main, w.executor, "Заделали.")
    s.approve_answer(main, w.head)
    db.session.refresh(duplicate)
    assert duplicate.state == S.ANSWERED
    assert _answers_to(w.resident) and _answers_to(w.other_resident)
    with pytest.raises(Conflict, match="отменить нельзя"):
        unmerge_appeal(duplicate, w.coordinator)


def test_undo_before_the_answer_puts_the_duplicate_back(world):
    w = world
    main = to_work(w, submit(w))
    duplicate = to_work(w, submit(w, author=w.other_resident))
    merge_appeals(duplicate, main, w.coordinator)
    unmerge_appeal(duplicate, w.coordinator)
    assert duplicate.state == S.IN_WORK and duplicate.merged_into_id is None
    assert duplicate.merge_kind is None and duplicate.executor_id == w.executor.id
    s.submit_draft(main, w.executor, "Ответ.")
    s.approve_answer(main, w.head)
    assert duplicate.state == S.IN_WORK  # no longer follows: no answer of the main message
    assert not _answers_to(w.other_resident)


def test_a_platform_moderator_merges_a_new_message_into_an_accepted_one(world):
    w = world
    main = to_work(w, submit(w))
    duplicate = submit(w, author=w.other_resident)
    merge_appeals(duplicate, main, w.moderator)
    unmerge_appeal(duplicate, w.moderator)
    assert duplicate.state == S.MODERATION


@pytest.mark.parametrize(
    "case, error, message",
    [
        ("itself", FieldError, "с самим собой"),
        ("stranger", DomainError, "модератор или координатор"),
        ("closed", Conflict, "завершена"),
        ("main_in_moderation", Conflict, "на модерации"),
        ("main_merged", Conflict, "само объединено"),
    ],
)
def test_merge_refusals_change_nothing(world, case, error, message):
    w = world
    main = to_work(w, submit(w))
    duplicate = to_work(w, submit(w, author=w.other_resident))
    actor = w.coordinator
    if case == "itself":
        main = duplicate
    elif case == "stranger":
        actor = w.town_coordinator
    elif case == "closed":
        s.submit_draft(main, w.executor, "Ответ.")
        s.approve_answer(main, w.head)
        s.rate_appeal(main, w.resident, 5)
    elif case == "main_in_moderation":
        main = submit(w)
        actor = f.staff(w.operator, Role.MODERATOR)  # who also coordinates in the city
        db.session.add(Membership(user=actor, organization=w.city_admin, role=Role.COORDINATOR))
        db.session.flush()
    elif case == "main_merged":
        third = to_work(w, submit(w))
        merge_appeals(main, third, w.coordinator)
    events = _count(AppealEvent)
    with pytest.raises(error, match=message):
        merge_appeals(duplicate, main, actor)
    assert duplicate.state == S.IN_WORK and duplicate.merged_into_id is None
    assert _count(AppealEvent) == events


def test_candidates_nearby_by_similarity(world):
    w = world
    here = {"latitude": Decimal("54.738800"), "longitude": Decimal("55.972100")}
    near = {"latitude": Decimal("54.739500"), "longitude": Decimal("55.972100")}  # ~78 m
    far = {"latitude": Decimal("54.760000"), "longitude": Decimal("55.972100")}  # ~2.4 km
    appeal = submit(w, **here)
    alike = submit(w, author=w.other_resident, **near)
    other = submit(w, text="Не работает фонарь во дворе, темно вечером уже неделю.", **here)
    submit(w, **far)
    found = duplicate_candidates(appeal)
    assert [c.appeal.id for c in found] == [alike.id, other.id]
    assert found[0].distance_m == pytest.approx(78, abs=3) and found[0].same_subcategory
    assert found[0].similarity == 1.0 and found[1].similarity < 0.3
