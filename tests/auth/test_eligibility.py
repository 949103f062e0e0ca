"""Eligibility rules: level, age on a date, territory, legal entities, and the Russian reasons."""

from __future__ import annotations

from datetime import date

import pytest
from flask_login import AnonymousUserMixin

from participation.auth.eligibility import (
    SURVEY,
    VOTE,
    EligibilityRule,
    age_on,
    check,
    rule_description,
)
from participation.core.territories import TerritoryLevel
from participation.core.users import AccountLevel, UserKind
from tests import factories

ON = date(2026, 3, 10)


@pytest.fixture
def world():
    """Башкортостан with Уфа (and a settlement inside it), Стерлитамак; Татарстан with Казань."""
    country = factories.territory(TerritoryLevel.COUNTRY, name="Российская Федерация")
    bashkortostan = factories.territory(
        TerritoryLevel.REGION, parent=country, name="Республика Башкортостан"
    )
    ufa = factories.territory(
        TerritoryLevel.URBAN_OKRUG, parent=bashkortostan, name="Городской округ город Уфа"
    )
    settlement = factories.territory(TerritoryLevel.SETTLEMENT, parent=ufa, name="Посёлок Нагаево")
    sterlitamak = factories.territory(
        TerritoryLevel.URBAN_OKRUG, parent=bashkortostan, name="Городской округ город Стерлитамак"
    )
    tatarstan = factories.territory(
        TerritoryLevel.REGION, parent=country, name="Республика Татарстан"
    )
    kazan = factories.territory(
        TerritoryLevel.URBAN_OKRUG, parent=tatarstan, name="Городской округ город Казань"
    )
    return {
        "bashkortostan": bashkortostan,
        "ufa": ufa,
        "settlement": settlement,
        "sterlitamak": sterlitamak,
        "tatarstan": tatarstan,
        "kazan": kazan,
    }


# --- age on a date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2012, 3, 10), date(2026, 3, 10), 14),  # the 14th birthday itself counts
        (date(2012, 3, 10), date(2026, 3, 9), 13),  # the day before
        (date(2012, 2, 29), date(2026, 2, 28), 13),  # 29 Feb birth, common year: not yet
        (date(2012, 2, 29), date(2026, 3, 1), 14),  # …a year older on 1 March
        (date(2008, 2, 29), date(2024, 2, 29), 16),  # leap year: on the day itself
        (date(2008, 2, 29), date(2024, 2, 28), 15),
        (date(2000, 12, 31), date(2026, 1, 1), 25),
    ],
)
def test_age_on_a_date(born, on, age):
    assert age_on(born, on) == age


@pytest.mark.parametrize(
    ("born", "on", "min_age", "max_age", "allowed", "code"),
    [
        (date(2012, 3, 10), date(2026, 3, 10), 14, None, True, None),
        (date(2012, 3, 11), date(2026, 3, 10), 14, None, False, "too_young"),
        (date(2012, 2, 29), date(2026, 2, 28), 14, None, False, "too_young"),
        (date(2012, 2, 29), date(2026, 3, 1), 14, None, True, None),
        (date(1990, 3, 11), date(2026, 3, 10), 14, 35, True, None),  # 35: max is inclusive
        (date(1990, 3, 10), date(2026, 3, 10), 14, 35, False, "too_old"),  # 36 today
        (date(1950, 1, 1), date(2026, 3, 10), None, 35, False, "too_old"),
    ],
)
def test_age_limits(born, on, min_age, max_age, allowed, code):
    person = factories.user(birth_date=born)
    decision = check(person, EligibilityRule(min_age=min_age, max_age=max_age, subject=VOTE), on)
    assert decision.allowed is allowed
    assert bool(decision) is allowed
    assert decision.code == code
    assert (decision.reason is None) is allowed


def test_too_young_reason_names_the_age_and_the_whole_rule():
    person = factories.user(birth_date=date(2012, 3, 11))
    decision = check(person, EligibilityRule(min_age=14, subject=VOTE), ON)
    assert decision.reason.startswith("Вам пока нет 14 лет.")
    assert "Голосование доступно всем от 14 лет" in decision.reason


def test_too_old_reason():
    person = factories.user(birth_date=date(1990, 3, 10))
    decision = check(person, EligibilityRule(min_age=14, max_age=35), ON)
    assert "Вам больше 35 лет." in decision.reason
    assert "от 14 до 35 лет включительно" in decision.reason


def test_missing_birth_date_is_refused_only_when_age_matters():
    person = factories.user(birth_date=None)
    decision = check(person, EligibilityRule(min_age=14), ON)
    assert not decision.allowed
    assert decision.code == "no_birth_date"
    assert decision.reason.startswith("В профиле Госуслуг нет даты рождения")
    assert check(person, EligibilityRule(), ON).allowed


# --- account level ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "required", "allowed"),
    [
        (AccountLevel.SIMPLIFIED, AccountLevel.SIMPLIFIED, True),
        (AccountLevel.SIMPLIFIED, AccountLevel.STANDARD, False),
        (AccountLevel.SIMPLIFIED, AccountLevel.CONFIRMED, False),
        (AccountLevel.STANDARD, AccountLevel.SIMPLIFIED, True),
        (AccountLevel.STANDARD, AccountLevel.STANDARD, True),
        (AccountLevel.STANDARD, AccountLevel.CONFIRMED, False),
        (AccountLevel.CONFIRMED, AccountLevel.SIMPLIFIED, True),
        (AccountLevel.CONFIRMED, AccountLevel.STANDARD, True),
        (AccountLevel.CONFIRMED, AccountLevel.CONFIRMED, True),
    ],
)
def test_level_ordering(level, required, allowed):
    person = factories.user(level=level)
    decision = check(person, EligibilityRule(min_level=required), ON)
    assert decision.allowed is allowed
    assert decision.code == (None if allowed else "level")


def test_level_reason_says_what_is_needed():
    person = factories.user(level=AccountLevel.STANDARD)
    decision = check(person, EligibilityRule(min_level=AccountLevel.CONFIRMED, subject=VOTE), ON)
    assert "Ваша учётная запись Госуслуг — стандартная, а нужна подтверждённая." in (
        decision.reason
    )
    assert "с подтверждённой учётной записью Госуслуг" in decision.reason


# --- territory -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_territory", "home", "allowed"),
    [
        ("ufa", "ufa", True),  # registered in Уфа
        ("ufa", "settlement", True),  # in a settlement inside Уфа
        ("ufa", "sterlitamak", False),  # another municipality of the same region
        ("ufa", "kazan", False),  # another region
        ("ufa", "bashkortostan", False),  # only the region is known: not enough for Уфа
        ("bashkortostan", "ufa", True),  # region-wide rule
        ("bashkortostan", "settlement", True),
        ("bashkortostan", "sterlitamak", True),
        ("bashkortostan", "kazan", False),
    ],
)
def test_territory(world, rule_territory, home, allowed):
    person = factories.user(registration_territory=world[home])
    rule = EligibilityRule(territory_id=world[rule_territory].id)
    decision = check(person, rule, ON)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.code == "territory"
        assert f"вне территории «{world[rule_territory].name}»" in decision.reason


def test_missing_registration_address(world):
    person = factories.user(registration_territory=None)
    decision = check(person, EligibilityRule(territory_id=world["ufa"].id), ON)
    assert decision.code == "no_registration"
    assert "нет адреса регистрации" in decision.reason


# --- legal entities, anonymous visitors ------------------------------------------------------


def _legal_rep(**kw):
    return factories.user(kind=UserKind.LEGAL_REP, legal_entity_name="ООО «Ромашка»", **kw)


def test_legal_entity_refused_by_default():
    decision = check(_legal_rep(), EligibilityRule(subject=VOTE), ON)
    assert decision.code == "legal_entity"
    assert "Представители юридических лиц" in decision.reason


def test_legal_entity_allowed_when_the_rule_says_so(world):
    rule = EligibilityRule(allow_legal_entities=True, territory_id=world["ufa"].id, min_age=18)
    # Age limits concern people acting for themselves: a representative without a birth date
    # in the profile still acts for the organization.
    representative = _legal_rep(registration_territory=world["ufa"], birth_date=None)
    assert check(representative, rule, ON).allowed
    elsewhere = _legal_rep(registration_territory=world["kazan"])
    assert check(elsewhere, rule, ON).code == "territory"
    assert "в том числе представителям юридических лиц" in rule_description(rule)


@pytest.mark.parametrize("visitor", [None, AnonymousUserMixin()])
def test_anonymous_visitor_is_asked_to_log_in(world, visitor):
    rule = EligibilityRule(
        min_level=AccountLevel.CONFIRMED, min_age=14, territory_id=world["ufa"].id, subject=VOTE
    )
    decision = check(visitor, rule, ON)
    assert decision.code == "anonymous"
    assert decision.reason.startswith("Войдите через Госуслуги, чтобы проголосовать.")
    assert "Голосование доступно жителям территории «Городской округ город Уфа»" in (
        decision.reason
    )


def test_everything_satisfied(world):
    person = factories.user(
        birth_date=date(2012, 3, 10), registration_territory=world["settlement"]
    )
    rule = EligibilityRule(
        min_level=AccountLevel.CONFIRMED, min_age=14, territory_id=world["ufa"].id, subject=VOTE
    )
    decision = check(person, rule, ON)
    assert decision.allowed and decision.reason is None and decision.code is None


# --- the rule as text ------------------------------------------------------------------------


def test_rule_description_full_sentence(world):
    rule = EligibilityRule(
        min_level=AccountLevel.CONFIRMED, min_age=14, territory_id=world["ufa"].id, subject=VOTE
    )
    assert rule_description(rule) == (
        "Голосование доступно жителям территории «Городской округ город Уфа» от 14 лет "
        "с подтверждённой учётной записью Госуслуг."
    )


def test_rule_description_with_a_territory_phrase(world):
    rule = EligibilityRule(
        min_level=AccountLevel.CONFIRMED,
        min_age=14,
        territory_id=world["ufa"].id,
        territory_phrase="Уфы",
        subject=VOTE,
    )
    assert rule_description(rule) == (
        "Голосование доступно жителям Уфы от 14 лет с подтверждённой учётной записью Госуслуг."
    )


def test_rule_description_region_and_agreement(world):
    rule = EligibilityRule(
        min_level=AccountLevel.STANDARD, territory_id=world["bashkortostan"].id, subject=SURVEY
    )
    assert rule_description(rule) == (
        "Опрос доступен жителям региона «Республика Башкортостан» "
        "со стандартной или подтверждённой учётной записью Госуслуг."
    )


@pytest.mark.parametrize(
    ("min_age", "max_age", "text"),
    [
        (21, None, "от 21 года"),
        (18, None, "от 18 лет"),
        (None, 31, "не старше 31 года"),
        (14, 35, "от 14 до 35 лет включительно"),
    ],
)
def test_rule_description_ages(min_age, max_age, text):
    assert text in rule_description(EligibilityRule(min_age=min_age, max_age=max_age))


def test_rule_without_limits_is_open_to_every_account():
    assert (
        rule_description(EligibilityRule()) == "Участие доступно всем с учётной записью Госуслуг."
    )


def test_inconsistent_rules_are_refused_at_construction():
    with pytest.raises(ValueError):
        EligibilityRule(min_age=40, max_age=30)
    with pytest.raises(ValueError):
        EligibilityRule(min_age=-1)
