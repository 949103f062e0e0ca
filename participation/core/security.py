"""Security headers, CSP and framing rules for every response."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Views that other sites may frame (the embeddable widgets) set this attribute on the response:
# True for any site, or the CSP source list of the sites allowed (e.g. "'self' https://a.ru").
FRAMEABLE = "frameable"
# The widget's login popup (participation/widgets) hands its result to `window.opener`.
# Chromium cuts that link at the first document or redirect of the popup served with a COOP
# other than unsafe-none, so the popup's pages and the login chain it walks through (our
# redirects to and from ESIA, and the development ESIA emulator standing in for
# esia.gosuslugi.ru, another site) send no restrictive COOP.
OPENER_CHAIN_ENDPOINTS = frozenset({"auth.login", "auth.callback"})
OPENER_CHAIN_BLUEPRINTS = frozenset({"widget_login", "esia"})


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        frameable = getattr(response, FRAMEABLE, False)
        ancestors = "*" if frameable is True else frameable or "'none'"
        csp = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
        if app.config.get("MAP_TILE_ORIGIN"):
            # The maps' base tiles (MAP_TILE_URL); none by default.
            csp = csp.replace(
                "img-src 'self' data:", f"img-src 'self' data: {app.config['MAP_TILE_ORIGIN']}"
            )
        response.headers.setdefault("Content-Security-Policy", csp)
        if not frameable:
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=()"
        )
        keeps_opener = (
            request.endpoint in OPENER_CHAIN_ENDPOINTS
            or request.blueprint in OPENER_CHAIN_BLUEPRINTS
        )
        response.headers.setdefault(
            "Cross-Origin-Opener-Policy",
            "unsafe-none" if keeps_opener else "same-origin-allow-popups",
        )
        if app.config["SESSION_COOKIE_SECURE"] and request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
