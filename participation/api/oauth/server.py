"""Authlib's authorisation server and resource protector, wired to our apps, codes and tokens.

Public clients only (no client secret), authorisation code with PKCE S256 (RFC 7636; `plain`
refused), rotating refresh tokens with reuse detection, revocation (RFC 7009). Error bodies keep
RFC 6749's `error` and ASCII `error_description` (the RFC and Authlib allow nothing else there)
and add `detail`: the same in Russian, as the rest of the API says it.
"""

from __future__ import annotations

import re
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Response, abort, current_app, json, url_for
from flask import request as flask_request
from flask_babel import lazy_gettext as _l

from participation.api.oauth import services
from participation.api.oauth.models import AppToken, AuthorizationCode, OAuthClient, RevokeReason
from participation.api.oauth.scopes import SCOPES
from participation.core.tokens import new_token

MAX_STATE = 500
REPEATED = re.compile(r"Multiple '(\w+)' in request\.?$")

# Russian words for Authlib's own (English, ASCII) descriptions, then for bare error codes.
DETAILS_BY_DESCRIPTION = {
    "Missing 'client_id' parameter.": _l("Не указан client_id приложения."),
    "The client does not exist on this server.": _l(
        "Приложение с таким client_id не зарегистрировано."
    ),
    "Missing 'redirect_uri' in request.": _l("Не указан redirect_uri."),
    "Missing 'code' in request.": _l("Не указан code."),
    "Invalid 'code' in request.": _l(
        "Код авторизации недействителен: неизвестен, просрочен или выдан другому приложению."
    ),
    "Invalid 'redirect_uri' in request.": _l(
        "redirect_uri не совпадает с адресом из запроса авторизации."
    ),
    "Missing 'code_verifier'": _l("Не указан code_verifier (PKCE)."),
    "Invalid 'code_verifier'": _l(
        "code_verifier: от 43 до 128 символов из латинских букв, цифр и «-._~» (RFC 7636)."
    ),
    "Code challenge failed.": _l("code_verifier не соответствует code_challenge (PKCE)."),
    "Invalid 'code_challenge'": _l(
        "code_challenge: 43 символа base64url от SHA-256 кода code_verifier (RFC 7636)."
    ),
    "Missing 'refresh_token' in request.": _l("Не указан refresh_token."),
    "There is no 'user' for this code.": _l(
        "Учётная запись жителя, выдавшего разрешение, недоступна."
    ),
    "There is no 'user' for this token.": _l(
        "Учётная запись жителя, выдавшего разрешение, недоступна."
    ),
}
DETAILS_BY_ERROR = {
    "invalid_request": _l("Запрос к серверу авторизации составлен неверно."),
    "invalid_client": _l(
        "Приложение не опознано: передайте client_id зарегистрированного приложения "
        "(без client_secret: секретов у мобильных приложений нет)."
    ),
    "invalid_grant": _l(
        "Код авторизации или токен обновления недействителен, просрочен или отозван."
    ),
    "unauthorized_client": _l("Этому приложению такой способ входа не разрешён."),
    "unsupported_grant_type": _l(
        "Поддерживаются только grant_type=authorization_code и grant_type=refresh_token."
    ),
    "unsupported_response_type": _l("Поддерживается только response_type=code."),
    "invalid_scope": _l(
        "Запрошены недоступные приложению области доступа (scope); возможные: "
        "profile, appeals, votes."
    ),
    "access_denied": _l("Житель отказал приложению в доступе."),
    "missing_authorization": _l("Нужен заголовок Authorization: Bearer <токен доступа>."),
    "invalid_token": _l("Токен доступа недействителен, просрочен или отозван."),
    "insufficient_scope": _l("Токену не разрешено это действие: не хватает области доступа."),
    "unsupported_token_type": _l("Поддерживается только тип токена Bearer."),
    "insecure_transport": _l("Сервер авторизации работает только по HTTPS."),
    "temporarily_unavailable": _l("Слишком много запросов. Подождите немного и попробуйте снова."),
}


def oauth_error(error_cls: type[OAuth2Error], description: str, detail: Any, **kw) -> OAuth2Error:
    """An Authlib error with its ASCII description and our Russian `detail`."""
    error = error_cls(description=description, **kw)
    error.detail = detail  # type: ignore[attr-defined]
    return error


def error_detail(error: OAuth2Error) -> str:
    """The Russian words for an OAuth error."""
    repeated = REPEATED.match(error.description or "")
    if repeated and not getattr(error, "detail", None):
        return str(_l("Параметр %(name)s указан несколько раз.", name=repeated.group(1)))
    detail = (
        getattr(error, "detail", None)
        or DETAILS_BY_DESCRIPTION.get(error.description or "")
        or DETAILS_BY_ERROR.get(error.error or "")
        or DETAILS_BY_ERROR["invalid_request"]
    )
    return str(detail)


# An ASCII description for the errors Authlib raises without one.
DESCRIPTIONS_BY_ERROR = {
    "invalid_grant": "The grant is invalid, expired, revoked or issued to another client.",
    "invalid_request": "The request is malformed.",
    "invalid_client": "Client authentication failed.",
    "invalid_token": "The access token is invalid, expired or revoked.",
}


def error_body(error: OAuth2Error) -> dict[str, str]:
    """RFC 6749 5.2's JSON body (always with an ASCII `error_description`), plus `detail`:
    the same in Russian."""
    body = dict(error.get_body())
    body.setdefault("error_description", DESCRIPTIONS_BY_ERROR.get(error.error or "", error.error))
    body["detail"] = error_detail(error)
    return body


def error_response(error: OAuth2Error) -> Response:
    """The JSON answer for an OAuth error, with its status and headers (WWW-Authenticate…)."""
    return Response(
        json.dumps(error_body(error)), status=error.status_code, headers=error.get_headers()
    )


# --- PKCE: S256 only, and always --------------------------------------------------------------


class S256CodeChallenge(CodeChallenge):
    """RFC 7636 with the Security BCP's choices: a challenge on every request, S256 only."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012  (Authlib's class attribute)
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise oauth_error(
                InvalidRequestError,
                "Missing 'code_challenge': PKCE with S256 is required.",
                _l("Нужен PKCE: передайте code_challenge и code_challenge_method=S256."),
            )
        if data.get("code_challenge_method") != "S256":
            raise oauth_error(
                InvalidRequestError,
                "Only code_challenge_method=S256 is accepted.",
                _l(
                    "Принимается только code_challenge_method=S256; метод plain и запрос "
                    "без метода не принимаются."
                ),
            )
        return super().validate_code_challenge(grant, redirect_uri)


# --- grants -----------------------------------------------------------------------------------


class ResidentCodeGrant(grants.AuthorizationCodeGrant):
    """Authorisation code for public clients; the code is single-use and lives seconds."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012  (Authlib's class attribute)

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        uri = request.payload.redirect_uri
        if not uri:
            raise oauth_error(
                InvalidRequestError,
                "Missing 'redirect_uri' in request.",
                _l("Не указан redirect_uri."),
            )
        if not client.check_redirect_uri(uri):
            raise oauth_error(
                InvalidRequestError,
                "The redirect_uri is not registered for this client.",
                _l("Этот redirect_uri не зарегистрирован для приложения: нужно точное совпадение."),
            )
        return uri

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        state = self.request.payload.state
        if not state or len(state) > MAX_STATE:
            raise oauth_error(
                InvalidRequestError,
                "Missing or too long 'state'.",
                _l("Нужен параметр state (до 500 символов): им приложение проверяет ответ."),
                redirect_uri=redirect_uri,
            )
        return redirect_uri

    def save_authorization_code(self, code: str, request) -> None:
        data = request.payload.data
        services.issue_authorization_code(
            code,
            request.client,
            request.user,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            code_challenge=data["code_challenge"],
            device_name=data.get("device_name"),
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        try:
            return services.code_for_exchange(code, client)
        except services.CredentialReused:
            raise oauth_error(
                InvalidGrantError,
                "The code has already been used; the tokens issued for it are revoked.",
                _l(
                    "Код авторизации уже использован. Выданные по нему токены отозваны: "
                    "войдите в приложение заново."
                ),
            ) from None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        services.mark_code_used(authorization_code)

    def authenticate_user(self, authorization_code: AuthorizationCode):
        return services.code_owner(authorization_code)


class RotatingRefreshGrant(grants.RefreshTokenGrant):
    """Refresh with rotation: each use issues a new refresh token and spends the old one."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012  (Authlib's class attribute)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> AppToken | None:
        try:
            return services.refresh_token_for_exchange(refresh_token)
        except services.CredentialReused:
            raise oauth_error(
                InvalidGrantError,
                "The refresh token was already used; the whole session is revoked.",
                _l(
                    "Этот токен обновления уже был использован. Вход приложения отозван "
                    "целиком: войдите в приложение заново."
                ),
            ) from None

    def authenticate_user(self, refresh_token: AppToken):
        return services.token_owner(refresh_token)

    def revoke_old_credential(self, refresh_token: AppToken) -> None:
        services.spend_token_pair(refresh_token)


class AppRevocationEndpoint(RevocationEndpoint):
    """RFC 7009. Revoking either token of an app ends its whole session (the app's logout)."""

    CLIENT_AUTH_METHODS = ["none"]  # noqa: RUF012  (Authlib's class attribute)

    def check_params(self, request, client):
        if not request.form.get("token"):
            raise oauth_error(
                InvalidRequestError, "Missing 'token'.", _l("Не указан token для отзыва.")
            )
        # An unknown token_type_hint is ignored, as RFC 7009 2.1 says (Authlib refuses it).

    def query_token(self, token_string: str, token_type_hint: str | None):
        return services.token_by_secret(token_string, token_type_hint)

    def revoke_token(self, token: AppToken, request) -> None:
        services.revoke_app_session(token.app_session, RevokeReason.CLIENT)


# --- the server -------------------------------------------------------------------------------


def generate_bearer_token(
    grant_type: str,
    client: OAuthClient,
    user=None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """Opaque random tokens; lifetimes from the settings in force now."""
    token: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": new_token(),
        "expires_in": current_app.config["OAUTH_ACCESS_TOKEN_MINUTES"] * 60,
    }
    if include_refresh_token:
        token["refresh_token"] = new_token()
    if scope:
        token["scope"] = scope
    return token


class ResidentAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server bound to our models (no init_app: nothing read at import)."""

    def __init__(self) -> None:
        super().__init__()
        self.scopes_supported = list(SCOPES)
        self.register_token_generator("default", generate_bearer_token)
        self.register_grant(ResidentCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RotatingRefreshGrant)
        self.register_endpoint(AppRevocationEndpoint)

    def query_client(self, client_id: str | None) -> OAuthClient | None:
        return services.client_by_client_id(client_id)

    def save_token(self, token: dict[str, Any], request) -> None:
        if request.payload.grant_type == "authorization_code":
            services.start_app_session(request.authorization_code, request.user, token)
        else:
            services.rotate_tokens(request.refresh_token, token)

    def handle_error_response(self, request, error: OAuth2Error):
        status, body, headers = error(self.get_error_uri(request, error))
        if isinstance(body, dict):  # a JSON answer to the app (redirects carry no body)
            body = error_body(error)
        return self.handle_response(status, body, headers)

    def send_signal(self, name, *args, **kwargs) -> None:
        pass  # nobody listens to Authlib's blinker signals here


server = ResidentAuthorizationServer()


def server_metadata() -> dict[str, Any]:
    """RFC 8414 metadata: what an app's OAuth library needs to know to talk to us."""
    return {
        "issuer": url_for("core.home", _external=True).rstrip("/"),
        "authorization_endpoint": url_for("oauth.authorize", _external=True),
        "token_endpoint": url_for("oauth.token", _external=True),
        "revocation_endpoint": url_for("oauth.revoke", _external=True),
        "userinfo_endpoint": url_for("oauth.userinfo", _external=True),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "ui_locales_supported": ["ru"],
    }


# --- the resource side ------------------------------------------------------------------------


class AccessTokenValidator(BearerTokenValidator):
    """Bearer tokens from the Authorization header, resolved to an AccessGrant."""

    def authenticate_token(self, token_string: str):
        return services.resolve_access_token(token_string)


class HeaderOnlyResourceProtector(ResourceProtector):
    """Authlib's protector that refuses a token in the query string (RFC 6750 2.3 is not
    offered: URLs end up in logs and Referer headers) and answers with a Russian `detail`."""

    def parse_request_authorization(self, request):
        if "access_token" in flask_request.args:
            raise oauth_error(
                InvalidRequestError,
                "Access tokens are not accepted in the query string.",
                _l(
                    "Токен в адресе запроса не принимается: передайте его в заголовке "
                    "Authorization: Bearer."
                ),
            )
        return super().parse_request_authorization(request)

    def raise_error_response(self, error: OAuth2Error):
        abort(error_response(error))


require_oauth = HeaderOnlyResourceProtector()
require_oauth.register_token_validator(AccessTokenValidator())
