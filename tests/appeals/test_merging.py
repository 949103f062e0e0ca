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
from participation.appeals.services.merging import (
    followers_of as services_followers,
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
from tests.helpers import csrf_token, login_as

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
    assert "merge" in actions and "merge_main" in actions
    assert _count(AuditEntry, AuditEntry.action == "appeal.merge") == 1
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


# --- the staff card -------------------------------------------------------------------------


def _post(client, url, data, card):
    return client.post(url, data={"csrf_token": csrf_token(client, card), **data})


def test_the_card_lists_candidates_and_merges_and_undoes(client, world):
    w = world
    main = to_work(w, submit(w, **POINT))
    duplicate = to_work(w, submit(w, author=w.other_resident, **POINT))
    login_as(client, w.coordinator)
    card = f"/backoffice/appeals/{duplicate.id}"
    html = client.get(card).get_data(as_text=True)
    assert "Возможные повторы" in html and f"Это повтор № {main.number}" in html
    assert "0 м" in html and "100 %" in html

    response = _post(client, f"{card}/merge", {"main": str(main.id)}, card)
    assert response.status_code == 302 and response.location.endswith(f"/{main.id}")
    db.session.expire_all()
    assert db.session.get(Appeal, duplicate.id).state == S.MERGED
    html = client.get(f"/backoffice/appeals/{main.id}").get_data(as_text=True)
    assert "С этим сообщением 1 повтор" in html and "объединено сотрудником" in html
    html = client.get(card).get_data(as_text=True)
    assert "Отменить объединение" in html and "Возможные повторы" not in html

    assert _post(client, f"{card}/unmerge", {}, card).status_code == 302
    db.session.expire_all()
    assert db.session.get(Appeal, duplicate.id).state == S.IN_WORK


@pytest.mark.parametrize(
    "number, message",
    [
        ("", "Укажите номер основного сообщения."),
        ("12а", "Номер сообщения — целое число"),
        ("999999", "Сообщения с таким номером нет"),
        ("self", "Нельзя объединить сообщение с самим собой."),
        ("foreign", "Сообщения с таким номером нет"),
    ],
)
def test_the_merge_form_says_what_is_wrong_and_saves_nothing(client, world, number, message):
    w = world
    duplicate = to_work(w, submit(w))
    foreign = submit(w, subcategory_id=w.benches.id)  # the town's: not this coordinator's
    to_work_town = {"self": str(duplicate.id), "foreign": str(foreign.id)}
    login_as(client, w.coordinator)
    card = f"/backoffice/appeals/{duplicate.id}"
    events = _count(AppealEvent)
    response = _post(client, f"{card}/merge", {"main": to_work_town.get(number, number)}, card)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(AppealEvent) == events
    db.session.expire_all()
    assert db.session.get(Appeal, duplicate.id).state == S.IN_WORK


def test_who_may_not_merge_gets_no_form_and_is_refused(client, world):
    w = world
    duplicate = to_work(w, submit(w))
    login_as(client, w.head)
    card = f"/backoffice/appeals/{duplicate.id}"
    assert "Возможные повторы" not in client.get(card).get_data(as_text=True)
    main = to_work(w, submit(w))
    assert _post(client, f"{card}/merge", {"main": str(main.id)}, card).status_code == 404
    assert duplicate.state == S.IN_WORK and not services_followers(main)


# --- the resident's form: «Похожие сообщения рядом» and joining ------------------------------


def _neighbour_report(w):
    """Yesterday a neighbour reported the pothole; moderation has accepted it."""
    return to_work(w, submit(w, author=w.other_resident, **POINT))


def _near_form(client, w, **overrides):
    from tests.appeals.test_submit import _form

    point = {"latitude": "54.738900", "longitude": "55.972100"}  # ~11 m away
    return _form(client, w, subcategory_id=str(w.potholes.id), **{**point, **overrides})


def test_the_nearby_fragment_lists_neighbours_without_anything_personal(client, world):
    w = world
    main = _neighbour_report(w)
    login_as(client, w.resident)
    page = client.get(
        f"/appeals/new/nearby?lat=54.7389&lon=55.9721&subcategory_id={w.potholes.id}"
    ).get_data(as_text=True)
    assert "Похожие сообщения рядом" in page and f"Присоединиться к № {main.number}" in page
    assert "11 м от вашей точки" in page
    assert w.other_resident.last_name not in page and "Ленина" not in page  # no author, no text
    for query, message in (
        (f"lat=91&lon=55.9721&subcategory_id={w.potholes.id}", "Широта"),
        ("lat=54.7&lon=55.9&subcategory_id=x", "subcategory_id"),
    ):
        response = client.get(f"/appeals/new/nearby?{query}")
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_joining_from_the_form_without_javascript(client, world):
    w = world
    main = _neighbour_report(w)
    login_as(client, w.resident)
    # The form comes back (topic suggestion asked): the list is there, server-rendered.
    page = client.post("/appeals/new", data={**_near_form(client, w), "suggest": "1"})
    assert f'name="join" value="{main.id}"' in page.get_data(as_text=True)

    before = _count(Appeal)
    response = client.post("/appeals/new", data={**_near_form(client, w), "join": str(main.id)})
    assert response.status_code == 302
    follower = db.session.scalar(sa.select(Appeal).order_by(Appeal.id.desc()).limit(1))
    assert _count(Appeal) == before + 1
    assert follower.merged_into_id == main.id and follower.author_id == w.resident.id
    page = client.get(response.location).get_data(as_text=True)
    assert f"Вы присоединились к сообщению № {main.number}" in page
    assert "ответ по нему придёт и вам" in page


def test_joining_refused_on_the_form_keeps_what_was_typed(client, world):
    w = world
    own = to_work(w, submit(w, **POINT))  # the resident's own message
    login_as(client, w.resident)
    before = _count(Appeal)
    data = _near_form(client, w, text="Моя яма, описание сохраняется")
    response = client.post("/appeals/new", data={**data, "join": str(own.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "ваше собственное сообщение" in page
    assert "Моя яма, описание сохраняется" in page
    response = client.post("/appeals/new", data={**data, "latitude": "NaN", "join": str(own.id)})
    assert response.status_code == 400 and "Введите число" in response.get_data(as_text=True)
    response = client.post("/appeals/new", data={**data, "join": "999999"})
    assert response.status_code == 400 and "Такого сообщения нет" in response.get_data(as_text=True)
    assert _count(Appeal) == before


def test_a_merge_sent_twice_merges_once_and_says_so(client, world):
    w = world
    main = to_work(w, submit(w))
    duplicate = to_work(w, submit(w, author=w.other_resident))
    login_as(client, w.coordinator)
    card = f"/backoffice/appeals/{duplicate.id}"
    data = {"main": str(main.id)}
    token = csrf_token(client, card)
    assert client.post(f"{card}/merge", data={"csrf_token": token, **data}).status_code == 302
    events = _count(AppealEvent)
    again = client.post(f"{card}/merge", data={"csrf_token": token, **data})
    assert again.status_code == 404  # a merged message offers no merge any more
    assert _count(AppealEvent) == events and len(services_followers(main)) == 1


def test_someone_elses_merge_cannot_be_undone(client, world):
    w = world
    main = to_work(w, submit(w))
    duplicate = to_work(w, submit(w, author=w.other_resident))
    merge_appeals(duplicate, main, w.coordinator)
    db.session.commit()
    login_as(client, w.town_coordinator)  # another organization's coordinator
    response = client.post(
        f"/backoffice/appeals/{duplicate.id}/unmerge",
        data={"csrf_token": csrf_token(client, "/backoffice/appeals/")},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Appeal, duplicate.id).state == S.MERGED
