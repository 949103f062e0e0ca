"""Exports of the analytics: tables as CSV/XLSX, the statistics CSV without personal data, the
governor's PDF, the daily digest (once, twice, after a gap, racing) and who may download what."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import threading
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from participation.appeals import services as s
from participation.appeals.models import Appeal
from participation.appeals.workflow import AppealState
from participation.core.db import utcnow
from participation.core.outbox import OutboxMessage
from participation.core.territories import TerritoryLevel
from participation.extensions import db
from participation.reports import digest as digest_module
from participation.reports.digest import send_digest, send_due_digests, subscribe_digest
from participation.reports.models import DigestSubscription
from participation.reports.rollup import rebuild
from participation.reports.summary import local_today
from tests import factories as f
from tests.appeals.conftest import submit, world  # noqa: F401  (the `world` fixture)
from tests.appeals.test_lifecycle import to_work
from tests.helpers import csrf_token, login_as

TZ = "Asia/Yekaterinburg"  # the test territories' zone
# What identifies a person or tells their message: none of it may appear in any export.
SECRETS = (
    "Ксенофонтова",
    "Евлампия",
    "Никодимовна",
    "evlampia.k7391@example.org",
    "жёлтая калитка 7391",
    "Уникальная, д. 7391",
    "Секретный отзыв 7391",
    "Калитку заменили 7391",
)


def _today():
    return local_today(TZ, utcnow())


def _range(days_back: int = 2) -> dict[str, str]:
    today = _today()
    return {"start": (today - timedelta(days=days_back)).isoformat(), "end": today.isoformat()}


@pytest.fixture
def data(world):  # noqa: F811
    """Seven pothole messages in the city (two answered and rated 5 and 4, one overdue), one
    about benches for the neighbouring town; the author's name and words are distinctive."""
    w = world
    author = f.user(
        registration_territory=w.city,
        last_name="Ксенофонтова",
        first_name="Евлампия",
        middle_name="Никодимовна",
        email="evlampia.k7391@example.org",
    )
    text = "Во дворе скрипит жёлтая калитка 7391, а рядом яма на дороге глубиной в колено."
    appeals = [
        submit(w, author=author, text=text, address="г. Тестовск, ул. Уникальная, д. 7391")
        for _ in range(7)
    ]
    for appeal in appeals[:2]:
        to_work(w, appeal)
        s.submit_draft(appeal, w.executor, "Калитку заменили 7391, яму заделали.")
        s.approve_answer(appeal, w.head)
    s.rate_appeal(appeals[0], author, 5, "Секретный отзыв 7391")
    s.rate_appeal(appeals[1], author, 4, "Секретный отзыв 7391, спасибо")
    late = to_work(w, appeals[2])
    late.coordination_due_at = utcnow() - timedelta(days=2)
    late.answer_due_at = utcnow() - timedelta(days=1)
    submit(w, author=author, text=text, subcategory_id=w.benches.id, territory_id=w.town.id)
    db.session.flush()
    rebuild()
    db.session.flush()
    w.author, w.appeals, w.late = author, appeals, late
    return w


def _get(client, url: str, **kw):
    """A GET whose streamed body is read inside the request (as the voting tests do)."""
    return client.get(url, buffered=True, **kw)


def _csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for Excel"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def _no_secrets(blob: bytes, where: str) -> None:
    text = blob.decode("utf-8", "replace").lower()
    for secret in SECRETS:
        assert secret.lower() not in text, f"{secret!r} leaked into {where}"


def _xlsx_text(blob: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


# --- tables ------------------------------------------------------------------------------------


def test_breakdown_csv_is_russian_excel_csv_with_the_figures(client, data):
    w = data
    login_as(client, w.cur_coordinator)
    response = _get(
        client, "/reports/export/table.csv", query_string={"cut": "subcategory", **_range()}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="indicators-subcategory-')
    assert "filename*=UTF-8''" + quote("Показатели по разрезу «Подкатегория»") in disposition
    rows = _csv(response)
    header = rows[0]
    assert header[:3] == ["Подкатегория", "Поступило сообщений", "В работе сейчас"]
    assert "Ответ в срок, %" in header and "Средняя оценка (от 1 до 5)" in header
    by_label = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    potholes = by_label["Ямы и выбоины (тест)"]
    assert potholes["Поступило сообщений"] == "7"
    assert potholes["Дан ответ"] == "2"
    assert potholes["Ответ в срок, %"] == "100"  # Russian numbers: no «.0», comma decimals
    assert potholes["Средняя оценка (от 1 до 5)"] == "4,5"
    assert potholes["Оценки 4–5, %"] == "100"
    assert potholes["Просрочено сейчас"] == "1"
    assert by_label["Итого"]["Поступило сообщений"] == "8"
    assert by_label["Скамейки (тест)"]["Поступило сообщений"] == "1"


def test_breakdown_xlsx_opens_with_the_same_figures(client, data):
    login_as(client, data.cur_coordinator)
    query = {"cut": "subcategory", **_range()}
    as_csv = _csv(_get(client, "/reports/export/table.csv", query_string=query))
    response = _get(client, "/reports/export/table.xlsx", query_string=query)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == as_csv[0]
    xlsx = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    potholes = xlsx["Ямы и выбоины (тест)"]
    assert potholes["Поступило сообщений"] == 7
    assert potholes["Ответ в срок, %"] == 1  # a share, shown by Excel as 100,0 %
    assert potholes["Средняя оценка (от 1 до 5)"] == 4.5
    assert len(rows) == len(as_csv)
    share_column = rows[0].index("Ответ в срок, %") + 1
    potholes_row = 2 + [r[0] for r in rows[1:]].index("Ямы и выбоины (тест)")
    assert sheet.cell(potholes_row, share_column).number_format == "0.0%"


def test_trend_has_a_line_for_every_day(client, data):
    login_as(client, data.cur_coordinator)
    rows = _csv(
        _get(client, "/reports/export/trend.csv", query_string={"step": "day", **_range(4)})
    )
    assert rows[0][0] == "День" and "Просрочено сейчас" not in rows[0]
    days = [r[0] for r in rows[1:]]
    assert days == [(_today() - timedelta(days=n)).strftime("%d.%m.%Y") for n in range(4, -1, -1)]
    assert rows[-1][1] == "8"  # everything arrived today


# --- the statistics CSV ------------------------------------------------------------------------


def test_statistics_csv_has_codes_and_exact_counts(client, data):
    w = data
    login_as(client, w.cur_coordinator)
    rows = _csv(_get(client, "/reports/export/statistics.csv", query_string=_range()))
    header = rows[0]
    assert header[:7] == [
        "Дата",
        "ОКТМО муниципального образования",
        "Муниципальное образование",
        "Код категории",
        "Категория",
        "Код источника",
        "Источник поступления",
    ]
    lines = {(r[1], r[3], r[5]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    city = lines[(w.city.oktmo, w.roads.code, "portal")]
    assert city["Дата"] == _today().isoformat()
    assert city["Муниципальное образование"] == "город Тестовск"
    assert city["Источник поступления"] == "Портал Госуслуг"
    assert (city["Поступило сообщений"], city["Дан ответ"], city["Оценки 4–5"]) == ("7", "2", "2")
    assert lines[(w.town.oktmo, w.yards.code, "portal")]["Поступило сообщений"] == "1"


def test_public_statistics_hide_counts_under_five_and_need_no_login(client, data):
    w = data
    response = _get(
        client, f"/reports/export/open-data/{w.region.id}/statistics.csv", query_string=_range()
    )
    assert response.status_code == 200
    rows = _csv(response)
    header = rows[0]
    lines = {(r[1], r[3]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    city = lines[(w.city.oktmo, w.roads.code)]
    assert city["Поступило сообщений"] == "7"  # five and more: exact
    assert city["Дан ответ"] == "менее 5"
    assert city["Оценки 1–2"] == "0"  # nothing counted points at nobody
    assert lines[(w.town.oktmo, w.yards.code)]["Поступило сообщений"] == "менее 5"


def test_no_export_contains_personal_data_or_message_text(client, data):
    w = data
    # The fixture's secrets are really in the database: the scan below could fail.
    assert db.session.scalar(sa.select(sa.func.count()).where(Appeal.text.contains("7391"))) == 8
    login_as(client, w.cur_coordinator)
    for url, query in [
        ("/reports/export/table.csv", {"cut": cut})
        for cut in (
            "municipality",
            "organization",
            "territory",
            "category",
            "subcategory",
            "channel",
        )
    ] + [
        ("/reports/export/trend.csv", {"step": "day"}),
        ("/reports/export/statistics.csv", {}),
        (f"/reports/export/open-data/{w.region.id}/statistics.csv", {}),
    ]:
        response = _get(client, url, query_string={**query, **_range()})
        assert response.status_code == 200, url
        _no_secrets(response.get_data(), f"{url} {query}")
    for cut in ("organization", "subcategory"):
        response = _get(client, "/reports/export/table.xlsx", query_string={"cut": cut, **_range()})
        _no_secrets(_xlsx_text(response.get_data()), f"xlsx {cut}")
    pdf = _get(client, "/reports/export/governor.pdf", query_string=_range()).get_data()
    _no_secrets(_pdf_text(pdf).encode(), "governor PDF")


# --- the governor's PDF ------------------------------------------------------------------------


def _pdf_text(blob: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed"
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=blob, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def test_governor_pdf_reads_in_russian(client, data):
    w = data
    login_as(client, w.cur_coordinator)
    response = _get(client, "/reports/export/governor.pdf", query_string=_range())
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (
        "filename*=UTF-8''" + quote("Справка для губернатора")
        in response.headers["Content-Disposition"]
    )
    blob = response.get_data()
    text = _pdf_text(blob)
    for phrase in (
        "Аналитическая справка о работе с сообщениями граждан",
        "Республика Тест",
        "Ключевые показатели",
        "Ответ в срок",
        "Частые проблемы",
        "Ямы и выбоины (тест)",
        "Организации с наибольшим числом просроченных сообщений",
        "Администрация г. Тестовска",
        "екатеринбургское время (МСК+2)",
    ):
        assert phrase in " ".join(text.split()), phrase
    now = utcnow().astimezone(ZoneInfo(TZ))
    assert f"Сформировано {now:%d.%m.%Y}" in text
    pages = subprocess.run(["pdfinfo", "-"], input=blob, capture_output=True, check=True)
    count = int(
        next(
            line for line in pages.stdout.decode().splitlines() if line.startswith("Pages")
        ).split()[-1]
    )
    assert 1 <= count <= 3
    target = os.environ.get("GOVERNOR_PDF_OUT")  # to look at it: pdftoppm -png -r 70
    if target:
        Path(target).write_bytes(blob)


# --- the daily digest --------------------------------------------------------------------------


def _at_local(day, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(TZ))


def _digests(user) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.user_id == user.id, OutboxMessage.dedup_key.like("report-digest:%")
            )
            .order_by(OutboxMessage.id)
        )
    )


def test_subscribe_form_then_digest_once_when_the_sweep_runs_twice(client, data):
    w = data
    login_as(client, w.head)
    token = csrf_token(client, "/reports/export/")
    assert client.post("/reports/export/digest", data={"action": "subscribe"}).status_code == 400
    response = client.post(
        "/reports/export/digest", data={"csrf_token": token, "action": "subscribe"}
    )
    assert response.status_code == 302
    page = _get(client, "/reports/export/").get_data(as_text=True)
    assert "Отписаться от сводки" in page
    today = _today()
    tomorrow = today + timedelta(days=1)
    assert send_due_digests(_at_local(today, 23)) == 0  # today is not over yet
    assert send_due_digests(_at_local(tomorrow)) == 1
    assert send_due_digests(_at_local(tomorrow, 9)) == 0
    [letter] = _digests(w.head)
    assert letter.email == w.head.email
    assert letter.subject == f"Сводка за {today:%d.%m.%Y}: Администрация г. Тестовска"
    assert "- Поступило сообщений: 7" in letter.body
    assert "- Просрочено сейчас: 1" in letter.body
    assert "1. Ямы и выбоины (тест) — 7" in letter.body
    assert "Скамейки" not in letter.body  # the neighbouring town's message is not theirs
    _no_secrets(letter.body.encode(), "digest")


def test_digest_after_a_gap_covers_the_missed_days_in_one_letter(data):
    w = data
    today = _today()
    subscribe_digest(w.head, w.city_admin, _at_local(today - timedelta(days=1)))  # sent through
    subscription = db.session.scalars(sa.select(DigestSubscription)).one()
    assert subscription.last_sent_day == today - timedelta(days=2)
    # The sweep was down: next run three days after the last digest's day.
    assert send_due_digests(_at_local(today + timedelta(days=1))) == 1
    [letter] = _digests(w.head)
    first, last = today - timedelta(days=1), today
    assert letter.subject.startswith(f"Сводка за {first:%d.%m.%Y} — {last:%d.%m.%Y}")
    assert f"{first:%d.%m.%Y}: поступило 0, дан ответ 0" in letter.body
    assert f"{last:%d.%m.%Y}: поступило 7, дан ответ 2" in letter.body
    db.session.refresh(subscription)
    assert subscription.last_sent_day == today
    assert send_due_digests(_at_local(today + timedelta(days=1), 12)) == 0


def test_a_long_outage_sends_the_last_week_and_says_so(data):
    w = data
    today = _today()
    subscribe_digest(w.head, w.city_admin, _at_local(today - timedelta(days=30)))
    period = send_digest(
        db.session.scalars(sa.select(DigestSubscription.id)).one(),
        _at_local(today + timedelta(days=1)),
    )
    assert (period.start, period.end, period.days) == (today - timedelta(days=6), today, 7)
    [letter] = _digests(w.head)
    assert "последние 7 дн." in letter.body


def test_who_loses_the_role_gets_no_digest(data):
    w = data
    subscribe_digest(w.head, w.city_admin, _at_local(_today()))
    from participation.core.users import Membership

    db.session.execute(sa.delete(Membership).where(Membership.user_id == w.head.id))
    db.session.expire_all()
    assert send_due_digests(_at_local(_today() + timedelta(days=1))) == 0


@pytest.mark.committed
def test_two_racing_sweeps_send_one_digest(app, world, monkeypatch):  # noqa: F811
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and READ COMMITTED re-checks are PostgreSQL's")
    w = world
    today = _today()
    subscribe_digest(w.head, w.city_admin, _at_local(today))
    db.session.commit()
    subscription_id = db.session.scalars(sa.select(DigestSubscription.id)).one()
    both_read = threading.Barrier(2, timeout=20)
    claim = digest_module._claim

    def racing_claim(*args):
        both_read.wait()  # both sweeps have read the same last_sent_day
        return claim(*args)

    monkeypatch.setattr(digest_module, "_claim", racing_claim)
    results: list = []

    def sweep() -> None:
        with app.app_context():
            try:
                results.append(send_digest(subscription_id, _at_local(today + timedelta(days=1))))
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and sum(r is not None for r in results) == 1
    db.session.expire_all()
    assert len(_digests(w.head)) == 1


# --- who may download what ---------------------------------------------------------------------


def test_anonymous_residents_and_roles_without_analytics_get_nothing(client, data):
    w = data
    assert _get(client, "/reports/export/table.csv").status_code == 302  # to the login page
    for person in (w.resident, w.executor):
        login_as(client, person)
        assert _get(client, "/reports/export/table.csv").status_code == 404
        assert _get(client, "/reports/export/governor.pdf").status_code == 404
        assert _get(client, "/reports/export/").status_code == 404


def test_staff_see_their_organization_and_below_only(client, data):
    w = data
    login_as(client, w.head)
    rows = _csv(
        _get(client, "/reports/export/table.csv", query_string={"cut": "organization", **_range()})
    )
    assert {r[0] for r in rows[1:]} == {"Администрация г. Тестовска", "Итого"}
    for query in (
        {"organization": w.town_admin.id},
        {"organization": w.government.id},  # above them
        {"region": f.territory(TerritoryLevel.REGION).id},
    ):
        assert _get(client, "/reports/export/table.csv", query_string=query).status_code == 404, (
            query
        )
    assert (
        _get(
            client, "/reports/export/statistics.csv", query_string={"organization": w.town_admin.id}
        ).status_code
        == 404
    )
    # The town's head does not see the city.
    login_as(client, w.town_head)
    assert (
        _get(
            client, "/reports/export/governor.pdf", query_string={"organization": w.city_admin.id}
        ).status_code
        == 404
    )


def test_the_regional_centre_sees_the_region_not_another(client, data):
    w = data
    login_as(client, w.cur_coordinator)
    rows = _csv(
        _get(client, "/reports/export/table.csv", query_string={"cut": "organization", **_range()})
    )
    assert {"Администрация г. Тестовска", "Администрация г. Соседнего"} <= {r[0] for r in rows}
    narrowed = _csv(
        _get(
            client,
            "/reports/export/table.csv",
            query_string={"cut": "organization", "organization": w.town_admin.id, **_range()},
        )
    )
    assert {r[0] for r in narrowed[1:]} == {"Администрация г. Соседнего", "Итого"}
    other = f.territory(TerritoryLevel.REGION, name="Другой регион")
    other_city = f.territory(TerritoryLevel.URBAN_OKRUG, parent=other)
    assert (
        _get(client, "/reports/export/table.csv", query_string={"region": other.id}).status_code
        == 404
    )
    assert (
        _get(
            client, "/reports/export/table.csv", query_string={"municipality": other_city.id}
        ).status_code
        == 404
    )


def test_bad_dates_are_refused_next_to_the_field(client, data):
    login_as(client, data.cur_coordinator)
    response = _get(
        client,
        "/reports/export/table.csv",
        query_string={"start": "2026-05-10", "end": "2026-05-01"},
    )
    assert response.status_code == 400
    assert "Дата окончания раньше даты начала." in response.get_data(as_text=True)
    response = _get(
        client,
        "/reports/export/table.csv",
        query_string={"start": "2015-01-01", "end": "2026-05-01"},
    )
    assert "Период длиннее пяти лет" in response.get_data(as_text=True)
    assert _get(client, "/reports/export/table.pdf").status_code == 404
    public = _get(client, f"/reports/export/open-data/{data.city.id}/statistics.csv")
    assert public.status_code == 404  # a city is not a region


def test_the_backoffice_lists_the_exports_for_heads(client, data):
    login_as(client, data.head)
    assert "/reports/export/" in _get(client, "/backoffice/").get_data(as_text=True)
    login_as(client, data.executor)
    assert "/reports/export/" not in _get(client, "/backoffice/").get_data(as_text=True)


def test_open_appeal_state_is_what_overdue_counts(data):
    assert data.late.state in (AppealState.IN_WORK,)
