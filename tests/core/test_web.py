"""The Russian UI shell: pages, error pages, CSRF, security headers, plural forms."""

import os
import re
from datetime import timedelta

import pytest

from participation import create_app
from participation.core.i18n import count_days, duration
from participation.extensions import limiter


def test_home_page_speaks_russian_and_has_landmarks(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ru">' in html
    assert "Сообщить о проблеме" in html and "Проголосовать" in html
    assert 'href="#content"' in html and '<main id="content"' in html
    assert "<header" in html and "<footer" in html and "<nav" in html


def test_pages_load_nothing_from_other_sites(client):
    html = client.get("/").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
    css = client.get("/static/css/app.css")
    assert css.status_code == 200 and b":focus-visible" in css.data


def test_language_switch_needs_csrf_and_changes_language(client):
    assert client.post("/lang", data={"lang": "en"}).status_code == 400
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/lang", data={"lang": "en", "csrf_token": token, "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_language_switch_ignores_foreign_next(client):
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(
        "/lang", data={"lang": "ru", "csrf_token": token, "next": "//evil.example/x"}
    )
    assert response.headers["Location"] == "/"


def test_csrf_refusal_is_explained_in_russian(client):
    response = client.post("/lang", data={"lang": "en"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_flags(client):
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/lang", data={"lang": "ru", "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_404_page_in_russian(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)


def test_405_page(client):
    response = client.post("/")
    assert response.status_code in (400, 405)  # CSRF check runs first on POST


def test_api_errors_are_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["status"] == 404
    assert response.json["error"]["title"] == "Страница не найдена"


def test_413_for_oversized_request(client, app):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/lang", data=body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "Слишком большой запрос" in response.get_data(as_text=True)


@pytest.fixture(scope="module")
def error_app(tmp_path_factory):
    """A separate app with routes that fail on purpose."""
    folder = tmp_path_factory.mktemp("errors")
    app = create_app(
        env={
            "PARTICIPATION_ENV": "testing",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": f"sqlite:///{folder / 'e.sqlite3'}",
            "MAIL_DIR": str(folder / "mail"),
            "STORAGE_DIR": str(folder / "files"),
            # The limiter is one object for every app: keep the main suite's storage.
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", ""),
        }
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.get("/limited")
    @limiter.limit("1/minute")
    def limited():
        return "ok"

    return app


def test_500_page_in_russian(error_app):
    response = error_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Ошибка на сервере" in response.get_data(as_text=True)
    assert "kaboom" not in response.get_data(as_text=True)


def test_429_page_in_russian(error_app):
    client = error_app.test_client()
    assert client.get("/limited").status_code == 200
    response = client.get("/limited")
    assert response.status_code == 429
    assert "Слишком много запросов" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1 день"), (3, "3 дня"), (5, "5 дней"), (11, "11 дней"), (21, "21 день"), (22, "22 дня")],
)
def test_russian_plural_forms(app, n, text):
    with app.test_request_context():
        assert count_days(n) == text


def test_duration_like_the_coordinator_screen(app):
    with app.test_request_context():
        assert duration(timedelta(days=29, hours=3, minutes=57)) == "29 дней 3 часа 57 минут"
        assert duration(timedelta(hours=1, minutes=1)) == "1 час 1 минута"


def test_translations_follow_each_request_through_the_fast_babel_context(app):
    """Flask-Babel reaches its per-request holder through participation.core.i18n (an upgrade
    of Flask-Babel that drops `_get_current_context` fails here first); two clients with two
    languages, one after the other, each get their own."""
    import flask_babel

    from participation.core.i18n import _babel_context

    assert flask_babel._get_current_context is _babel_context
    russian, english = app.test_client(), app.test_client()
    with english.session_transaction() as session:
        session["lang"] = "en"
    for _ in range(2):
        assert "Сообщить о проблеме" in russian.get("/").get_data(as_text=True)
        assert "Report a problem" in english.get("/").get_data(as_text=True)
    with app.test_request_context("/"):
        assert flask_babel.gettext("Опросы") == "Опросы"
