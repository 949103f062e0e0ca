"""Open311 services: the catalogue and published messages (reading), filing a request (filing).

The package is split by use case; import from here.
"""

from participation.api.open311.services.common import (
    CLOSED_STATES,
    DEFAULT_SPAN,
    MAX_IDS,
    MAX_PAGE_SIZE,
    SPECIFICATION,
    STATUS_CLOSED,
    STATUS_OPEN,
    ApiError,
    Open311Error,
)
from participation.api.open311.services.filing import Filed, file_request, partner_key
from participation.api.open311.services.reading import (
    PublishedRequest,
    RequestQuery,
    Service,
    catalogue_changed_at,
    find_request,
    find_requests,
    find_service,
    list_services,
    parse_datetime,
    read_request_query,
)

__all__ = [
    "CLOSED_STATES",
    "DEFAULT_SPAN",
    "MAX_IDS",
    "MAX_PAGE_SIZE",
    "SPECIFICATION",
    "STATUS_CLOSED",
    "STATUS_OPEN",
    "ApiError",
    "Filed",
    "Open311Error",
    "PublishedRequest",
    "RequestQuery",
    "Service",
    "catalogue_changed_at",
    "file_request",
    "find_request",
    "find_requests",
    "find_service",
    "list_services",
    "parse_datetime",
    "partner_key",
    "read_request_query",
]
