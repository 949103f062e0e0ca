"""A hearing's notice published: the residents of its territory are told, once."""

from __future__ import annotations

from datetime import timedelta

from participation.core.preferences import NoticeKind
from participation.reminders.tasks import sweep_announcements
from tests.hearings.conftest import NOTICE_AT, make_hearing, travel, world  # noqa: F401
from tests.reminders.conftest import choose, feed, letters


def test_a_published_hearing_is_announced_to_its_territory_once(world, make_hearing, run_jobs):  # noqa: F811
    choose(world.resident, NoticeKind.ANNOUNCEMENTS, True)
    hearing = make_hearing()
    make_hearing(publish=False, title="Черновик проекта")
    with travel(NOTICE_AT + timedelta(minutes=5)):  # 10:05 in Уфа
        assert sweep_announcements()["hearings"] == 3  # the three residents of Уфа
        assert sweep_announcements()["hearings"] == 0
        run_jobs()
    for person in (world.resident, world.resident2, world.simplified):
        [item] = feed(person, "Новое обсуждение")
        assert hearing.title in item.title
    assert feed(world.outsider, "Новое обсуждение") == []
    assert feed(world.kazan_user, "Новое обсуждение") == []
    assert feed(world.legal_rep, "Новое обсуждение") == []  # residents are persons
    [letter] = letters(world.resident, "new_hearing")
    assert letter.sent_at is not None
    assert letters(world.resident2, "new_hearing") == []
