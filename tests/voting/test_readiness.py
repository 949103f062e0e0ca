"""A vote of an organization whose voting readiness is not confirmed: closed, unpublishable."""

import pytest

from participation.backoffice.readiness import VOTING
from participation.core.errors import Conflict
from participation.voting.services import publish_campaign, publish_refusal
from tests import factories
from tests.helpers import login_as
from tests.voting.helpers import campaign


def test_a_vote_cannot_be_published_before_voting_readiness_is_confirmed(town):
    draft = campaign(town, published=False)
    factories.unconfirm(town.admin, VOTING)
    reason = publish_refusal(draft)
    assert reason == (
        "Публикация недоступна: готовность раздела «Голосования» организации ещё не подтверждена."
    )
    with pytest.raises(Conflict):
        publish_campaign(draft, town.official)
    assert draft.published_at is None


def test_its_pages_show_the_reason_to_the_official(client, town):
    draft = campaign(town, published=False)
    factories.unconfirm(town.admin, VOTING)
    login_as(client, town.official)
    response = client.get(f"/backoffice/voting/{draft.id}")
    assert response.status_code == 403
    assert "Раздел «Голосования» откроется после подтверждения готовности" in response.get_data(
        as_text=True
    )
