"""The privacy tests reuse the messages' small region and the rollup tests' seven lifecycles."""

from tests.appeals.conftest import world  # noqa: F401
from tests.reports.test_rollup import story  # noqa: F401
