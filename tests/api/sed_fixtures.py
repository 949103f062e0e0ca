"""Shared pieces of the organisation / СЭД API tests: the region of tests/appeals with keys of
the city administration, messages brought to its inbox, and requests with the key."""

from __future__ import annotations

import io
import uuid

import pytest

from participation.api.models import ApiScope
from participation.appeals import services as s
from participation.extensions import db
from tests.api.conftest import Org, bearer, issue
from tests.appeals.conftest import submit, world  # noqa: F401  (the `world` fixture)

# A tiny but real PDF (recognised by its content, as uploads are).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture(name="sed")
def sed_world(world):  # noqa: F811
    """The test region plus keys of the city administration: every scope, read only, write
    only, statistics only; and a key of the neighbouring town (another organization)."""
    w = world
    city = Org(w.city_admin, w.administrator)
    w.key, w.token = issue(city, name="СЭД Дело")
    w.read_key, w.read_token = issue(city, ApiScope.MESSAGES_READ, name="Только чтение")
    w.write_key, w.write_token = issue(city, ApiScope.MESSAGES_WRITE, name="Только запись")
    w.stat_key, w.stat_token = issue(city, ApiScope.STATISTICS_READ, name="Статистика")
    town_admin = w.town_coordinator  # any member will do as the issuing administrator here
    w.town_key, w.town_token = issue(Org(w.town_admin, town_admin), name="СЭД соседей")
    return w


def to_assignment(w, **kw):
    """A resident's message, moderated and confirmed: in the city's «Новые», to be assigned."""
    appeal = submit(w, **kw)
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    db.session.flush()
    return appeal


def headers(token: str, **extra: str) -> dict[str, str]:
    return {**bearer(token), **extra}


def post(client, url: str, token: str, *, json=None, data=None, key: str | None = None):
    """A POST with the key and a fresh Idempotency-Key (or the one given)."""
    hdrs = headers(token, **{"Idempotency-Key": key or uuid.uuid4().hex})
    if data is not None:
        return client.post(url, data=data, headers=hdrs, content_type="multipart/form-data")
    return client.post(url, json=json, headers=hdrs)


def pdf(name: str = "ответ.pdf") -> tuple[io.BytesIO, str]:
    return io.BytesIO(PDF), name
