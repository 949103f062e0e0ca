"""What every message service shares: settings, input checks, people to notify, links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from participation.appeals import deadlines
from participation.appeals.classifier import (
    offered_subcategory_ids,
)
from participation.appeals.models import (
    Appeal,
)
from participation.appeals.presenters import display_tz
from participation.appeals.routing import (
    widget_topic_ids,
)
from participation.auth.eligibility import APPEAL, EligibilityRule
from participation.core.errors import FieldError
from participation.core.organizations import Organization
from participation.core.territories import TerritoryLevel
from participation.core.users import AccountLevel, Membership, Role, User
from participation.extensions import db

# Settings an administrator may change in the app config; these are the defaults.
DEFAULTS: dict[str, Any] = {
    "APPEALS_MIN_ACCOUNT_LEVEL": AccountLevel.SIMPLIFIED.value,
    "APPEALS_TEXT_MIN_LENGTH": 10,
    "APPEALS_TEXT_MAX_LENGTH": 2000,
    "APPEALS_ANSWER_MAX_LENGTH": 10000,
    "APPEALS_MAX_FILES": 5,
    "APPEALS_RATING_DAYS": 30,
    "APPEALS_REWORK_DAYS": 10,
    "APPEALS_MAX_POSTPONEMENT_DAYS": deadlines.DEFAULT_MAX_POSTPONEMENT_DAYS,
}


ADDRESS_MAX_LENGTH = 500


COMMENT_MAX_LENGTH = 2000


SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


SUBMISSION_LEVELS = (
    TerritoryLevel.URBAN_OKRUG,
    TerritoryLevel.MUNICIPAL_DISTRICT,
    TerritoryLevel.SETTLEMENT,
)


def setting(name: str) -> Any:
    """An appeals setting from the app config, or its default."""
    return current_app.config.get(name, DEFAULTS[name])


def eligibility_rule() -> EligibilityRule:
    """Who may send messages: the configured account level; legal entities too."""
    return EligibilityRule(
        min_level=AccountLevel(setting("APPEALS_MIN_ACCOUNT_LEVEL")),
        allow_legal_entities=True,
        subject=APPEAL,
    )


def _clean_text(
    raw: str | None,
    field: str,
    *,
    min_length: int = 1,
    max_length: int,
    empty: Any,
) -> str:
    text = (raw or "").replace("\r\n", "\n").strip()
    if not text:
        raise FieldError(field, empty)
    if len(text) < min_length:
        raise FieldError(
            field,
            _l(
                "Текст слишком короткий: опишите проблему подробнее (не меньше %(min)d символов).",
                min=min_length,
            ),
        )
    if len(text) > max_length:
        raise FieldError(
            field,
            _l(
                "Текст слишком длинный: не больше %(max)d символов, сейчас %(n)d.",
                max=max_length,
                n=len(text),
            ),
        )
    return text


def _clean_comment(raw: str | None, field: str = "comment", *, required: Any = None) -> str | None:
    text = (raw or "").strip()
    if not text:
        if required:
            raise FieldError(field, required)
        return None
    if len(text) > COMMENT_MAX_LENGTH:
        raise FieldError(
            field,
            _l("Не больше %(max)d символов, сейчас %(n)d.", max=COMMENT_MAX_LENGTH, n=len(text)),
        )
    return text


def _files(files: Sequence[FileStorage] | None) -> list[FileStorage]:
    return [f for f in (files or ()) if f is not None and f.filename]


def _check_file_count(files: list[FileStorage], kept: int = 0) -> None:
    """New files plus those kept from a refused attempt (staged) stay within the limit."""
    limit = int(setting("APPEALS_MAX_FILES"))
    if len(files) + kept > limit:
        raise FieldError(
            "attachments",
            _l(
                "Можно приложить не больше %(max)d файлов, выбрано %(n)d.",
                max=limit,
                n=len(files) + kept,
            ),
        )


def offered_topic_ids(widget_organization: Organization | None = None) -> set[int]:
    """Subcategories a resident may choose; through a widget, only the organization's topics."""
    offered = offered_subcategory_ids()
    if widget_organization is not None:
        narrowed = widget_topic_ids(widget_organization)
        if narrowed is not None:
            offered &= narrowed
    return offered


def _tz(appeal: Appeal) -> str:
    return display_tz(appeal)


def _staff_of(organization_id: int, *roles: Role) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id, Membership.role.in_(roles))
            .distinct()
            .order_by(User.id)
        )
    )


# Links in notices are built without a request (sweeps and jobs send them too); the views
# serve exactly these paths.
def card_path(appeal_id: int) -> str:
    return f"/backoffice/appeals/{appeal_id}"


def cabinet_path(appeal_id: int) -> str:
    return f"/my/appeals/{appeal_id}"


def _card_link(appeal: Appeal) -> str:
    return card_path(appeal.id)


def _cabinet_link(appeal: Appeal) -> str:
    return cabinet_path(appeal.id)
