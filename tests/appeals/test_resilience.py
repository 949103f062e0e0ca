"""Redis down while residents send messages: each is saved and answered with the usual page,
and its notifications go out once Redis is back and the sweep has run (issue #13, fault 1)."""

import pytest
import sqlalchemy as sa

from participation.appeals.models import Appeal
from participation.core.jobs import run_sweeps
from participation.core.outbox import Channel, Notification, OutboxMessage
from participation.extensions import db
from tests.appeals.test_submit import _form
from tests.helpers import login_as

pytestmark = pytest.mark.redis


def _count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def test_messages_sent_while_redis_is_down_are_saved_and_notified_once(
    app_on_private_redis, private_redis, client, world
):
    login_as(client, world.resident)
    assert client.post("/appeals/new", data=_form(client, world)).status_code == 302
    private_redis.stop()
    for _ in range(3):
        response = client.post("/appeals/new", data=_form(client, world))
        assert response.status_code == 302  # the resident's «зарегистрировано», not an error
    assert _count(sa.select(Appeal.id)) == 4
    feed = sa.select(OutboxMessage.id).where(OutboxMessage.channel == Channel.FEED)
    assert _count(feed) >= 4  # someone is told about every message

    private_redis.start()  # empty: the job queued before the outage went down with it
    run_sweeps()
    run_sweeps()
    assert _count(sa.select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))) == 0
    delivered = db.session.execute(
        sa.select(Notification.outbox_id, sa.func.count()).group_by(Notification.outbox_id)
    ).all()
    assert sorted(outbox_id for outbox_id, _ in delivered) == sorted(db.session.scalars(feed))
    assert {n for _, n in delivered} == {1}
