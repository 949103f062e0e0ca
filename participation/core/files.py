"""File attachments: checked by content and size, stored outside the web root, served by id."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO

import filetype
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from participation.core.db import Base, utcnow
from participation.core.errors import FieldError
from participation.extensions import db

# What residents and staff may attach: photos and PDF documents, recognised by content.
ALLOWED_TYPES = {
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "image/webp": ("webp",),
    "image/heic": ("heic",),
    "application/pdf": ("pdf",),
}
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(
        sa.String(36), unique=True, default=lambda: str(uuid.uuid4())
    )
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # What the file belongs to, e.g. ("appeal", "42"); the owner's feature decides who may see it.
    attached_to_type: Mapped[str | None] = mapped_column(sa.String(40))
    attached_to_id: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.Index("ix_attachments_attached_to", "attached_to_type", "attached_to_id"),
    )

    @property
    def inline(self) -> bool:
        return self.content_type in INLINE_TYPES


def safe_filename(name: str | None, extension: str) -> str:
    """A display name with no path parts or control characters, ending in the real extension."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:120] or "file"
    return f"{stem}.{extension}"


def store_upload(
    stream: IO[bytes],
    filename: str | None,
    *,
    uploaded_by_id: int | None,
    attached_to: tuple[str, object] | None = None,
    field: str = "attachments",
) -> Attachment:
    """Check an upload by size and content, write it to storage and add its row.

    Raises FieldError (in Russian) for an empty, oversized or disallowed file.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    data = stream.read(limit + 1)
    if not data:
        raise FieldError(field, _l("Файл «%(name)s» пустой.", name=filename or ""))
    if len(data) > limit:
        raise FieldError(
            field,
            _l("Файл «%(name)s» больше %(mb)d МБ.", name=filename or "", mb=limit // 2**20),
        )
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise FieldError(
            field,
            _l(
                "Файл «%(name)s» не является фотографией (JPEG, PNG, WEBP, HEIC) или PDF.",
                name=filename or "",
            ),
        )
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest[2:4]}/{uuid.uuid4().hex}"
    target = Path(current_app.config["STORAGE_DIR"]) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    attachment = Attachment(
        original_name=safe_filename(filename, ALLOWED_TYPES[kind.mime][0]),
        content_type=kind.mime,
        size=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by_id=uploaded_by_id,
        attached_to_type=attached_to[0] if attached_to else None,
        attached_to_id=str(attached_to[1]) if attached_to else None,
    )
    db.session.add(attachment)
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    root = Path(current_app.config["STORAGE_DIR"]).resolve()
    path = (root / attachment.storage_key).resolve()
    if root not in path.parents:  # storage keys are ours, but never trust a path blindly
        raise FileNotFoundError(attachment.storage_key)
    return path


# Features register who may see files attached to their objects: {"appeal": can_view(...)}.
ACCESS_RULES: dict[str, Callable[[object, str], bool]] = {}


def register_attachment_access(object_type: str, rule: Callable[[object, str], bool]) -> None:
    ACCESS_RULES[object_type] = rule


def can_view_attachment(user, attachment: Attachment) -> bool:
    """The uploader, or whoever the owning feature's rule admits."""
    if getattr(user, "is_authenticated", False) and attachment.uploaded_by_id == user.id:
        return True
    rule = ACCESS_RULES.get(attachment.attached_to_type or "")
    return bool(rule and rule(user, attachment.attached_to_id or ""))


def attachment_by_public_id(public_id: str) -> Attachment | None:
    return db.session.scalar(sa.select(Attachment).where(Attachment.public_id == public_id))
