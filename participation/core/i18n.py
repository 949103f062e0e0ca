"""Locale and time zone selection, and template filters for dates and durations in Russian."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, ngettext


def select_locale() -> str:
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_datetime(
    value: datetime | None, tz: str | None = None, fmt: str = "dd.MM.yyyy HH:mm"
) -> str:
    """A UTC moment shown in the given (organization's) time zone, e.g. 26.06.2020 14:05."""
    if value is None:
        return ""
    zone = ZoneInfo(tz or current_app.config["DEFAULT_TIMEZONE"])
    return format_datetime(value.astimezone(zone).replace(tzinfo=None), fmt)


def local_date(value: datetime | date | None, tz: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz or current_app.config["DEFAULT_TIMEZONE"])).date()
    return format_date(value, "dd.MM.yyyy")


def count_days(n: int) -> str:
    return ngettext("%(num)d день", "%(num)d дней", n)


def count_hours(n: int) -> str:
    return ngettext("%(num)d час", "%(num)d часов", n)


def count_minutes(n: int) -> str:
    return ngettext("%(num)d минута", "%(num)d минут", n)


def duration(value: timedelta) -> str:
    """'29 дней 3 часа 57 минут' (negative durations are shown by their size)."""
    total = abs(int(value.total_seconds())) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(count_days(days))
    if days or hours:
        parts.append(count_hours(hours))
    parts.append(count_minutes(minutes))
    return " ".join(parts)


# Russia's zones as residents name them; the MSK offset is computed from the zone itself.
_ZONE_NAMES = {
    "Europe/Kaliningrad": "калининградское время",
    "Europe/Moscow": "московское время",
    "Europe/Simferopol": "московское время",
    "Europe/Kirov": "московское время",
    "Europe/Volgograd": "московское время",
    "Europe/Samara": "самарское время",
    "Europe/Ulyanovsk": "самарское время",
    "Europe/Astrakhan": "самарское время",
    "Europe/Saratov": "самарское время",
    "Asia/Yekaterinburg": "екатеринбургское время",
    "Asia/Omsk": "омское время",
    "Asia/Novosibirsk": "новосибирское время",
    "Asia/Barnaul": "красноярское время",
    "Asia/Tomsk": "красноярское время",
    "Asia/Novokuznetsk": "красноярское время",
    "Asia/Krasnoyarsk": "красноярское время",
    "Asia/Irkutsk": "иркутское время",
    "Asia/Chita": "якутское время",
    "Asia/Yakutsk": "якутское время",
    "Asia/Vladivostok": "владивостокское время",
    "Asia/Sakhalin": "магаданское время",
    "Asia/Magadan": "магаданское время",
    "Asia/Srednekolymsk": "магаданское время",
    "Asia/Kamchatka": "камчатское время",
    "Asia/Anadyr": "камчатское время",
}


def zone_label(tz: str, at: datetime | None = None) -> str:
    """«екатеринбургское время (МСК+2)»: a zone as residents say it, never «Asia/…»."""
    at = at or datetime.now(UTC)
    local, moscow = at.astimezone(ZoneInfo(tz)), at.astimezone(ZoneInfo("Europe/Moscow"))
    hours = int((local.utcoffset() - moscow.utcoffset()).total_seconds() // 3600)
    msk = "МСК" if hours == 0 else f"МСК{'+' if hours > 0 else '−'}{abs(hours)}"
    return f"{_ZONE_NAMES.get(tz, 'местное время')} ({msk})"


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(local_datetime, "localdt")
    app.add_template_filter(local_date, "localdate")
    app.add_template_filter(zone_label, "zone_label")
    app.add_template_filter(duration, "duration")
    app.add_template_global(count_days)

    @app.context_processor
    def _i18n():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "request_path": request.path}
