"""A test-only API blueprint (registered through API_EXTRA_BLUEPRINTS by tests/conftest.py):
POST endpoints that go through the whole pipeline — Bearer key, JSON body with a schema,
Idempotency-Key, a row written — and endpoints that fail in each way an endpoint can."""

from __future__ import annotations

import time

import marshmallow as ma
from flask import url_for

from participation.api.auth import key_principal, require_key, require_resident
from participation.api.idempotency import idempotency_exempt
from participation.api.models import ApiScope
from participation.api.openapi import ApiBlueprint
from participation.core import audit
from participation.core.errors import Conflict, DomainError, FieldError
from participation.extensions import db

bp = ApiBlueprint("api_probe", __name__, url_prefix="/api/v1/probe", description="Тесты")


class NoteIn(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    count = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10))
    tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=5)))


class NoteOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)


class FailIn(ma.Schema):
    how = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["field", "conflict", "rule", "crash"])
    )


@bp.route("/notes", methods=["POST"])
@require_key(ApiScope.MESSAGES_WRITE)
@bp.arguments(NoteIn)
@bp.response(201, NoteOut)
def create_note(data):
    """Записать заметку (строку журнала аудита)"""
    if data["text"].startswith("slow"):
        time.sleep(0.3)  # concurrency tests: the twin arrives while this one works
    entry = audit.record(
        "probe.note",
        object_type="probe",
        object_id=data["text"],
        text=data["text"],
        key=key_principal().key.id,
    )
    db.session.commit()
    return (
        {"id": entry.id, "text": data["text"]},
        201,
        {"Location": url_for("api_probe.create_note", _external=False) + f"/{entry.id}"},
    )


@bp.route("/fail", methods=["POST"])
@require_key()
@bp.arguments(FailIn)
@bp.response(200, NoteOut)
def fail(data):
    """Сделать запись и упасть: ничего не должно сохраниться"""
    audit.record("probe.half_saved", object_type="probe", object_id="x")
    db.session.flush()
    if data["how"] == "field":
        raise FieldError("how", "Так нельзя.")
    if data["how"] == "conflict":
        raise Conflict("Уже сделано.")
    if data["how"] == "rule":
        raise DomainError("Правило не разрешает.")
    raise RuntimeError("probe crash")


@bp.route("/exempt", methods=["POST"])
@idempotency_exempt
@bp.response(200, NoteOut)
def exempt():
    """POST без Idempotency-Key (как token endpoint OAuth)"""
    return {"id": 0, "text": "ok"}


@bp.route("/public")
@bp.etag
@bp.response(200, NoteOut)
def public():
    """Открытое чтение"""
    return {"id": 1, "text": "public"}


@bp.route("/mine")
@require_resident()
@bp.response(200, NoteOut)
def mine():
    """Чтение жителя (токен приложения)"""
    from flask_login import current_user

    return {"id": current_user.id, "text": current_user.full_name}
