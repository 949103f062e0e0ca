"""Resident API: votes and surveys open to me (with the reason when not), my ballots, casting a
ballot and answering a survey through the same services as the pages.

A ballot goes through voting.services.cast_ballot (one register row per person and campaign is
a database constraint; the receipt is returned once), an answer through polls.answering.
submit_response (one per person by the register's primary key). Neither takes an
Idempotency-Key: the stored answer of a retried request would keep the receipt code, or the
exact time of an anonymous answer, next to the person — the very link the ballot box and the
survey register are built not to have. A retry is refused by the database instead (409).
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from participation.api.auth import current_principal
from participation.api.idempotency import idempotency_exempt
from participation.api.openapi import ApiBlueprint
from participation.api.problems import Problem
from participation.api.resident_auth import resident
from participation.api.resident_vote_presenters import (
    ballot_card,
    ballot_page,
    campaign_card,
    campaign_page,
    my_ballot,
    receipt,
    survey_card,
    survey_page,
    unknown_questions,
)
from participation.api.resident_vote_schemas import (
    BallotIn,
    CampaignListOut,
    CampaignOut,
    CampaignQuery,
    ListQuery,
    MyBallotListOut,
    MyBallotOut,
    ReceiptOut,
    ResponseIn,
    ResponseOut,
    SurveyListOut,
    SurveyOut,
    SurveyQuery,
)
from participation.core.errors import FieldError
from participation.core.users import User
from participation.extensions import db
from participation.polls.answering import (
    AnswersInvalid,
    answer_decision,
    local_today,
    submit_response,
)
from participation.polls.models import Survey
from participation.polls.permissions import can_view as can_view_survey
from participation.voting.models import Campaign, Channel
from participation.voting.permissions import can_view as can_view_campaign
from participation.voting.services import (
    VotingRefused,
    campaign_for_cast,
    cast_ballot,
    revote_ballot,
)

bp = ApiBlueprint(
    "api_resident_votes",
    __name__,
    url_prefix="/api/v1",
    description="Житель: голосования и опросы, бюллетени и ответы (токен приложения)",
)

# Refusal codes (voting.services, polls.answering) that mean "not now" rather than "not you".
CLOSED_CODES = frozenset({"closed", "not_started"})
DONE_CODES = frozenset({"already_voted", "answered"})
BALLOT_LOCATION = {"Location": {"description": "Адрес бюллетеня", "schema": {"type": "string"}}}


def _me() -> User:
    principal = current_principal()
    assert principal is not None  # guaranteed by @resident
    return principal.user


def refusal_problem(code: str | None, reason: str | None) -> Problem:
    """The problem for a refusal: 409 when closed or done already, else 403 with the reason."""
    if code in CLOSED_CODES:
        return Problem(409, reason, kind="closed")
    if code in DONE_CODES:
        return Problem(409, reason, kind="conflict")
    if code == "draft":
        return Problem(404, kind="not-found")
    return Problem(403, reason, kind="not-eligible")


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not can_view_campaign(_me(), campaign):
        raise Problem(404, _("Голосование не найдено."), kind="not-found")
    return campaign


def _survey(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or not can_view_survey(_me(), survey):
        raise Problem(404, _("Опрос не найден."), kind="not-found")
    return survey


# --- votes --------------------------------------------------------------------------------------


@bp.route("/my/votes", methods=["GET"])
@resident("votes")
@bp.etag
@bp.arguments(CampaignQuery, location="query", as_kwargs=True)
@bp.response(200, CampaignListOut)
def my_votes(page: int, size: int, status: str | None = None):
    """Голосования моей территории: можно ли мне голосовать и почему нет"""
    return campaign_page(_me(), status, page, size)


@bp.route("/my/votes/<int:campaign_id>", methods=["GET"])
@resident("votes")
@bp.etag
@bp.response(200, CampaignOut)
def my_vote(campaign_id: int):
    """Голосование: правила, моё право голоса, объекты моего бюллетеня"""
    return campaign_card(_campaign(campaign_id), _me())


@bp.route("/my/votes/<int:campaign_id>/ballot", methods=["POST"])
@idempotency_exempt
@resident("votes")
@bp.arguments(BallotIn)
@bp.response(201, ReceiptOut, headers=BALLOT_LOCATION)
@bp.alt_response(
    200,
    schema=ReceiptOut,
    headers=BALLOT_LOCATION,
    description="Голос заменён (переголосование по коду)",
)
def cast(body, campaign_id: int):
    """Проголосовать

    Тот же сервис, что на портале: один голос на человека (ограничение в базе данных), правила
    бюллетеня, право голоса. В ответе — код квитанции; он показывается один раз и на сервере
    не хранится, поэтому Idempotency-Key здесь не принимается: повтор получит 409 «уже
    проголосовали». С `receipt_code` — переголосовать, если голосование это разрешает.
    """
    user = _me()
    campaign = campaign_for_cast(campaign_id)  # the campaign, share-locked for casting
    if campaign is None or not can_view_campaign(user, campaign):
        raise Problem(404, _("Голосование не найдено."), kind="not-found")
    code = body.get("receipt_code")
    try:
        if code and campaign.allow_revote:
            result = revote_ballot(campaign, user, body["object_ids"], code)
        else:
            result = cast_ballot(campaign, user, body["object_ids"], channel=Channel.SELF)
    except VotingRefused as refusal:
        db.session.commit()  # keeps the refusal's audit entry; nothing else was written
        raise refusal_problem(refusal.code, refusal.message) from None
    except FieldError as exc:
        db.session.commit()  # the same: a wrong receipt code is audited
        field = "object_ids" if exc.field == "choices" else exc.field  # the service's form name
        raise Problem(
            422, exc.message, kind="validation", errors={field: [str(exc.message)]}
        ) from None
    answer = receipt(campaign, user, result)
    db.session.commit()
    location = url_for("api_resident_votes.my_ballot_card", ballot_id=answer["ballot"]["id"])
    return answer, 200 if code and campaign.allow_revote else 201, {"Location": location}


@bp.route("/my/ballots", methods=["GET"])
@resident("votes")
@bp.etag
@bp.arguments(ListQuery, location="query", as_kwargs=True)
@bp.response(200, MyBallotListOut)
def my_ballots(page: int, size: int):
    """Где и когда я голосовал (без выбора: он тайный и хранится отдельно)"""
    return ballot_page(_me(), page, size)


@bp.route("/my/ballots/<bigid:ballot_id>", methods=["GET"])
@resident("votes")
@bp.etag
@bp.response(200, MyBallotOut)
def my_ballot_card(ballot_id: int):
    """Мой бюллетень: голосование, день, способ"""
    entry = my_ballot(_me(), ballot_id)
    if entry is None:
        raise Problem(404, _("Бюллетень не найден."), kind="not-found")
    return ballot_card(entry)


# --- surveys ------------------------------------------------------------------------------------


@bp.route("/my/surveys", methods=["GET"])
@resident("votes")
@bp.etag
@bp.arguments(SurveyQuery, location="query", as_kwargs=True)
@bp.response(200, SurveyListOut)
def my_surveys(page: int, size: int):
    """Идущие опросы моей территории: могу ли я ответить и почему нет"""
    return survey_page(_me(), page, size)


@bp.route("/my/surveys/<int:survey_id>", methods=["GET"])
@resident("votes")
@bp.etag
@bp.response(200, SurveyOut)
def my_survey(survey_id: int):
    """Опрос: аудитория, моё право ответить, разделы и вопросы с условиями показа"""
    return survey_card(_survey(survey_id), _me())


@bp.route("/my/surveys/<int:survey_id>/responses", methods=["POST"])
@idempotency_exempt
@resident("votes")
@bp.arguments(ResponseIn)
@bp.response(201, ResponseOut)
def answer_survey(body, survey_id: int):
    """Ответить на опрос

    `answers`: номер вопроса → ответ по виду вопроса: single/multiple `{"o": [варианты],
    "other": "…"}`, text `{"t": "…"}`, number и scale `{"n": 4}`, date `{"d": "2026-05-01"}`,
    matrix `{"m": {"строка": вариант}}`, ranking `{"r": {"вариант": место}}`. Проверки — те же,
    что на портале; ответить можно один раз (повтор — 409). Idempotency-Key не принимается:
    сохранённый ответ на запрос связал бы человека со временем анонимного ответа.
    """
    user = _me()
    survey = _survey(survey_id)
    decision = answer_decision(user, survey)
    if not decision.allowed:
        raise refusal_problem(decision.code, decision.reason)
    answers = body["answers"]
    unknown = unknown_questions(survey, answers)
    if unknown:
        raise Problem(422, _("В ответах есть вопросы, которых в опросе нет."), errors=unknown)
    try:
        submit_response(survey, user, answers)
    except AnswersInvalid as exc:
        errors = {f"answers.{qid}": [message] for qid, message in exc.errors.items()}
        raise Problem(422, exc.message, kind="validation", errors=errors) from None
    db.session.commit()
    return {
        "survey_id": survey.id,
        "answered_on": local_today(survey),
        "message": _("Спасибо! Ваши ответы учтены."),
    }
