"""Locale and time zone selection, and template helpers for dates, durations and numbers.

Numbers go through `number()` and `percent()` here — the web pages, the PDFs and the exports
alike — so they read the same everywhere: «1 234 567», «3,5», «56,2 %» in Russian.
"""

from __future__ import annotations

from copy import copy
from datetime import UTC, date, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import flask_babel
from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import format_date, format_datetime, get_locale, ngettext


def _babel_context() -> SimpleNamespace | None:
    """Flask-Babel's per-request holder of the locale and the domain, reached through the app
    context's variable instead of three proxy lookups of `g` (flask_babel 4.0's own version:
    `if not g`, `hasattr(g, …)`, `g._flask_babel`). Every translated string asks for it:
    dozens of times per page, a quarter of a translation's cost before."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    g = app_ctx.g
    try:
        return g._flask_babel
    except AttributeError:
        g._flask_babel = SimpleNamespace()
        return g._flask_babel


def speed_up_babel() -> None:
    """Install _babel_context in Flask-Babel (the factory calls it once); the same holder, so
    the locale chosen by select_locale() and switched per request behaves as before."""
    flask_babel._get_current_context = _babel_context


def select_locale() -> str:
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def display_zone(tz: str | None = None, person: Any = None, *, viewer: bool = True) -> str:
    """The one rule for the zone a time is shown in, on pages, in the feed, e-mails and PDFs.

    A time belongs to a matter, and shows in the zone of the organization (or territory) whose
    matter it is: `tz`, e.g. a message's answering organization (appeals.presenters.display_tz).
    A time of no organization's matter (a person's profile, an old feed item) shows in the
    zone of the person's own territory (their ESIA registration address); then the default.
    `person` defaults to whoever is looking at the page, unless `viewer` is False (a letter's
    reader is its recipient, not whoever's request sent it).
    """
    if tz:
        return tz
    if person is None and viewer and has_request_context():
        from flask_login import current_user

        person = current_user if current_user.is_authenticated else None
    territory = getattr(person, "registration_territory", None)
    if territory is not None:
        return territory.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def _number_locale() -> Locale:
    """The request's locale; in jobs the default one (Russian)."""
    locale = get_locale() if has_app_context() else None
    if locale is None:
        default = current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "ru"
        locale = Locale.parse(default)
    return locale


def number(value: float | None, digits: int = 2, grouping: bool = True) -> str:
    """«1 234 567», «3,5» (up to `digits` decimals, no trailing zeros); «—» for no value.
    `grouping=False` drops the thousands separator (form fields, spreadsheet cells)."""
    if value is None:
        return "—"
    return _decimal_pattern(digits).apply(value, _number_locale(), group_separator=grouping)


def percent(fraction: float, digits: int = 1) -> str:
    """A share as per cent in the locale's way: 0.562 → «56,2 %» (Russian), «56.2%» (English)."""
    locale = _number_locale()
    return _percent_pattern(locale, digits).apply(fraction, locale)


# Patterns parsed once (Babel parses a pattern string on every call: a dashboard shows hundreds).
@cache
def _decimal_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "#" * digits if digits else ""))


@cache
def _percent_pattern(locale: Locale, digits: int) -> NumberPattern:
    pattern = copy(locale.percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return pattern


def local_datetime(
    value: datetime | None, tz: str | None = None, fmt: str = "dd.MM.yyyy HH:mm"
) -> str:
    """A UTC moment shown in the zone display_zone() picks for it, e.g. 26.06.2020 14:05."""
    if value is None:
        return ""
    zone = ZoneInfo(display_zone(tz))
    return format_datetime(value.astimezone(zone).replace(tzinfo=None), fmt)


def local_date(value: datetime | date | None, tz: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(display_zone(tz))).date()
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
    app.add_template_global(number)
    app.add_template_global(percent)

    @app.context_processor
    def _i18n():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "request_path": request.path}
