"""Start-up refuses wrong settings with a one-line explanation."""

import pytest

from participation import create_app
from participation.config import ConfigError, load_config


def test_defaults_are_sqlite_with_in_process_jobs(tmp_path):
    config = load_config({}, tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["REDIS_URL"] is None
    assert config["BABEL_DEFAULT_LOCALE"] == "ru"
    assert config["SESSION_COOKIE_SECURE"] is False  # dev over plain http
    assert config["SUGGEST_AUTOSELECT_MIN"] == 0.4


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = load_config({}, tmp_path)["SECRET_KEY"]
    assert first == load_config({}, tmp_path)["SECRET_KEY"]
    assert len(first) >= 32


def test_postgres_url_uses_psycopg(tmp_path):
    config = load_config({"DATABASE_URL": "postgres://u@h/db"}, tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"PARTICIPATION_ENV": "production"}, "SECRET_KEY не задан"),
        ({"PARTICIPATION_ENV": "production", "SECRET_KEY": "short"}, "не короче 32"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"DEFAULT_TIMEZONE": "Europe/Ufa-ish"}, "часовой пояс"),
        ({"MAX_UPLOAD_MB": "ten"}, "MAX_UPLOAD_MB"),
        ({"MAX_UPLOAD_MB": "0"}, "больше нуля"),
        ({"SUGGEST_AUTOSELECT_MIN": "высокий"}, "SUGGEST_AUTOSELECT_MIN"),
        ({"SUGGEST_AUTOSELECT_MIN": "40"}, "от 0 до 1"),
        ({"MAIL_BACKEND": "smtp"}, "SMTP_HOST"),
        ({"PARTICIPATION_ENV": "staging"}, "PARTICIPATION_ENV"),
        ({"SESSION_COOKIE_SECURE": "maybe"}, "true или false"),
        ({"PARTICIPATION_ENV": "production", "SECRET_KEY": "k" * 40}, "ESIA_BASE_URL не задан"),
    ],
)
def test_wrong_settings_are_refused_with_a_reason(tmp_path, env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_config(env, tmp_path)


def _production_env(tmp_path) -> dict[str, str]:
    files = {}
    for name in ("ESIA_KEY_PATH", "ESIA_CERT_PATH", "ESIA_PROVIDER_KEY_PATH"):
        path = tmp_path / name.lower()
        path.write_text("-----BEGIN PLACEHOLDER-----")
        files[name] = str(path)
    return {
        "PARTICIPATION_ENV": "production",
        "SECRET_KEY": "k" * 40,
        "ESIA_BASE_URL": "https://esia-portal1.test.gosuslugi.ru",
        "ESIA_CLIENT_ID": "PARTICIPATION",
        **files,
    }


def test_production_cookies_are_secure(tmp_path):
    config = load_config(_production_env(tmp_path), tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_create_app_stops_with_one_line_message(capsys):
    with pytest.raises(SystemExit) as stop:
        create_app(env={"DATABASE_URL": "oracle://nope"})
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Ошибка настройки: DATABASE_URL")
    assert "\n" not in err


def test_production_refuses_the_esia_emulator(tmp_path):
    with pytest.raises(ConfigError, match="эмулятор"):
        load_config({**_production_env(tmp_path), "ESIA_EMULATOR": "true"}, tmp_path)
