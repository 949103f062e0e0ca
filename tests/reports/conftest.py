"""The reports read the messages' small region (tests/appeals/conftest.py)."""

from tests.appeals.conftest import world  # noqa: F401  (the fixture)
