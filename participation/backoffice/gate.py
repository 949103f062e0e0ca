"""The staff cabinet's entrance, shared by every staff blueprint (/backoffice, /admin, …).

`staff_gate` runs before each staff page: an anonymous visitor goes to the login page, a
resident gets 404, and the current organization is resolved (the one picked with the switcher
and kept in the session, else the first by name). Until that organization has both readiness
confirmations («ЛКО готов к работе», «Мною пройдено обучение») every staff page except the
confirmation screen and the switcher redirects to the confirmation screen. After that, a page
of a component (readiness.COMPONENTS: messages, votes, surveys…) whose own readiness the
organization has not confirmed yet shows the reason (403) instead; the other components work.
A page about an object of another organization (a survey, a direct line of a host) checks that
organization with `require_component_ready`.

Another feature's staff blueprint joins with:
    bp.before_request(staff_gate)
    bp.context_processor(staff_context)
and reads the organization with `current_organization()`.
"""

from __future__ import annotations

from flask import abort, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from participation.backoffice.permissions import can_use_backoffice
from participation.backoffice.readiness import (
    BY_KEY,
    Component,
    closed_reason,
    component_of,
    is_confirmed,
    may_confirm,
    role_names,
)
from participation.backoffice.services import staff_organizations
from participation.core.organizations import Organization
from participation.core.permissions import deny, require
from participation.extensions import login_manager

CURRENT_ORGANIZATION = "staff_organization_id"
# Reachable while the organization is not confirmed yet.
GATE_EXEMPT = frozenset({"backoffice.confirm", "backoffice.switch_organization"})


def _resolve() -> None:
    organizations = staff_organizations(current_user)
    chosen = session.get(CURRENT_ORGANIZATION)
    current = next((o for o in organizations if o.id == chosen), None)
    g.staff_organizations = organizations
    g.staff_organization = current or (organizations[0] if organizations else None)


def current_organization() -> Organization:
    """The organization the logged-in staff member works in now (404 if there is none)."""
    if "staff_organization" not in g:
        _resolve()
    if g.staff_organization is None:
        deny(reason="no staff organization")
    return g.staff_organization


def choose_organization(organization_id: int) -> Organization:
    """Make one of the person's organizations the current one (404 for any other id)."""
    if "staff_organizations" not in g:
        _resolve()
    chosen = next((o for o in g.staff_organizations if o.id == organization_id), None)
    require(chosen is not None, reason="switch to a foreign organization")
    session[CURRENT_ORGANIZATION] = chosen.id
    g.staff_organization = chosen
    return chosen


def staff_gate():
    """before_request of staff blueprints: login, staff only, readiness confirmations."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require(can_use_backoffice(current_user), reason="not staff")
    organization = current_organization()
    if not organization.is_ready and request.endpoint not in GATE_EXEMPT:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("backoffice.confirm", next=target))
    component = component_of(request.endpoint)
    if component is not None and not is_confirmed(organization, component.key):
        return component_closed(organization, component)
    return None


def component_closed(organization: Organization, component: Component):
    """The page shown instead of a component's page: why it is closed, who opens it."""
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    html = render_template(
        "backoffice/component_closed.html",
        organization=organization,
        component=component,
        reason=closed_reason(organization, component),
        confirmers=role_names(component, organization),
        may_confirm=may_confirm(current_user, organization, component),
        next=target,
    )
    return make_response(html, 403)


def require_component_ready(organization: Organization, key: str) -> None:
    """Stop the request with the reason page unless `organization` confirmed component `key`."""
    if not is_confirmed(organization, key):
        abort(component_closed(organization, BY_KEY[key]))


def staff_context() -> dict:
    """Template variables of staff pages: the current organization and the switcher."""
    from participation.backoffice.forms import SwitchOrganizationForm

    if not current_user.is_authenticated or g.get("staff_organization") is None:
        return {}
    organizations = g.staff_organizations
    form = SwitchOrganizationForm(formdata=None, organization_id=g.staff_organization.id)
    form.organization_id.choices = [SelectChoice(o.id, o.display_name) for o in organizations]
    return {
        "staff_organization": g.staff_organization,
        "staff_organizations": organizations,
        "switch_form": form,
    }
