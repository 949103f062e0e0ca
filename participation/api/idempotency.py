"""Idempotency-Key on every POST of the API: a retried request does its work once.

Before the view: the key is claimed for the caller (a row in the request's own transaction,
unique per caller and key). A retry finds the row: same fingerprint and an answer stored →
that answer again (`Idempotent-Replayed: true`); another fingerprint → 422; no answer yet →
409 (the first request is still running). A concurrent duplicate blocks on the unique index
until the first transaction ends, then finds its row.

After the view: a success (2xx) is stored with the row and committed — the row itself was
committed together with the view's own work. A failure is not stored: the session is rolled
back, the claim disappears with whatever the view had flushed, and the client may retry.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from participation.api.models import IdempotentRequest
from participation.api.problems import Problem
from participation.core.db import utcnow
from participation.extensions import db

HEADER = "Idempotency-Key"
EXEMPT = "_idempotency_exempt"
REPLAYED = "Idempotent-Replayed"
KEY_MAX = 255
TWIN_WAIT_SECONDS = 2.0


def idempotency_exempt(view):
    """Mark a POST view that takes no Idempotency-Key (e.g. the OAuth token endpoint, whose
    clients follow RFC 6749 and send none). Put it right under the route decorator."""
    setattr(view, EXEMPT, True)
    view._apidoc = {**getattr(view, "_apidoc", {}), EXEMPT: True}
    return view


def is_exempt(view) -> bool:
    return bool(getattr(view, EXEMPT, False))


def _key() -> str:
    raw = request.headers.get(HEADER)
    if raw is None or not raw.strip():
        raise Problem(400, kind="idempotency-key-missing")
    key = raw.strip()
    if len(key) > KEY_MAX or not all("!" <= ch <= "~" for ch in key):
        raise Problem(
            400,
            _("Idempotency-Key: от 1 до %(max)d видимых символов ASCII.", max=KEY_MAX),
            kind="idempotency-key-missing",
        )
    return key


def fingerprint() -> str:
    """What makes two requests "the same": method, path, query and the body's content.

    A multipart body is fingerprinted by its fields and the files' contents, not its bytes:
    a client's retry uses a new boundary.
    """
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"f:{name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda i: i[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            file_hash = hashlib.sha256(content).hexdigest()
            digest.update(f"u:{name}:{upload.filename}:{file_hash}\n".encode())
    else:
        digest.update(request.mimetype.encode() + b"\n")
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(row: IdempotentRequest) -> Response:
    response = current_app.response_class(row.body or b"", status=row.status)
    if row.content_type:
        response.headers["Content-Type"] = row.content_type
    if row.location:
        response.headers["Location"] = row.location
    response.headers[REPLAYED] = "true"
    return response


def _existing(principal: str, key: str) -> IdempotentRequest | None:
    return db.session.scalar(
        sa.select(IdempotentRequest).where(
            IdempotentRequest.principal == principal, IdempotentRequest.key == key
        )
    )


def _answer_for(row: IdempotentRequest, print_: str) -> Response:
    if row.fingerprint != print_:
        raise Problem(422, kind="idempotency-key-reused")
    if row.status is None:
        raise Problem(409, kind="idempotency-conflict", headers={"Retry-After": "1"})
    return _replay(row)


def _twin(principal: str, key: str) -> IdempotentRequest:
    """The row of the twin that won the unique index, waited for until its answer is stored
    (at most TWIN_WAIT_SECONDS: it committed its work a moment ago and stores the answer next).
    """
    deadline = time.monotonic() + TWIN_WAIT_SECONDS
    while True:
        row = _existing(principal, key)
        if row is None:  # the twin failed and dropped its claim: the client may retry
            raise Problem(409, kind="idempotency-conflict", headers={"Retry-After": "1"})
        if row.status is not None or time.monotonic() >= deadline:
            return row
        db.session.expire(row)
        time.sleep(0.05)


def claim(principal: str) -> Response | None:
    """Claim this POST's key for `principal`; a stored answer to replay, or None to go on."""
    key, print_ = _key(), fingerprint()
    row = _existing(principal, key)
    horizon = utcnow() - timedelta(hours=current_app.config["API_IDEMPOTENCY_HOURS"])
    if row is not None and row.created_at < horizon:
        db.session.delete(row)  # an old answer is forgotten; the key may be used afresh
        db.session.flush()
        row = None
    if row is not None:
        return _answer_for(row, print_)
    row = IdempotentRequest(principal=principal, key=key, fingerprint=print_)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # A concurrent twin committed first (its row was waited for): answer as a retry,
        # after giving it a moment to store its answer.
        return _answer_for(_twin(principal, key), print_)
    g.idempotent_request_id = row.id
    return None


def finish(response: Response) -> Response:
    """Store a successful answer with its claim; drop the claim of a failed request."""
    row_id = g.pop("idempotent_request_id", None)
    if row_id is None:
        return response
    if not 200 <= response.status_code < 300:
        db.session.rollback()
        # Normally the claim went with the rollback; a view that committed and then failed
        # would leave it behind, unanswered, blocking every retry with 409.
        db.session.execute(
            sa.delete(IdempotentRequest).where(
                IdempotentRequest.id == row_id, IdempotentRequest.status.is_(None)
            )
        )
        db.session.commit()
        return response
    # One UPDATE by id (the view's commit expired the row: no reload first). No row: the view
    # rolled its transaction back and still answered 2xx — nothing to store.
    db.session.execute(
        sa.update(IdempotentRequest)
        .where(IdempotentRequest.id == row_id)
        .values(
            status=response.status_code,
            content_type=response.headers.get("Content-Type"),
            location=response.headers.get("Location"),
            body=response.get_data(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return response


def purge_idempotent_requests() -> int:
    """Delete answers older than API_IDEMPOTENCY_HOURS; returns how many (caller commits)."""
    horizon = utcnow() - timedelta(hours=current_app.config["API_IDEMPOTENCY_HOURS"])
    result = db.session.execute(
        sa.delete(IdempotentRequest).where(IdempotentRequest.created_at < horizon)
    )
    return result.rowcount or 0
