"""Open311 GeoReport v2, filing (POST requests): a partner system files a caller's message.

No message on this platform is anonymous. A POST comes from a trusted partner system (e.g. a
city's 311 call centre) holding an organization's API key with messages:write: it files the
message on the operator channel («со слов заявителя»), as the key's technical member, who is
an Оператор приёма of its organization, through the very service the operator's form uses
(same checks, routing, deadlines, notices). The resident's name and a phone or e-mail are
required, as on the operator's form; they are stored with the message and never published.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.api.models import ApiKey, ApiScope
from participation.api.open311.services.common import ApiError, Open311Error, bad, collect
from participation.api.services import find_api_key
from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal, Channel
from participation.appeals.services import Caller, submit_appeal
from participation.appeals.services.common import SUBMISSION_LEVELS
from participation.core.errors import DomainError, FieldError
from participation.core.territories import Territory, territory_by_oktmo
from participation.core.users import Role
from participation.extensions import db

# The operator's form's fields, as Open311 names them (errors speak the client's language).
FORM_FIELDS = {
    "text": "description",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "territory_id": "address_id",
    "subcategory_id": "service_code",
    "caller_name": "first_name",
    "caller_phone": "phone",
    "caller_email": "email",
    "submission_key": "Idempotency-Key",
    "attachments": "media_url",
}
SUBMISSION_KEY_PREFIX = "o311-"
NAME_MAX = 100
IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True)
class Filed:
    """A message filed through Open311 (`created` False: the same Idempotency-Key again)."""

    appeal: Appeal
    created: bool
    timezone: str


def partner_key(raw: str | None, *, in_query: bool = False) -> ApiKey:
    """The API key of a POST: present, known, in force, with messages:write; else a 403."""
    if in_query:
        raise Open311Error(
            403,
            _l(
                "api_key передаётся в теле запроса (application/x-www-form-urlencoded), "
                "а не в адресе: адреса попадают в журналы. Выпустите новый ключ, если этот "
                "уже побывал в адресе."
            ),
        )
    raw = (raw or "").strip()
    if not raw:
        raise Open311Error(403, _l("api_key не передан: подача сообщений требует ключа API."))
    key = find_api_key(raw)
    if key is None:
        raise Open311Error(403, _l("api_key неверен: такого ключа нет."))
    if key.is_revoked:
        raise Open311Error(403, _l("api_key отозван администратором организации."))
    if key.is_expired():
        raise Open311Error(403, _l("Срок действия api_key истёк."))
    if ApiScope.MESSAGES_WRITE not in key.scope_set:
        raise Open311Error(403, _l("У ключа нет права подачи сообщений (messages:write)."))
    if not key.user.has_role(Role.OPERATOR, key.organization_id):
        raise Open311Error(
            403,
            _l(
                "Ключ выпущен до того, как messages:write стал включать подачу сообщений: "
                "выпустите новый ключ."
            ),
        )
    return key


def _required(form: Mapping[str, str], name: str, message) -> str:
    value = " ".join((form.get(name) or "").split())
    if not value:
        raise Open311Error(400, f"{name}: {message}")
    if len(value) > NAME_MAX:
        raise Open311Error(
            400, _l("%(name)s: не длиннее %(max)d символов.", name=name, max=NAME_MAX)
        )
    return value


def _degrees(form: Mapping[str, str], name: str) -> Decimal | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise Open311Error(
            400, _l("%(name)s: ожидается число в градусах WGS84, например 54.7388.", name=name)
        )
    return value


def _territory(key: ApiKey, address_id: str | None) -> Territory:
    """The municipality of the problem: address_id (its OKTMO code), else the key's own."""
    if address_id:
        territory = territory_by_oktmo(address_id)
        if territory is None or territory.level not in SUBMISSION_LEVELS:
            raise Open311Error(
                400,
                _l(
                    "address_id: «%(value)s» — не код ОКТМО городского округа, "
                    "муниципального района или поселения.",
                    value=address_id[:20],
                ),
            )
        return territory
    territory = key.organization.territory
    if territory.level not in SUBMISSION_LEVELS:
        raise Open311Error(
            400,
            _l(
                "address_id: укажите код ОКТМО муниципального образования, где проблема "
                "(организация ключа работает не в одном муниципальном образовании)."
            ),
        )
    return territory


def _submission_key(idempotency_key: str | None) -> str:
    """The operator form's one-time key: from the Idempotency-Key header, else a fresh one."""
    if idempotency_key is None or not idempotency_key.strip():
        return SUBMISSION_KEY_PREFIX + uuid.uuid4().hex
    key = idempotency_key.strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not all("!" <= ch <= "~" for ch in key):
        raise Open311Error(
            400,
            _l(
                "Idempotency-Key: от 1 до %(max)d видимых символов ASCII.",
                max=IDEMPOTENCY_KEY_MAX,
            ),
        )
    return SUBMISSION_KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:48]


def file_request(key: ApiKey, form: Mapping[str, str], idempotency_key: str | None = None) -> Filed:
    """POST requests: the message filed for the caller on the operator channel (flushed).

    A repeated Idempotency-Key returns the message it created; with another service or text
    it is refused.
    """
    errors: list[ApiError] = []
    code = (form.get("service_code") or "").strip()
    if not code:
        errors.append(bad(_l("service_code: укажите код услуги из services.")))
    first = collect(errors, _required, form, "first_name", _l("укажите имя заявителя."))
    last = collect(errors, _required, form, "last_name", _l("укажите фамилию заявителя."))
    latitude = collect(errors, _degrees, form, "lat")
    longitude = collect(errors, _degrees, form, "long")
    address_id = (form.get("address_id") or "").strip() or None
    address = (form.get("address_string") or "").strip() or None
    if address_id is None and address is None and latitude is None and longitude is None:
        errors.append(bad(_l("Укажите место: lat и long, address_string или address_id.")))
    submission_key = collect(errors, _submission_key, idempotency_key)
    if errors:
        raise Open311Error(400, *errors)

    subcategory = db.session.scalar(sa.select(Subcategory).where(Subcategory.code == code))
    if subcategory is None:
        raise Open311Error(404, _l("service_code: услуги «%(code)s» нет.", code=code[:60]))
    territory = _territory(key, address_id)
    description = (form.get("description") or "").replace("\r\n", "\n").strip()
    try:
        submission = submit_appeal(
            submitted_by=key.user,
            submission_key=submission_key,
            subcategory_id=subcategory.id,
            text=description,
            territory_id=territory.id,
            address=address,
            latitude=latitude,
            longitude=longitude,
            channel=Channel.OPERATOR,
            caller=Caller(
                name=f"{last} {first}",
                phone=form.get("phone"),
                email=form.get("email"),
            ),
        )
    except FieldError as exc:
        name = FORM_FIELDS.get(exc.field, exc.field)
        if exc.field == "caller_phone" and not (form.get("phone") or "").strip():
            name = "phone, email"
        raise Open311Error(400, f"{name}: {exc.message}") from None
    except DomainError as exc:
        raise Open311Error(400, str(exc.message)) from None
    appeal = submission.appeal
    if not submission.created and (
        appeal.subcategory_id != subcategory.id or appeal.text != description
    ):
        raise Open311Error(
            400,
            _l(
                "Idempotency-Key уже использован для другого сообщения (№ %(number)s): "
                "для нового сообщения нужен новый ключ.",
                number=appeal.id,
            ),
        )
    timezone = appeal.executor_organization.territory.timezone
    return Filed(appeal, submission.created, timezone)
