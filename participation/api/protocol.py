"""HTTP hygiene of /api/v1: the per-request hooks, CORS for configured origins, no cookies.

CORS is a small after_request rather than flask-cors: the rule is one exact allow-list of
origins (API_CORS_ORIGINS, empty by default), no credentials, and a fixed set of headers —
fewer lines than flask-cors' configuration, and nothing implicit (flask-cors has shipped
permissive defaults, e.g. Access-Control-Allow-Private-Network in 4.0, CVE-2024-6221).
"""

from __future__ import annotations

from flask import Response, current_app, g, request, session

from participation.api import idempotency
from participation.api.auth import authenticate_request, current_principal

API_PREFIX = "/api/v1/"
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match, If-Match"
CORS_EXPOSE_HEADERS = (
    "ETag, Location, Retry-After, Idempotent-Replayed, WWW-Authenticate, "
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
)
CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"


def before_api_request() -> Response | None:
    """before_request of every API blueprint: the caller, then a POST's Idempotency-Key."""
    g.api_stateless = True
    authenticate_request()
    if request.method != "POST":
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or idempotency.is_exempt(view):
        return None
    principal = current_principal()
    owner = principal.ident if principal is not None else f"ip:{request.remote_addr}"
    return idempotency.claim(owner)


def after_api_request(response: Response) -> Response:
    """after_request of every API blueprint: store or drop the idempotency claim."""
    return idempotency.finish(response)


def cors(response: Response) -> Response:
    """after_request of the app: CORS headers for /api/v1 when the Origin is configured."""
    if not request.path.startswith(API_PREFIX):
        return response
    allowed = current_app.config["API_CORS_ORIGINS"]
    if allowed:
        response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or origin not in allowed:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def no_session_cookie(response: Response) -> Response:
    """after_request of the app: an API blueprint's answer never (re)sets the session cookie.

    The caller is known from its token alone; whatever the app's other hooks did to the
    session (the idle-time stamp of a browser that also sent its cookie) is not saved.
    """
    if g.get("api_stateless"):
        session.modified = False
    return response
