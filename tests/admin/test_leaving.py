"""A staff member leaves: refused while open messages are assigned to them; their messages are
handed to another executor through the workflow (with history); then the removal works."""

from __future__ import annotations

import html as htmllib

import pytest
import sqlalchemy as sa

from participation.appeals import services as s
from participation.appeals.models import Appeal, AppealEvent
from participation.appeals.workflow import AppealState as S
from participation.core.audit import AuditEntry
from participation.core.users import Membership, Role
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import submit, world  # noqa: F401  (the `world` fixture)
from tests.helpers import csrf_token, login_as


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _roles(user, organization) -> set[Role]:
    return set(
        db.session.scalars(
            sa.select(Membership.role).where(
                Membership.user_id == user.id, Membership.organization_id == organization.id
            )
        )
    )


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _to_work(w, appeal):
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, w.coordinator, w.executor.id)
    return appeal


@pytest.fixture
def leaving(world, client):  # noqa: F811
    """The executor holds two open messages (one in work, one with the head) and a closed one."""
    w = world
    w.in_work = _to_work(w, submit(w))
    w.with_head = _to_work(w, submit(w))
    s.submit_draft(w.with_head, w.executor, "Яму заделали, фото прилагаем к ответу.")
    w.answered = _to_work(w, submit(w))
    s.submit_draft(w.answered, w.executor, "Яму заделали, фото прилагаем к ответу.")
    s.approve_answer(w.answered, w.head)
    db.session.flush()
    assert {w.in_work.state, w.with_head.state, w.answered.state} == {
        S.IN_WORK,
        S.APPROVAL,
        S.ANSWERED,
    }
    login_as(client, w.administrator)
    return w


def test_removal_is_refused_with_the_count_while_messages_are_assigned(client, leaving):
    w = leaving
    page = _text(client.get(f"/admin/staff/{w.executor.id}"))
    assert "Открытых сообщений, закреплённых за сотрудником: 2" in page
    assert w.in_work.number in page and "Передать все сообщения" in page
    token = csrf_token(client, f"/admin/staff/{w.executor.id}")
    response = client.post(f"/admin/staff/{w.executor.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    after = _text(client.get(response.location))
    assert "Нельзя удалить сотрудника Исполнителев" in after
    assert "закреплены открытые сообщения (2)" in after
    assert _roles(w.executor, w.city_admin) == {Role.EXECUTOR}
    # Taking only the executor role away is refused the same way.
    [membership] = w.executor.memberships
    client.post(f"/admin/memberships/{membership.id}/remove", data={"csrf_token": token})
    assert _roles(w.executor, w.city_admin) == {Role.EXECUTOR}
    assert _audit("staff.member_removed") == [] and _audit("staff.role_removed") == []


def test_reassigning_all_through_the_workflow_then_removal_works(client, leaving):
    w = leaving
    token = csrf_token(client, f"/admin/staff/{w.executor.id}")
    response = client.post(
        f"/admin/staff/{w.executor.id}/reassign",
        data={"csrf_token": token, "successor_id": str(w.executor2.id)},
    )
    assert response.status_code == 302
    assert "Передано сообщений: 2" in _text(client.get(response.location))
    db.session.expire_all()
    assert db.session.get(Appeal, w.in_work.id).executor_id == w.executor2.id
    assert db.session.get(Appeal, w.with_head.id).executor_id == w.executor2.id
    assert db.session.get(Appeal, w.with_head.id).state == S.APPROVAL
    assert db.session.get(Appeal, w.answered.id).executor_id == w.executor.id  # not open
    events = list(
        db.session.scalars(
            sa.select(AppealEvent).where(
                AppealEvent.action == "reassign",
                AppealEvent.appeal_id.in_([w.in_work.id, w.with_head.id]),
            )
        )
    )
    assert len(events) == 2
    assert all(e.actor_id == w.administrator.id and e.details["staff_leaving"] for e in events)
    assert {e.details["from_executor_id"] for e in events} == {w.executor.id}
    [entry] = _audit("staff.messages_reassigned")
    assert entry.details["count"] == 2 and entry.details["successor_id"] == w.executor2.id

    response = client.post(f"/admin/staff/{w.executor.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/admin/")
    assert _roles(w.executor, w.city_admin) == set()
    [removed] = _audit("staff.member_removed")
    assert removed.details["roles"] == ["executor"]
    assert client.get(f"/admin/staff/{w.executor.id}").status_code == 404


@pytest.mark.parametrize("who", ["empty", "letters", "coordinator", "outsider", "themselves"])
def test_messages_go_only_to_another_executor_of_the_organization(client, leaving, who):
    w = leaving
    successor = {
        "empty": "",
        "letters": "abc",
        "coordinator": str(w.coordinator.id),
        "outsider": str(w.town_executor.id),
        "themselves": str(w.executor.id),
    }[who]
    token = csrf_token(client, f"/admin/staff/{w.executor.id}")
    response = client.post(
        f"/admin/staff/{w.executor.id}/reassign",
        data={"csrf_token": token, "successor_id": successor},
    )
    assert response.status_code == 400
    page = _text(response)
    assert 'id="successor_id-error"' in page
    assert "Выберите исполнител" in page
    db.session.expire_all()
    assert db.session.get(Appeal, w.in_work.id).executor_id == w.executor.id
    assert _audit("staff.messages_reassigned") == []


def test_a_member_without_assigned_messages_is_removed_at_once(client, leaving):
    w = leaving
    token = csrf_token(client, f"/admin/staff/{w.head.id}")
    response = client.post(f"/admin/staff/{w.head.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert _roles(w.head, w.city_admin) == set()


def test_the_last_administrator_is_not_removed(client, leaving):
    w = leaving
    token = csrf_token(client, f"/admin/staff/{w.administrator.id}")
    client.post(f"/admin/staff/{w.administrator.id}/remove", data={"csrf_token": token})
    assert _roles(w.administrator, w.city_admin) == {Role.ADMINISTRATOR}
    assert _audit("staff.member_removed") == []


def test_another_organizations_member_is_404(client, leaving):
    w = leaving
    token = csrf_token(client, f"/admin/staff/{w.executor.id}")
    outsider = f.staff(w.town_admin, Role.EXECUTOR)
    for action in ("remove", "reassign"):
        response = client.post(
            f"/admin/staff/{outsider.id}/{action}",
            data={"csrf_token": token, "successor_id": str(w.executor2.id)},
        )
        assert response.status_code == 404
    assert _roles(outsider, w.town_admin) == {Role.EXECUTOR}
