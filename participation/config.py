"""Settings read from the environment and validated once, at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which one and what to set."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r}: ожидается true или false")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: ожидается целое число") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: число должно быть больше нуля")
    return value


def _database_url(env: Mapping[str, str], instance: Path) -> str:
    url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'participation.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme.startswith("postgres"):
        # psycopg 3 is the driver we ship; accept the usual spellings of the URL.
        url = url.replace("postgres://", "postgresql://", 1)
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        return url
    if scheme == "sqlite":
        return url
    raise ConfigError(f"DATABASE_URL={url!r}: поддерживаются postgresql://… и sqlite:///…")


def _redis_url(env: Mapping[str, str]) -> str | None:
    url = env.get("REDIS_URL") or None
    if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"REDIS_URL={url!r}: ожидается redis://хост:порт/номер")
    return url


def _secret_key(env: Mapping[str, str], instance: Path, name: str) -> str:
    key = env.get("SECRET_KEY")
    if key:
        if name == "production" and len(key) < 32:
            raise ConfigError("SECRET_KEY: в production нужен ключ не короче 32 символов")
        return key
    if name == "production":
        raise ConfigError(
            "SECRET_KEY не задан: для production задайте SECRET_KEY "
            '(например, python -c "import secrets; print(secrets.token_hex(32))")'
        )
    # Development: generate once and keep it, so sessions survive restarts.
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _timezone(env: Mapping[str, str]) -> str:
    tz = env.get("DEFAULT_TIMEZONE") or "Europe/Moscow"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"DEFAULT_TIMEZONE={tz!r}: неизвестный часовой пояс (пример: Asia/Yekaterinburg)"
        ) from None
    return tz


def load_config(
    env: Mapping[str, str] | None = None, instance_path: str | Path = "instance"
) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables, or raise ConfigError."""
    env = os.environ if env is None else env
    instance = Path(instance_path)
    name = env.get("PARTICIPATION_ENV") or "development"
    if name not in ENVIRONMENTS:
        raise ConfigError(f"PARTICIPATION_ENV={name!r}: допустимо {', '.join(ENVIRONMENTS)}")
    production = name == "production"
    redis_url = _redis_url(env)
    mail_backend = env.get("MAIL_BACKEND") or ("smtp" if env.get("SMTP_HOST") else "file")
    if mail_backend not in {"file", "smtp"}:
        raise ConfigError(f"MAIL_BACKEND={mail_backend!r}: допустимо file или smtp")
    if mail_backend == "smtp" and not env.get("SMTP_HOST"):
        raise ConfigError("MAIL_BACKEND=smtp: задайте SMTP_HOST")
    base_url = (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    if urlsplit(base_url).scheme not in {"http", "https"}:
        raise ConfigError(f"PUBLIC_BASE_URL={base_url!r}: ожидается http(s)://…")
    max_upload_mb = _positive_int(env, "MAX_UPLOAD_MB", 10)
    max_request_mb = _positive_int(env, "MAX_REQUEST_MB", 4 * max_upload_mb)
    if max_request_mb < max_upload_mb:
        raise ConfigError("MAX_REQUEST_MB не может быть меньше MAX_UPLOAD_MB")

    return {
        "ENV_NAME": name,
        "TESTING": name == "testing",
        "SECRET_KEY": _secret_key(env, instance, name),
        "SQLALCHEMY_DATABASE_URI": _database_url(env, instance),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "RQ_QUEUES": ["default", "reports"],
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _flag(env, "RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAIL_BACKEND": mail_backend,
        "MAIL_DIR": str(Path(env.get("MAIL_DIR") or instance / "mail")),
        "MAIL_FROM": env.get("MAIL_FROM") or "Решаем вместе <noreply@participation.local>",
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": _positive_int(env, "SMTP_PORT", 587),
        "SMTP_USER": env.get("SMTP_USER"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag(env, "SMTP_STARTTLS", True),
        "STORAGE_DIR": str(Path(env.get("STORAGE_DIR") or instance / "storage")),
        "MAX_UPLOAD_BYTES": max_upload_mb * 1024 * 1024,
        "MAX_CONTENT_LENGTH": max_request_mb * 1024 * 1024,
        "DEFAULT_TIMEZONE": _timezone(env),
        "PUBLIC_BASE_URL": base_url,
        "SWEEP_INTERVAL_SECONDS": _positive_int(env, "SWEEP_INTERVAL_SECONDS", 60),
        "SESSION_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_ENABLED": _flag(env, "WTF_CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["ru", "en"],
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "PROXY_FIX": _flag(env, "PROXY_FIX", False),
    }
