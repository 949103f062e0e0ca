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


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: ожидается число от 0 до 1") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{name}={raw!r}: ожидается число от 0 до 1")
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


# --- The platform API (participation/api) ---


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Browser origins (scheme://host[:port]) separated by commas or spaces; empty by default."""
    found = []
    for origin in (env.get(name) or "").replace(",", " ").split():
        parts = urlsplit(origin)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.netloc
            or origin.rstrip("/") != (f"{parts.scheme}://{parts.netloc}")
        ):
            raise ConfigError(
                f"{name}: {origin!r} — ожидается источник вида https://app.example.ru"
            )
        found.append(origin.rstrip("/"))
    return tuple(found)


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse_many

    value = env.get(name) or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: ожидается, например, «300 per minute»") from None
    return value


def _api_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        # Origins whose browser scripts may call /api/v1 (CORS); none unless listed.
        "API_CORS_ORIGINS": _origins(env, "API_CORS_ORIGINS"),
        # Per API key or resident token (per address for calls without a token).
        "API_RATE_LIMIT": _rate_limit(env, "API_RATE_LIMIT", "300 per minute"),
        # How long a stored Idempotency-Key answer is replayed.
        "API_IDEMPOTENCY_HOURS": _positive_int(env, "API_IDEMPOTENCY_HOURS", 24),
    }


# --- end API ---


# --- Maps (participation/core/maps.py, static/js/map.js) ---


def _map_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The base map's tiles: none by default (nothing is fetched from the internet)."""
    tile_url = (env.get("MAP_TILE_URL") or "").strip()
    tile_origin = ""
    if tile_url:
        parts = urlsplit(tile_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                f"MAP_TILE_URL={tile_url!r}: ожидается https://…/{{z}}/{{x}}/{{y}}.png"
            )
        if not all(p in tile_url for p in ("{z}", "{x}", "{y}")):
            raise ConfigError(f"MAP_TILE_URL={tile_url!r}: в адресе нужны {{z}}, {{x}} и {{y}}")
        # CSP img-src source for the tiles: "{s}" (a subdomain letter) becomes "*".
        tile_origin = f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    max_zoom = _positive_int(env, "MAP_MAX_ZOOM", 18)
    if max_zoom > 22:
        raise ConfigError(f"MAP_MAX_ZOOM={max_zoom}: не больше 22")
    return {
        "MAP_TILE_URL": tile_url,
        "MAP_TILE_ORIGIN": tile_origin,
        "MAP_ATTRIBUTION": (env.get("MAP_ATTRIBUTION") or "").strip(),
        "MAP_MAX_ZOOM": max_zoom,
        **_geocoder_settings(env),
    }


def _geocoder_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Reverse geocoding (participation/geo/geocoder.py): off unless GEOCODER_URL names a
    Nominatim-compatible service (the region's own, or one whose usage policy allows it)."""
    url = (env.get("GEOCODER_URL") or "").strip().rstrip("/")
    if url:
        parts = urlsplit(url)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.netloc
            or parts.query
            or parts.fragment
            or "{" in url
        ):
            raise ConfigError(
                f"GEOCODER_URL={url!r}: ожидается адрес сервиса, совместимого с Nominatim, "
                "без параметров, например https://nominatim.example.ru (запросы идут на "
                "…/reverse)"
            )
    timeout = _positive_int(env, "GEOCODER_TIMEOUT_SECONDS", 3)
    if timeout > 30:
        raise ConfigError(f"GEOCODER_TIMEOUT_SECONDS={timeout}: не больше 30")
    user_agent = (env.get("GEOCODER_USER_AGENT") or "").strip()
    if any(ord(c) < 32 or ord(c) > 126 for c in user_agent):
        raise ConfigError("GEOCODER_USER_AGENT: только латинские буквы, цифры и знаки ASCII")
    return {
        "GEOCODER_URL": url,
        "GEOCODER_TIMEOUT_SECONDS": timeout,
        # Nominatim's usage policy asks for an identifying User-Agent; None: built from
        # PUBLIC_BASE_URL at the call.
        "GEOCODER_USER_AGENT": user_agent or None,
        "GEOCODER_CACHE_SECONDS": _positive_int(env, "GEOCODER_CACHE_SECONDS", 30 * 24 * 3600),
        "GEOCODER_RATE_LIMIT": _rate_limit(env, "GEOCODER_RATE_LIMIT", "20 per minute"),
    }


# --- end maps ---


# --- ESIA: relying party and emulator (participation/auth/esia.py, auth/emulator/) ---
ESIA_DEFAULT_SCOPES = "openid fullname birthdate gender email mobile addresses"
ESIA_DEFAULT_ISSUER = "http://esia.gosuslugi.ru/"


def _esia_file(env: Mapping[str, str], name: str, default: Path | None, hint: str) -> str:
    """A key or certificate path: given, or a development default generated on first use."""
    raw = env.get(name)
    if raw:
        if not Path(raw).is_file():
            raise ConfigError(f"{name}={raw!r}: файл не найден")
        return raw
    if default is None:
        raise ConfigError(f"{name} не задан: укажите путь к файлу ({hint})")
    return str(default)


def _esia_settings(
    env: Mapping[str, str], instance: Path, production: bool, base_url: str
) -> dict[str, Any]:
    """ESIA settings; in development everything defaults to the built-in emulator."""
    emulator = _flag(env, "ESIA_EMULATOR", not production)
    if emulator and production:
        raise ConfigError("ESIA_EMULATOR: в production эмулятор ЕСИА включать нельзя")
    esia_url = (env.get("ESIA_BASE_URL") or "").rstrip("/")
    if not esia_url:
        if not emulator:
            raise ConfigError(
                "ESIA_BASE_URL не задан: укажите адрес ЕСИА "
                "(тестовый контур: https://esia-portal1.test.gosuslugi.ru)"
            )
        esia_url = f"{base_url}/esia"
    scheme = urlsplit(esia_url).scheme
    if scheme not in {"http", "https"} or (production and scheme != "https"):
        raise ConfigError(f"ESIA_BASE_URL={esia_url!r}: ожидается https://…")
    client_id = env.get("ESIA_CLIENT_ID") or ("" if production else "PARTICIPATION")
    if not client_id:
        raise ConfigError("ESIA_CLIENT_ID не задан: укажите мнемонику системы, выданную в ЕСИА")
    scopes = " ".join((env.get("ESIA_SCOPES") or ESIA_DEFAULT_SCOPES).split())
    if not all(s.replace("_", "").replace("-", "").isalnum() for s in scopes.split()):
        raise ConfigError(f"ESIA_SCOPES={scopes!r}: перечислите области доступа через пробел")
    if not {"openid", "fullname"} <= set(scopes.split()):
        raise ConfigError(f"ESIA_SCOPES={scopes!r}: нужны как минимум openid и fullname")
    folder = None if production else instance / "esia"
    emulator_key = env.get("ESIA_EMULATOR_KEY_PATH") or str(instance / "esia" / "emulator_key.pem")
    return {
        "ESIA_EMULATOR": emulator,
        "ESIA_BASE_URL": esia_url,
        "ESIA_CLIENT_ID": client_id,
        "ESIA_SCOPES": scopes,
        "ESIA_ISSUER": env.get("ESIA_ISSUER") or ESIA_DEFAULT_ISSUER,
        "ESIA_KEY_PATH": _esia_file(
            env, "ESIA_KEY_PATH", folder and folder / "client_key.pem", "закрытый ключ системы"
        ),
        "ESIA_CERT_PATH": _esia_file(
            env, "ESIA_CERT_PATH", folder and folder / "client_cert.pem", "сертификат системы"
        ),
        # With the emulator, id_tokens are checked against the emulator's own key file.
        "ESIA_PROVIDER_KEY_PATH": _esia_file(
            env,
            "ESIA_PROVIDER_KEY_PATH",
            Path(emulator_key) if emulator else None,
            "сертификат или открытый ключ ЕСИА для проверки id_token",
        ),
        "ESIA_EMULATOR_KEY_PATH": emulator_key,
    }


# --- end ESIA ---


def _oauth_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Residents' mobile apps (participation/api/oauth): token lifetimes and the token limit."""
    access_minutes = _positive_int(env, "OAUTH_ACCESS_TOKEN_MINUTES", 15)
    if access_minutes > 60:
        raise ConfigError(
            f"OAUTH_ACCESS_TOKEN_MINUTES={access_minutes}: токен доступа живёт не больше 60 минут"
        )
    code_seconds = _positive_int(env, "OAUTH_CODE_SECONDS", 60)
    if code_seconds > 600:
        raise ConfigError(
            f"OAUTH_CODE_SECONDS={code_seconds}: код авторизации живёт не больше 600 секунд"
        )
    rate_limit = env.get("OAUTH_TOKEN_RATE_LIMIT") or "30 per minute"
    try:
        from limits import parse_many

        parse_many(rate_limit)
    except ValueError:
        raise ConfigError(
            f"OAUTH_TOKEN_RATE_LIMIT={rate_limit!r}: ожидается, например, «30 per minute»"
        ) from None
    return {
        "OAUTH_ACCESS_TOKEN_MINUTES": access_minutes,
        "OAUTH_REFRESH_TOKEN_DAYS": _positive_int(env, "OAUTH_REFRESH_TOKEN_DAYS", 30),
        "OAUTH_CODE_SECONDS": code_seconds,
        "OAUTH_TOKEN_RATE_LIMIT": rate_limit,
    }


# --- Webhooks (participation/api/webhooks/) ---
def _webhook_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """Where webhooks may be sent: https only, and no internal addresses in production (SSRF)."""
    allow_local = _flag(env, "WEBHOOKS_ALLOW_LOCAL_HTTP", not production)
    if allow_local and production:
        raise ConfigError(
            "WEBHOOKS_ALLOW_LOCAL_HTTP: в production вебхуки на http://localhost включать нельзя"
        )
    return {
        # http://127.0.0.1, http://localhost and http://[::1] accepted besides https:// (a
        # receiver on the developer's machine, the tests' receiver).
        "WEBHOOKS_ALLOW_LOCAL_HTTP": allow_local,
        # Refuse addresses that are not public (private, loopback, link-local, reserved): the
        # platform must not be made to call its own network. On in production.
        "WEBHOOKS_BLOCK_PRIVATE_ADDRESSES": _flag(
            env, "WEBHOOKS_BLOCK_PRIVATE_ADDRESSES", production
        ),
        "WEBHOOKS_TIMEOUT_SECONDS": _positive_int(env, "WEBHOOKS_TIMEOUT_SECONDS", 10),
    }


# --- end webhooks ---


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
    replica_url = (
        _database_url({"DATABASE_URL": env["DATABASE_REPLICA_URL"]}, instance)
        if env.get("DATABASE_REPLICA_URL")
        else None
    )
    max_upload_mb = _positive_int(env, "MAX_UPLOAD_MB", 10)
    max_request_mb = _positive_int(env, "MAX_REQUEST_MB", 4 * max_upload_mb)
    if max_request_mb < max_upload_mb:
        raise ConfigError("MAX_REQUEST_MB не может быть меньше MAX_UPLOAD_MB")

    return {
        "ENV_NAME": name,
        "TESTING": name == "testing",
        "SECRET_KEY": _secret_key(env, instance, name),
        "SQLALCHEMY_DATABASE_URI": _database_url(env, instance),
        # A connection per gunicorn thread (gunicorn.conf.py: 4) and room for more: with fewer,
        # a burst opens and closes connections (a PostgreSQL process each) all along.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "pool_size": _positive_int(env, "DATABASE_POOL_SIZE", 8),
        },
        # Dashboards and exports read from a replica when one is named (read-only queries).
        "DATABASE_REPLICA_URL": replica_url,
        "SQLALCHEMY_BINDS": {"replica": replica_url} if replica_url else {},
        "REDIS_URL": redis_url,
        "RQ_QUEUES": ["default", "reports"],
        # participation.core.ratelimit: Redis's storage counting in one round trip per limit.
        "RATELIMIT_STORAGE_URI": f"participation+{redis_url}" if redis_url else "memory://",
        # Redis down: count in this process's memory with the same limits (logged by
        # Flask-Limiter), and go back to Redis once it answers. No RATELIMIT_IN_MEMORY_FALLBACK
        # list: with one, only those limits would apply instead of each route's own.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": 2, "socket_timeout": 2} if redis_url else {}
        ),
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
        **_esia_settings(env, instance, production, base_url),  # ESIA block above
        **_oauth_settings(env),  # residents' mobile apps, above
        **_webhook_settings(env, production),  # webhooks block above
        **_api_settings(env),  # API block above
        **_map_settings(env),  # maps block above
        "SWEEP_INTERVAL_SECONDS": _positive_int(env, "SWEEP_INTERVAL_SECONDS", 60),
        # --- Retention of personal data (participation/privacy/retention.py) ---
        "RETENTION_MESSAGES_YEARS": _positive_int(env, "RETENTION_MESSAGES_YEARS", 5),
        "RETENTION_SURVEY_ANSWERS_YEARS": _positive_int(env, "RETENTION_SURVEY_ANSWERS_YEARS", 3),
        "RETENTION_HEARINGS_YEARS": _positive_int(env, "RETENTION_HEARINGS_YEARS", 5),
        "RETENTION_DIRECTLINE_YEARS": _positive_int(env, "RETENTION_DIRECTLINE_YEARS", 3),
        "RETENTION_SESSIONS_DAYS": _positive_int(env, "RETENTION_SESSIONS_DAYS", 365),
        "RETENTION_NOTIFICATIONS_DAYS": _positive_int(env, "RETENTION_NOTIFICATIONS_DAYS", 365),
        # A resident's download of their own data (participation/privacy/views.py).
        "PERSONAL_DATA_EXPORT_LIMIT": _rate_limit(env, "PERSONAL_DATA_EXPORT_LIMIT", "3/hour"),
        # --- end retention ---
        # How long a worker trusts its topic-suggestion model before asking the database
        # whether the classifier or the moderators' corrections changed (tests: always ask).
        "SUGGEST_REFRESH_SECONDS": 0 if name == "testing" else 5,
        # The form pre-selects the suggested topic only when the suggester is at least this sure
        # (0.4: the best on bench/appeals_suggest_accuracy.py); weaker guesses are only listed.
        "SUGGEST_AUTOSELECT_MIN": _fraction(env, "SUGGEST_AUTOSELECT_MIN", 0.4),
        "SESSION_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        # --- Session time-outs (participation/auth/sessions.py) ---
        "SESSION_IDLE_MINUTES": _positive_int(env, "SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _positive_int(env, "SESSION_ABSOLUTE_HOURS", 12),
        # --- end session time-outs ---
        # How long a staff invitation's link works (participation/admin/invitations.py).
        "STAFF_INVITATION_DAYS": _positive_int(env, "STAFF_INVITATION_DAYS", 7),
        "WTF_CSRF_ENABLED": _flag(env, "WTF_CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["ru", "en"],
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "PROXY_FIX": _flag(env, "PROXY_FIX", False),
        # --- Open311 GeoReport v2 (participation/api/open311): the discovery document ---
        "OPEN311_CONTACT": env.get("OPEN311_CONTACT")
        or "Вопросы об интерфейсе Open311 задавайте оператору платформы.",
        "OPEN311_KEY_SERVICE": env.get("OPEN311_KEY_SERVICE")
        or (
            "Подавать сообщения (POST requests) может доверенная система организации, "
            "например контакт-центр 311, с ключом API с правом messages:write; ключ создаёт "
            "администратор организации в её кабинете, раздел «API-ключи». Ключ передаётся "
            "в поле api_key тела запроса, не в адресе. Сообщение регистрируется как принятое "
            "оператором со слов заявителя: first_name, last_name и phone или email заявителя "
            "обязательны и не публикуются."
        ),
    }
