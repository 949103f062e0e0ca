"""Attachments are checked by content and size, stored by us, served only to those allowed."""

import io

import pytest
import sqlalchemy as sa

from participation.core.errors import FieldError
from participation.core.files import (
    Attachment,
    attachment_path,
    register_attachment_access,
    safe_filename,
    store_upload,
)
from participation.extensions import db
from tests import factories
from tests.helpers import login_as

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0"
    b"\xa0\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))


def test_png_is_stored_outside_the_web_root(app):
    att = store_upload(io.BytesIO(PNG), "яма.png", uploaded_by_id=None)
    db.session.flush()
    path = attachment_path(att)
    assert path.read_bytes() == PNG
    assert att.content_type == "image/png" and att.size == len(PNG)
    assert "static" not in str(path) and "яма" not in str(path)


def test_oversized_file_is_refused_and_nothing_saved(app):
    big = io.BytesIO(PDF + b"0" * app.config["MAX_UPLOAD_BYTES"])
    with pytest.raises(FieldError, match="больше 1 МБ"):
        store_upload(big, "акт.pdf", uploaded_by_id=None)
    assert _count() == 0


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00" + b"\x00" * 100,
        b"GIF89a" + b"\x00" * 50,
    ],
)
def test_disguised_file_is_refused_by_content(app, content):
    with pytest.raises(FieldError, match="не является фотографией"):
        store_upload(io.BytesIO(content), "photo.jpg", uploaded_by_id=None)
    assert _count() == 0


def test_empty_file_is_refused(app):
    with pytest.raises(FieldError, match="пустой"):
        store_upload(io.BytesIO(b""), "x.png", uploaded_by_id=None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.png"),
        ("..\\..\\windows\\system32\\яма.exe", "яма.png"),
        ("/abs/path/фото дороги.PNG", "фото дороги.png"),
        ("bad\x00name\r\n.png", "badname.png"),
        ("", "file.png"),
        ("....", "file.png"),
    ],
)
def test_path_tricks_in_names_are_neutralised(name, expected):
    assert safe_filename(name, "png") == expected


def test_download_only_for_those_allowed(app, client):
    owner = factories.user()
    stranger = factories.user()
    att = store_upload(
        io.BytesIO(PDF), "ответ.pdf", uploaded_by_id=owner.id, attached_to=("thing", 5)
    )
    db.session.commit()
    url = f"/files/{att.public_id}"

    assert client.get(url).status_code == 404  # anonymous
    login_as(client, stranger)
    assert client.get(url).status_code == 404  # someone else's
    login_as(client, owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition  # Cyrillic name, safely encoded
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_feature_rule_grants_access(app, client):
    owner, reader = factories.user(), factories.user()
    att = store_upload(io.BytesIO(PNG), "p.png", uploaded_by_id=owner.id, attached_to=("shared", 9))
    db.session.commit()
    register_attachment_access("shared", lambda user, object_id: object_id == "9")
    login_as(client, reader)
    response = client.get(f"/files/{att.public_id}")
    assert response.status_code == 200
    assert "inline" in response.headers["Content-Disposition"]


# --- files of a transaction that does not commit; staged uploads; the orphan sweep -------------


def _photo(size=(800, 600), gps=True, fmt="JPEG", orientation=None) -> bytes:
    """A camera-like photo: EXIF with make, time and (optionally) a GPS position."""
    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:05:01 10:00:00"  # DateTime
    if gps:
        exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)}
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def _gps_of(data: bytes) -> dict:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(0x8825))


def _stored_files(app) -> set:
    from pathlib import Path

    root = Path(app.config["STORAGE_DIR"])
    return {p for p in root.rglob("*") if p.is_file()}


def test_a_rolled_back_upload_leaves_no_file(app):
    before = _stored_files(app)
    att = store_upload(io.BytesIO(PNG), "p.png", uploaded_by_id=None, attached_to=("thing", 1))
    path = attachment_path(att)
    assert path.exists()
    db.session.rollback()
    assert not path.exists()
    assert _stored_files(app) == before


def test_a_committed_upload_stays_even_if_a_later_transaction_fails(app):
    att = store_upload(io.BytesIO(PNG), "p.png", uploaded_by_id=None, attached_to=("thing", 1))
    db.session.commit()
    path = attachment_path(att)
    store_upload(io.BytesIO(PDF), "a.pdf", uploaded_by_id=None, attached_to=("thing", 1))
    db.session.rollback()
    assert path.exists()


def test_a_released_savepoint_does_not_make_a_file_permanent(app):
    with db.session.begin_nested():
        att = store_upload(io.BytesIO(PNG), "p.png", uploaded_by_id=None, attached_to=("t", 1))
    path = attachment_path(att)
    db.session.rollback()
    assert not path.exists()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_stored_photo_has_no_gps_or_camera_metadata(app, fmt):
    from PIL import Image

    original = _photo(fmt=fmt)
    assert _gps_of(original)  # the test photo really carries a position
    att = store_upload(io.BytesIO(original), "яма.jpg", uploaded_by_id=None)
    db.session.flush()
    stored = attachment_path(att).read_bytes()
    assert _gps_of(stored) == {}
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and image.size == (800, 600)
    assert att.size == len(stored) and att.has_thumbnail


def test_a_turned_photo_stays_upright_without_its_exif(app):
    from PIL import Image

    att = store_upload(io.BytesIO(_photo(orientation=6)), "бок.jpg", uploaded_by_id=None)
    db.session.flush()
    with Image.open(attachment_path(att)) as image:
        assert image.size == (600, 800) and not image.getexif()


def test_a_broken_image_is_refused_in_plain_words(app):
    broken = _photo()[:300]
    with pytest.raises(FieldError, match=r"Не удалось прочитать изображение «x\.jpg»"):
        store_upload(io.BytesIO(broken), "x.jpg", uploaded_by_id=None)


def test_sweep_removes_old_orphans_and_unclaimed_staged_files(app):
    import os
    from datetime import timedelta

    from participation.core.db import utcnow
    from participation.core.files import ALL_SHARDS, STAGED, remove_orphan_files

    user = factories.user()
    kept = store_upload(io.BytesIO(PNG), "k.png", uploaded_by_id=user.id, attached_to=("t", 1))
    staged_old = store_upload(
        io.BytesIO(PDF), "s.pdf", uploaded_by_id=user.id, attached_to=(STAGED, user.id)
    )
    staged_new = store_upload(
        io.BytesIO(PDF), "n.pdf", uploaded_by_id=user.id, attached_to=(STAGED, user.id)
    )
    orphan = store_upload(io.BytesIO(PNG), "o.png", uploaded_by_id=None)
    fresh_orphan = store_upload(io.BytesIO(PNG), "f.png", uploaded_by_id=None)
    db.session.commit()
    staged_old.created_at = utcnow() - timedelta(days=2)
    paths = {a.public_id: attachment_path(a) for a in (kept, staged_old, staged_new, orphan)}
    fresh_path = attachment_path(fresh_orphan)
    db.session.delete(orphan)
    db.session.delete(fresh_orphan)
    db.session.commit()
    two_days_ago = (utcnow() - timedelta(days=2)).timestamp()
    for path in (*paths.values(), fresh_path):
        os.utime(path, (two_days_ago, two_days_ago))
    os.utime(fresh_path, None)  # written just now: a request may still be committing its row

    assert remove_orphan_files(ALL_SHARDS) == {"staged": 1, "orphans": 1}
    db.session.commit()

    assert paths[kept.public_id].exists() and paths[staged_new.public_id].exists()
    assert not paths[staged_old.public_id].exists()
    assert not paths[orphan.public_id].exists()
    assert fresh_path.exists()
    assert db.session.get(Attachment, staged_old.id) is None
    assert db.session.get(Attachment, staged_new.id) is not None


def test_sweep_is_registered():
    from participation.core.files import remove_orphan_files
    from participation.core.jobs import SWEEPS

    assert remove_orphan_files in SWEEPS


def test_staged_files_are_claimed_only_by_their_uploader(app):
    from werkzeug.datastructures import MultiDict

    from participation.core.files import STAGED, attach_files, staged_uploads

    owner, other = factories.user(), factories.user()
    att = store_upload(
        io.BytesIO(PNG), "p.png", uploaded_by_id=owner.id, attached_to=(STAGED, owner.id)
    )
    db.session.flush()
    form = MultiDict([("staged_files", att.public_id)])
    assert staged_uploads(form, uploaded_by_id=other.id) == []
    assert attach_files([], [att], uploaded_by_id=other.id, attached_to=("thing", 3)) == []
    mine = staged_uploads(form, uploaded_by_id=owner.id)
    assert mine == [att]
    removed = MultiDict([("staged_files", att.public_id), ("remove_staged", att.public_id)])
    assert staged_uploads(removed, uploaded_by_id=owner.id) == []
    attach_files([], mine, uploaded_by_id=owner.id, attached_to=("thing", 3))
    assert (att.attached_to_type, att.attached_to_id) == ("thing", "3")
    assert staged_uploads(form, uploaded_by_id=owner.id) == []  # claimed once


def test_thumbnail_is_a_smaller_clean_image_and_needs_the_same_permission(app, client):
    from PIL import Image

    owner, stranger = factories.user(), factories.user()
    att = store_upload(
        io.BytesIO(_photo((1600, 1200), fmt="HEIF")),
        "двор.heic",
        uploaded_by_id=owner.id,
        attached_to=("x", 1),
    )
    db.session.commit()
    url = f"/files/{att.public_id}/thumbnail"
    assert client.get(url).status_code == 404  # anonymous
    login_as(client, stranger)
    assert client.get(url).status_code == 404
    login_as(client, owner)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(response.data)) as thumb:
        assert max(thumb.size) <= 320 and thumb.size[0] > thumb.size[1]
        assert not thumb.getexif()
    full = client.get(f"/files/{att.public_id}")
    assert full.data == attachment_path(att).read_bytes() and _gps_of(full.data) == {}


def test_a_pdf_has_no_thumbnail(app, client):
    owner = factories.user()
    att = store_upload(io.BytesIO(PDF), "a.pdf", uploaded_by_id=owner.id, attached_to=("x", 1))
    db.session.commit()
    login_as(client, owner)
    assert client.get(f"/files/{att.public_id}/thumbnail").status_code == 404


def test_a_deleted_attachments_file_goes_only_when_the_deletion_commits(app):
    from participation.core.files import delete_attachment

    att = store_upload(io.BytesIO(PNG), "p.png", uploaded_by_id=None, attached_to=("t", 1))
    db.session.commit()
    path = attachment_path(att)
    delete_attachment(att)
    db.session.rollback()
    assert path.exists()
    delete_attachment(db.session.get(Attachment, att.id))
    db.session.commit()
    assert not path.exists()


def test_photos_stored_before_stripping_are_cleaned_by_the_command(app):
    from participation.core.files import store_file

    old = store_file(
        _photo(), "старое.jpg", "image/jpeg", uploaded_by_id=None, attached_to=("t", 1)
    )
    db.session.commit()
    assert _gps_of(attachment_path(old).read_bytes())
    result = app.test_cli_runner().invoke(args=["files", "strip-metadata"])
    assert "Очищено фотографий: 1" in result.output, result.output
    db.session.expire_all()
    stored = attachment_path(old).read_bytes()
    assert _gps_of(stored) == {} and db.session.get(Attachment, old.id).size == len(stored)


def test_a_huge_picture_gets_no_thumbnail(app, monkeypatch):
    from participation.core import files
    from participation.core.files import thumbnail_path

    att = store_upload(io.BytesIO(_photo((1000, 800))), "big.jpg", uploaded_by_id=None)
    db.session.flush()
    monkeypatch.setattr(files, "THUMBNAIL_MAX_PIXELS", 1000 * 800 - 1)
    assert thumbnail_path(att) is None
    monkeypatch.setattr(files, "THUMBNAIL_MAX_PIXELS", 1000 * 800)
    assert thumbnail_path(att) is not None
