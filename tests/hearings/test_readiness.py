"""A hearing of an organization whose hearings readiness is not confirmed: not published."""

import pytest

from participation.backoffice.readiness import HEARINGS
from participation.core.errors import DomainError
from participation.hearings import services
from tests import factories
from tests.hearings.conftest import NOTICE_AT
from tests.helpers import login_as


def test_the_notice_cannot_be_published_before_hearings_readiness_is_confirmed(
    client, make_hearing, world
):
    hearing = make_hearing(publish=False)
    factories.unconfirm(world.organization, HEARINGS)
    with pytest.raises(DomainError, match="готовность раздела «Слушания и обсуждения»"):
        services.publish_notice(hearing, world.organizer, now=NOTICE_AT)
    assert hearing.notice_published_at is None
    login_as(client, world.organizer)
    response = client.get(f"/backoffice/hearings/{hearing.id}")
    assert response.status_code == 403
    assert "Раздел «Слушания и обсуждения» откроется" in response.get_data(as_text=True)
