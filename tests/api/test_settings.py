"""The API's settings are checked at start-up; validation messages are translated to Russian."""

from __future__ import annotations

import pytest

from participation.api.messages import flatten_errors, russian
from participation.config import ConfigError, load_config


def test_api_defaults(tmp_path):
    config = load_config({}, tmp_path)
    assert config["API_CORS_ORIGINS"] == ()
    assert config["API_RATE_LIMIT"] == "300 per minute"
    assert config["API_IDEMPOTENCY_HOURS"] == 24


def test_origins_are_listed_exactly(tmp_path):
    config = load_config(
        {"API_CORS_ORIGINS": "https://app.example.ru, http://localhost:3000/"}, tmp_path
    )
    assert config["API_CORS_ORIGINS"] == ("https://app.example.ru", "http://localhost:3000")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"API_CORS_ORIGINS": "*"}, "API_CORS_ORIGINS"),
        ({"API_CORS_ORIGINS": "https://app.example.ru/path"}, "источник"),
        ({"API_CORS_ORIGINS": "ftp://x.ru"}, "API_CORS_ORIGINS"),
        ({"API_RATE_LIMIT": "много"}, "300 per minute"),
        ({"API_IDEMPOTENCY_HOURS": "0"}, "больше нуля"),
    ],
)
def test_wrong_api_settings_stop_start_up(tmp_path, env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_config(env, tmp_path)


@pytest.mark.parametrize(
    ("english", "russian_text"),
    [
        ("Missing data for required field.", "Обязательное поле."),
        ("Longer than maximum length 5.", "Не длиннее 5 символов."),
        ("Must be greater than or equal to 1.", "Значение должно быть не меньше 1."),
        ("Must be one of: a, b.", "Допустимые значения: a, b."),
        ("Not a valid datetime.", "Ожидаются дата и время в формате ISO 8601."),
        ("Свой текст схемы.", "Свой текст схемы."),
    ],
)
def test_marshmallow_defaults_in_russian(app, english, russian_text):
    with app.test_request_context():
        assert russian(english) == russian_text


def test_nested_errors_are_flattened_to_dotted_fields(app):
    with app.test_request_context():
        assert flatten_errors(
            {"address": {"house": ["Unknown field."]}, "files": {1: ["Invalid value."]}}
        ) == {"address.house": ["Неизвестное поле."], "files.1": ["Недопустимое значение."]}
