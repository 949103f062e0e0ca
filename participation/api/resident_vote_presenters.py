"""What the resident API answers about votes, ballots and surveys, with eligibility reasons.

Eligibility is the features' own answer (voting.services.voting_refusal, polls.answering.
answer_decision over auth.eligibility): the same codes and Russian reasons the pages show.
Ballots are register entries (who voted where and when), never what was chosen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from participation.api.presenters import named, rows_and_total, vote_object
from participation.core.db import utcnow
from participation.core.users import User
from participation.extensions import db
from participation.polls.answering import (
    answer_decision,
    audience_description,
    has_answered,
    open_surveys_query,
)
from participation.polls.engine import load_questionnaire
from participation.polls.models import Survey, survey_territories
from participation.polls.presenters import STATE_LABELS as SURVEY_STATE_LABELS
from participation.voting.models import Campaign, CampaignStatus, RegisterEntry
from participation.voting.reports import (
    CHANNEL_LABELS,
    KIND_LABELS,
    RULE_LABELS,
    STATUS_LABELS,
    eligibility_text,
    rule_text,
)
from participation.voting.services import (
    CastResult,
    ballot_objects,
    count_voters,
    has_voted,
    home_territory_ids,
    public_campaigns_query,
    status_filter,
    voter_district,
    voting_refusal,
)


def _code_label(value: Any, labels: dict) -> dict[str, str]:
    return {"code": value.value, "label": str(labels[value])}


# --- votes --------------------------------------------------------------------------------------


def vote_eligibility(campaign: Campaign, user: User, now: datetime) -> tuple[dict, bool]:
    """May the resident vote now (and if not, why), and have they voted."""
    voted = has_voted(campaign, user)
    refusal = voting_refusal(campaign, user, now)
    code, reason = (refusal.code, refusal.message) if refusal else (None, None)
    if refusal is None and voted and not campaign.allow_revote:
        code, reason = "already_voted", _("Вы уже проголосовали в этом голосовании.")
    eligibility = {
        "allowed": code is None,
        "code": code,
        "reason": str(reason) if reason else None,
        "rule": eligibility_text(campaign),
    }
    return eligibility, voted


def campaign_summary(campaign: Campaign, user: User, now: datetime) -> dict[str, Any]:
    eligibility, voted = vote_eligibility(campaign, user, now)
    return {
        "id": campaign.id,
        "title": campaign.title,
        "kind": _code_label(campaign.kind, KIND_LABELS),
        "status": _code_label(campaign.status(now), STATUS_LABELS),
        "opens_at": campaign.opens_at,
        "closes_at": campaign.effective_closes_at,
        "timezone": campaign.territory.timezone,
        "territory": named(campaign.territory),
        "organization": named(campaign.organization),
        "voted": voted,
        "eligibility": eligibility,
    }


def campaign_page(user: User, status: str | None, page: int, size: int) -> dict[str, Any]:
    """Published votes of the resident's territories (all of them without a registration
    address: each then says why it is closed to them), newest first."""
    now = utcnow()
    home = home_territory_ids(user)
    query = status_filter(public_campaigns_query(territory_ids=home or None), status, now)
    rows, total = rows_and_total(query, page, size)
    return {
        "items": [campaign_summary(c, user, now) for c in rows],
        "page": page,
        "size": size,
        "total": total,
    }


def campaign_card(campaign: Campaign, user: User) -> dict[str, Any]:
    """The campaign with its rules and the objects of the resident's own ballot."""
    now = utcnow()
    district = voter_district(campaign, user)
    status = campaign.status(now)
    return {
        **campaign_summary(campaign, user, now),
        "rules_text": campaign.rules_text,
        "rule": rule_text(campaign),
        "ballot_rule": _code_label(campaign.ballot_rule, RULE_LABELS),
        "max_choices": campaign.max_choices,
        "budget_limit": campaign.budget_limit,
        "allow_revote": campaign.allow_revote,
        "turnout": (
            count_voters(campaign)
            if campaign.show_turnout or status == CampaignStatus.CLOSED
            else None
        ),
        "district": named(district) if district is not None else None,
        "objects": [vote_object(o) for o in ballot_objects(campaign, district)],
    }


def ballot_card(entry: RegisterEntry, campaign: Campaign | None = None) -> dict[str, Any]:
    """A register entry as the voter sees it (never what was chosen: that is in the box)."""
    campaign = campaign or db.session.get(Campaign, entry.campaign_id)
    return {
        "id": entry.id,
        "campaign": {"id": campaign.id, "name": campaign.title},
        "voted_on": entry.voted_on,
        "channel": _code_label(entry.channel, CHANNEL_LABELS),
        "can_revote": campaign.allow_revote and campaign.is_open(utcnow()),
    }


def my_ballot(user: User, ballot_id: int) -> RegisterEntry | None:
    """The resident's own register entry with this id (another's is None: a 404)."""
    entry = db.session.get(RegisterEntry, ballot_id)
    return entry if entry is not None and entry.user_id == user.id else None


def ballot_page(user: User, page: int, size: int) -> dict[str, Any]:
    where = RegisterEntry.user_id == user.id
    total = db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry).where(where))
    rows = db.session.execute(
        sa.select(RegisterEntry, Campaign)
        .join(Campaign, Campaign.id == RegisterEntry.campaign_id)
        .where(where)
        .order_by(RegisterEntry.voted_on.desc(), RegisterEntry.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return {
        "items": [ballot_card(e, c) for e, c in rows],
        "page": page,
        "size": size,
        "total": total or 0,
    }


def receipt(campaign: Campaign, user: User, result: CastResult) -> dict[str, Any]:
    """What the voter is shown once after casting: the receipt code and the choice."""
    entry = db.session.scalar(
        sa.select(RegisterEntry).where(
            RegisterEntry.campaign_id == campaign.id, RegisterEntry.user_id == user.id
        )
    )
    return {
        "receipt_code": result.code,
        "note": _(
            "Сохраните код: по нему можно проверить, что ваш бюллетень в урне. Код показывается "
            "один раз и на платформе не хранится."
        ),
        "objects": [{"id": o.id, "number": o.number, "title": o.title} for o in result.objects],
        "ballot": ballot_card(entry, campaign),
    }


# --- surveys ------------------------------------------------------------------------------------


def survey_summary(survey: Survey, user: User) -> dict[str, Any]:
    decision = answer_decision(user, survey)
    return {
        "id": survey.id,
        "title": survey.title,
        "description": survey.description,
        "organization": named(survey.organization),
        "status": _code_label(survey.state(), SURVEY_STATE_LABELS),
        "starts_at": survey.starts_at,
        "ends_at": survey.closed_at or survey.ends_at,
        "anonymous": survey.anonymous,
        "answered": has_answered(survey.id, user.id),
        "eligibility": {
            "allowed": decision.allowed,
            "code": decision.code,
            "reason": decision.reason,
            "rule": audience_description(survey),
        },
    }


def survey_page(user: User, page: int, size: int) -> dict[str, Any]:
    """Open surveys of the resident's territories (every open one without a registration
    address), soonest to close first, each with whether and why the resident may answer."""
    query = open_surveys_query()
    home = home_territory_ids(user)
    if home:
        query = query.where(
            sa.exists().where(
                survey_territories.c.survey_id == Survey.id,
                survey_territories.c.territory_id.in_(home),
            )
        )
    rows, total = rows_and_total(query, page, size)
    return {
        "items": [survey_summary(s, user) for s in rows],
        "page": page,
        "size": size,
        "total": total,
    }


def _question(qn: Any, question: Any) -> dict[str, Any]:
    triggers = qn.conditions.get(question.id)

    def options(rows: list) -> list[dict[str, Any]]:
        return [{"id": o.id, "text": o.text, "is_other": o.is_other} for o in rows]

    return {
        "id": question.id,
        "number": qn.number_of(question.id),
        "kind": question.kind.value,
        "text": question.text,
        "description": question.description,
        "required": question.required,
        "max_choices": question.max_choices,
        "max_length": question.max_length,
        "min_value": question.min_value,
        "max_value": question.max_value,
        "scale_max": question.scale_max,
        "options": options(question.choices),
        "rows": options(question.rows),
        "condition": (
            {"question_id": qn.condition_source[question.id], "option_ids": sorted(triggers)}
            if triggers
            else None
        ),
    }


def survey_card(survey: Survey, user: User) -> dict[str, Any]:
    """The survey with its whole questionnaire (sections, questions, options, conditions)."""
    qn = load_questionnaire(survey.id)
    return {
        **survey_summary(survey, user),
        "audience": audience_description(survey),
        "sections": [
            {
                "title": section.title,
                "description": section.description,
                "questions": [_question(qn, q) for q in qn.section_questions(index)],
            }
            for index, section in enumerate(qn.sections)
        ],
    }


def unknown_questions(survey: Survey, answers: dict[str, Any]) -> dict[str, list[str]]:
    """Answers to questions this survey does not have, as per-field errors."""
    known = {str(q.id) for q in load_questionnaire(survey.id).questions}
    return {
        f"answers.{key}": [_("Такого вопроса в опросе нет.")] for key in answers if key not in known
    }
