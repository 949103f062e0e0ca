"""Defects of issue #13: the escalated message's history, territories offered, weak suggestions,
the answer term of rejected messages, and one local time everywhere."""

from __future__ import annotations

import pytest

from participation.appeals import services as s
from participation.core.moderation import RejectionReason
from tests.appeals.conftest import submit
from tests.helpers import login_as


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["resident", "moderator"])
def test_a_rejected_message_shows_no_answer_term(client, world, who):
    w = world
    appeal = submit(w)
    s.reject_appeal(appeal, w.moderator, RejectionReason.SEVERAL_PROBLEMS)
    login_as(client, getattr(w, who))
    url = f"/my/appeals/{appeal.id}" if who == "resident" else f"/backoffice/appeals/{appeal.id}"
    html = _page(client, url)
    assert "Отклонено" in html
    assert "Срок ответа" not in html
