"""Fixtures of the API tests: the messages' small region (`world`) from the appeals tests."""

from tests.appeals.conftest import world  # noqa: F401  (the fixture)
