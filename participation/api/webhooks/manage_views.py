"""The «Вебхуки» section of the staff cabinet: endpoints, secrets, the delivery log, resending."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.api.webhooks import services
from participation.api.webhooks.forms import (
    EVENT_LABELS,
    STATUS_LABELS,
    ActionForm,
    EndpointForm,
)
from participation.api.webhooks.models import WebhookDelivery, WebhookEndpoint
from participation.api.webhooks.permissions import (
    can_manage_endpoint,
    can_manage_webhooks,
    can_resend,
)
from participation.backoffice.gate import current_organization, staff_context, staff_gate
from participation.core.db import utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.pagination import paginate
from participation.core.permissions import require
from participation.extensions import db

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")
bp.before_request(staff_gate)
bp.context_processor(staff_context)


@bp.before_request
def _administrators_only():
    require(
        can_manage_webhooks(current_user, current_organization()), reason="not an administrator"
    )


@bp.context_processor
def _labels() -> dict:
    return {"event_labels": EVENT_LABELS, "status_labels": STATUS_LABELS}


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    require(
        can_manage_endpoint(current_user, endpoint, current_organization()),
        reason="webhook endpoint of another organization",
    )
    return endpoint


def _delivery(delivery_id: int) -> WebhookDelivery:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    require(
        can_resend(current_user, delivery, current_organization()),
        reason="webhook delivery of another organization",
    )
    return delivery


def _checked() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.get("/")
def index():
    organization = current_organization()
    endpoints = services.endpoints_of(organization)
    return render_template(
        "api/webhooks/index.html",
        organization=organization,
        endpoints=endpoints,
        last=services.last_deliveries(endpoints),
    )


def _save(form: EndpointForm, endpoint: WebhookEndpoint | None) -> WebhookEndpoint | None:
    """Create or update from the form; None (errors put next to the fields) if refused."""
    if not form.validate_on_submit():
        return None
    values = {
        "url": form.url.data,
        "description": form.description.data,
        "event_types": form.events.data,
    }
    try:
        if endpoint is None:
            saved = services.create_endpoint(current_organization(), current_user, **values)
        else:
            saved = services.update_endpoint(endpoint, current_user, **values)
    except FieldError as exc:
        db.session.rollback()
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
        return None
    db.session.commit()
    return saved


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EndpointForm()
    endpoint = _save(form, None)
    if endpoint is not None:
        flash(
            _(
                "Адрес добавлен. Скопируйте секрет подписи ниже в свою систему: "
                "по нему она проверяет, что событие отправили мы."
            ),
            "success",
        )
        return redirect(url_for("webhooks_admin.endpoint", endpoint_id=endpoint.id) + "#secret")
    status = 400 if form.is_submitted() else 200
    return render_template("api/webhooks/form.html", form=form, endpoint=None), status


@bp.route("/<int:endpoint_id>/edit", methods=["GET", "POST"])
def edit(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = EndpointForm(
        url=endpoint.url,
        description=endpoint.description or "",
        events=[e.value for e in endpoint.event_types],
    )
    if _save(form, endpoint) is not None:
        flash(_("Настройки адреса сохранены."), "success")
        return redirect(url_for("webhooks_admin.endpoint", endpoint_id=endpoint_id))
    status = 400 if form.is_submitted() else 200
    return render_template("api/webhooks/form.html", form=form, endpoint=endpoint), status


@bp.get("/<int:endpoint_id>")
def endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    return render_template(
        "api/webhooks/endpoint.html",
        endpoint=endpoint,
        page=paginate(services.deliveries_query(endpoint), default_size=50),
        action_form=ActionForm(formdata=None),
        now=utcnow(),
    )


@bp.post("/<int:endpoint_id>/secret")
def rotate(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _checked()
    services.rotate_secret(endpoint, current_user)
    db.session.commit()
    flash(
        _(
            "Создан новый секрет. Ещё 24 часа события подписываются и прежним секретом "
            "(две подписи в заголовке webhook-signature): замените секрет в своей системе."
        ),
        "success",
    )
    return redirect(url_for("webhooks_admin.endpoint", endpoint_id=endpoint_id) + "#secret")


@bp.post("/<int:endpoint_id>/pause")
def pause(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _checked()
    services.set_active(endpoint, current_user, False)
    db.session.commit()
    flash(
        _(
            "Отправка на этот адрес приостановлена. Неотправленные события подождут "
            "24 часа с момента события: включите адрес, и они уйдут."
        ),
        "success",
    )
    return redirect(url_for("webhooks_admin.endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/resume")
def resume(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _checked()
    services.set_active(endpoint, current_user, True)
    db.session.commit()
    flash(_("Отправка на этот адрес включена."), "success")
    return redirect(url_for("webhooks_admin.endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/delete")
def delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _checked()
    services.delete_endpoint(endpoint, current_user)
    db.session.commit()
    flash(_("Адрес удалён вместе с журналом его доставок."), "success")
    return redirect(url_for("webhooks_admin.index"))


@bp.get("/deliveries/<int:delivery_id>")
def delivery(delivery_id: int):
    delivery = _delivery(delivery_id)
    return render_template(
        "api/webhooks/delivery.html",
        delivery=delivery,
        endpoint=delivery.endpoint,
        event=delivery.event,
        action_form=ActionForm(formdata=None),
    )


@bp.post("/deliveries/<int:delivery_id>/resend")
def resend(delivery_id: int):
    delivery = _delivery(delivery_id)
    _checked()
    endpoint_id = delivery.endpoint_id
    try:
        services.resend_delivery(delivery, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(
            _(
                "Событие отправляется повторно с тем же идентификатором (webhook-id). "
                "Результат — в журнале доставок."
            ),
            "success",
        )
    return redirect(url_for("webhooks_admin.endpoint", endpoint_id=endpoint_id) + "#log")
