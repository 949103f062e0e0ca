"""Widget pages: the iframe (framed by the organization's declared site) and the login popup.

Inside the iframe the platform's cookies are third-party and are not sent, so these pages
never use the Flask session: a resident is recognised by the widget token posted with each
form (see services.py), every POST carries the widget's own CSRF token, and moving between
pages once logged in is a POST too, so that the token never appears in a URL.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as platform_session
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from wtforms.fields.choices import SelectChoice

from participation.auth.sessions import LOGIN_AT, end_session
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.files import keep_for_retry, staged_uploads
from participation.core.i18n import local_date
from participation.core.security import FRAMEABLE
from participation.extensions import csrf, db, limiter
from participation.widgets import (
    designs,
    services,
    tasks,  # noqa: F401  (registers the session purge sweep)
)
from participation.widgets.forms import MessageForm
from participation.widgets.models import WidgetKind
from participation.widgets.permissions import can_act_in_widget

bp = Blueprint("widgets", __name__, url_prefix="/widget")
login_bp = Blueprint("widget_login", __name__, url_prefix="/widget")

# The widget's forms carry their own CSRF token (checked in _load_widget): the site-wide one
# lives in the session cookie, which a third-party iframe does not get.
csrf.exempt(bp)


# --- the iframe: loading the widget, who is acting, CSRF ---------------------------------------


def _own_origin() -> str:
    return services.normalize_site(request.host_url)


def _unavailable(status: int = 404) -> Response:
    """The neutral notice for an unknown or switched-off code (it tells nothing more)."""
    response = make_response(render_template("widgets/unavailable.html"), status)
    setattr(response, FRAMEABLE, True)
    return response


@bp.url_value_preprocessor
def _pull_code(_endpoint, values):
    g.widget_code = (values or {}).pop("code", None)


@bp.url_defaults
def _add_code(endpoint, values):
    if "code" not in values and g.get("widget_code"):
        values["code"] = g.widget_code


@bp.before_request
def _load_widget():
    # A page view (GET) changes nothing of the organization or the widget: it reads them as
    # plain values kept per process. Forms (POST) act, and read the rows themselves.
    if request.method == "GET":
        found = services.active_widget_facts(g.widget_code)
    else:
        found = services.active_widget(g.widget_code)
    if found is None:
        return _unavailable()
    g.organization, g.settings = found
    g.frame_ancestors = f"'self' {services.normalize_site(g.settings.site_url)}".strip()
    g.widget_session, g.widget_token, g.notice = None, None, None
    if request.method == "POST":
        token = request.form.get("widget_token")
        session = services.widget_session(g.organization, token)
        if token and session is None:
            db.session.commit()  # keeps the session's end
            g.notice = _("Сеанс в виджете завершён. Войдите снова.")
            return _home(site=None)
        if not services.csrf_valid(request.form.get("csrf_token"), g.organization, session):
            return _unavailable_form()
        g.widget_session, g.widget_token = session, token if session else None
    # The widget's resident (or nobody) is the current user of this request, whatever
    # platform session cookie the browser may have sent along.
    g._login_user = g.widget_session.user if g.widget_session else AnonymousUserMixin()
    return None


def _unavailable_form() -> Response:
    g.notice = _("Форма устарела. Обновите страницу и повторите.")
    return _home(site=None, status=400)


@bp.after_request
def _frameable(response: Response) -> Response:
    # Only the organization's declared site (and our own preview) may frame a working widget:
    # a frame any site may open could be overlaid to trick residents into clicks
    # (clickjacking). The neutral notice of an unknown code may be shown anywhere.
    setattr(response, FRAMEABLE, g.get("frame_ancestors", True))
    response.headers["Cache-Control"] = "no-store"  # pages carry the widget token
    return response


@bp.errorhandler(404)
def _not_found(_exc):
    return _unavailable()


def _render(template: str, status: int = 200, **context) -> Response:
    settings = g.settings
    session = g.widget_session
    response = make_response(
        render_template(
            template,
            organization=g.organization,
            settings=settings,
            banner=designs.banner(
                settings.design, settings.kind, settings.text_choice, settings.custom_text
            ),
            # The page reports where it sits on the site with this (no session in it).
            placement_token=services.csrf_token(g.organization, None),
            widget_session=session,
            resident=session.user if session else None,
            widget_token=g.widget_token,
            widget_csrf=services.csrf_token(g.organization, session),
            widget_site=_site_or_posted(context.pop("site", None)),
            notice=g.get("notice"),
            **context,
        ),
        status,
    )
    return response


def _session_or_login():
    """The acting widget session, or the home page asking to log in."""
    if can_act_in_widget(g.widget_session, g.organization):
        return g.widget_session
    g.notice = _("Войдите через Госуслуги, чтобы продолжить.")
    return None


def _site_of_request() -> str:
    return services.normalize_site(request.args.get("origin")) or services.normalize_site(
        request.referrer
    )


def _site_or_posted(site: str | None) -> str:
    """The embedding site: given, else the session's, else the one the page posted back."""
    if site is not None:
        return site
    if g.widget_session is not None:
        return g.widget_session.site
    return services.normalize_site(request.form.get("site"))


def _login_context(site: str | None) -> dict:
    verifier = services.new_verifier()
    challenge = services.login_challenge(verifier)
    return {
        "verifier": verifier,
        "challenge": challenge,
        "site": _site_or_posted(site),
        "login_url": url_for(
            "widget_login.login", code=g.organization.widget_code, challenge=challenge
        ),
    }


# --- the iframe: pages ------------------------------------------------------------------------


def _message_form_context(form: MessageForm | None = None) -> dict:
    from participation.appeals.services import eligibility_rule
    from participation.auth.eligibility import check, rule_description

    session = g.widget_session
    rule = eligibility_rule()
    decision = check(session.user, rule, utcnow().date())
    if not decision.allowed:
        return {"refusal": decision.reason, "rule": rule_description(rule)}
    form = form or MessageForm(formdata=None)
    if form.territory_id.data is None and session.user.registration_territory_id:
        form.territory_id.data = session.user.registration_territory_id
    form.subcategory_id.choices = _topic_choices()
    form.territory_id.choices = _territory_choices()
    return {"form": form, "rule": rule_description(rule)}


def _topic_choices() -> list[SelectChoice]:
    from participation.appeals.classifier import categories_with_subcategories
    from participation.appeals.services import offered_topic_ids

    offered = offered_topic_ids(g.organization)
    choices = [SelectChoice("", _("— выберите тему —"))]
    for category, subcategories in categories_with_subcategories():
        choices.extend(
            SelectChoice(s.id, s.name, optgroup=category.name)
            for s in subcategories
            if s.id in offered
        )
    return choices


def _territory_choices() -> list[SelectChoice]:
    from participation.appeals.routing import submission_territories

    choices = [SelectChoice("", _("— выберите —"))]
    for territory in submission_territories(g.organization):
        region = territory.region()
        choices.append(
            SelectChoice(territory.id, territory.name, optgroup=region.name if region else None)
        )
    return choices


def _home(
    site: str | None,
    status: int = 200,
    form: MessageForm | None = None,
    staged: list | None = None,
) -> Response:
    context: dict = {}
    if g.widget_session is None:
        context.update(_login_context(site))
    if g.settings.kind == WidgetKind.PARTICIPATE:
        offers = services.offers(g.organization)
        context["surveys"], context["campaigns"] = offers.surveys, offers.campaigns
    elif g.widget_session is not None:
        context.update(_message_form_context(form))
        context["staged"] = staged or []
    return _render("widgets/home.html", status, **context)


@bp.route("/<code>", methods=["GET", "POST"])
def home():
    if request.method == "GET":
        site = _site_of_request()
        response = _home(site)
        if site != _own_origin():  # the administrator's preview is not a view
            services.record_view(g.organization.id, site)
            db.session.commit()
        return response
    return _home(site=None)


@bp.post("/<code>/session")
@limiter.limit("30/minute")
def session_start():
    site = services.normalize_site(request.form.get("site"))
    try:
        session, token = services.start_widget_session(
            g.organization, request.form.get("ticket", ""), request.form.get("verifier", ""), site
        )
    except services.WidgetLoginError as exc:
        db.session.rollback()
        g.notice = exc.message
        return _home(site, status=400)
    db.session.commit()
    g.widget_session, g.widget_token = session, token
    g._login_user = session.user
    return _home(site=None)


@bp.post("/<code>/logout")
def logout():
    session = _session_or_login()
    if session is None:
        return _home(site=None)
    services.end_widget_session(session)
    db.session.commit()
    site = session.site
    g.widget_session, g.widget_token = None, None
    g._login_user = AnonymousUserMixin()
    g.notice = _("Вы вышли из виджета.")
    return _home(site)


@bp.post("/<code>/message")
@limiter.limit("30/minute")
def message():
    session = _session_or_login()
    if session is None:
        return _home(site=None, status=401)
    if g.settings.kind != WidgetKind.MESSAGE:
        abort(404)
    context = _message_form_context(MessageForm())
    form = context.get("form")
    if form is None:  # not allowed to send messages: the reason is shown
        return _home(site=None, status=403)
    staged = staged_uploads(request.form, uploaded_by_id=session.user_id)
    if form.validate():
        try:
            submission = services.send_message(
                g.organization,
                session,
                submission_key=form.submission_key.data,
                subcategory_id=form.subcategory_id.data,
                text=form.text.data,
                territory_id=form.territory_id.data,
                address=form.address.data,
                files=_uploads(form),
                staged=staged,
            )
        except FieldError as exc:
            db.session.rollback()
            target = form._fields.get(exc.field) or form.text
            target.errors = [*target.errors, exc.message]
        except DomainError as exc:
            db.session.rollback()
            g.notice = exc.message
            return _home(site=None, status=exc.status, form=form)
        else:
            db.session.commit()
            return _message_sent(submission.appeal)
    from participation.appeals.services import setting

    staged = keep_for_retry(
        staged,
        _uploads(form),
        uploaded_by_id=session.user_id,
        field="attachments",
        limit=setting("APPEALS_MAX_FILES"),
    )
    db.session.commit()  # the kept files outlive the refused request
    return _home(site=None, status=400, form=form, staged=staged)


def _uploads(form: MessageForm) -> list:
    return [f for f in (form.attachments.data or []) if getattr(f, "filename", "")]


def _message_sent(appeal) -> Response:
    from participation.appeals.presenters import display_tz

    return _render(
        "widgets/message_sent.html",
        appeal=appeal,
        due=local_date(appeal.answer_due_at, display_tz(appeal)),
    )


# --- where the widget sits on the site's page --------------------------------------------------


@bp.post("/<code>/placement")
@limiter.limit("30/minute")
def placement():
    """The widget's position and size on the site's page, for the cabinet's placement warnings.

    The embed script (widget.js) measures the iframe on the site's page and hands the figures
    to the widget's own page by postMessage; that page (widget-login.js) posts them here with
    the site's origin as the browser reported it (event.origin, which the site cannot forge)
    and the widget's CSRF token (checked in _load_widget). This request therefore comes from
    the platform's own origin: a site's page posting here itself is refused, and so is a
    report from any site other than the declared one."""
    origin = services.normalize_site(request.headers.get("Origin"))
    fetch_site = request.headers.get("Sec-Fetch-Site", "same-origin")
    if origin != _own_origin() or fetch_site != "same-origin":
        return jsonify(error=_("Отчёт о размещении отправляет только сам виджет.")), 403
    site = services.normalize_site(request.form.get("site"))
    try:
        values = services.parse_placement(request.form)
        services.record_placement(g.organization, g.settings, site, values)
    except services.PlacementRefused as exc:
        db.session.rollback()
        return jsonify(error=str(exc.message)), exc.status
    db.session.commit()
    return "", 204


# --- surveys ----------------------------------------------------------------------------------


def _offered_survey(survey_id: int):
    if g.settings.kind != WidgetKind.PARTICIPATE:
        abort(404)
    survey = services.offered_survey(g.organization, survey_id)
    if survey is None:
        abort(404)
    return survey


def _survey_page(survey, index, answers, errors, status=200, qn=None, saved=False) -> Response:
    from participation.polls import answering
    from participation.polls.engine import (
        condition_text,
        field_name,
        load_questionnaire,
        rendered_questions,
        text_limit,
    )

    qn = qn or load_questionnaire(survey.id)
    raw = request.form if status != 200 else None
    return _render(
        "widgets/survey.html",
        status,
        survey=survey,
        qn=qn,
        index=index,
        section=qn.sections[index] if qn.sections else None,
        questions=rendered_questions(qn, index, answers),
        answers=answers,
        raw=raw,
        errors=errors,
        numbers={q.id: n for n, q in enumerate(qn.questions, 1)},
        is_last=answering.next_section(qn, index, answers) is None,
        is_first=answering.previous_section(qn, index, answers) is None,
        field_name=field_name,
        condition_text=lambda q: condition_text(qn, q),
        text_limit=text_limit,
        saved=saved,
    )


@bp.post("/<code>/surveys/<int:survey_id>")
def survey(survey_id: int):
    from participation.polls import answering

    session = _session_or_login()
    if session is None:
        return _home(site=None, status=401)
    survey = _offered_survey(survey_id)
    decision = answering.answer_decision(session.user, survey)
    if not decision.allowed:
        g.notice = decision.reason
        return _home(site=None, status=403)
    qn, index, answers = answering.current_position(survey, session.user, False)
    return _survey_page(survey, index, answers, {}, qn=qn)


@bp.post("/<code>/surveys/<int:survey_id>/answer")
@limiter.limit("60/minute")
def survey_answer(survey_id: int):
    from participation.polls import answering

    session = _session_or_login()
    if session is None:
        return _home(site=None, status=401)
    survey = _offered_survey(survey_id)
    decision = answering.answer_decision(session.user, survey)
    if not decision.allowed:
        g.notice = decision.reason
        return _home(site=None, status=403)
    try:
        action = answering.Action(request.form.get("action", "next"))
    except ValueError:
        abort(404)
    section = request.form.get("section", "")
    try:
        step = services.answer_survey(
            g.organization,
            session,
            survey,
            int(section) if section.isdigit() else -1,
            request.form,
            action,
        )
    except DomainError as exc:
        db.session.rollback()
        g.notice = exc.message
        return _home(site=None, status=exc.status)
    if step.outcome == answering.Outcome.INVALID:
        db.session.rollback()
        return _survey_page(survey, step.section, step.answers, step.errors, status=400)
    db.session.commit()
    if step.outcome == answering.Outcome.SUBMITTED:
        return _render("widgets/survey_done.html", survey=survey)
    return _survey_page(
        survey, step.section, step.answers, {}, saved=step.outcome == answering.Outcome.SAVED
    )


# --- votes ------------------------------------------------------------------------------------


def _offered_campaign(campaign_id: int):
    if g.settings.kind != WidgetKind.PARTICIPATE:
        abort(404)
    campaign = services.offered_campaign(g.organization, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _ballot_or_refusal(campaign, session):
    """The objects on the resident's ballot and their district, or a page saying why not."""
    from participation.core import audit
    from participation.voting.services import (
        ballot_objects,
        has_voted,
        voter_district,
        voting_refusal,
    )

    refusal = voting_refusal(campaign, session.user)
    if refusal is not None:
        audit.record(
            "voting.refused", campaign, code=refusal.code, voter_id=session.user_id, via="widget"
        )
        db.session.commit()
        g.notice = refusal.message
        return None, None, _home(site=None, status=refusal.status)
    if has_voted(campaign, session.user):
        g.notice = _("Вы уже проголосовали в этом голосовании.")
        return None, None, _home(site=None, status=409)
    district = voter_district(campaign, session.user)
    return ballot_objects(campaign, district), district, None


def _ballot_page(campaign, objects, district, form, status=200) -> Response:
    from participation.voting.reports import rule_text

    return _render(
        "widgets/ballot.html",
        status,
        campaign=campaign,
        objects=objects,
        district=district,
        form=form,
        rule=rule_text(campaign),
    )


@bp.post("/<code>/votes/<int:campaign_id>")
def ballot(campaign_id: int):
    from participation.voting.forms import ballot_form

    session = _session_or_login()
    if session is None:
        return _home(site=None, status=401)
    campaign = _offered_campaign(campaign_id)
    objects, district, refused = _ballot_or_refusal(campaign, session)
    if refused is not None:
        return refused
    form = ballot_form(campaign, objects, formdata=None, meta={"csrf": False})
    return _ballot_page(campaign, objects, district, form)


@bp.post("/<code>/votes/<int:campaign_id>/confirm")
def ballot_confirm(campaign_id: int):
    from participation.voting.forms import ballot_form, chosen_ids
    from participation.voting.services import validate_choices

    session = _session_or_login()
    if session is None:
        return _home(site=None, status=401)
    campaign = _offered_campaign(campaign_id)
    objects, district, refused = _ballot_or_refusal(campaign, session)
    if refused is not None:
        return refused
    form = ballot_form(campaign, objects, meta={"csrf": False})
    form.validate()
    try:
        chosen = validate_choices(campaign, chosen_ids(form), district)
    except FieldError as exc:
        form.choices.errors = [exc.message]
        return _ballot_page(campaign, objects, district, form, status=400)
    return _render("widgets/vote_confirm.html", campaign=campaign, chosen=chosen)


@bp.post("/<code>/votes/<int:campaign_id>/cast")
@limiter.limit("30/minute")
def ballot_cast(campaign_id: int):
    from participation.voting.services import VotingRefused

    session = _session_or_login()
    if session is None:
        return _home(site=None, status=401)
    campaign = _offered_campaign(campaign_id)
    ids = services.parse_ids(request.form.getlist("choices"))
    try:
        result = services.cast_widget_ballot(g.organization, session, campaign, ids)
    except VotingRefused as refusal:
        db.session.commit()  # keeps the refusal's audit entry; nothing else was written
        g.notice = refusal.message
        return _home(site=None, status=refusal.status)
    except FieldError as exc:
        db.session.commit()
        g.notice = exc.message
        return _home(site=None, status=400)
    db.session.commit()
    return _render("widgets/vote_receipt.html", campaign=campaign, result=result)


# --- the login popup (a first-party window opened by the widget) -----------------------------


# The popup walks /login → ESIA → back here; the returning URL says the login just happened.
FRESH = "fresh"
CONFIRMED = "confirm"
# How recent a login must be to count as made in this popup (else the person confirms).
FRESH_LOGIN_SECONDS = 10 * 60


def _popup_target(code: str, challenge: str, **flags: str) -> str:
    return url_for("widget_login.login", code=code, challenge=challenge, **flags)


def _logged_in_here() -> bool:
    """This popup has just been through ESIA (not a platform session left from before)."""
    login_at = platform_session.get(LOGIN_AT)
    return (
        request.args.get(FRESH) == "1"
        and isinstance(login_at, int)
        and time.time() - login_at <= FRESH_LOGIN_SECONDS
    )


@login_bp.get("/<code>/login")
def login(code: str):
    found = services.active_widget(code)
    challenge = request.args.get("challenge", "")
    if found is None or not services.CHALLENGE_PATTERN.fullmatch(challenge):
        response = make_response(render_template("widgets/unavailable.html"), 404)
    elif not current_user.is_authenticated:
        next_url = _popup_target(code, challenge, **{FRESH: "1"})
        response = redirect(url_for("auth.login", next=next_url))
    elif not _logged_in_here() and request.args.get(CONFIRMED) != "1":
        # Someone is already logged in on this computer: say who, before the widget acts as them.
        organization, _settings = found
        response = make_response(
            render_template(
                "widgets/login_confirm.html",
                organization=organization,
                resident=current_user,
                continue_url=_popup_target(code, challenge, **{CONFIRMED: "1"}),
                switch_url=url_for("widget_login.switch", code=code, challenge=challenge),
            )
        )
    else:
        organization, _settings = found
        ticket = services.issue_login_ticket(current_user, organization, challenge)
        response = make_response(
            render_template(
                "widgets/login_popup.html",
                organization=organization,
                ticket=ticket,
                challenge=challenge,
                resident=current_user,
            )
        )
    response.headers["Cache-Control"] = "no-store"
    # The widget that opened this window keeps its window.opener link to receive the result:
    # core/security.py sends no restrictive COOP for this blueprint.
    return response


@login_bp.post("/<code>/login/switch")
def switch(code: str):
    """«Войти под другой учётной записью»: log the present person out, then ESIA again."""
    challenge = request.args.get("challenge", "")
    if services.active_widget(code) is None or not services.CHALLENGE_PATTERN.fullmatch(challenge):
        abort(404)
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
        db.session.commit()
    next_url = _popup_target(code, challenge, **{FRESH: "1"})
    return redirect(url_for("auth.login", next=next_url))
