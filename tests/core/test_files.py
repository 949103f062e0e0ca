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
