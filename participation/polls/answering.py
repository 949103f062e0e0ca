"""Answering a survey: who may, drafts, and the one submission per person.

One response per person is the database's rule: the register `survey_participants` has the
primary key (survey, person), and the register row is written first, in a savepoint, so a
second submission (even one racing in parallel) fails there and leaves nothing behind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.auth.eligibility import SURVEY, Decision, EligibilityRule, age_on, check
from participation.auth.eligibility import rule_description as eligibility_description
from participation.core import audit
from participation.core.cache import KeyedCached, generation_of
from participation.core.db import insert_unless_present, utcnow
from participation.core.errors import Conflict, DomainError
from participation.core.i18n import local_datetime
from participation.core.organizations import Organization
from participation.core.territories import Territory, TerritoryLevel, territory_chain
from participation.core.users import AccountLevel, Gender, User, UserKind
from participation.extensions import db
from participation.polls.engine import (
    QUESTIONNAIRES,
    Answers,
    Questionnaire,
    answer_rows,
    finalize,
    load_questionnaire,
    next_section,
    parse_answers,
    previous_section,
    questionnaire_facts,
    rendered_questions,
    required_errors,
    visible_question_ids,
)
from participation.polls.models import (
    AgeBand,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyParticipant,
    SurveyResponse,
    SurveyState,
    survey_territories,
)

GENDER_WORDS = {Gender.MALE: _l("мужчинам"), Gender.FEMALE: _l("женщинам")}
MUNICIPAL_LEVELS = (TerritoryLevel.URBAN_OKRUG, TerritoryLevel.MUNICIPAL_DISTRICT)


class AnswersInvalid(DomainError):
    """Some answers are wrong or missing; `errors` maps question ids to Russian messages."""

    def __init__(self, errors: dict[int, str]) -> None:
        super().__init__(_("Проверьте ответы: некоторые из них нужно исправить."))
        self.errors = errors


@dataclass(frozen=True)
class SurveyFacts:
    """What answering reads of a survey beyond its own row, as plain values."""

    timezone: str
    territory_ids: tuple[int, ...]


def _survey_facts(session, survey_id: int) -> SurveyFacts:
    survey = session.get(Survey, survey_id)
    return SurveyFacts(survey.timezone, tuple(t.id for t in survey.territories))


SURVEY_FACTS = KeyedCached(
    "polls.survey_facts", _survey_facts, watch=(Survey, Organization, Territory)
)


def survey_facts(survey: Survey) -> SurveyFacts:
    """The survey's time zone and territories, kept per process until the survey, its
    organization or a territory changes."""
    return SURVEY_FACTS.get(db.session, survey.id)


def local_today(survey: Survey) -> date:
    return utcnow().astimezone(ZoneInfo(survey_facts(survey).timezone)).date()


# --- audience ---------------------------------------------------------------------------------


def audience_rules(survey: Survey) -> list[EligibilityRule]:
    """One eligibility rule per chosen territory (a person qualifies through any of them)."""
    common = {
        "min_level": survey.min_level,
        "min_age": survey.min_age,
        "max_age": survey.max_age,
        "allow_legal_entities": survey.allow_legal_entities,
        "subject": SURVEY,
    }
    territory_ids = survey_facts(survey).territory_ids or (None,)
    return [EligibilityRule(territory_id=t, **common) for t in territory_ids]


def audience_description(survey: Survey) -> str:
    """The audience in Russian, shown before anyone tries."""
    rules = audience_rules(survey)
    text = eligibility_description(rules[0])
    if len(rules) > 1:
        names = ", ".join(f"«{t.name}»" for t in survey.territories)
        text += " " + _("Территории опроса: %(names)s.", names=names)
    if survey.gender is not None:
        text += " " + _("Опрос адресован %(who)s.", who=GENDER_WORDS[survey.gender])
    return text


def check_audience(user: User, survey: Survey, on: date) -> Decision:
    """May `user` answer as far as territory, age, gender, account level and kind go?"""
    decisions = [check(user, rule, on) for rule in audience_rules(survey)]
    allowed = next((d for d in decisions if d.allowed), None)
    if allowed is None:
        # Everything but the territory is the same in each rule: any refusal explains it.
        return next((d for d in decisions if d.code != "territory"), decisions[0])
    if (
        survey.gender is not None
        and user.kind != UserKind.LEGAL_REP
        and user.gender != survey.gender
    ):
        reason = _("Этот опрос адресован %(who)s.", who=GENDER_WORDS[survey.gender])
        if user.gender is None:
            reason = _(
                "В профиле Госуслуг не указан пол, а опрос адресован %(who)s.",
                who=GENDER_WORDS[survey.gender],
            )
        return Decision(False, f"{reason} {audience_description(survey)}", "gender")
    return allowed


def has_answered(survey_id: int, user_id: int) -> bool:
    return db.session.get(SurveyParticipant, (survey_id, user_id)) is not None


def answer_decision(user: User, survey: Survey, check_register: bool = True) -> Decision:
    """May `user` answer `survey` now? The refusal says why (period, repeat, audience).

    `check_register=False` skips the "already answered" look-up, for a caller whose insert
    into the register decides that anyway.
    """
    state = survey.state()
    if state == SurveyState.DRAFT:
        return Decision(False, _("Опрос ещё не опубликован."), "draft")
    if state == SurveyState.SCHEDULED:
        return Decision(
            False,
            _(
                "Опрос ещё не начался: ответить можно с %(when)s.",
                when=local_datetime(survey.starts_at, survey_facts(survey).timezone),
            ),
            "not_started",
        )
    if state == SurveyState.CLOSED:
        return Decision(
            False,
            _(
                "Опрос завершён %(when)s, ответы больше не принимаются.",
                when=local_datetime(
                    survey.closed_at or survey.ends_at, survey_facts(survey).timezone
                ),
            ),
            "closed",
        )
    if (
        check_register
        and getattr(user, "is_authenticated", False)
        and has_answered(survey.id, user.id)
    ):
        return Decision(
            False, _("Вы уже ответили на этот опрос. Ответить можно один раз."), "answered"
        )
    return check_audience(user, survey, local_today(survey))


# --- drafts ---------------------------------------------------------------------------------------


def get_draft(survey: Survey, user: User, preview: bool = False) -> SurveyDraft | None:
    return db.session.scalar(
        sa.select(SurveyDraft).where(
            SurveyDraft.survey_id == survey.id,
            SurveyDraft.user_id == user.id,
            SurveyDraft.preview.is_(preview),
        )
    )


def save_draft(
    survey: Survey, user: User, answers: Answers, section_index: int, preview: bool = False
) -> SurveyDraft:
    """Keep the answers so far (not a response: it counts nowhere until submitted)."""
    draft = get_draft(survey, user, preview)
    if draft is None:
        draft = SurveyDraft(survey_id=survey.id, user_id=user.id, preview=preview)
        db.session.add(draft)
    draft.answers = dict(answers)
    draft.section_index = section_index
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


def take_draft(survey: Survey, user: User) -> tuple[Answers, int] | None:
    """Delete the draft and return its answers and section, in one statement (a submission
    ends it anyway; a refused one rolls back and keeps it)."""
    row = (
        db.session.connection()
        .execute(_TAKE_DRAFT, {"survey_id": survey.id, "user_id": user.id})
        .first()
    )
    return None if row is None else (dict(row[0]), row[1])


_drafts = SurveyDraft.__table__
_TAKE_DRAFT = (
    _drafts.delete()
    .where(
        _drafts.c.survey_id == sa.bindparam("survey_id"),
        _drafts.c.user_id == sa.bindparam("user_id"),
        _drafts.c.preview.is_(False),
    )
    .returning(_drafts.c.answers, _drafts.c.section_index)
)


def discard_draft(survey: Survey, user: User, preview: bool = False) -> None:
    """Forget the saved answers."""
    db.session.execute(
        sa.delete(SurveyDraft).where(
            SurveyDraft.survey_id == survey.id,
            SurveyDraft.user_id == user.id,
            SurveyDraft.preview.is_(preview),
        )
    )


# --- submission ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Demographics:
    age_band: AgeBand
    gender: Gender | None
    municipality_id: int | None


BANDS = (
    (18, AgeBand.UNDER_18),
    (25, AgeBand.A18_24),
    (35, AgeBand.A25_34),
    (45, AgeBand.A35_44),
    (55, AgeBand.A45_54),
    (65, AgeBand.A55_64),
)


def age_band(birth_date: date | None, on: date) -> AgeBand:
    if birth_date is None:
        return AgeBand.UNKNOWN
    age = age_on(birth_date, on)
    return next((band for limit, band in BANDS if age < limit), AgeBand.A65_PLUS)


def municipality_id_of(territory_id: int | None) -> int | None:
    """The urban okrug or municipal district a registration address lies in (its id)."""
    chain = territory_chain(territory_id) if territory_id is not None else ()
    return next((link.id for link in chain if link.level in MUNICIPAL_LEVELS), None)


def municipality_of(territory: Territory | None) -> Territory | None:
    """The urban okrug or municipal district a registration address lies in."""
    node = territory
    while node is not None:  # upwards only as far as needed: each parent is a query
        if node.level in MUNICIPAL_LEVELS:
            return node
        node = node.parent
    return None


def demographics(user: User, on: date) -> Demographics:
    """Coarse groups kept on the response: enough for breakdowns, not enough to identify."""
    legal = user.kind == UserKind.LEGAL_REP
    return Demographics(
        age_band=AgeBand.UNKNOWN if legal else age_band(user.birth_date, on),
        gender=None if legal else user.gender,
        municipality_id=municipality_id_of(user.registration_territory_id),
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def share_lock(survey: Survey) -> None:
    """Hold the survey row against question edits until this submission commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(Survey.id)
            .where(Survey.id == survey.id)
            .with_for_update(key_share=True, read=True)
        ).all()


def lock_for_answer(survey_id: int) -> tuple[Survey, int] | None:
    """The survey, read under the shared lock against question edits (PostgreSQL), with the
    generation of the cached questionnaires read in the same statement: the questions then
    used are exactly those no edit can change until this submission commits."""
    dialect = _dialect()
    query = _LOCK_FOR_ANSWER.get(dialect)
    if query is None:
        query = sa.select(Survey, generation_of(QUESTIONNAIRES.name)).where(
            Survey.id == sa.bindparam("survey_id")
        )
        if dialect == "postgresql":
            query = query.with_for_update(key_share=True, read=True, of=Survey)
        _LOCK_FOR_ANSWER[dialect] = query
    row = db.session.execute(query, {"survey_id": survey_id}).first()
    return None if row is None else (row[0], row[1])


_LOCK_FOR_ANSWER: dict[str, sa.Select] = {}  # built once per dialect


def check_preview(survey: Survey, answers: Answers) -> None:
    """Check a publisher's trial answers as if submitted; nothing is stored."""
    _clean, errors = finalize(load_questionnaire(survey.id), answers)
    if errors:
        raise AnswersInvalid(errors)


def submit_response(
    survey: Survey,
    user: User,
    answers: Answers,
    qn: Questionnaire | None = None,
    draft_taken: bool = False,
) -> int:
    """Record `user`'s answers once: register row first, then the response and its answers;
    returns the response's id.

    A caller passing `qn` must have taken the shared lock (`share_lock`) before loading it;
    `draft_taken`: the caller has deleted the draft already (`take_draft`).
    """
    if qn is None:
        share_lock(survey)
        qn = load_questionnaire(survey.id)
    decision = answer_decision(user, survey, check_register=False)
    if not decision.allowed:
        if decision.code == "answered":
            raise Conflict(decision.reason or "")
        raise DomainError(decision.reason or "")
    clean, errors = finalize(qn, answers)
    if errors:
        raise AnswersInvalid(errors)
    today = local_today(survey)
    # The primary key (survey, person) decides: a second submission, even a parallel one
    # (it waits for the first to commit), inserts nothing and is refused.
    connection = db.session.connection()
    register = insert_unless_present(
        SurveyParticipant.__table__,
        ("survey_id", "user_id"),
        SurveyParticipant.__table__.c.user_id,
        connection.dialect.name,
    )
    registered = connection.execute(
        register, {"survey_id": survey.id, "user_id": user.id, "answered_on": today}
    ).scalar()
    if registered is None:
        raise Conflict(_("Вы уже ответили на этот опрос. Ответить можно один раз."))
    groups = demographics(user, today)
    now = utcnow()
    response_id = connection.scalar(
        _INSERT_RESPONSE,
        {
            "survey_id": survey.id,
            "respondent_id": None if survey.anonymous else user.id,
            "submitted_at": (
                now.replace(minute=0, second=0, microsecond=0) if survey.anonymous else now
            ),
            "age_band": groups.age_band,
            "gender": groups.gender,
            "municipality_id": groups.municipality_id,
        },
    )
    rows = answer_rows(qn, response_id, clean)
    if rows:
        # Core executemany: one multi-row INSERT (the ORM bulk path would split the rows by
        # which columns are empty).
        connection.execute(_INSERT_ANSWERS, rows)
    if not draft_taken:
        discard_draft(survey, user)
    if not survey.anonymous:
        # An anonymous response gets no audit entry: entries are ordered, and their order
        # next to the responses' would tell who gave which answers.
        audit.record("polls.response_submitted", survey, response_id=response_id)
    return response_id


# Built once: the statements of every submission.
_INSERT_RESPONSE = SurveyResponse.__table__.insert().returning(SurveyResponse.__table__.c.id)
_INSERT_ANSWERS = SurveyAnswer.__table__.insert()


def submitted_at_local(moment: datetime, survey: Survey) -> str:
    return local_datetime(moment, survey.timezone)


# --- the section-by-section flow ------------------------------------------------------------


class Action(enum.StrEnum):
    NEXT = "next"
    BACK = "back"
    SAVE = "save"
    SUBMIT = "submit"


class Outcome(enum.StrEnum):
    INVALID = "invalid"  # show the section again with errors; nothing saved
    MOVED = "moved"  # another section is current now (draft saved)
    SAVED = "saved"  # the draft is saved, same section
    SUBMITTED = "submitted"  # the response is recorded
    PREVIEW_PASSED = "preview_passed"  # a preview went through every check; nothing stored


@dataclass
class Step:
    outcome: Outcome
    section: int
    answers: Answers
    errors: dict[int, str]


def first_section(qn: Questionnaire, answers: Answers) -> int:
    return next((i for i in range(len(qn.sections)) if rendered_questions(qn, i, answers)), 0)


def current_position(
    survey: Survey, user: User, preview: bool
) -> tuple[Questionnaire, int, Answers]:
    """The questionnaire, the section to show and the answers so far (from the draft)."""
    qn = load_questionnaire(survey.id)
    draft = get_draft(survey, user, preview)
    answers: Answers = dict(draft.answers) if draft else {}
    index = draft.section_index if draft else first_section(qn, answers)
    if not 0 <= index < len(qn.sections) or not rendered_questions(qn, index, answers):
        index = first_section(qn, answers)
    return qn, index, answers


def answer_section(
    survey: Survey,
    user: User,
    section: int,
    form: Any,
    action: Action,
    preview: bool = False,
    generation: int | None = None,
) -> Step:
    """Take one section's answers and do what the button asked: go on, go back, keep a
    draft or submit. Format errors refuse everything; missing answers only stop going on.

    `generation`: the survey was read by `lock_for_answer`, which returned it; the
    questionnaire then comes from the per-process cache.
    """
    draft_taken = False
    if generation is not None:
        qn = questionnaire_facts(survey.id, generation)
        draft_taken = action == Action.SUBMIT
        draft = take_draft(survey, user) if draft_taken else None
        if not draft_taken:
            found = get_draft(survey, user)
            draft = (dict(found.answers), found.section_index) if found else None
        answers: Answers = draft[0] if draft else {}
    else:
        if not preview:
            share_lock(survey)  # before reading the questions: edits wait for this transaction
        qn, _current, answers = current_position(survey, user, preview)
    if not 0 <= section < len(qn.sections):
        section = first_section(qn, answers)
    questions = rendered_questions(qn, section, answers)
    posted, errors = parse_answers(questions, form)
    for question in qn.section_questions(section):
        answers.pop(str(question.id), None)
    answers.update(posted)
    if errors:
        return Step(Outcome.INVALID, section, answers, errors)
    if action == Action.SAVE:
        save_draft(survey, user, answers, section, preview)
        return Step(Outcome.SAVED, section, answers, {})
    if action == Action.BACK:
        target = previous_section(qn, section, answers)
        save_draft(survey, user, answers, section if target is None else target, preview)
        return Step(Outcome.MOVED, section if target is None else target, answers, {})
    missing = required_errors(questions, answers, visible_question_ids(qn, answers))
    if missing:
        return Step(Outcome.INVALID, section, answers, missing)
    target = next_section(qn, section, answers)
    if target is not None:
        save_draft(survey, user, answers, target, preview)
        return Step(Outcome.MOVED, target, answers, {})
    try:
        if preview:
            check_preview(survey, answers)
            discard_draft(survey, user, preview=True)
            return Step(Outcome.PREVIEW_PASSED, section, answers, {})
        submit_response(survey, user, answers, qn, draft_taken=draft_taken)
    except AnswersInvalid as exc:
        # An earlier section no longer holds up (e.g. the draft predates a change):
        # go back to the first section with a problem.
        wrong = min(exc.errors, key=lambda qid: qn.section_of.get(qid, 0))
        return Step(Outcome.INVALID, qn.section_of.get(wrong, section), answers, exc.errors)
    return Step(Outcome.SUBMITTED, section, answers, {})


# --- lists for residents ------------------------------------------------------------------------


def open_surveys_query(now: datetime | None = None) -> sa.Select:
    now = now or utcnow()
    return (
        sa.select(Survey)
        .where(
            Survey.published_at.is_not(None),
            Survey.closed_at.is_(None),
            Survey.starts_at <= now,
            Survey.ends_at > now,
        )
        .order_by(Survey.ends_at, Survey.id)
    )


def available_surveys_query(user: User, now: datetime | None = None) -> sa.Select:
    """Open surveys whose audience includes `user` and which they have not answered yet.

    The audience is matched in SQL as far as the profile allows (territory, age, gender,
    level, legal entity); the page still runs the full check before answering.
    """
    query = open_surveys_query(now)
    today = (now or utcnow()).date()
    home = user.registration_territory
    chain = [home.id, *(t.id for t in home.ancestors())] if home else []
    query = query.where(
        sa.exists().where(
            survey_territories.c.survey_id == Survey.id,
            survey_territories.c.territory_id.in_(chain),
        )
    )
    levels = [level for level in AccountLevel if level.rank <= user.account_level.rank]
    query = query.where(Survey.min_level.in_(levels))
    if user.kind == UserKind.LEGAL_REP:
        query = query.where(Survey.allow_legal_entities.is_(True))
    else:
        if user.birth_date is None:
            query = query.where(Survey.min_age.is_(None), Survey.max_age.is_(None))
        else:
            age = age_on(user.birth_date, today)
            query = query.where(
                sa.or_(Survey.min_age.is_(None), Survey.min_age <= age),
                sa.or_(Survey.max_age.is_(None), Survey.max_age >= age),
            )
        query = query.where(sa.or_(Survey.gender.is_(None), Survey.gender == user.gender))
    answered = sa.select(SurveyParticipant.survey_id).where(SurveyParticipant.user_id == user.id)
    return query.where(Survey.id.not_in(answered))


def answered_surveys_query(user: User) -> sa.Select:
    """Surveys `user` has answered, latest first (from the register, never from answers)."""
    return (
        sa.select(Survey, SurveyParticipant.answered_on)
        .join(SurveyParticipant, SurveyParticipant.survey_id == Survey.id)
        .where(SurveyParticipant.user_id == user.id)
        .order_by(SurveyParticipant.answered_on.desc(), Survey.id.desc())
    )


def drafts_of(user: User) -> list[tuple[Survey, SurveyDraft]]:
    """The user's unfinished surveys that are still open."""
    rows = db.session.execute(
        sa.select(Survey, SurveyDraft)
        .join(SurveyDraft, SurveyDraft.survey_id == Survey.id)
        .where(SurveyDraft.user_id == user.id, SurveyDraft.preview.is_(False))
        .order_by(SurveyDraft.updated_at.desc())
    ).all()
    return [(s, d) for s, d in rows if s.is_open]


def results_published_query(now: datetime | None = None) -> sa.Select:
    now = now or utcnow()
    return (
        sa.select(Survey)
        .where(
            Survey.published_at.is_not(None),
            Survey.results_public.is_(True),
            sa.or_(Survey.closed_at.is_not(None), Survey.ends_at <= now),
        )
        .order_by(Survey.ends_at.desc(), Survey.id.desc())
    )
