"""What the Open311 services share: the spec's limits, the statuses, and its errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from participation.appeals.workflow import OPEN_STATES, AppealState

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_SPAN = timedelta(days=90)  # the spec's default window, and the widest one allowed
MAX_PAGE_SIZE = 1000  # the spec's default limit, and our largest page
MAX_IDS = MAX_PAGE_SIZE

# Open311 knows two statuses; a message's answer counts as the request being addressed.
STATUS_OPEN = "open"
STATUS_CLOSED = "closed"
CLOSED_STATES = frozenset({AppealState.ANSWERED, AppealState.CLOSED, AppealState.ESCALATED})
STATUS_STATES = {STATUS_OPEN: OPEN_STATES, STATUS_CLOSED: CLOSED_STATES}
UNPUBLISHED_STATES = frozenset({AppealState.REJECTED})
UNCHECKED_STATES = frozenset({AppealState.MODERATION})  # the location is not shown yet

# W3C date-time (the profile of ISO 8601 the spec names): a time and a zone are required.
W3C_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class ApiError:
    code: int
    description: str


class Open311Error(Exception):
    """A request the endpoint refuses: the HTTP status and the spec's list of errors."""

    def __init__(
        self, status: int, *errors: ApiError | str, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.headers = headers or {}
        self.errors = [e if isinstance(e, ApiError) else ApiError(status, str(e)) for e in errors]
        super().__init__("; ".join(e.description for e in self.errors))


def bad(message) -> ApiError:
    return ApiError(400, str(message))


def collect(errors: list[ApiError], fn, *args):
    """fn(*args), its Open311Error's errors added to `errors` (then None) instead of raised."""
    try:
        return fn(*args)
    except Open311Error as exc:
        errors.extend(exc.errors)
        return None
