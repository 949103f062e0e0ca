"""Who may take part: one rule and one check for votes, surveys, hearings, direct lines, appeals.

A module builds an `EligibilityRule` from its own settings (the required account level is always
the administrator's choice), shows `rule_description(rule)` up front, and calls
`check(user, rule, on)` before letting someone in. The check is pure: it reads the user and the
territory tree, and writes nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.core.labels import account_level_label
from participation.core.territories import Territory, TerritoryLevel, territory_chain
from participation.core.users import AccountLevel, UserKind
from participation.extensions import db


class Subject(NamedTuple):
    """What the rule opens, with the words that agree with it in Russian."""

    noun: Any  # nominative, capitalised: «Голосование»
    available: Any  # the predicate agreeing with the noun: «доступно» / «доступен» / «доступна»
    action: Any  # the infinitive after «чтобы»: «проголосовать»


PARTICIPATION = Subject(_l("Участие"), _l("доступно"), _l("принять участие"))
VOTE = Subject(_l("Голосование"), _l("доступно"), _l("проголосовать"))
SURVEY = Subject(_l("Опрос"), _l("доступен"), _l("пройти опрос"))
HEARING = Subject(_l("Обсуждение"), _l("доступно"), _l("оставить предложение"))
DIRECT_LINE = Subject(_l("Прямая линия"), _l("доступна"), _l("задать вопрос"))
APPEAL = Subject(_l("Отправка сообщений"), _l("доступна"), _l("сообщить о проблеме"))


@dataclass(frozen=True)
class EligibilityRule:
    """Who may take part. Ages are whole years on the checked date, both limits inclusive."""

    min_level: AccountLevel = AccountLevel.SIMPLIFIED
    min_age: int | None = None
    max_age: int | None = None
    # Registration (ESIA "PRG" address) must be in this territory or inside it: a municipality
    # for "жители Уфы", a region for "жители республики".
    territory_id: int | None = None
    # The territory in the genitive after «жителям», e.g. «Уфы». Without it the text says
    # «жителям территории «Городской округ город Уфа»», which is always grammatical.
    territory_phrase: str | None = None
    allow_legal_entities: bool = False
    subject: Subject = PARTICIPATION

    def __post_init__(self) -> None:
        if self.min_age is not None and self.min_age < 0:
            raise ValueError("min_age must not be negative")
        if self.max_age is not None and self.max_age < 0:
            raise ValueError("max_age must not be negative")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age must not exceed max_age")


@dataclass(frozen=True)
class Decision:
    """The answer of `check`: allowed, or refused with a reason for the person and a code."""

    allowed: bool
    reason: str | None = None
    # Stable machine-readable cause: anonymous, legal_entity, level, no_birth_date,
    # too_young, too_old, no_registration, territory.
    code: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def age_on(birth_date: date, on: date) -> int:
    """Full years of a person born on `birth_date` on the day `on` (the birthday itself counts)."""
    birthday = _birthday_in(birth_date, on.year)
    return on.year - birth_date.year - (1 if on < birthday else 0)


def _birthday_in(birth_date: date, year: int) -> date:
    # Someone born on 29 February turns a year older on 1 March in common years: that is the
    # Russian practice (the day after 28 February), not 28 February.
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return birth_date.replace(year=year)


def _years(n: int) -> str:
    """«14 лет», «21 года»: the genitive after «от», «до», «нет», «старше»."""
    if n % 10 == 1 and n % 100 != 11:
        return _("%(num)d года", num=n)
    return _("%(num)d лет", num=n)


def _territory(rule: EligibilityRule) -> Territory | None:
    if rule.territory_id is None:
        return None
    territory = db.session.get(Territory, rule.territory_id)
    if territory is None:
        raise ValueError(f"eligibility rule names unknown territory {rule.territory_id}")
    return territory


def _residents(rule: EligibilityRule, territory: Territory | None) -> str:
    if territory is None:
        return _("всем")
    if rule.territory_phrase:
        return _("жителям %(where)s", where=rule.territory_phrase)
    if territory.level == TerritoryLevel.REGION:
        return _("жителям региона «%(name)s»", name=territory.name)
    return _("жителям территории «%(name)s»", name=territory.name)


def _ages(rule: EligibilityRule) -> str | None:
    if rule.min_age is not None and rule.max_age is not None:
        return _("от %(low)d до %(high)s включительно", low=rule.min_age, high=_years(rule.max_age))
    if rule.min_age is not None:
        return _("от %(years)s", years=_years(rule.min_age))
    if rule.max_age is not None:
        return _("не старше %(years)s", years=_years(rule.max_age))
    return None


def _level(level: AccountLevel) -> str:
    return {
        AccountLevel.SIMPLIFIED: _("с учётной записью Госуслуг"),
        AccountLevel.STANDARD: _("со стандартной или подтверждённой учётной записью Госуслуг"),
        AccountLevel.CONFIRMED: _("с подтверждённой учётной записью Госуслуг"),
    }[level]


def _describe(rule: EligibilityRule, territory: Territory | None) -> str:
    parts = [str(rule.subject.noun), str(rule.subject.available), _residents(rule, territory)]
    ages = _ages(rule)
    if ages:
        parts.append(ages)
    parts.append(_level(rule.min_level))
    text = " ".join(parts)
    if rule.allow_legal_entities:
        text += _(", в том числе представителям юридических лиц")
    return text + "."


def rule_description(rule: EligibilityRule) -> str:
    """The whole rule in one Russian sentence, for pages to show before anyone tries."""
    return _describe(rule, _territory(rule))


def _refuse(code: str, problem: str, description: str) -> Decision:
    return Decision(False, f"{problem} {description}", code)


def check(user: Any, rule: EligibilityRule, on: date) -> Decision:
    """May `user` take part under `rule` on the date `on`? Refusals say why, in Russian."""
    # The description (many translated phrases) is built only for a refusal, and the
    # territories are compared through the per-process chains: an allowed check sends no query.
    if rule.territory_id is not None and not territory_chain(rule.territory_id):
        raise ValueError(f"eligibility rule names unknown territory {rule.territory_id}")

    def refuse(code: str, problem: str) -> Decision:
        return _refuse(code, problem, _describe(rule, _territory(rule)))

    if user is None or not getattr(user, "is_authenticated", False):
        return refuse(
            "anonymous",
            _("Войдите через Госуслуги, чтобы %(action)s.", action=rule.subject.action),
        )
    legal_rep = user.kind == UserKind.LEGAL_REP
    if legal_rep and not rule.allow_legal_entities:
        return refuse(
            "legal_entity",
            _(
                "Представители юридических лиц здесь участвовать не могут: "
                "войдите на Госуслуги как частное лицо."
            ),
        )
    if user.account_level.rank < rule.min_level.rank:
        return refuse(
            "level",
            _(
                "Ваша учётная запись Госуслуг — %(current)s, а нужна %(needed)s.",
                current=_level_name(user.account_level),
                needed=_level_name(rule.min_level),
            ),
        )
    # Age limits are about a person acting for themselves; a representative acts for an
    # organization, whose "age" no rule here is about.
    if (rule.min_age is not None or rule.max_age is not None) and not legal_rep:
        if user.birth_date is None:
            return refuse(
                "no_birth_date",
                _(
                    "В профиле Госуслуг нет даты рождения, а без неё нельзя проверить возраст. "
                    "Укажите её на Госуслугах и войдите снова."
                ),
            )
        age = age_on(user.birth_date, on)
        if rule.min_age is not None and age < rule.min_age:
            return refuse(
                "too_young",
                _("Вам пока нет %(years)s.", years=_years(rule.min_age)),
            )
        if rule.max_age is not None and age > rule.max_age:
            return refuse(
                "too_old",
                _("Вам больше %(years)s.", years=_years(rule.max_age)),
            )
    if rule.territory_id is not None:
        home_id = user.registration_territory_id
        if home_id is None:
            return refuse(
                "no_registration",
                _(
                    "В профиле Госуслуг нет адреса регистрации, а без него нельзя проверить, "
                    "где вы живёте. Укажите его на Госуслугах и войдите снова."
                ),
            )
        if all(link.id != rule.territory_id for link in territory_chain(home_id)):
            return refuse(
                "territory",
                _(
                    "По данным Госуслуг вы зарегистрированы вне территории «%(name)s».",
                    name=_territory(rule).name,
                ),
            )
    return ALLOWED


def _level_name(level: AccountLevel) -> str:
    return account_level_label(level).lower()
