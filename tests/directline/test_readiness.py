"""A direct line of a host whose direct-line readiness is not confirmed."""

import pytest

from participation.backoffice.readiness import DIRECTLINE
from participation.core.errors import FieldError
from tests import factories
from tests.directline.conftest import make_event
from tests.helpers import login_as


def test_it_cannot_be_announced(world):
    factories.unconfirm(world.government, DIRECTLINE)
    with pytest.raises(FieldError) as refused:
        make_event(world)
    assert refused.value.field == "host_id"
    assert "готовность раздела «Прямые линии»" in refused.value.message


def test_even_the_operators_moderator_sees_the_reason_instead_of_its_page(client, world):
    event = make_event(world)
    factories.unconfirm(world.government, DIRECTLINE)
    login_as(client, world.moderator)  # works in the operator, which is confirmed
    response = client.get(f"/backoffice/directline/{event.id}")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "Раздел «Прямые линии» откроется после подтверждения готовности" in text
    assert "Правительство Республики" in text
    assert "Подтвердить готовность" not in text  # not a member of the host
    assert client.get("/backoffice/directline/").status_code == 200
