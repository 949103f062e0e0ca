"""Deprecated alias: use tests.helpers.login_as."""

from tests.helpers import login_as

__all__ = ["login_as"]
