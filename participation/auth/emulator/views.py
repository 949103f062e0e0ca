"""The emulator's HTTP endpoints: login page, token endpoint and the /rs/ person resources."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import Length, Optional

from participation.auth.emulator import personas
from participation.auth.emulator.keys import emulator_key
from participation.auth.emulator.services import (
    EmulatorRefusal,
    check_authorization_request,
    issue_code,
    redeem_code,
    verify_access_token,
)
from participation.core.forms import Form
from participation.core.security import CSP
from participation.extensions import csrf, db, limiter

bp = Blueprint("esia", __name__)
# The relying party checks id_tokens with the provider key, which in development is this
# emulator's own key file: make it when the emulator is mounted, before anyone logs in.
bp.record_once(lambda state: emulator_key(state.app))

# How long the login form may stay open before the request it carries is refused.
FORM_MAX_AGE_SECONDS = 15 * 60


class EmulatorLoginForm(Form):
    request_token = HiddenField()
    persona = RadioField(_l("Тестовый пользователь"), choices=[], validate_choice=False)
    login = StringField(
        _l("Электронная почта"),
        [Optional(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Пароль"), [Optional()], render_kw={"autocomplete": "current-password"}
    )

    def chosen_persona(self) -> dict[str, Any] | None:
        """The persona picked in the list, or the one whose login and password were entered."""
        if self.persona.data:
            found = personas.persona_by_slug(self.persona.data)
            if found is None:
                self.persona.errors = [_l("Такого тестового пользователя нет.")]
            return found
        if self.login.data or self.password.data:
            found = personas.persona_by_login(self.login.data or "", self.password.data or "")
            if found is None:
                self.password.errors = [_l("Неверный логин или пароль.")]
            return found
        self.persona.errors = [_l("Выберите тестового пользователя или введите логин и пароль.")]
        return None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="esia-emulator-authorization")


def _back_to_client(redirect_uri: str, **params: str) -> Any:
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}")


def _error_page(refusal: EmulatorRefusal, status: int = 400):
    return render_template("esia/error.html", refusal=refusal), status


@bp.get("/aas/oauth2/ac")
def authorize():
    try:
        pending = check_authorization_request(request.args)
    except EmulatorRefusal as refusal:
        if not refusal.redirectable:
            return _error_page(refusal)
        return _back_to_client(
            request.args["redirect_uri"],
            error=refusal.error,
            error_description=str(refusal.description),
            state=request.args.get("state", ""),
        )
    form = EmulatorLoginForm(request_token=_serializer().dumps(pending))
    return _render_login(form, pending)


def _render_login(form: EmulatorLoginForm, pending: dict[str, str], status: int = 200):
    response = make_response(
        render_template(
            "esia/login.html",
            form=form,
            pending=pending,
            residents=[p for p in personas.personas() if not p["memberships"]],
            staff=[p for p in personas.personas() if p["memberships"]],
            password=personas.PASSWORD,
        ),
        status,
    )
    # The form's answer redirects to the client's registered redirect_uri, which may be on
    # another origin (localhost vs 127.0.0.1); browsers apply form-action to that redirect.
    target = urlsplit(pending["redirect_uri"])
    response.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' {target.scheme}://{target.netloc}"
    )
    return response


@bp.post("/aas/oauth2/ac")
def authorize_submit():
    form = EmulatorLoginForm()
    try:
        pending = _serializer().loads(form.request_token.data or "", max_age=FORM_MAX_AGE_SECONDS)
    except BadSignature:
        return _error_page(
            EmulatorRefusal(
                "invalid_request",
                _l("Запрос на вход устарел. Вернитесь на сайт и начните вход заново."),
            )
        )
    if request.form.get("action") == "cancel":
        return _back_to_client(
            pending["redirect_uri"],
            error="access_denied",
            error_description="Пользователь отказался от входа",
            state=pending["state"],
        )
    persona = form.chosen_persona() if form.validate_on_submit() else None
    if persona is None:
        return _render_login(form, pending, 400)
    try:
        code = issue_code(
            pending["client_id"], persona["esia_oid"], pending["scope"], pending["redirect_uri"]
        )
    except EmulatorRefusal as refusal:
        return _error_page(refusal)
    db.session.commit()
    return _back_to_client(pending["redirect_uri"], code=code, state=pending["state"])


@bp.post("/aas/oauth2/te")
@csrf.exempt
@limiter.limit("20/minute")
def token():
    try:
        body = redeem_code(request.form)
    except EmulatorRefusal as refusal:
        db.session.rollback()
        return jsonify(error=refusal.error, error_description=str(refusal.description)), 400
    db.session.commit()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _person_resource(oid: str, build) -> Any:
    try:
        scopes = verify_access_token(request.headers.get("Authorization"), oid)
    except EmulatorRefusal as refusal:
        status = 403 if refusal.error == "insufficient_scope" else 401
        response = jsonify(error=refusal.error, error_description=str(refusal.description))
        if status == 401:
            response.headers["WWW-Authenticate"] = f'Bearer error="{refusal.error}"'
        return response, status
    persona = personas.persona_by_oid(oid)
    if persona is None:
        return jsonify(error="not_found", error_description="Учётная запись не найдена"), 404
    body = build(persona, scopes)
    if body is None:
        return (
            jsonify(error="insufficient_scope", error_description="Нет прав на эти данные"),
            403,
        )
    return jsonify(body)


@bp.get("/rs/prns/<oid>")
def person(oid: str):
    return _person_resource(oid, personas.person_json)


@bp.get("/rs/prns/<oid>/ctts")
def contacts(oid: str):
    return _person_resource(
        oid,
        lambda p, s: personas.contacts_json(p, s) if s & {"email", "mobile", "contacts"} else None,
    )


@bp.get("/rs/prns/<oid>/addrs")
def addresses(oid: str):
    return _person_resource(
        oid, lambda p, s: personas.addresses_json(p) if "addresses" in s else None
    )


@bp.get("/rs/prns/<oid>/roles")
def roles(oid: str):
    return _person_resource(oid, lambda p, s: personas.roles_json(p) if "usr_org" in s else None)
