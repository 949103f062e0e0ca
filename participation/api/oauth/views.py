"""OAuth 2.0 for residents' apps: authorise (ESIA login, consent), token, revoke, userinfo;
and the profile's «Отозвать» for an app session.

/oauth/token and /oauth/revoke are called by apps, not browsers: form-encoded, no session
cookie, no CSRF token, and nothing accepted from the query string.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from participation.api.oauth import tasks as _tasks  # noqa: F401  (registers the purge sweep)
from participation.api.oauth.forms import ConsentForm, RevokeAppSessionForm
from participation.api.oauth.models import RevokeReason
from participation.api.oauth.permissions import can_authorize_app, can_revoke_app_session
from participation.api.oauth.scopes import SCOPES, scope_list, scope_titles
from participation.api.oauth.server import (
    error_detail,
    error_response,
    oauth_error,
    require_oauth,
    server,
    server_metadata,
)
from participation.api.oauth.services import (
    app_session_by_id,
    clean_device_name,
    record_consent_denied,
    revoke_app_session,
)
from participation.core.permissions import deny, require
from participation.extensions import csrf, db, limiter

bp = Blueprint("oauth", __name__)
bp.add_app_template_filter(scope_titles, "scope_titles")  # the profile's list of app sessions


def token_rate_limit() -> str:
    return current_app.config["OAUTH_TOKEN_RATE_LIMIT"]


def _too_many_requests(_limit):
    error = OAuth2Error(
        error="temporarily_unavailable", description="Too many requests.", status_code=429
    )
    return error_response(error)


def _no_query_string():
    """Codes and tokens travel in the POST body only: a query string is refused outright."""
    if request.query_string:
        return error_response(
            oauth_error(
                InvalidRequestError,
                "Parameters are accepted in the form-encoded POST body only.",
                _l("Параметры передаются только в теле POST-запроса, не в адресе."),
            )
        )
    return None


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if error.redirect_uri:  # the app is known and its redirect URI checked: tell the app
            return server.handle_error_response(None, error)
        return render_template(
            "core/error.html",
            code=400,
            title=_("Приложение не может войти"),
            text=error_detail(error),
        ), 400
    if user is None:  # the ESIA login brings the resident back here, to the same request
        return redirect(url_for("auth.login", next=request.full_path))
    if not can_authorize_app(user):
        deny(403, "oauth: only residents authorise apps")
    form = ConsentForm()
    decided = form.allow.data or form.deny.data
    if request.method == "POST" and form.validate_on_submit() and decided:
        if form.allow.data:
            response = server.create_authorization_response(grant=grant, grant_user=user)
        else:
            record_consent_denied(grant.client, user, grant.request.scope)
            response = server.create_authorization_response(grant=grant, grant_user=None)
        db.session.commit()
        return response
    return render_template(
        "api/oauth/consent.html",
        client=grant.client,
        scopes=[(name, SCOPES[name]) for name in scope_list(grant.request.scope)],
        device_name=clean_device_name(grant.request.payload.data.get("device_name")),
        form=form,
        action=request.full_path,
    )


@bp.post("/oauth/token")
@csrf.exempt
@limiter.limit(token_rate_limit, on_breach=_too_many_requests)
def token():
    refused = _no_query_string()
    if refused is not None:
        return refused
    response = server.create_token_response()
    # An error leaves nothing written except a revocation by reuse detection: keep that.
    db.session.commit()
    return response


@bp.post("/oauth/revoke")
@csrf.exempt
@limiter.limit(token_rate_limit, on_breach=_too_many_requests)
def revoke():
    refused = _no_query_string()
    if refused is not None:
        return refused
    response = server.create_endpoint_response("revocation")
    db.session.commit()
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    response = jsonify(server_metadata())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/oauth/userinfo")
@require_oauth("profile")
def userinfo():
    grant = current_token._get_current_object()
    user = grant.user
    territory = user.registration_territory
    body = {
        "sub": str(user.id),
        "name": user.full_name,
        "family_name": user.last_name,
        "given_name": user.first_name,
        "middle_name": user.middle_name,
        "account_level": str(user.account_level),
        "territory": territory.name if territory else None,
        "scope": grant.get_scope(),
    }
    db.session.commit()  # the session's last-used stamp
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/my/apps/<int:app_session_id>/revoke")
@login_required
def revoke_app_session_view(app_session_id: int):
    app_session = app_session_by_id(app_session_id)
    if app_session is None:
        abort(404)
    require(can_revoke_app_session(current_user, app_session), reason="oauth: foreign session")
    if not RevokeAppSessionForm().validate_on_submit():
        abort(400)
    revoke_app_session(app_session, RevokeReason.RESIDENT, actor_id=current_user.id)
    db.session.commit()
    flash(_("Доступ приложения «%(name)s» отозван.", name=app_session.client.name), "success")
    return redirect(url_for("auth.profile", _anchor="apps"))
