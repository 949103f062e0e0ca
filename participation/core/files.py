"""File attachments: checked by content and size, stored outside the web root, served by id."""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

import filetype
import pillow_heif
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageOps
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.datastructures import FileStorage, MultiDict

from participation.core.db import Base, utcnow
from participation.core.errors import FieldError
from participation.core.i18n import number
from participation.core.jobs import sweep
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
# Pictures shown on pages (an organization's logo): the formats every browser draws.
WEB_IMAGE_TYPES = {mime: ALLOWED_TYPES[mime] for mime in sorted(INLINE_TYPES)}
# Photos we read (HEIC through pillow-heif): their metadata is stripped, thumbnails are made.
IMAGE_TYPES = INLINE_TYPES | {"image/heic"}
pillow_heif.register_heif_opener()
# Image metadata Pillow reports besides EXIF: XMP (may repeat the GPS position) and comments.
METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment")
THUMBNAIL_SIZE = (320, 320)
# A small file may hold a huge picture ("decompression bomb"); beyond this none is drawn.
THUMBNAIL_MAX_PIXELS = 60_000_000
THUMBNAIL_SUFFIX = ".thumb.jpg"
# Files a person sent with a form that was refused, kept for them to send again:
# attached_to = (STAGED, their user id) until a successful submit claims them.
STAGED = "staged"
STAGED_FIELD = "staged_files"  # hidden inputs carrying the staged files' public ids
REMOVE_STAGED_FIELD = "remove_staged"  # the «убрать» checkboxes
ORPHAN_AGE = timedelta(days=1)
ERASED_NAME = "удалено"  # the name an erased file's row keeps


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
    # Set when the file was erased at the end of its retention term (participation/privacy):
    # the row stays, named ERASED_NAME, and nothing is served for it.
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.Index("ix_attachments_attached_to", "attached_to_type", "attached_to_id"),
    )

    @property
    def inline(self) -> bool:
        return self.content_type in INLINE_TYPES

    @property
    def has_thumbnail(self) -> bool:
        return self.content_type in IMAGE_TYPES


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
    data, mime = _read_checked(
        stream,
        filename,
        field,
        limit=current_app.config["MAX_UPLOAD_BYTES"],
        types=ALLOWED_TYPES,
        refusal=_l(
            "Файл «%(name)s» не является фотографией (JPEG, PNG, WEBP, HEIC) или PDF.",
            name=filename or "",
        ),
    )
    data = _without_metadata(data, mime, filename, field)
    return store_file(
        data,
        safe_filename(filename, ALLOWED_TYPES[mime][0]),
        mime,
        uploaded_by_id=uploaded_by_id,
        attached_to=attached_to,
    )


def _read_checked(
    stream: IO[bytes],
    filename: str | None,
    field: str,
    *,
    limit: int,
    types: Mapping[str, tuple[str, ...]],
    refusal: str,
) -> tuple[bytes, str]:
    """The upload's bytes and its type recognised by content (FieldError: empty, too large, or
    not one of `types`)."""
    data = stream.read(limit + 1)
    if not data:
        raise FieldError(field, _l("Файл «%(name)s» пустой.", name=filename or ""))
    if len(data) > limit:
        raise FieldError(
            field,
            _l("Файл «%(name)s» больше %(mb)d МБ.", name=filename or "", mb=max(1, limit // 2**20)),
        )
    kind = filetype.guess(data)
    if kind is None or kind.mime not in types:
        raise FieldError(field, refusal)
    return data, kind.mime


def store_image(
    stream: IO[bytes],
    filename: str | None,
    *,
    uploaded_by_id: int | None,
    attached_to: tuple[str, object] | None,
    field: str,
    max_bytes: int,
    max_pixels: int,
) -> Attachment:
    """Check a picture shown on public pages (a logo) and store it like any upload.

    Only what every browser draws (PNG, JPEG, WEBP; never SVG, which may carry scripts),
    recognised by content, decoded in full once (a file that only starts like a PNG is
    refused) and no larger than `max_pixels`; metadata stripped as for photos.
    """
    data, mime = _read_checked(
        stream,
        filename,
        field,
        limit=min(max_bytes, current_app.config["MAX_UPLOAD_BYTES"]),
        types=WEB_IMAGE_TYPES,
        refusal=_l(
            "Файл «%(name)s» не является изображением PNG, JPEG или WEBP.", name=filename or ""
        ),
    )
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > max_pixels:
                raise FieldError(
                    field,
                    _l(
                        "Изображение «%(name)s» слишком большое: %(w)d × %(h)d точек. "
                        "Уменьшите его, чтобы точек было не больше %(max)s "
                        "(например, 1000 × 1000), и загрузите снова.",
                        name=filename or "",
                        w=image.width,
                        h=image.height,
                        max=number(max_pixels, 0),
                    ),
                )
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise FieldError(field, _unreadable(filename)) from None
    data = _without_metadata(data, mime, filename, field)
    return store_file(
        data,
        safe_filename(filename, WEB_IMAGE_TYPES[mime][0]),
        mime,
        uploaded_by_id=uploaded_by_id,
        attached_to=attached_to,
    )


def store_file(
    data: bytes,
    name: str,
    content_type: str,
    *,
    uploaded_by_id: int | None,
    attached_to: tuple[str, object] | None,
) -> Attachment:
    """Write checked bytes to storage and add their row (files the platform makes come here).

    Until the transaction commits the file is only pending: a rollback removes it.
    """
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest[2:4]}/{uuid.uuid4().hex}"
    target = Path(current_app.config["STORAGE_DIR"]) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    db.session.info.setdefault(_WRITTEN, []).append(target)
    attachment = Attachment(
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by_id=uploaded_by_id,
        attached_to_type=attached_to[0] if attached_to else None,
        attached_to_id=str(attached_to[1]) if attached_to else None,
    )
    db.session.add(attachment)
    return attachment


def _without_metadata(data: bytes, mime: str, filename: str | None, field: str) -> bytes:
    """An image re-saved without EXIF (GPS position, camera, time), XMP and comments.

    Stripped once, at upload, from the stored file itself: every copy served later (the
    original, the thumbnail, to staff or to the public) is then clean, and no code path can
    serve the original by mistake. The uploader loses only metadata they gave away. An image
    with no such metadata is kept byte for byte; turning the picture upright by its EXIF
    orientation keeps it looking as before.
    """
    if mime not in IMAGE_TYPES:
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            if not exif and not any(image.info.get(key) for key in METADATA_KEYS):
                return data
            keep = {"icc_profile": image.info["icc_profile"]} if "icc_profile" in image.info else {}
            out = io.BytesIO()
            if image.format == "JPEG" and exif.get(ExifTags.Base.Orientation, 1) == 1:
                image.save(out, "JPEG", quality="keep", **keep)  # no re-compression loss
            else:
                upright = ImageOps.exif_transpose(image)
                if image.format == "HEIF":  # pillow-heif copies the source's metadata unless told
                    keep.update(exif=None, xmp=None)
                upright.save(out, image.format, quality=90, **keep)
            return out.getvalue()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise FieldError(field, _unreadable(filename)) from None


def _unreadable(filename: str | None):
    return _l(
        "Не удалось прочитать изображение «%(name)s». Сохраните его заново как PNG или JPEG "
        "и загрузите ещё раз.",
        name=filename or "",
    )


def attachment_path(attachment: Attachment) -> Path:
    if attachment.deleted_at is not None:  # erased: every download path answers 404
        raise FileNotFoundError(attachment.storage_key)
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


def thumbnail_path(attachment: Attachment) -> Path | None:
    """A small JPEG of an image attachment, made on first request and kept next to the file.

    Made lazily rather than at upload: files stored before thumbnails existed get one too,
    files nobody looks at cost nothing, and the upload request stays short. Two requests
    making the same thumbnail at once each write a temporary file and rename it in place.
    """
    if not attachment.has_thumbnail:
        return None
    source = attachment_path(attachment)
    target = source.with_name(source.name + THUMBNAIL_SUFFIX)
    if target.exists():
        return target
    try:
        with Image.open(source) as image:
            if image.width * image.height > THUMBNAIL_MAX_PIXELS:
                return None
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced scale, much faster
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail(THUMBNAIL_SIZE)
            if picture.mode not in ("RGB", "L"):
                flat = Image.new("RGB", picture.size, "white")
                rgba = picture.convert("RGBA")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                picture = flat
            temporary = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
            picture.save(temporary, "JPEG", quality=80)  # no EXIF is written
            os.replace(temporary, target)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return target


def strip_stored_metadata(batch: int = 200) -> int:
    """Strip the metadata of photos stored before it was stripped at upload; how many changed.

    Commits after each batch; a thumbnail made from an old file is dropped and made again.
    """
    changed, last_id = 0, 0
    while True:
        rows = db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.content_type.in_(IMAGE_TYPES), Attachment.id > last_id)
            .order_by(Attachment.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        for attachment in rows:
            last_id = attachment.id
            try:
                path = attachment_path(attachment)
                data = path.read_bytes()
                clean = _without_metadata(data, attachment.content_type, None, "file")
            except (OSError, FieldError):
                continue  # missing or unreadable: nothing to strip
            if clean == data:
                continue
            temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
            temporary.write_bytes(clean)
            os.replace(temporary, path)
            path.with_name(path.name + THUMBNAIL_SUFFIX).unlink(missing_ok=True)
            attachment.size, attachment.sha256 = len(clean), hashlib.sha256(clean).hexdigest()
            changed += 1
        db.session.commit()


# --- files written in a transaction that does not commit ---------------------------------------

_WRITTEN = "participation.files.written"  # session.info: files stored in this transaction
_REMOVED = "participation.files.removed"  # session.info: files to delete once it commits


@sa.event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer one may still fail
        return
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_REMOVED, []):
        _unlink_with_thumbnail(path)


@sa.event.listens_for(Session, "after_transaction_end")
def _files_rolled_back(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Whatever is still pending here was written by a transaction that did not commit.
    session.info.pop(_REMOVED, None)
    for path in session.info.pop(_WRITTEN, []):
        _unlink_with_thumbnail(path)


def _unlink_with_thumbnail(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + THUMBNAIL_SUFFIX).unlink(missing_ok=True)


def delete_attachment(attachment: Attachment) -> None:
    """Delete the row now and its file (with the thumbnail) once the transaction commits."""
    db.session.info.setdefault(_REMOVED, []).append(attachment_path(attachment))
    db.session.delete(attachment)


def erase_attachments(ids: Sequence[int]) -> int:
    """Erase these attachments' files (once the transaction commits), keeping their rows as
    «удалено»; rows already erased are left alone. How many were erased."""
    if not ids:
        return 0
    root = Path(current_app.config["STORAGE_DIR"])
    rows = db.session.execute(
        sa.select(Attachment.id, Attachment.storage_key).where(
            Attachment.id.in_(ids), Attachment.deleted_at.is_(None)
        )
    ).all()
    if not rows:
        return 0
    db.session.info.setdefault(_REMOVED, []).extend(root / key for _id, key in rows)
    db.session.execute(
        sa.update(Attachment)
        .where(Attachment.id.in_([i for i, _key in rows]))
        .values(deleted_at=utcnow(), original_name=ERASED_NAME)
        .execution_options(synchronize_session=False)
    )
    return len(rows)


# --- staged uploads: files kept when a form is refused ----------------------------------------


def stage_uploads(
    uploads: Iterable[FileStorage], *, uploaded_by_id: int, field: str, limit: int
) -> list[Attachment]:
    """Keep the acceptable files of a refused form for the same person to send again.

    Files that fail the checks are skipped (their error is already shown); at most `limit`.
    """
    staged: list[Attachment] = []
    for upload in uploads:
        if len(staged) >= limit:
            break
        upload.stream.seek(0)  # a refused submit may have read it already
        try:
            staged.append(
                store_upload(
                    upload.stream,
                    upload.filename,
                    uploaded_by_id=uploaded_by_id,
                    attached_to=(STAGED, uploaded_by_id),
                    field=field,
                )
            )
        except FieldError:
            continue
    return staged


def staged_uploads(form: MultiDict, *, uploaded_by_id: int) -> list[Attachment]:
    """The staged files a form carries back and the person did not remove.

    Only the person's own staged files are returned: anyone else's id is ignored.
    """
    removed = set(form.getlist(REMOVE_STAGED_FIELD))
    wanted = [i for i in dict.fromkeys(form.getlist(STAGED_FIELD)) if i not in removed][:50]
    if not wanted:
        return []
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(
                Attachment.public_id.in_(wanted),
                Attachment.attached_to_type == STAGED,
                Attachment.attached_to_id == str(uploaded_by_id),
                Attachment.uploaded_by_id == uploaded_by_id,
            )
            .order_by(Attachment.id)
        )
    )


def keep_for_retry(
    staged: Sequence[Attachment],
    uploads: Iterable[FileStorage],
    *,
    uploaded_by_id: int,
    field: str,
    limit: int,
) -> list[Attachment]:
    """After a refused submit (already rolled back): the files to list on the form again.

    The caller commits, so that the kept files outlive the refused request.
    """
    ids = [a.id for a in staged]
    kept = (
        list(
            db.session.scalars(
                sa.select(Attachment)
                .where(
                    Attachment.id.in_(ids),
                    Attachment.attached_to_type == STAGED,
                    Attachment.uploaded_by_id == uploaded_by_id,
                )
                .order_by(Attachment.id)
            )
        )
        if ids
        else []
    )
    kept += stage_uploads(
        uploads, uploaded_by_id=uploaded_by_id, field=field, limit=max(0, limit - len(kept))
    )
    db.session.flush()
    return kept


def attach_files(
    uploads: Iterable[FileStorage],
    staged: Sequence[Attachment],
    *,
    uploaded_by_id: int | None,
    attached_to: tuple[str, object],
    field: str = "attachments",
) -> list[Attachment]:
    """Store new uploads and claim the uploader's staged ones for the same object."""
    attached = []
    for attachment in staged:
        if attachment.attached_to_type != STAGED or attachment.uploaded_by_id != uploaded_by_id:
            continue  # never someone else's, never twice
        attachment.attached_to_type, attachment.attached_to_id = attached_to[0], str(attached_to[1])
        attached.append(attachment)
    for upload in uploads:
        attached.append(
            store_upload(
                upload.stream,
                upload.filename,
                uploaded_by_id=uploaded_by_id,
                attached_to=attached_to,
                field=field,
            )
        )
    return attached


# --- the sweep: staged files never claimed, files no row points to -----------------------------


ALL_SHARDS = tuple(f"{i:02x}" for i in range(256))  # the top folders of storage keys


@sweep
def remove_orphan_files(shards: Iterable[str] | None = None) -> dict[str, int]:
    """Delete staged files nobody claimed and stored files with no row, a day after upload.

    The disk is walked one top folder per run by default (all 256 within 256 runs: about four
    hours at the default interval), not the whole storage every minute.
    """
    cutoff = utcnow() - ORPHAN_AGE
    staged = list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.attached_to_type == STAGED, Attachment.created_at < cutoff)
            .limit(1000)
        )
    )
    for attachment in staged:
        delete_attachment(attachment)
    if shards is None:
        shards = [ALL_SHARDS[int(utcnow().timestamp() // 60) % len(ALL_SHARDS)]]
    root = Path(current_app.config["STORAGE_DIR"])
    oldest = cutoff.timestamp()
    old_files: dict[str, list[Path]] = {}
    for shard in shards:
        for path in root.glob(f"{shard}/[0-9a-f][0-9a-f]/*"):  # the keys store_file makes
            if path.is_file() and path.stat().st_mtime < oldest:
                key = path.relative_to(root).as_posix().split(".", 1)[0]  # thumbnail, .tmp
                old_files.setdefault(key, []).append(path)
    for attachment in staged:  # their files go once the rows' deletion commits
        old_files.pop(attachment.storage_key, None)
    keys = list(old_files)
    orphans = 0
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        known = set(
            db.session.scalars(
                sa.select(Attachment.storage_key).where(Attachment.storage_key.in_(chunk))
            )
        )
        for key in chunk:
            if key not in known:
                for path in old_files[key]:
                    path.unlink(missing_ok=True)
                    orphans += 1
    return {"staged": len(staged), "orphans": orphans}
