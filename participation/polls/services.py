"""Survey management: settings, sections, questions, conditions, publishing, copying, moderation.

Services flush and never commit. Questions are locked once anyone has answered: every change
to them locks the survey row first (FOR UPDATE on PostgreSQL) and then checks the register of
respondents, while a submission holds a shared lock on the same row, so the two cannot cross.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from participation.backoffice.readiness import POLLS, is_confirmed
from participation.core import audit, cache
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.files import Attachment, attachment_path, store_upload
from participation.core.jobs import enqueue_after_commit
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory
from participation.core.users import AccountLevel, Gender, User
from participation.extensions import db
from participation.polls.engine import load_questionnaire
from participation.polls.models import (
    CONDITION_SOURCE_KINDS,
    ExportFormat,
    OptionRole,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyCondition,
    SurveyExport,
    SurveyOption,
    SurveyParticipant,
    SurveyQuestion,
    SurveySection,
    SurveyState,
    TextStatus,
)

IMAGE_OWNER = "polls_survey"  # attachments of question images: ("polls_survey", survey id)


def to_utc(local: datetime, tz: str) -> datetime:
    """A wall-clock time typed by the publisher in their time zone, as UTC."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def to_local(moment: datetime, tz: str) -> datetime:
    """A UTC moment as naive wall-clock time in `tz` (for form fields)."""
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


@dataclass
class SurveySettings:
    title: str
    description: str
    anonymous: bool
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    territory_ids: list[int]
    min_level: AccountLevel = AccountLevel.STANDARD
    min_age: int | None = None
    max_age: int | None = None
    gender: Gender | None = None
    allow_legal_entities: bool = False
    results_public: bool = False


@dataclass
class QuestionData:
    kind: QuestionKind
    text: str
    description: str | None = None
    required: bool = False
    max_choices: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    scale_max: int | None = None
    has_other: bool = False
    options: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)


# --- territory choices --------------------------------------------------------------------


def territory_choices(organization: Organization) -> list[Territory]:
    """The organization's own territory and the municipalities directly inside it."""
    own = organization.territory
    children = list(
        db.session.scalars(
            sa.select(Territory).where(Territory.parent_id == own.id).order_by(Territory.name)
        )
    )
    return [own, *children]


def _territories(organization: Organization, ids: list[int]) -> list[Territory]:
    allowed = {t.id: t for t in territory_choices(organization)}
    if not ids:
        raise FieldError("territory_ids", _("Выберите хотя бы одну территорию."))
    if any(i not in allowed for i in ids):
        raise FieldError(
            "territory_ids", _("Можно выбрать только территорию своей организации и её части.")
        )
    return [allowed[i] for i in dict.fromkeys(ids)]


# --- locks and the "locked once answered" rule --------------------------------------------


def lock_survey(survey: Survey) -> Survey:
    """Take the survey row FOR UPDATE (PostgreSQL; SQLite writers are serial anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(Survey.id).where(Survey.id == survey.id).with_for_update()
        ).all()
        db.session.refresh(survey)
    return survey


def respondent_count(survey_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyParticipant)
        .where(SurveyParticipant.survey_id == survey_id)
    )


def has_responses(survey_id: int) -> bool:
    return bool(
        db.session.scalar(sa.select(sa.exists().where(SurveyParticipant.survey_id == survey_id)))
    )


def ensure_questions_editable(survey: Survey) -> None:
    """Refuse (with the reason) to change questions once anyone has answered."""
    lock_survey(survey)
    count = respondent_count(survey.id)
    if count:
        raise Conflict(
            ngettext(
                "Вопросы нельзя изменить: на опрос уже ответил %(num)d человек, и его ответ "
                "относится к нынешним вопросам. Сделайте копию опроса, если нужен другой.",
                "Вопросы нельзя изменить: на опрос уже ответили %(num)d человек, и их ответы "
                "относятся к нынешним вопросам. Сделайте копию опроса, если нужен другой.",
                count,
            )
        )
    if survey.state() == SurveyState.CLOSED:
        raise Conflict(_("Опрос завершён: его вопросы больше не меняются."))


# --- the survey itself ----------------------------------------------------------------------


def _check_settings(settings: SurveySettings) -> None:
    if not settings.title.strip():
        raise FieldError("title", _("Введите название опроса."))
    if settings.ends_at <= settings.starts_at:
        raise FieldError("ends_at", _("Окончание должно быть позже начала."))
    if (
        settings.min_age is not None
        and settings.max_age is not None
        and settings.min_age > settings.max_age
    ):
        raise FieldError("max_age", _("Верхняя граница возраста меньше нижней."))


def create_survey(organization: Organization, author: User, settings: SurveySettings) -> Survey:
    """A new unpublished survey with one empty section."""
    _check_settings(settings)
    survey = Survey(organization=organization, created_by_id=author.id)
    _apply_settings(survey, settings)
    survey.sections.append(SurveySection(position=0, title=""))
    db.session.add(survey)
    db.session.flush()
    audit.record("polls.survey_created", survey, title=survey.title)
    return survey


def _apply_settings(survey: Survey, settings: SurveySettings) -> None:
    survey.title = settings.title.strip()
    survey.description = settings.description.strip()
    survey.anonymous = settings.anonymous
    survey.starts_at = settings.starts_at
    survey.ends_at = settings.ends_at
    survey.min_level = settings.min_level
    survey.min_age = settings.min_age
    survey.max_age = settings.max_age
    survey.gender = settings.gender
    survey.allow_legal_entities = settings.allow_legal_entities
    survey.results_public = settings.results_public
    survey.territories = _territories(survey.organization, settings.territory_ids)


def update_survey(survey: Survey, settings: SurveySettings) -> Survey:
    """Change the settings; the anonymity and the audience are fixed once anyone answered."""
    _check_settings(settings)
    lock_survey(survey)
    if survey.state() == SurveyState.CLOSED:
        raise Conflict(_("Опрос завершён: его настройки больше не меняются."))
    if has_responses(survey.id):
        changed_audience = (
            settings.anonymous != survey.anonymous
            or settings.min_level != survey.min_level
            or settings.min_age != survey.min_age
            or settings.max_age != survey.max_age
            or settings.gender != survey.gender
            or settings.allow_legal_entities != survey.allow_legal_entities
            or sorted(settings.territory_ids) != sorted(t.id for t in survey.territories)
        )
        if changed_audience:
            raise Conflict(
                _(
                    "На опрос уже отвечали: анонимность и круг участников менять нельзя, "
                    "иначе ответы получены на других условиях. Можно изменить название, "
                    "описание, срок и публикацию итогов."
                )
            )
        if settings.starts_at != survey.starts_at:
            raise FieldError("starts_at", _("На опрос уже отвечали: начало менять нельзя."))
    _apply_settings(survey, settings)
    db.session.flush()
    audit.record("polls.survey_updated", survey)
    return survey


def publish_survey(survey: Survey) -> Survey:
    """Publish a ready survey: questions complete, the end still ahead."""
    if survey.published_at is not None:
        raise Conflict(_("Опрос уже опубликован."))
    problems = publication_problems(survey)
    if problems:
        raise DomainError(_("Опрос пока нельзя опубликовать: %(list)s", list="; ".join(problems)))
    survey.published_at = utcnow()
    db.session.flush()
    audit.record("polls.survey_published", survey)
    return survey


def publication_problems(survey: Survey) -> list[str]:
    """What stops publishing, in words for the publisher (empty when ready)."""
    qn = load_questionnaire(survey.id)
    problems = []
    if not qn.questions:
        problems.append(_("нет ни одного вопроса"))
    for number, question in enumerate(qn.questions, 1):
        problem = _question_problem(question)
        if problem:
            problems.append(_("вопрос %(n)d: %(problem)s", n=number, problem=problem))
    if survey.ends_at <= utcnow():
        problems.append(_("срок окончания уже прошёл"))
    if not survey.territories:
        problems.append(_("не выбрана территория"))
    if not is_confirmed(survey.organization, POLLS):
        problems.append(_("не подтверждена готовность организации к проведению опросов"))
    return problems


def _question_problem(question: SurveyQuestion) -> str | None:
    plain = [o for o in question.choices if not o.is_other]
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and len(question.choices) < 2:
        return _("нужно хотя бы два варианта ответа")
    if question.kind == QuestionKind.RANKING and len(plain) < 2:
        return _("нужно хотя бы два варианта для ранжирования")
    if question.kind == QuestionKind.MATRIX and (not question.rows or len(plain) < 2):
        return _("нужны строки и хотя бы два варианта ответа")
    return None


def close_survey(survey: Survey) -> Survey:
    """Stop accepting responses now."""
    state = survey.state()
    if state == SurveyState.DRAFT:
        raise Conflict(_("Опрос не опубликован: закрывать нечего."))
    if state == SurveyState.CLOSED:
        raise Conflict(_("Опрос уже завершён."))
    survey.closed_at = utcnow()
    db.session.flush()
    audit.record("polls.survey_closed", survey)
    return survey


def delete_survey(survey: Survey) -> None:
    """Delete an unpublished survey."""
    if survey.published_at is not None:
        raise Conflict(_("Опубликованный опрос удалить нельзя: его можно только завершить."))
    audit.record("polls.survey_deleted", survey, title=survey.title)
    db.session.delete(survey)
    db.session.flush()


def copy_survey(survey: Survey, author: User, organization: Organization) -> Survey:
    """A new unpublished survey with the same settings and questions, starting tomorrow."""
    start = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    copy = Survey(
        organization=organization,
        created_by_id=author.id,
        copied_from_id=survey.id,
        title=_("%(title)s (копия)", title=survey.title)[:300],
        description=survey.description,
        anonymous=survey.anonymous,
        starts_at=start,
        ends_at=start + (survey.ends_at - survey.starts_at),
        min_level=survey.min_level,
        min_age=survey.min_age,
        max_age=survey.max_age,
        gender=survey.gender,
        allow_legal_entities=survey.allow_legal_entities,
        results_public=survey.results_public,
    )
    if organization.id == survey.organization_id:
        copy.territories = list(survey.territories)
    else:
        copy.territories = [organization.territory]
    db.session.add(copy)
    db.session.flush()
    qn = load_questionnaire(survey.id)
    option_map: dict[int, int] = {}
    question_map: dict[int, SurveyQuestion] = {}
    for section in qn.sections:
        new_section = SurveySection(
            survey_id=copy.id,
            position=section.position,
            title=section.title,
            description=section.description,
        )
        db.session.add(new_section)
        db.session.flush()
        for question in section.questions:
            new_question = SurveyQuestion(
                survey_id=copy.id,
                section_id=new_section.id,
                **{
                    c: getattr(question, c)
                    for c in (
                        "position",
                        "kind",
                        "text",
                        "description",
                        "required",
                        "max_choices",
                        "max_length",
                        "min_value",
                        "max_value",
                        "scale_max",
                        "has_other",
                    )
                },
            )
            if question.image is not None:
                new_question.image_id = _copy_image(question.image, author, copy.id).id
            new_question.options = [
                SurveyOption(role=o.role, position=o.position, text=o.text, is_other=o.is_other)
                for o in question.options
            ]
            db.session.add(new_question)
            db.session.flush()
            question_map[question.id] = new_question
            for old, new in zip(question.options, new_question.options, strict=True):
                option_map[old.id] = new.id
    for question_id, option_ids in qn.conditions.items():
        for option_id in option_ids:
            db.session.add(
                SurveyCondition(
                    question_id=question_map[question_id].id, option_id=option_map[option_id]
                )
            )
    db.session.flush()
    audit.record("polls.survey_copied", copy, source_id=survey.id)
    return copy


def _copy_image(image: Attachment, author: User, survey_id: int) -> Attachment:
    with attachment_path(image).open("rb") as stream:
        return store_upload(
            io.BytesIO(stream.read()),
            image.original_name,
            uploaded_by_id=author.id,
            attached_to=(IMAGE_OWNER, survey_id),
            field="image",
        )


# --- sections -------------------------------------------------------------------------------


def add_section(survey: Survey, title: str, description: str | None) -> SurveySection:
    """Append a section (a page of the questionnaire)."""
    ensure_questions_editable(survey)
    position = max((s.position for s in survey.sections), default=-1) + 1
    section = SurveySection(
        survey_id=survey.id, position=position, title=title.strip(), description=description
    )
    db.session.add(section)
    db.session.flush()
    db.session.expire(survey, ["sections"])
    return section


def update_section(section: SurveySection, title: str, description: str | None) -> SurveySection:
    """Rename a section or change its introduction."""
    ensure_questions_editable(section.survey)
    section.title = title.strip()
    section.description = description
    db.session.flush()
    return section


def delete_section(section: SurveySection) -> None:
    """Delete a section and its questions; the last section stays."""
    survey = section.survey
    ensure_questions_editable(survey)
    if len(survey.sections) <= 1:
        raise Conflict(_("В опросе должен остаться хотя бы один раздел."))
    _refuse_if_triggers_elsewhere([q.id for q in section.questions])
    db.session.delete(section)
    db.session.flush()
    db.session.expire(survey, ["sections"])


# --- questions ------------------------------------------------------------------------------


def _check_question(data: QuestionData) -> None:
    if not data.text.strip():
        raise FieldError("text", _("Введите текст вопроса."))
    if len(data.text) > 1000:
        raise FieldError("text", _("Текст вопроса длиннее 1000 символов."))
    options = [o.strip() for o in data.options if o.strip()]
    if len(options) != len(set(options)):
        raise FieldError("options", _("Варианты ответа повторяются: уберите одинаковые."))
    if any(len(o) > 500 for o in options):
        raise FieldError("options", _("Вариант ответа длиннее 500 символов."))
    kind = data.kind
    if kind in (
        QuestionKind.SINGLE,
        QuestionKind.MULTIPLE,
        QuestionKind.RANKING,
        QuestionKind.MATRIX,
    ):
        needed = 1 if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and data.has_other else 2
        if len(options) < needed:
            raise FieldError("options", _("Нужно хотя бы два варианта ответа, по одному в строке."))
    if kind == QuestionKind.MATRIX:
        rows = [r.strip() for r in data.rows if r.strip()]
        if not rows:
            raise FieldError("rows", _("Перечислите строки таблицы, по одной в строке."))
        if len(rows) != len(set(rows)):
            raise FieldError("rows", _("Строки таблицы повторяются: уберите одинаковые."))
    if kind == QuestionKind.MULTIPLE and data.max_choices is not None:
        total = len(options) + (1 if data.has_other else 0)
        if not 1 <= data.max_choices <= total:
            raise FieldError(
                "max_choices", _("Укажите число от 1 до %(n)d (число вариантов).", n=total)
            )
    if (
        kind == QuestionKind.TEXT
        and data.max_length is not None
        and not 1 <= data.max_length <= 10000
    ):
        raise FieldError("max_length", _("Ограничение длины — от 1 до 10000 символов."))
    if kind == QuestionKind.SCALE and data.scale_max not in (5, 10):
        raise FieldError("scale_max", _("Шкала бывает от 1 до 5 или от 1 до 10."))
    if (
        kind == QuestionKind.NUMBER
        and data.min_value is not None
        and data.max_value is not None
        and data.min_value > data.max_value
    ):
        raise FieldError("max_value", _("Наибольшее значение меньше наименьшего."))


def _apply_question(question: SurveyQuestion, data: QuestionData) -> None:
    kind = data.kind
    question.kind = kind
    question.text = data.text.strip()
    question.description = (data.description or "").strip() or None
    question.required = data.required
    question.max_choices = data.max_choices if kind == QuestionKind.MULTIPLE else None
    question.max_length = data.max_length if kind == QuestionKind.TEXT else None
    question.min_value = data.min_value if kind == QuestionKind.NUMBER else None
    question.max_value = data.max_value if kind == QuestionKind.NUMBER else None
    question.scale_max = data.scale_max if kind == QuestionKind.SCALE else None
    question.has_other = data.has_other and kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
    options: list[SurveyOption] = []
    if kind in (
        QuestionKind.SINGLE,
        QuestionKind.MULTIPLE,
        QuestionKind.RANKING,
        QuestionKind.MATRIX,
    ):
        texts = [o.strip() for o in data.options if o.strip()]
        options += [
            SurveyOption(role=OptionRole.CHOICE, position=n, text=t, is_other=False)
            for n, t in enumerate(texts)
        ]
        if question.has_other:
            options.append(
                SurveyOption(
                    role=OptionRole.CHOICE,
                    position=len(texts),
                    text=_("Другое (укажите)"),
                    is_other=True,
                )
            )
    if kind == QuestionKind.MATRIX:
        texts = [r.strip() for r in data.rows if r.strip()]
        options += [
            SurveyOption(role=OptionRole.ROW, position=n, text=t, is_other=False)
            for n, t in enumerate(texts)
        ]
    _reuse_options(question, options)


def _reuse_options(question: SurveyQuestion, wanted: list[SurveyOption]) -> None:
    """Keep the rows of options whose text and role stay, so conditions pointing at them live."""
    existing = {(o.role, o.text): o for o in question.options}
    result = []
    for option in wanted:
        kept = existing.pop((option.role, option.text), None)
        if kept is not None:
            kept.position, kept.is_other = option.position, option.is_other
            result.append(kept)
        else:
            result.append(option)
    gone = [o.id for o in existing.values() if o.id is not None]
    if gone:
        used = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SurveyCondition)
            .where(SurveyCondition.option_id.in_(gone))
        )
        if used:
            raise FieldError(
                "options",
                _(
                    "Удалённый вариант ответа управляет показом другого вопроса. "
                    "Сначала измените условие показа того вопроса."
                ),
            )
    question.options = result


def add_question(section: SurveySection, data: QuestionData) -> SurveyQuestion:
    """Append a question to a section."""
    ensure_questions_editable(section.survey)
    _check_question(data)
    position = max((q.position for q in section.questions), default=-1) + 1
    question = SurveyQuestion(survey_id=section.survey_id, section_id=section.id, position=position)
    question.options = []
    _apply_question(question, data)
    db.session.add(question)
    db.session.flush()
    db.session.expire(section, ["questions"])
    return question


def update_question(question: SurveyQuestion, data: QuestionData) -> SurveyQuestion:
    """Change a question (kind, text, options…)."""
    ensure_questions_editable(question.section.survey)
    _check_question(data)
    if data.kind != question.kind and data.kind not in CONDITION_SOURCE_KINDS:
        _refuse_if_triggers_elsewhere([question.id])
    _apply_question(question, data)
    db.session.flush()
    return question


def delete_question(question: SurveyQuestion) -> None:
    """Delete a question (not one whose answer decides whether another is shown)."""
    section = question.section
    ensure_questions_editable(section.survey)
    _refuse_if_triggers_elsewhere([question.id])
    db.session.delete(question)
    db.session.flush()
    db.session.expire(section, ["questions"])


def _refuse_if_triggers_elsewhere(question_ids: list[int]) -> None:
    dependent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyCondition)
        .join(SurveyOption, SurveyOption.id == SurveyCondition.option_id)
        .where(
            SurveyOption.question_id.in_(question_ids),
            SurveyCondition.question_id.not_in(question_ids),
        )
    )
    if dependent:
        raise Conflict(
            _(
                "От ответа на этот вопрос зависит показ другого вопроса. "
                "Сначала уберите условие показа у того вопроса."
            )
        )


def move_question(question: SurveyQuestion, direction: int) -> None:
    """Swap a question with its neighbour within the section (-1 up, +1 down)."""
    section = question.section
    ensure_questions_editable(section.survey)
    siblings = list(section.questions)
    index = siblings.index(question)
    target = index + direction
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    qn = load_questionnaire(section.survey_id)
    order = {q.id: n for n, q in enumerate(siblings)}
    for dependent_id, source_id in qn.condition_source.items():
        if dependent_id in order and source_id in order and order[source_id] > order[dependent_id]:
            raise Conflict(
                _("Вопрос с условием показа должен идти после вопроса, от которого он зависит.")
            )
    for position, q in enumerate(siblings):
        q.position = position
    db.session.flush()


def set_condition(question: SurveyQuestion, option_ids: list[int]) -> None:
    """Show `question` only when one of `option_ids` (options of one earlier choice question)
    is chosen; an empty list removes the condition."""
    survey = question.section.survey
    ensure_questions_editable(survey)
    db.session.execute(sa.delete(SurveyCondition).where(SurveyCondition.question_id == question.id))
    cache.changed(db.session, SurveyCondition)  # a bulk delete: no ORM object tells the caches
    if not option_ids:
        db.session.flush()
        return
    qn = load_questionnaire(survey.id)
    order = [q.id for q in qn.questions]
    sources = {qn.option_question.get(i) for i in option_ids}
    if None in sources:
        raise FieldError("condition", _("Такого варианта ответа в этом опросе нет."))
    if len(sources) != 1:
        raise FieldError("condition", _("Условие показа может зависеть только от одного вопроса."))
    source = qn.by_id[sources.pop()]
    if source.kind not in CONDITION_SOURCE_KINDS:
        raise FieldError(
            "condition", _("Условие можно ставить только на вопрос с выбором вариантов.")
        )
    if order.index(source.id) >= order.index(question.id):
        raise FieldError(
            "condition", _("Вопрос может зависеть только от вопросов, которые идут раньше него.")
        )
    for option_id in dict.fromkeys(option_ids):
        db.session.add(SurveyCondition(question_id=question.id, option_id=option_id))
    db.session.flush()


def attach_image(question: SurveyQuestion, stream, filename: str | None, author: User) -> None:
    """Store an uploaded picture for the question (a photo; PDF is refused)."""
    ensure_questions_editable(question.section.survey)
    attachment = store_upload(
        stream,
        filename,
        uploaded_by_id=author.id,
        attached_to=(IMAGE_OWNER, question.survey_id),
        field="image",
    )
    if not attachment.inline:
        raise FieldError(
            "image", _("К вопросу можно приложить только фотографию (JPEG, PNG, WEBP).")
        )
    db.session.flush()
    question.image_id = attachment.id
    db.session.flush()


def remove_image(question: SurveyQuestion) -> None:
    """Detach the picture from the question."""
    ensure_questions_editable(question.section.survey)
    question.image_id = None
    db.session.flush()


# --- moderation of free-text answers ------------------------------------------------------------


def moderate_answer(
    answer: SurveyAnswer, approve: bool, reason: RejectionReason | None, moderator: User
) -> SurveyAnswer:
    """Approve a free-text answer for publication, or reject it with a reason."""
    if answer.text_value is None:
        raise Conflict(_("В этом ответе нет текста для проверки."))
    if not approve and reason is None:
        raise FieldError("reason", _("Выберите причину отклонения."))
    answer.text_status = TextStatus.APPROVED if approve else TextStatus.REJECTED
    answer.rejection_reason = None if approve else reason
    answer.moderated_at = utcnow()
    db.session.flush()
    audit.record(
        "polls.text_moderated",
        object_type="survey_answer",
        object_id=answer.id,
        actor_id=moderator.id,
        status=str(answer.text_status),
        reason=str(reason) if reason else None,
    )
    return answer


# --- exports as jobs ------------------------------------------------------------------------


def request_export(survey: Survey, user: User, fmt: ExportFormat) -> SurveyExport:
    """Queue a large export; the job reports progress on the row and stores the file."""
    export = SurveyExport(survey_id=survey.id, requested_by_id=user.id, format=fmt)
    db.session.add(export)
    db.session.flush()
    audit.record("polls.export_requested", survey, format=str(fmt), export_id=export.id)
    enqueue_after_commit("participation.polls.tasks:run_export", export.id, queue="reports")
    return export
