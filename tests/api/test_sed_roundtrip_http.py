"""A СЭД round trip over real HTTP: the repository's scripts/sed_demo.py (stdlib urllib) against
the app on a loopback port pulls the new messages, registers one, takes it into work and sends
an answer with a file; the head approves it in the staff cabinet; the resident reads the answer
in their cabinet and rates it; the СЭД then finds it under «Отправлено в СЭД: получен ответ».
Every HTTP answer the script gets is checked against the OpenAPI document."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from participation.appeals import services as s
from participation.appeals.models import Appeal, AppealRating
from participation.appeals.workflow import AppealState
from participation.core.db import utcnow
from participation.core.users import User
from participation.extensions import db
from tests.api.openapi_check import check_response
from tests.api.sed_fixtures import sed_world, to_assignment, world  # noqa: F401
from tests.browser import serve
from tests.helpers import csrf_token, login_as

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sed_demo.py"
PHOTO_NAME = "акт о ремонте.pdf"


def _load_script():
    spec = importlib.util.spec_from_file_location("sed_demo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _login(ui, user_id: int) -> None:
    login_as(ui, db.session.get(User, user_id))
    db.session.close()  # each request has its own session; hold no SQLite lock meanwhile


def _validator(app, seen: list):
    """The script's response hook: each answer checked against the OpenAPI document."""

    def check(method, url, sent_headers, status, headers, body) -> None:
        parts = urlsplit(url)
        environ = EnvironBuilder(
            method=method,
            base_url=f"{parts.scheme}://{parts.netloc}",
            path=parts.path,
            query_string=parts.query,
            headers=sent_headers,
        ).get_environ()
        response = Response(body, status=status, headers=list(headers.items()))
        response.request = Request(environ)
        with app.app_context():
            check_response(response)
        seen.append((method, parts.path, status))

    return check


@pytest.mark.committed
def test_sed_round_trip_over_real_http(app, sed):
    w = sed
    first, second = to_assignment(w), to_assignment(w)
    already = to_assignment(w)
    s.register_in_sed(already, w.coordinator, w.city_admin, "старый-1", utcnow().date())
    db.session.commit()
    ids = {
        "first": first.id,
        "second": second.id,
        "already": already.id,
        "head": w.head.id,
        "resident": w.resident.id,
        "key_user": w.key.user_id,
    }
    token = w.token
    db.session.close()  # the server works with its own connections (SQLite: no lock held)

    demo = _load_script()
    seen: list = []
    printed: list[str] = []
    with serve(app) as port:
        client = demo.SedClient(f"http://127.0.0.1:{port}", token, _validator(app, seen))
        card = demo.run(
            client,
            answer_text="Яму на ул. Ленина заделали 3 июня, фото и акт прилагаем.",
            file_name=PHOTO_NAME,
            out=printed.append,
            page_size=1,  # the cursor walks over HTTP too
        )
        # The СЭД retries nothing: a forbidden step says which state the message is in.
        with pytest.raises(demo.ApiError) as refused:
            client.post_json(f"/api/v1/org/messages/{ids['first']}/assign", {})
        assert refused.value.status == 409
        assert "«На согласовании» (approval)" in refused.value.problem["detail"]

    text = "\n".join(printed)
    assert "Новых сообщений, ещё не зарегистрированных в СЭД: 2" in text  # not the registered one
    assert f"Рег. №:            ПОС-{ids['first']}/" in text
    assert "Корреспондент:" in text and "Содержание:" in text
    assert card["id"] == ids["first"] and card["state"] == "approval"
    assert card["executor"]["id"] == ids["key_user"]
    assert [f["name"] for f in card["answers"][0]["files"]] == [PHOTO_NAME]
    inbox_pages = [p for m, p, st in seen if p == "/api/v1/org/inbox"]
    assert len(inbox_pages) == 2  # two new messages, one per page
    posts = [(p.rsplit("/", 1)[-1], st) for m, p, st in seen if m == "POST"]
    assert posts == [("sed-registration", 201), ("assign", 200), ("answer", 200), ("assign", 409)]

    # The head approves the answer in the staff cabinet, as any other.
    ui = app.test_client()
    _login(ui, ids["head"])
    page = ui.get("/backoffice/appeals/").get_data(as_text=True)
    assert f'href="/backoffice/appeals/{ids["first"]}"' in page
    csrf = csrf_token(ui, f"/backoffice/appeals/{ids['first']}")
    approved = ui.post(
        f"/backoffice/appeals/{ids['first']}/approve",
        data={"csrf_token": csrf, "approve-state": "approval"},
    )
    assert approved.status_code == 302

    # The resident reads it in their cabinet, with the file, and rates it.
    _login(ui, ids["resident"])
    mine = ui.get(f"/my/appeals/{ids['first']}").get_data(as_text=True)
    assert "Яму на ул. Ленина заделали 3 июня" in mine and PHOTO_NAME in mine
    csrf = csrf_token(ui, f"/my/appeals/{ids['first']}")
    rated = ui.post(
        f"/my/appeals/{ids['first']}/rate",
        data={"csrf_token": csrf, "score": "5", "comment": "Спасибо!"},
    )
    assert rated.status_code == 302
    appeal = db.session.get(Appeal, ids["first"])
    assert appeal.state == AppealState.CLOSED
    rating = db.session.scalar(sa.select(AppealRating).where(AppealRating.appeal_id == appeal.id))
    assert rating.score == 5
    db.session.close()

    # The СЭД sees the outcome: the rating on the card, the message under «получен ответ».
    with serve(app) as port:
        client = demo.SedClient(f"http://127.0.0.1:{port}", token, _validator(app, seen))
        final = client.get(f"/api/v1/org/messages/{ids['first']}")
        answered = client.get("/api/v1/org/inbox", folder="sed_answered")
        folders = {
            f["folder"]: f["count"] for f in client.get("/api/v1/org/inbox/folders")["folders"]
        }
    assert final["state"] == "closed" and final["rating"] == {"score": 5, "comment": "Спасибо!"}
    assert [i["id"] for i in answered["items"]] == [ids["first"]]
    assert folders["sed_in_work"] == 1 and folders["sed_answered"] == 1  # «старый-1» still at work
    assert all(re.fullmatch(r"[A-Z]+", m) for m, _p, _s in seen)
