"""/api/v1/org: an organisation's inbox, message cards, СЭД registration, workflow actions and
answers, letters filed from the СЭД, and the statistics CSV — for its API keys.

Each view loads (404 for what the key's technical member may not see, as the staff card
would), authorizes (the key's scope, then the same predicates and workflow table as the staff
pages), and calls the one service the staff pages call. A transition the message's state does
not allow is a 409 naming the state; one the state allows but not to this key, a 403.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from participation.api.auth import key_principal, require_key
from participation.api.models import ApiScope
from participation.api.multipart import MultipartApiBlueprint
from participation.api.organization_presenters import (
    LINE_OPTIONS,
    BadCursor,
    folders,
    inbox_lines,
    make_cursor,
    message_card,
    read_cursor,
)
from participation.api.organization_schemas import (
    AnswerIn,
    AssignIn,
    ExecutorsOut,
    FileLetterIn,
    FoldersOut,
    InboxPageOut,
    InboxQuery,
    MessageCardOut,
    PostponeIn,
    ReassignIn,
    RedirectIn,
    ResumeIn,
    SedRegistrationIn,
    StatisticsQuery,
)
from participation.api.problems import Problem
from participation.appeals import services
from participation.appeals.inbox import Filters, bucket_counts, keyset_page, parse_folder
from participation.appeals.models import Appeal, AppealAnswer, Arrival, Channel
from participation.appeals.permissions import available_actions, can_view_as_staff, subtree_ids
from participation.appeals.workflow import ACTION_LABELS, STATE_LABELS, WORKFLOW, Action
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.exports import CSV_MIMETYPE, content_disposition
from participation.core.files import attachment_by_public_id, attachment_path, can_view_attachment
from participation.core.labels import role_label
from participation.core.organizations import Organization
from participation.core.permissions import require
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import Role, User
from participation.extensions import db
from participation.reports.export_forms import ExportForm
from participation.reports.exports import stat_csv
from participation.reports.permissions import allowed_scope, region_id_of
from participation.reports.services import Scope
from participation.reports.summary import local_today

bp = MultipartApiBlueprint(
    "api_organization",
    __name__,
    url_prefix="/api/v1/org",
    description=(
        "Организация и СЭД: входящие по папкам с курсорами, карточка сообщения, регистрация "
        "в СЭД, статусы и ответы через тот же порядок работы, что в кабинете, статистика."
    ),
)

FILE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")


def _caller() -> tuple[User, Organization]:
    key = key_principal().key
    return key.user, key.organization


def _load(appeal_id: int) -> tuple[Appeal, User, Organization]:
    """The message, if the key's member may see it as the staff card would (else 404)."""
    user, organization = _caller()
    appeal = db.session.get(Appeal, appeal_id)
    require(
        appeal is not None and can_view_as_staff(user, appeal, organization),
        reason="api: message of others",
    )
    return appeal, user, organization


def _card(appeal: Appeal, user: User, organization: Organization) -> dict[str, Any]:
    return message_card(appeal, user, organization)


# --- reading -----------------------------------------------------------------------------------


@bp.route("/inbox")
@require_key(ApiScope.MESSAGES_READ)
@bp.etag
@bp.arguments(InboxQuery, location="query", as_kwargs=True)
@bp.response(200, InboxPageOut)
def inbox(folder: str, limit: int, cursor: str | None = None, **args: Any):
    """Входящие организации: одна папка с фильтрами, страницы по курсору

    Те же папки, фильтры и права, что во «Входящих» кабинета. Страницы идут по курсору:
    следующая начинается строго после последнего сообщения предыдущей, поэтому сообщения,
    поступившие или ушедшие из папки за это время, не дают ни повторов, ни пропусков. С
    сортировкой `received` (по умолчанию) новые сообщения всегда попадают в конец: клиент,
    дочитавший до `next_cursor: null`, позже продолжит с сохранённого курсора.
    """
    user, organization = _caller()
    filters = Filters(
        bucket=parse_folder(folder),
        due_before=args.get("due_before"),
        overdue=args["overdue"],
        auto=args["auto"],
        channel=Channel(args["channel"]) if args.get("channel") else None,
        stage=Arrival(args["stage"]) if args.get("stage") else None,
        q=" ".join((args.get("q") or "").split()),
        sort=args["sort"],
        size=limit,
        sed=args.get("sed_registered"),
    )
    key_id = key_principal().key.id
    after = None
    if cursor is not None:
        try:
            after = read_cursor(cursor, filters, key_id)
        except BadCursor:
            raise Problem(
                422,
                kind="validation",
                errors={
                    "query.cursor": [
                        _(
                            "Курсор повреждён или выдан для других папки, фильтров или "
                            "сортировки. Начните без курсора."
                        )
                    ]
                },
            ) from None
    page = keyset_page(user, organization, filters, after, limit, options=LINE_OPTIONS)
    return {
        "folder": filters.bucket.value,
        "items": inbox_lines(page.items),
        "next_cursor": make_cursor(page.next_after, filters, key_id) if page.next_after else None,
    }


@bp.route("/inbox/folders")
@require_key(ApiScope.MESSAGES_READ)
@bp.etag
@bp.response(200, FoldersOut)
def inbox_folders():
    """Папки входящих с числом сообщений, включая «Отправлено в СЭД»

    «Отправлено в СЭД» — не отдельная стадия: это зарегистрированные в СЭД этой организации
    сообщения, которые у неё сейчас, — «в работе», пока ответа нет, и «получен ответ», когда
    проект ответа отправлен руководителю, утверждён или работа завершена. Каждое такое
    сообщение остаётся и в своей обычной папке.
    """
    user, organization = _caller()
    return folders(bucket_counts(user, organization))


@bp.route("/executors")
@require_key(ApiScope.MESSAGES_READ)
@bp.etag
@bp.response(200, ExecutorsOut)
def executors():
    """Исполнители организации (кому можно назначить сообщение)"""
    _user, organization = _caller()
    return {
        "executors": [
            {"id": u.id, "name": u.full_name} for u in services.executors_of(organization.id)
        ]
    }


@bp.route("/messages/<int:appeal_id>")
@require_key(ApiScope.MESSAGES_READ)
@bp.etag
@bp.response(200, MessageCardOut)
def message(appeal_id: int):
    """Карточка сообщения: то же, что видит сотрудник, и доступные ключу действия

    Сообщение другой организации (которое её сотрудник не увидел бы в кабинете) — 404.
    """
    appeal, user, organization = _load(appeal_id)
    return _card(appeal, user, organization)


@bp.route("/messages/<int:appeal_id>/files/<file_id>")
@require_key(ApiScope.MESSAGES_READ)
@bp.doc(
    responses={
        200: {
            "description": "Файл сообщения или ответа (фото или PDF)",
            "content": {t: {} for t in FILE_TYPES},
        }
    }
)
def message_file(appeal_id: int, file_id: str):
    """Скачать файл заявителя или приложение к ответу"""
    appeal, user, _organization = _load(appeal_id)
    attachment = attachment_by_public_id(file_id)
    answer_ids = {
        str(i)
        for i in db.session.scalars(
            sa.select(AppealAnswer.id).where(AppealAnswer.appeal_id == appeal.id)
        )
    }
    belongs = attachment is not None and (
        (attachment.attached_to_type == "appeal" and attachment.attached_to_id == str(appeal.id))
        or (
            attachment.attached_to_type == "appeal_answer"
            and attachment.attached_to_id in answer_ids
        )
    )
    require(belongs and can_view_attachment(user, attachment), reason="api: file of others")
    try:
        path = attachment_path(attachment)
    except FileNotFoundError:
        require(False, reason="api: file missing in storage")
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )


# --- registration in the СЭД and letters from it -----------------------------------------------


@bp.route("/messages/<int:appeal_id>/sed-registration", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(SedRegistrationIn)
@bp.response(200, MessageCardOut, description="Та же регистрация уже была записана")
@bp.alt_response(201, schema=MessageCardOut, description="Регистрация записана", success=True)
def register(payload: dict[str, Any], appeal_id: int):
    """Зарегистрировать сообщение в СЭД: номер и дата регистрации

    Сообщение попадает в папку «Отправлено в СЭД» (подпапка «в работе», пока нет ответа) и
    остаётся в своей обычной папке. Повтор с теми же номером и датой ничего не меняет (200);
    другой номер у уже зарегистрированного здесь сообщения — 409.
    """
    appeal, user, organization = _load(appeal_id)
    result = services.register_in_sed(
        appeal, user, organization, payload["number"], payload["date"]
    )
    return _card(result.appeal, user, organization), 201 if result.created else 200


@bp.route("/messages", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(FileLetterIn, location="multipart")
@bp.response(201, MessageCardOut, headers={"Location": {"schema": {"type": "string"}}})
def file_letter(payload: dict[str, Any]):
    """Внести письмо из СЭД: сообщение от имени заявителя, «Из СЭД»

    Письмо, сначала зарегистрированное в СЭД организации (бумажное, по телефону), вносится
    как сообщение оператора приёма со слов заявителя: адресат — эта организация, стадия
    поступления «Из СЭД», регистрация в СЭД записана сразу. Дальше — как любое сообщение:
    модерация, координация, исполнение. Тело — multipart/form-data (файлы — в `files`).
    """
    user, organization = _caller()
    submission = _with_files_field(
        lambda: services.file_from_sed(
            submitted_by=user,
            organization=organization,
            sed_number=payload["sed_number"],
            sed_date=payload["sed_date"],
            caller=services.Caller(
                name=payload["applicant_name"],
                phone=payload.get("applicant_phone"),
                email=payload.get("applicant_email"),
            ),
            subcategory_id=payload["subcategory_id"],
            text=payload["text"],
            territory_id=payload["territory_id"],
            address=payload.get("address"),
            latitude=payload.get("latitude"),
            longitude=payload.get("longitude"),
            files=payload.get("files") or [],
        )
    )
    appeal = submission.appeal
    location = url_for("api_organization.message", appeal_id=appeal.id)
    return _card(appeal, user, organization), 201, {"Location": location}


# --- workflow actions ----------------------------------------------------------------------------


def _authorize(
    appeal: Appeal, user: User, organization: Organization, action: Action, state: str | None
) -> None:
    """409 when the message's state does not allow the action (naming the state), or is not
    the one the client saw; 403 when the state allows it but not for this key."""
    here = _("«%(label)s» (%(state)s)", label=STATE_LABELS[appeal.state], state=appeal.state.value)
    if state is not None and state != appeal.state.value:
        raise Problem(409, _("Сообщение уже в состоянии %(here)s: обновите карточку.", here=here))
    row = WORKFLOW.get(appeal.state, action)
    if row is None:
        raise Problem(
            409,
            _(
                "Действие «%(action)s» невозможно: сообщение в состоянии %(here)s.",
                action=ACTION_LABELS[action],
                here=here,
            ),
        )
    if action in available_actions(user, appeal, organization):
        return
    if appeal.holder_organization_id != organization.id:
        detail = _(
            "Сообщение сейчас у организации «%(org)s»: действовать по нему может она.",
            org=appeal.holder_organization.display_name,
        )
    elif Role.EXECUTOR in row.roles and appeal.executor_id not in (None, user.id):
        detail = _(
            "Сообщение назначено другому исполнителю (%(name)s): действие «%(action)s» "
            "выполняет он.",
            name=appeal.executor.full_name,
            action=ACTION_LABELS[action],
        )
    else:
        roles = ", ".join(str(role_label(r)) for r in row.roles if isinstance(r, Role))
        detail = _(
            "Действие «%(action)s» в состоянии %(here)s выполняет: %(roles)s. У ключа нет "
            "этой роли для этого сообщения.",
            action=ACTION_LABELS[action],
            here=here,
            roles=roles,
        )
    raise Problem(403, detail, kind="forbidden")


def _act(appeal_id: int, action: Action, payload: dict[str, Any], call) -> dict[str, Any]:
    appeal, user, organization = _load(appeal_id)
    _authorize(appeal, user, organization, action, payload.get("state"))
    call(appeal, user, {"expected_state": payload.get("state")})
    return _card(appeal, user, organization)


def _with_files_field(call):
    """The services name the files field `attachments`; the API's field is `files`."""
    try:
        return call()
    except FieldError as exc:
        if exc.field == "attachments":
            exc.field = "files"
        raise


@bp.route("/messages/<int:appeal_id>/assign", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(AssignIn)
@bp.response(200, MessageCardOut)
def assign(payload: dict[str, Any], appeal_id: int):
    """Взять в работу: назначить исполнителя (без executor_id — сам ключ)

    Как «Назначить исполнителя» у координатора: сообщение в состоянии «Назначение
    исполнителя» переходит «В работу».
    """
    return _act(
        appeal_id,
        Action.ASSIGN,
        payload,
        lambda a, u, kw: services.assign_executor(
            a, u, payload.get("executor_id", u.id), payload.get("comment"), **kw
        ),
    )


@bp.route("/messages/<int:appeal_id>/reassign", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(ReassignIn)
@bp.response(200, MessageCardOut)
def reassign(payload: dict[str, Any], appeal_id: int):
    """Переназначить исполнителя"""
    return _act(
        appeal_id,
        Action.REASSIGN,
        payload,
        lambda a, u, kw: services.reassign_executor(
            a, u, payload["executor_id"], payload.get("comment"), **kw
        ),
    )


@bp.route("/messages/<int:appeal_id>/postpone", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(PostponeIn)
@bp.response(200, MessageCardOut)
def postpone(payload: dict[str, Any], appeal_id: int):
    """Отложить решение: причина и новая дата ответа (заявитель получит уведомление)"""
    return _act(
        appeal_id,
        Action.POSTPONE,
        payload,
        lambda a, u, kw: services.postpone_appeal(a, u, payload["until"], payload["reason"], **kw),
    )


@bp.route("/messages/<int:appeal_id>/resume", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(ResumeIn)
@bp.response(200, MessageCardOut)
def resume(payload: dict[str, Any], appeal_id: int):
    """Возобновить работу по отложенному сообщению"""
    return _act(
        appeal_id,
        Action.RESUME,
        payload,
        lambda a, u, kw: services.resume_appeal(a, u, payload.get("comment"), **kw),
    )


@bp.route("/messages/<int:appeal_id>/redirect", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(RedirectIn)
@bp.response(200, MessageCardOut)
def redirect(payload: dict[str, Any], appeal_id: int):
    """Перенаправить в другую организацию (с причиной)"""
    return _act(
        appeal_id,
        Action.REDIRECT,
        payload,
        lambda a, u, kw: services.redirect_appeal(
            a, u, payload["organization_id"], payload["reason"], **kw
        ),
    )


@bp.route("/messages/<int:appeal_id>/answer", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(AnswerIn, location="multipart")
@bp.response(200, MessageCardOut)
def answer(payload: dict[str, Any], appeal_id: int):
    """Отправить ответ с файлами на согласование руководителю

    Как «Отправить проект ответа на согласование» у исполнителя: ответ уходит руководителю
    организации, заявитель получит его только после утверждения (как в кабинете). Отвечает
    назначенный исполнитель — возьмите сообщение в работу (`assign`) без executor_id.
    Тело — multipart/form-data: `text` и файлы в `files` (фото или PDF, до 5).
    """
    return _act(
        appeal_id,
        Action.SUBMIT_DRAFT,
        payload,
        lambda a, u, kw: _with_files_field(
            lambda: services.submit_draft(a, u, payload["text"], payload.get("files") or [], **kw)
        ),
    )


# --- statistics ----------------------------------------------------------------------------------


@bp.route("/statistics.csv")
@require_key(ApiScope.STATISTICS_READ)
@bp.arguments(StatisticsQuery, location="query", as_kwargs=True)
@bp.doc(
    responses={
        200: {
            "description": (
                "Статистика сообщений без персональных данных и текстов: CSV в UTF-8 с BOM, "
                "разделитель «;»"
            ),
            "content": {CSV_MIMETYPE: {}},
        }
    }
)
def statistics(**args: Any):
    """Статистика сообщений (CSV) по организации и подведомственным — без персональных данных

    Тот же файл, что «Статистика» в аналитике кабинета: по дням, муниципальным образованиям,
    категориям и источникам — только счётчики (поступило, дан ответ, в срок, оценки…), ни
    имён, ни текстов. Период по умолчанию — текущий месяц.
    """
    user, organization = _caller()
    form = ExportForm(
        MultiDict({k: args[k].isoformat() for k in ("start", "end") if args.get(k) is not None})
    )
    if not form.validate():
        raise Problem(
            422,
            kind="validation",
            errors={
                f"query.{name}": [str(e) for e in field.errors]
                for name, field in form._fields.items()
                if field.errors
            },
        )
    region_id = args.get("region") or region_id_of(organization)
    region = db.session.get(Territory, region_id) if region_id else None
    if region is None or region.level != TerritoryLevel.REGION:
        raise Problem(
            422,
            kind="validation",
            errors={
                "query.region": [
                    _("Укажите регион (субъект РФ): у организации нет своего региона.")
                    if region_id is None
                    else _("Такого региона нет.")
                ]
            },
        )
    requested = Scope(region_id=region_id, organization_ids=frozenset(subtree_ids(organization)))
    scope = allowed_scope(user, organization, requested)
    require(scope is not None, status=403, reason="api: statistics scope")
    period = form.period(local_today(organization.territory.timezone, utcnow()))
    ascii_ = f"{period.start.isoformat()}_{period.end.isoformat()}"
    response = Response(
        stream_with_context(stat_csv(scope, period, public=False)), mimetype=CSV_MIMETYPE
    )
    response.headers["Content-Disposition"] = content_disposition(
        _("Статистика обращений %(start)s–%(end)s.csv", start=period.start, end=period.end),
        f"statistics-{ascii_}.csv",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
