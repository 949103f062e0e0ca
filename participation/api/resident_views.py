"""Resident API (the mobile app, channel «API»): topics, my messages, answers, rating, feed.

Every view calls the service the cabinet's page calls (participation.appeals.services): the same
checks, routing, deadlines, files, rating rules and notices; a message sent here is an ordinary
message of the API channel. Another resident's message is a 404, as in the cabinet.
"""

from __future__ import annotations

from flask import request, send_file, url_for
from flask_babel import gettext as _

from participation.api.auth import current_principal
from participation.api.idempotency import HEADER, idempotency_exempt
from participation.api.multipart import MultipartApiBlueprint
from participation.api.problems import Problem
from participation.api.resident_auth import resident
from participation.api.resident_presenters import (
    appeal_card,
    appeal_page,
    find_appeal_file,
    notification_page,
    topic_suggestions,
    unread_count,
)
from participation.api.resident_schemas import (
    AppealCardOut,
    AppealListOut,
    MarkReadIn,
    MarkReadOut,
    NotificationListOut,
    PageQuery,
    RatingIn,
    ReworkIn,
    SubmitAppealIn,
    SuggestIn,
    SuggestionsOut,
)
from participation.api.resident_services import mark_notifications_read, submission_key
from participation.appeals import services
from participation.appeals.models import Appeal, Channel, RatingVia
from participation.appeals.permissions import can_return_for_rework, can_view_own
from participation.auth.eligibility import check
from participation.core.db import utcnow
from participation.core.files import ALLOWED_TYPES, attachment_path
from participation.core.permissions import require
from participation.core.users import User
from participation.extensions import db

bp = MultipartApiBlueprint(
    "api_resident",
    __name__,
    url_prefix="/api/v1",
    description="Житель: сообщения о проблемах, ответы, оценки, уведомления (токен приложения)",
)

LOCATION = {"Location": {"description": "Адрес карточки сообщения", "schema": {"type": "string"}}}
FILE_RESPONSE = {
    "description": "Файл",
    # OpenAPI 3.1: a binary body is a media type without a schema.
    "content": {kind: {} for kind in ALLOWED_TYPES},
}


def _me() -> User:
    principal = current_principal()
    assert principal is not None  # guaranteed by @resident
    return principal.user


def _own_appeal(appeal_id: int) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    # Missing and someone else's answer alike (ids are not to be probed); the denial is logged.
    require(
        appeal is not None and can_view_own(_me(), appeal),
        reason="api: no such appeal of this resident",
    )
    return appeal


def _card_url(appeal_id: int) -> str:
    return url_for("api_resident.my_appeal", appeal_id=appeal_id)


# --- topics ------------------------------------------------------------------------------------


@bp.route("/topic-suggestions", methods=["POST"])
@idempotency_exempt
@resident("appeals")
@bp.arguments(SuggestIn)
@bp.response(200, SuggestionsOut)
def suggest_topics(body):
    """Подсказать тему сообщения по его тексту

    Те же подсказки, что в форме на портале: до трёх подкатегорий с уверенностью; `selected` —
    тема, которую форма выбрала бы сама. Ничего не сохраняет (Idempotency-Key не нужен).
    """
    return topic_suggestions(body["text"], _me())


# --- my messages -------------------------------------------------------------------------------


@bp.route("/my/appeals", methods=["GET"])
@resident("appeals")
@bp.etag
@bp.arguments(PageQuery, location="query", as_kwargs=True)
@bp.response(200, AppealListOut)
def my_appeals(limit: int, cursor: tuple | None = None):
    """Мои сообщения (новые сверху, постранично по курсору)"""
    items, next_cursor = appeal_page(_me(), cursor, limit)
    return {"items": items, "next_cursor": next_cursor}


@bp.route("/my/appeals", methods=["POST"])
@resident("appeals")
@bp.arguments(SubmitAppealIn, location="multipart")
@bp.response(201, AppealCardOut, headers=LOCATION)
@bp.alt_response(
    200,
    schema=AppealCardOut,
    headers=LOCATION,
    description="Это сообщение уже было отправлено (тот же Idempotency-Key)",
)
def submit_appeal(form):
    """Сообщить о проблеме (multipart/form-data, с фотографиями)

    Те же проверки, что у формы на портале: тема из справочника, текст, муниципалитет, адрес
    или точка, файлы (JPEG, PNG, WEBP, HEIC, PDF; проверяются по содержимому и размеру). Та же
    маршрутизация и сроки; канал — «Мобильное приложение». Повтор с тем же Idempotency-Key
    не создаёт второго сообщения.
    """
    user = _me()
    decision = check(user, services.eligibility_rule(), utcnow().date())
    if not decision.allowed:
        raise Problem(403, decision.reason, kind="not-eligible")
    submission = services.submit_appeal(
        submitted_by=user,
        submission_key=submission_key(current_principal().ident, request.headers[HEADER].strip()),
        subcategory_id=form["subcategory_id"],
        text=form["text"],
        territory_id=form["territory_id"],
        address=form.get("address"),
        latitude=form.get("latitude"),
        longitude=form.get("longitude"),
        files=form.get("attachments") or [],
        channel=Channel.API,
    )
    card = appeal_card(submission.appeal, user)
    db.session.commit()
    return card, 201 if submission.created else 200, {"Location": _card_url(card["id"])}


@bp.route("/my/appeals/<int:appeal_id>", methods=["GET"])
@resident("appeals")
@bp.etag
@bp.response(200, AppealCardOut)
def my_appeal(appeal_id: int):
    """Моё сообщение: статус, срок, ход рассмотрения, ответ и его файлы, оценка"""
    return appeal_card(_own_appeal(appeal_id), _me())


@bp.route("/my/appeals/<int:appeal_id>/files/<file_id>", methods=["GET"], endpoint="appeal_file")
@resident("appeals")
@bp.doc(responses={200: FILE_RESPONSE, 304: "NOT_MODIFIED"})
def appeal_file_download(appeal_id: int, file_id: str):
    """Скачать файл моего сообщения или ответа на него"""
    appeal = _own_appeal(appeal_id)
    attachment = find_appeal_file(appeal, file_id, _me())
    if attachment is None:
        raise Problem(404, _("Файл не найден."), kind="not-found")
    try:
        path = attachment_path(attachment)
    except FileNotFoundError:
        raise Problem(404, _("Файл не найден."), kind="not-found") from None
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=not attachment.inline,
        download_name=attachment.original_name,
        etag=attachment.sha256,
        max_age=0,
        conditional=True,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/my/appeals/<int:appeal_id>/rating", methods=["POST"])
@resident("appeals")
@bp.arguments(RatingIn)
@bp.response(201, AppealCardOut, headers=LOCATION)
def rate_answer(body, appeal_id: int):
    """Оценить ответ (1–5)

    Один раз, пока ответ ждёт оценки. Оценка 1 или 2 передаёт сообщение на рассмотрение
    в вышестоящую организацию (в карточке появится `review`), как в личном кабинете.
    """
    appeal = _own_appeal(appeal_id)
    user = _me()
    services.rate_appeal(appeal, user, body["score"], body.get("comment"), via=RatingVia.CABINET)
    card = appeal_card(appeal, user)
    db.session.commit()
    return card, 201, {"Location": _card_url(appeal.id)}


@bp.route("/my/appeals/<int:appeal_id>/rework", methods=["POST"])
@resident("appeals")
@bp.arguments(ReworkIn)
@bp.response(200, AppealCardOut)
def return_for_rework(body, appeal_id: int):
    """Вернуть ответ на доработку (один раз, вместо оценки)"""
    appeal = _own_appeal(appeal_id)
    user = _me()
    if not can_return_for_rework(user, appeal):
        raise Problem(409, _("Вернуть этот ответ на доработку сейчас нельзя."), kind="conflict")
    services.return_for_rework(appeal, user, body["comment"])
    card = appeal_card(appeal, user)
    db.session.commit()
    return card


# --- notifications -----------------------------------------------------------------------------


@bp.route("/my/notifications", methods=["GET"])
@resident("appeals")
@bp.etag
@bp.arguments(PageQuery, location="query", as_kwargs=True)
@bp.response(200, NotificationListOut)
def my_notifications(limit: int, cursor: tuple | None = None):
    """Мои уведомления (новые сверху, постранично по курсору)"""
    user = _me()
    items, next_cursor = notification_page(user, cursor, limit)
    return {"items": items, "next_cursor": next_cursor, "unread_count": unread_count(user)}


@bp.route("/my/notifications/read", methods=["POST"])
@resident("appeals")
@bp.arguments(MarkReadIn)
@bp.response(200, MarkReadOut)
def mark_read(body):
    """Отметить уведомления прочитанными"""
    user = _me()
    marked = mark_notifications_read(user, body.get("up_to_id"))
    left = unread_count(user)
    db.session.commit()
    return {"marked": marked, "unread_count": left}
