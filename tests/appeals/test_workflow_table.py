"""The workflow table drives behaviour: state × role × action → allowed or refused, on real rows."""

import pytest

from participation.appeals.models import MergeKind
from participation.appeals.permissions import available_actions
from participation.appeals.services import transition
from participation.appeals.workflow import (
    ALL_ACTORS,
    TRANSITIONS,
    WORKFLOW,
    Action,
    Actor,
    AppealState,
    Bucket,
    bucket_for,
)
from participation.core.users import Role
from participation.core.workflow import InvalidTransition, Workflow, t
from participation.extensions import db
from tests import factories as f
from tests.appeals.conftest import submit


def _holder(w, state):
    return {
        AppealState.MODERATION: w.operator,
        AppealState.REJECTED: w.operator,
        AppealState.COORDINATION: w.cur,
    }.get(state, w.city_admin)


def _actor(w, appeal, role):
    if role == Actor.SYSTEM:
        return None
    if role == Actor.AUTHOR:
        return w.resident
    user = f.staff(_holder(w, appeal.state), role)
    if role == Role.EXECUTOR:
        appeal.executor_id = user.id
        db.session.flush()
    return user


@pytest.mark.parametrize("role", ALL_ACTORS, ids=str)
@pytest.mark.parametrize("state", list(AppealState), ids=str)
def test_each_action_is_allowed_exactly_when_the_table_says(world, state, role):
    w = world
    appeal = submit(w)
    holder = _holder(w, state)
    appeal.holder_organization_id = holder.id
    appeal.holder_organization = holder
    if state == AppealState.MERGED:  # a duplicate waits for its main message (nothing to do)
        appeal.merged_into_id, appeal.merge_kind = submit(w).id, MergeKind.MERGED
    appeal.set_state(state)
    db.session.flush()
    actor = _actor(w, appeal, role)
    expected = {a for a in Action if WORKFLOW.allows(state, a, {role})}
    if role != Actor.SYSTEM:
        assert set(available_actions(actor, appeal, holder)) == expected
    for action in Action:
        nested = db.session.begin_nested()
        try:
            if action in expected:
                event = transition(appeal, action, actor)
                assert appeal.state == WORKFLOW.get(state, action).target
                assert event.actor_role == str(role) and event.from_state == state.value
            else:
                with pytest.raises(InvalidTransition):
                    transition(appeal, action, actor)
        finally:
            nested.rollback()
            db.session.expire_all()


def test_roles_count_only_in_the_holder_organization(world):
    w = world
    appeal = submit(w)
    # A moderator of another organization, and a coordinator of the addressee, see no actions
    # while the message is with the operator.
    stranger = f.staff(w.city_admin, Role.MODERATOR)
    assert available_actions(stranger, appeal, w.city_admin) == []
    assert available_actions(w.coordinator, appeal, w.city_admin) == []
    assert available_actions(w.moderator, appeal, w.operator) == WORKFLOW.actions(
        AppealState.MODERATION, {Role.MODERATOR}
    )
    # Working in another organization of theirs, the person sees no actions here.
    assert available_actions(w.moderator, appeal, w.city_admin) == []


def test_an_executor_acts_only_on_messages_assigned_to_them(world):
    w = world
    appeal = submit(w)
    appeal.holder_organization_id = w.city_admin.id
    appeal.set_state(AppealState.IN_WORK)
    appeal.executor_id = w.executor.id
    db.session.flush()
    assert Action.SUBMIT_DRAFT in available_actions(w.executor, appeal, w.city_admin)
    assert available_actions(w.executor2, appeal, w.city_admin) == []
    with pytest.raises(InvalidTransition):
        transition(appeal, Action.SUBMIT_DRAFT, w.executor2)


def test_every_state_has_a_bucket_and_final_states_have_no_way_out():
    for state in AppealState:
        assert isinstance(bucket_for(state), Bucket)
    for final in (AppealState.REJECTED, AppealState.CLOSED, AppealState.ESCALATED):
        assert not [row for row in TRANSITIONS if row.source == final]
    assert bucket_for(AppealState.IN_WORK, "head") == Bucket.RETURNED


def test_generic_workflow_refuses_duplicates_and_roleless_rows():
    with pytest.raises(ValueError, match="duplicate"):
        Workflow([t("a", "go", "b", "x"), t("a", "go", "c", "x")])
    with pytest.raises(ValueError, match="no role"):
        Workflow([t("a", "go", "b")])
    flow = Workflow([t("a", "go", "b", "x", "y")])
    assert flow.acting_role("a", "go", ["z", "y"]) == "y"
    with pytest.raises(InvalidTransition):
        flow.check("b", "go", ["x"])
