import pytest

from tests.voting.helpers import Town


@pytest.fixture
def town(db_session):
    return Town()
