"""Widget services: settings and codes, residents' widget sessions, actions, statistics.

How a resident logs in inside a widget (the iframe is on the platform's origin but inside
another site's page, so its cookies are third-party and browsers do not send them):

1. The widget page carries a random `verifier` (in its own form, never in a URL) and opens
   the login popup at /widget/<code>/login?challenge=<SHA-256 of the verifier>.
2. The popup is a first-party window: the ordinary ESIA login works there. Its last page
   issues a login ticket (signed, two minutes, bound to the organization and the challenge)
   and hands it to `window.opener` with postMessage, target origin = the platform's origin.
3. The widget posts ticket + verifier back; `start_widget_session` checks both, refuses a
   ticket used before (unique `ticket_id`), and returns a random session token that the
   widget then sends in a form field with every request. Only its SHA-256 is stored.
Nothing secret ever travels in a URL, and a ticket caught on the way is useless without
the verifier that only the widget page holds.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from participation.core import audit
from participation.core.cache import KeyedCached, generation_of
from participation.core.db import UTCDateTime, utcnow
from participation.core.errors import DomainError, FieldError
from participation.core.i18n import local_datetime
from participation.core.limits import parse_id
from participation.core.organizations import Organization, OrganizationCard, new_widget_code
from participation.core.territories import Territory
from participation.core.tokens import new_token, token_hash
from participation.core.users import User
from participation.extensions import db
from participation.polls.models import Survey, survey_territories
from participation.voting.models import Campaign, CampaignStatus
from participation.voting.services import status_filter
from participation.widgets import designs
from participation.widgets.models import (
    COUNTERS,
    BannerDesign,
    WidgetKind,
    WidgetPlacement,
    WidgetSession,
    WidgetSettings,
    WidgetSiteDay,
)

log = logging.getLogger(__name__)

LOGIN_TICKET_SECONDS = 120
CSRF_MAX_AGE_SECONDS = 24 * 3600
SITE_MAX_LENGTH = 200
SITE_URL_MAX_LENGTH = 300
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{10,40}$")
CHALLENGE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
# Touch a session's last-seen stamp at most this often.
_TOUCH_AFTER = timedelta(seconds=60)


class WidgetLoginError(DomainError):
    """The login could not be handed to the widget; the message says what to do."""


# --- sites ------------------------------------------------------------------------------------


def normalize_site(raw: str | None) -> str:
    """The origin (scheme://host[:port]) of a page address, or "" if it is not a web address."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 2000:
        return ""
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in {"http", "https"} or not host or parts.username or parts.password:
        return ""
    if not _HOST.fullmatch(host):
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    site = f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")
    return site if len(site) <= SITE_MAX_LENGTH else ""


def check_site_url(raw: str | None) -> str | None:
    """The organization's site address as typed in the settings (FieldError if it is wrong)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if len(raw) > SITE_URL_MAX_LENGTH:
        raise FieldError(
            "site_url", _l("Адрес не длиннее %(max)d символов.", max=SITE_URL_MAX_LENGTH)
        )
    if "://" not in raw:
        raw = "https://" + raw
    if not normalize_site(raw) or any(ch.isspace() for ch in raw):
        raise FieldError("site_url", _l("Укажите адрес сайта, например https://school12.ufa.ru."))
    return raw


# --- settings and the code --------------------------------------------------------------------


def settings_of(organization: Organization) -> WidgetSettings:
    """The organization's widget settings (defaults, not yet saved, when there are none)."""
    found = db.session.get(WidgetSettings, organization.id)
    if found is not None:
        return found
    return WidgetSettings(
        organization_id=organization.id,
        kind=WidgetKind.MESSAGE,
        design=default_design(organization),
    )


def default_design(organization: Organization) -> BannerDesign:
    """A banner that fits the organization, guessed from its name."""
    name = organization.name.casefold()
    if any(w in name for w in ("больниц", "поликлиник", "здравоохран", "медицин", "фап")):
        return BannerDesign.HEALTH
    if any(w in name for w in ("детский сад", "детского сада", "дошкольн", "доу")):
        return BannerDesign.PRESCHOOL
    if any(w in name for w in ("школ", "гимнази", "лице", "образован", "колледж")):
        return BannerDesign.EDUCATION
    return BannerDesign.MUNICIPAL


def _settings_row(organization: Organization) -> WidgetSettings:
    row = db.session.get(WidgetSettings, organization.id)
    if row is None:
        row = settings_of(organization)
        db.session.add(row)
    return row


def save_settings(
    organization: Organization,
    actor: User,
    *,
    kind: WidgetKind | str,
    design: BannerDesign | str,
    site_url: str | None,
    text_choice: str | None = None,
    custom_text: str | None = None,
) -> WidgetSettings:
    """Store the widget's kind, banner, headline and site; the live widget changes at once."""
    try:
        kind = WidgetKind(kind)
    except ValueError:
        raise FieldError("kind", _l("Выберите вид виджета из списка.")) from None
    try:
        design = BannerDesign(design)
    except ValueError:
        raise FieldError("design", _l("Выберите оформление баннера из списка.")) from None
    text_choice, custom_text = check_banner_text(kind, text_choice, custom_text)
    site_url = check_site_url(site_url)
    row = _settings_row(organization)
    row.kind, row.design, row.site_url = kind, design, site_url
    row.text_choice, row.custom_text = text_choice, custom_text
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    audit.record(
        "widget.settings_saved",
        organization,
        actor_id=actor.id,
        kind=kind.value,
        design=design.value,
        text_choice=text_choice,
        custom_text=custom_text,
        site_url=site_url,
    )
    db.session.flush()
    return row


def check_banner_text(
    kind: WidgetKind, text_choice: str | None, custom_text: str | None
) -> tuple[str | None, str | None]:
    """The headline as stored: (approved wording's key or "custom" or None, the own text)."""
    text_choice = (text_choice or "").strip() or None
    if text_choice is None:
        return None, None
    if text_choice == designs.CUSTOM:
        text = " ".join((custom_text or "").split())
        if not text:
            raise FieldError(
                "custom_text", _l("Напишите текст баннера или выберите готовый из списка.")
            )
        if len(text) > designs.CUSTOM_TEXT_MAX:
            raise FieldError(
                "custom_text",
                _l(
                    "Текст баннера — не длиннее %(max)d символов, сейчас %(count)d.",
                    max=designs.CUSTOM_TEXT_MAX,
                    count=len(text),
                ),
            )
        if any(not ch.isprintable() for ch in text):
            raise FieldError(
                "custom_text", _l("В тексте баннера не должно быть служебных символов.")
            )
        return designs.CUSTOM, text
    wording = designs.WORDINGS.get(text_choice)
    if wording is None:
        raise FieldError("text_choice", _l("Выберите текст баннера из списка."))
    if kind not in wording.kinds:
        raise FieldError(
            "text_choice",
            _l("Этот текст не подходит для выбранного вида виджета: выберите другой."),
        )
    return wording.key, None


def generate_code(organization: Organization, actor: User) -> str:
    """Make a new widget code for the organization; any earlier code stops working."""
    row = _settings_row(organization)
    replaced = row.code_generated_at is not None
    organization.widget_code = new_widget_code()
    organization.widget_revoked_at = None
    row.code_generated_at = row.updated_at = utcnow()
    row.updated_by_id = actor.id
    audit.record("widget.code_generated", organization, actor_id=actor.id, replaced=replaced)
    db.session.flush()
    return organization.widget_code


def disable_widget(organization: Organization, actor: User) -> None:
    """Switch the widget off: its code shows a neutral notice until a new code is made."""
    if not is_enabled(organization):
        raise DomainError(_l("Виджет уже отключён."))
    organization.widget_revoked_at = utcnow()
    db.session.execute(
        sa.update(WidgetSession)
        .where(WidgetSession.organization_id == organization.id, WidgetSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    audit.record("widget.disabled", organization, actor_id=actor.id)
    db.session.flush()


def is_enabled(organization: Organization) -> bool:
    """A code has been generated and not revoked."""
    row = db.session.get(WidgetSettings, organization.id)
    return (
        row is not None
        and row.code_generated_at is not None
        and organization.widget_revoked_at is None
    )


def active_widget(code: str | None) -> tuple[Organization, WidgetSettings] | None:
    """The organization owning this code and its settings, if the widget works."""
    if not code or not CODE_PATTERN.fullmatch(code):
        return None
    row = db.session.execute(_active_widget_statement(), {"code": code}).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class WidgetOwner:
    """The organization behind a widget code, as plain values (what a page view reads)."""

    id: int
    territory_id: int | None
    widget_code: str
    name: str
    short_name: str | None
    card: OrganizationCard  # the profile the widget's «organization card» shows

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


@dataclass(frozen=True)
class WidgetLook:
    """A widget's settings as plain values."""

    kind: WidgetKind
    design: BannerDesign
    site_url: str | None
    text_choice: str | None = None
    custom_text: str | None = None


def _widget_facts(session, code: str) -> tuple[tuple[WidgetOwner, WidgetLook] | None, int | None]:
    row = session.execute(_widget_facts_statement(), {"code": code}).first()
    if row is None:
        return None, None
    org, settings, generation = row
    facts = (
        WidgetOwner(org.id, org.territory_id, org.widget_code, org.name, org.short_name, org.card),
        WidgetLook(
            settings.kind,
            settings.design,
            settings.site_url,
            settings.text_choice,
            settings.custom_text,
        ),
    )
    return facts, generation


ACTIVE_WIDGETS = KeyedCached(
    "widgets.active",
    _widget_facts,
    watch=(Organization, WidgetSettings),
    max_keys=4096,
    loads_generation=True,
)


@cache
def _widget_facts_statement() -> sa.Select:
    return _active_widget_statement().add_columns(generation_of(ACTIVE_WIDGETS.name))


def active_widget_facts(code: str | None) -> tuple[WidgetOwner, WidgetLook] | None:
    """As `active_widget`, as plain values kept per process until the organization or the
    widget's settings change: for page views, which change nothing of either."""
    if not code or not CODE_PATTERN.fullmatch(code):
        return None
    return ACTIVE_WIDGETS.get(db.session, code)


@cache
def _active_widget_statement() -> sa.Select:
    # Built once: it runs on every widget page view.
    return (
        sa.select(Organization, WidgetSettings)
        .join(WidgetSettings, WidgetSettings.organization_id == Organization.id)
        .where(
            Organization.widget_code == sa.bindparam("code"),
            Organization.widget_revoked_at.is_(None),
            WidgetSettings.code_generated_at.is_not(None),
        )
    )


def snippet(organization: Organization, base_url: str) -> str:
    """The HTML to paste on the organization's site: a placeholder, the loader, a link."""
    base = base_url.rstrip("/")
    code = organization.widget_code
    name = organization.display_name.replace("<", "").replace(">", "").replace("--", "—")
    return (
        f"<!-- Виджет платформы «Решаем вместе»: {name}. Код не изменяйте. -->\n"
        f'<div id="participation-widget-{code}" class="participation-widget"></div>\n'
        f'<script src="{base}/static/js/widget.js" data-widget-code="{code}" async></script>\n'
        f'<noscript><a href="{base}/widget/{code}">'
        "Сообщить о проблеме или принять участие в опросе на платформе «Решаем вместе»"
        "</a></noscript>"
    )


# --- where the widget sits on a site's page ------------------------------------------------------

# What a report may hold (CSS px): anything else is not a measurement of a real page.
PLACEMENT_LIMITS = {
    "top": (-100_000, 1_000_000),
    "left": (-100_000, 1_000_000),
    "width": (0, 100_000),
    "height": (0, 100_000),
    "viewport_width": (1, 100_000),
    "viewport_height": (1, 100_000),
}


class PlacementRefused(DomainError):
    """A placement report not recorded: the message says why."""


class ForeignPlacement(PlacementRefused):
    """A placement report from a page that is not the organization's declared site."""

    status = 403


def parse_placement(form: Any) -> dict[str, int]:
    """The report's numbers (rounded to whole px); PlacementRefused when any is missing,
    not a finite number, or out of range."""
    values: dict[str, int] = {}
    for name, (low, high) in PLACEMENT_LIMITS.items():
        raw = (form.get(name) or "").strip()
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not raw or len(raw) > 20 or number != number or not low <= number <= high:
            raise PlacementRefused(
                _l("Неверное значение «%(name)s» в отчёте о размещении виджета.", name=name)
            )
        values[name] = round(number)
    return values


def record_placement(
    organization: Organization | WidgetOwner,
    settings: WidgetSettings | WidgetLook,
    site: str,
    values: dict[str, int],
) -> None:
    """Keep the last report of where the widget is on the organization's own site.

    Only the declared site's reports count: the embed script on any other page (which the
    browser does not let show the widget anyway) is refused."""
    declared = normalize_site(settings.site_url)
    if not declared or site != declared:
        raise ForeignPlacement(
            _l("Отчёт о размещении принимается только с сайта, указанного в настройках.")
        )
    table = WidgetPlacement.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = insert(table).values(
        organization_id=organization.id, site=site, reported_at=now, **values
    )
    statement = statement.on_conflict_do_update(
        index_elements=["organization_id", "site"], set_={**values, "reported_at": now}
    )
    db.session.execute(statement)


@dataclass(frozen=True)
class PlacementCheck:
    """A placement report with what breaks the rules in it (Russian sentences)."""

    placement: WidgetPlacement
    problems: tuple[str, ...]


def placement_problems(p: WidgetPlacement) -> tuple[str, ...]:
    """What in this placement breaks the platform's rules (nothing: an empty tuple)."""
    problems = []
    if p.top > designs.FIRST_SCREEN_TOP:
        problems.append(str(_l("Виджет расположен ниже первого экрана")))
    narrow = p.width <= designs.NARROW_MAX_WIDTH
    minimum = designs.MIN_HEIGHT_NARROW if narrow else designs.MIN_HEIGHT_WIDE
    if p.width < designs.MIN_WIDTH or p.height < minimum:
        problems.append(str(_l("Размер виджета нарушает правила размещения")))
    return tuple(problems)


def placements(organization: Organization, site: str) -> list[PlacementCheck]:
    """The last report from the declared site (reports from a site declared before are
    not shown), with what breaks the rules."""
    if not site:
        return []
    rows = db.session.scalars(
        sa.select(WidgetPlacement).where(
            WidgetPlacement.organization_id == organization.id, WidgetPlacement.site == site
        )
    )
    return [PlacementCheck(row, placement_problems(row)) for row in rows]


# --- statistics -------------------------------------------------------------------------------


def record_use(
    organization_id: int, site: str, counter: str, *, on: date | None = None, by: int = 1
) -> None:
    """Add to a per-site, per-day counter (one upsert; concurrent requests add up)."""
    if counter not in COUNTERS:
        raise ValueError(counter)
    table = WidgetSiteDay.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = dict.fromkeys(COUNTERS, 0)
    values[counter] = by
    statement = insert(table).values(
        organization_id=organization_id,
        site=site[:SITE_MAX_LENGTH],
        day=on or utcnow().date(),
        **values,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["organization_id", "site", "day"],
        set_={counter: table.c[counter] + by},
    )
    db.session.execute(statement)


# Views are the widget's hot path (every page of every organization's site that shows it).
# With Redis they are buffered there (one HINCRBY, no database write, no row lock) and a sweep
# adds them to the counters; without Redis (development) each view is written at once.
VIEW_BUFFER = "widgets:views"


def _redis() -> Any:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from participation.core.jobs import redis_connection

    return redis_connection(url)


def record_view(organization_id: int, site: str) -> None:
    """Count one view of the widget on `site` (buffered in Redis when there is one)."""
    redis = _redis()
    if redis is not None:
        field = f"{utcnow().date().isoformat()}|{organization_id}|{site[:SITE_MAX_LENGTH]}"
        try:
            redis.hincrby(VIEW_BUFFER, field, 1)
            return
        except RedisError as exc:  # Redis down: the widget still shows; count in the database
            log.warning("widget view not buffered (Redis: %s); written directly", exc)
    record_use(organization_id, site, "views")


def flush_views() -> int:
    """Add the views buffered in Redis to the counters (the caller commits); how many."""
    redis = _redis()
    if redis is None:
        return 0
    # One flusher at a time (sweeps may run in several processes); the lock expires by itself.
    lock = f"{VIEW_BUFFER}:flushing"
    if not redis.set(lock, "1", nx=True, ex=120):
        return 0
    db.session().after_commit(lambda: redis.delete(lock))
    # Take the buffer away atomically: views arriving meanwhile start a new one. A batch
    # whose commit failed is still there under its own key and is taken next time.
    batch = f"{VIEW_BUFFER}:batch:{secrets.token_hex(8)}"
    with contextlib.suppress(ResponseError):  # "no such key": nothing was buffered
        redis.rename(VIEW_BUFFER, batch)
    batches = [
        k.decode() if isinstance(k, bytes) else k for k in redis.scan_iter(f"{VIEW_BUFFER}:batch:*")
    ]
    counts: dict[tuple[date, int, str], int] = {}
    for key in batches:
        for field, n in redis.hgetall(key).items():
            day, organization_id, site = (
                field.decode() if isinstance(field, bytes) else field
            ).split("|", 2)
            slot = (date.fromisoformat(day), int(organization_id), site)
            counts[slot] = counts.get(slot, 0) + int(n)
    if not counts:
        return 0
    existing = set(
        db.session.scalars(
            sa.select(Organization.id).where(
                Organization.id.in_({organization_id for _, organization_id, _ in counts})
            )
        )
    )
    for (day, organization_id, site), n in counts.items():
        if organization_id in existing:  # an organization deleted meanwhile: drop its views
            record_use(organization_id, site, "views", on=day, by=n)
    db.session().after_commit(lambda: redis.delete(*batches))
    return sum(counts.values())


@dataclass(frozen=True)
class SiteStats:
    site: str
    views: int
    logins: int
    messages: int
    survey_responses: int
    ballots: int
    first_day: date
    last_day: date


def site_statistics(organization: Organization, since: date | None = None) -> list[SiteStats]:
    """Use of the organization's widget per site, most viewed first (one GROUP BY)."""
    t = WidgetSiteDay
    query = (
        sa.select(
            t.site,
            *(sa.func.sum(getattr(t, c)).label(c) for c in COUNTERS),
            sa.func.min(t.day),
            sa.func.max(t.day),
        )
        .where(t.organization_id == organization.id)
        .group_by(t.site)
        .order_by(sa.func.sum(t.views).desc(), t.site)
    )
    if since is not None:
        query = query.where(t.day >= since)
    return [SiteStats(*row) for row in db.session.execute(query)]


# --- logging in inside the widget -------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_verifier() -> str:
    """A fresh secret for one widget page; only the page holds it."""
    return new_token()


def login_challenge(verifier: str) -> str:
    """What the login popup may see of the verifier: its SHA-256 (base64url, 43 characters)."""
    return _b64(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def _ticket_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="widget-login-ticket")


def issue_login_ticket(user: User, organization: Organization, challenge: str) -> str:
    """A two-minute ticket saying `user` logged in for this organization's widget."""
    if not CHALLENGE_PATTERN.fullmatch(challenge or ""):
        raise WidgetLoginError(_l("Ссылка для входа повреждена. Нажмите «Войти» в виджете снова."))
    return _ticket_serializer().dumps(
        {
            "u": user.id,
            "v": user.session_version,
            "o": organization.id,
            "c": challenge,
            "j": secrets.token_hex(16),
        }
    )


def _read_ticket(ticket: str) -> dict[str, Any]:
    try:
        data = _ticket_serializer().loads(ticket or "", max_age=LOGIN_TICKET_SECONDS)
    except SignatureExpired:
        raise WidgetLoginError(
            _l("Вход занял слишком много времени. Нажмите «Войти» ещё раз.")
        ) from None
    except BadSignature:
        raise WidgetLoginError(_l("Не удалось войти. Нажмите «Войти» ещё раз.")) from None
    if not isinstance(data, dict) or not {"u", "v", "o", "c", "j"} <= set(data):
        raise WidgetLoginError(_l("Не удалось войти. Нажмите «Войти» ещё раз."))
    return data


def start_widget_session(
    organization: Organization, ticket: str, verifier: str, site: str
) -> tuple[WidgetSession, str]:
    """Turn a login ticket and the page's verifier into a widget session; return its token."""
    data = _read_ticket(ticket)
    if data["o"] != organization.id or not hmac.compare_digest(
        str(data["c"]), login_challenge(verifier or "")
    ):
        raise WidgetLoginError(_l("Не удалось войти. Нажмите «Войти» ещё раз."))
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or user.session_version != data["v"]:
        raise WidgetLoginError(_l("Учётная запись недоступна. Войдите ещё раз."))
    token = new_token()
    session = WidgetSession(
        organization_id=organization.id,
        user_id=user.id,
        token_hash=token_hash(token),
        ticket_id=str(data["j"])[:32],
        session_version=user.session_version,
        site=site[:SITE_MAX_LENGTH],
    )
    try:
        with db.session.begin_nested():
            db.session.add(session)
            db.session.flush()
    except IntegrityError:
        raise WidgetLoginError(_l("Этот вход уже использован. Нажмите «Войти» ещё раз.")) from None
    record_use(organization.id, session.site, "logins")
    audit.record(
        "widget.login", session, actor_id=user.id, organization_id=organization.id, site=site
    )
    return session, token


def widget_session(organization: Organization, token: str | None) -> WidgetSession | None:
    """The live session this token opens in this organization's widget, else None."""
    if not token or len(token) > 100:
        return None
    session = db.session.scalar(
        sa.select(WidgetSession).where(
            WidgetSession.token_hash == token_hash(token),
            WidgetSession.organization_id == organization.id,
            WidgetSession.ended_at.is_(None),
        )
    )
    if session is None:
        return None
    now = utcnow()
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    user = session.user
    if (
        now - session.last_seen_at > idle
        or now - session.created_at > absolute
        or not user.is_active
        or user.session_version != session.session_version
    ):
        session.ended_at = now
        return None
    if now - session.last_seen_at >= _TOUCH_AFTER:
        session.last_seen_at = now
    return session


def end_widget_session(session: WidgetSession) -> None:
    """Log the resident out of this widget (the platform's own session is not touched)."""
    session.ended_at = utcnow()
    audit.record("widget.logout", session, actor_id=session.user_id)
    db.session.flush()


def purge_widget_sessions(older_than: timedelta = timedelta(days=2)) -> int:
    """Delete sessions ended or unused for a while (their audit entries stay)."""
    cutoff = utcnow() - older_than
    result = db.session.execute(
        sa.delete(WidgetSession).where(
            sa.or_(WidgetSession.ended_at < cutoff, WidgetSession.last_seen_at < cutoff)
        )
    )
    return result.rowcount or 0


# --- CSRF for widget forms --------------------------------------------------------------------
# Widget forms cannot use the cookie-bound CSRF token of the rest of the site (no cookies in a
# third-party iframe). Each form carries a signed token bound to the widget session (or, before
# login, to the widget itself); it is checked before any widget POST is handled.


def _csrf_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="widget-csrf")


def _csrf_context(organization: Organization, session: WidgetSession | None) -> str:
    if session is None:
        return f"anonymous:{organization.id}:{organization.widget_code}"
    return f"session:{session.id}:{session.token_hash}"


def csrf_token(organization: Organization, session: WidgetSession | None) -> str:
    """The CSRF token for forms of this widget page."""
    return _csrf_serializer().dumps(token_hash(_csrf_context(organization, session)))


def csrf_valid(
    token: str | None, organization: Organization, session: WidgetSession | None
) -> bool:
    """Was this token issued for this widget and this session (and recently)?"""
    try:
        value = _csrf_serializer().loads(token or "", max_age=CSRF_MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return isinstance(value, str) and hmac.compare_digest(
        value, token_hash(_csrf_context(organization, session))
    )


# --- what the widget offers -------------------------------------------------------------------


# Every widget page view runs these lists; building such statements costs more than running
# them, so each is built once per process with bound parameters and reused.
LIST_LIMIT = 20


def _territory_and_above(name: str = "territory_chain") -> sa.Select:
    """Ids of :territory_id and every territory above it (one recursive CTE named `name`)."""
    chain = (
        sa.select(Territory.id, Territory.parent_id)
        .where(Territory.id == sa.bindparam("territory_id"))
        .cte(name, recursive=True)
    )
    above = sa.orm.aliased(Territory)
    chain = chain.union_all(
        sa.select(above.id, above.parent_id).join(chain, above.id == chain.c.parent_id)
    )
    return sa.select(chain.c.id)


def _now() -> sa.BindParameter:
    return sa.bindparam("now", type_=UTCDateTime())


@cache
def _surveys_statement(one: bool) -> sa.Select:
    from participation.polls.models import Survey, survey_territories

    for_territory = sa.exists().where(
        survey_territories.c.survey_id == Survey.id,
        survey_territories.c.territory_id.in_(_territory_and_above()),
    )
    # The list shows dates in the publisher's time zone: its territory comes in the same query.
    now = _now()
    query = (
        # open as polls.answering.open_surveys_query has it (Survey.state() == OPEN)
        sa.select(Survey)
        .where(
            Survey.published_at.is_not(None),
            Survey.closed_at.is_(None),
            Survey.starts_at <= now,
            Survey.ends_at > now,
        )
        .order_by(Survey.ends_at, Survey.id)
        .join(Survey.organization)
        .join(Organization.territory)
        .options(contains_eager(Survey.organization).contains_eager(Organization.territory))
        .where(sa.or_(Survey.organization_id == sa.bindparam("organization_id"), for_territory))
    )
    return query.where(Survey.id == sa.bindparam("object_id")) if one else query.limit(LIST_LIMIT)


@cache
def _campaigns_statement(one: bool) -> sa.Select:
    from participation.voting.models import Campaign, CampaignStatus
    from participation.voting.services import status_filter

    query = (
        sa.select(Campaign)
        .join(Campaign.territory)
        .options(contains_eager(Campaign.territory))
        .where(
            Campaign.published_at.is_not(None),
            sa.or_(
                Campaign.organization_id == sa.bindparam("organization_id"),
                Campaign.territory_id.in_(_territory_and_above()),
            ),
        )
    )
    query = status_filter(query, CampaignStatus.OPEN, _now()).order_by(
        Campaign.closes_at, Campaign.id
    )
    return query.where(Campaign.id == sa.bindparam("object_id")) if one else query.limit(LIST_LIMIT)


def _params(organization: Organization | WidgetOwner, **more: Any) -> dict[str, Any]:
    return {
        "now": utcnow(),
        "organization_id": organization.id,
        "territory_id": organization.territory_id,
        **more,
    }


def open_surveys(organization: Organization | WidgetOwner) -> list[Any]:
    """Open surveys of the organization or for its territory (and the territories above)."""
    return list(db.session.scalars(_surveys_statement(False), _params(organization)))


def open_campaigns(organization: Organization | WidgetOwner) -> list[Any]:
    """Open votes of the organization or of its territory (and the territories above)."""
    return list(db.session.scalars(_campaigns_statement(False), _params(organization)))


def offered_survey(organization: Organization, survey_id: int) -> Any:
    """The survey if this widget offers it now, else None."""
    params = _params(organization, object_id=survey_id)
    return db.session.scalar(_surveys_statement(True), params)


def offered_campaign(organization: Organization, campaign_id: int) -> Any:
    """The vote if this widget offers it now, else None."""
    params = _params(organization, object_id=campaign_id)
    return db.session.scalar(_campaigns_statement(True), params)


@dataclass(frozen=True)
class Place:
    name: str
    timezone: str


@dataclass(frozen=True)
class ListedSurvey:
    id: int
    title: str
    ends_at: datetime
    timezone: str
    ends_local: str  # formatted once, in the publisher's zone (digits only: no locale)


@dataclass(frozen=True)
class ListedCampaign:
    id: int
    title: str
    effective_closes_at: datetime
    territory: Place
    closes_local: str


@dataclass(frozen=True)
class Offers:
    """The open surveys and votes a widget page lists, as plain values, and until when they
    hold by the clock alone (the first listed one to end, or unlisted one to start)."""

    surveys: tuple[ListedSurvey, ...]
    campaigns: tuple[ListedCampaign, ...]
    valid_until: datetime | None


def _offers(session, key: tuple[int, int | None]) -> tuple[Offers, int | None]:
    organization_id, territory_id = key
    params = {"now": utcnow(), "organization_id": organization_id, "territory_id": territory_id}
    # Each list comes with the next start the list leaves out and the cache's generation
    # (one statement each); only an empty list needs them read on their own.
    survey_rows = session.execute(_listed_statement("surveys"), params).all()
    campaign_rows = session.execute(_listed_statement("campaigns"), params).all()
    if survey_rows and campaign_rows:
        next_survey, next_campaign = survey_rows[0][1], campaign_rows[0][1]
        generation = survey_rows[0][2]
    else:
        next_survey, next_campaign, generation = session.execute(
            _listed_statement("starts"), params
        ).one()
    surveys = tuple(
        ListedSurvey(s.id, s.title, s.ends_at, s.timezone, local_datetime(s.ends_at, s.timezone))
        for s, _n, _g in survey_rows
    )
    campaigns = tuple(
        ListedCampaign(
            c.id,
            c.title,
            c.effective_closes_at,
            Place(c.territory.name, c.territory.timezone),
            local_datetime(c.effective_closes_at, c.territory.timezone),
        )
        for c, _n, _g in campaign_rows
    )
    moments = [
        *(s.ends_at for s in surveys),
        *(c.effective_closes_at for c in campaigns),
        *(m for m in (next_survey, next_campaign) if m is not None),
    ]
    return Offers(surveys, campaigns, min(moments) if moments else None), generation


OFFERS = KeyedCached(
    "widgets.offers",
    _offers,
    watch=(Survey, Campaign, Organization, Territory),
    max_keys=2048,
    loads_generation=True,
)


def offers(organization: Organization | WidgetOwner) -> Offers:
    """What `open_surveys` and `open_campaigns` list, kept per process until a survey, a vote,
    an organization or a territory changes, or the clock passes `valid_until`."""
    key = (organization.id, organization.territory_id)
    found = OFFERS.get(db.session, key)
    if found.valid_until is not None and utcnow() >= found.valid_until:
        OFFERS.forget(key)
        found = OFFERS.get(db.session, key)
    return found


@cache
def _listed_statement(which: str) -> sa.Select:
    """The open surveys, or votes, each row with the next start of a survey and of a vote
    the lists leave out for not having started, and the generation of OFFERS; or ("starts")
    just those three."""
    now = _now()
    next_survey = (
        sa.select(sa.func.min(Survey.starts_at))
        .where(
            Survey.published_at.is_not(None),
            Survey.closed_at.is_(None),
            Survey.starts_at > now,
            Survey.ends_at > now,
            sa.or_(
                Survey.organization_id == sa.bindparam("organization_id"),
                sa.exists().where(
                    survey_territories.c.survey_id == Survey.id,
                    survey_territories.c.territory_id.in_(
                        _territory_and_above("survey_start_chain")
                    ),
                ),
            ),
        )
        .scalar_subquery()
    )
    next_campaign = status_filter(
        sa.select(sa.func.min(Campaign.opens_at)).where(
            Campaign.published_at.is_not(None),
            sa.or_(
                Campaign.organization_id == sa.bindparam("organization_id"),
                Campaign.territory_id.in_(_territory_and_above("campaign_start_chain")),
            ),
        ),
        CampaignStatus.UPCOMING,
        now,
    ).scalar_subquery()
    generation = generation_of(OFFERS.name)
    if which == "surveys":
        return _surveys_statement(False).add_columns(next_survey, generation)
    if which == "campaigns":
        return _campaigns_statement(False).add_columns(next_campaign, generation)
    return sa.select(next_survey, next_campaign, generation)


# --- actions through the widget ---------------------------------------------------------------


def send_message(
    organization: Organization,
    session: WidgetSession,
    *,
    submission_key: str,
    subcategory_id: int | None,
    text: str | None,
    territory_id: int | None,
    address: str | None,
    files: list | None = None,
    staged: Sequence = (),
):
    """Submit a message through the widget: the organization is always the code's owner."""
    from participation.appeals.models import Channel
    from participation.appeals.services import submit_appeal

    submission = submit_appeal(
        submitted_by=session.user,
        submission_key=submission_key,
        subcategory_id=subcategory_id,
        text=text,
        territory_id=territory_id,
        address=address,
        latitude=None,
        longitude=None,
        files=files,
        staged=staged,
        channel=Channel.WIDGET,
        widget_organization_id=organization.id,
    )
    if submission.created:
        record_use(organization.id, session.site, "messages")
    return submission


def answer_survey(
    organization: Organization, session: WidgetSession, survey, section: int, form, action
):
    """One step of answering a survey inside the widget (see polls.answering.answer_section)."""
    from participation.polls.answering import Outcome, answer_section

    step = answer_section(survey, session.user, section, form, action)
    if step.outcome == Outcome.SUBMITTED:
        record_use(organization.id, session.site, "survey_responses")
    return step


def cast_widget_ballot(organization: Organization, session: WidgetSession, campaign, object_ids):
    """Cast a ballot through the widget (channel «виджет»); returns the receipt."""
    from participation.voting.models import Channel
    from participation.voting.services import cast_ballot

    result = cast_ballot(campaign, session.user, object_ids, channel=Channel.WIDGET)
    record_use(organization.id, session.site, "ballots")
    return result


def parse_ids(values: list[str]) -> list[int]:
    """Object ids from a form (anything that is not a number is dropped)."""
    return [number for v in values if (number := parse_id(v)) is not None]
