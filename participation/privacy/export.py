"""A resident's own data as a ZIP: JSON files and the files they attached.

Everything is selected by the requester's id only. How someone voted is never included (the
ballot is secret and not linked to anyone): only that they took part. The archive is written
to a temporary file, not held in memory; JSON documents are written one section at a time.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any

import sqlalchemy as sa

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.models import (
    AnswerStatus,
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealRating,
)
from participation.core import audit
from participation.core.files import Attachment, attachment_path
from participation.core.organizations import Organization
from participation.core.outbox import Notification
from participation.core.users import User
from participation.directline.models import DirectLine, Question
from participation.extensions import db
from participation.hearings.models import Hearing, Participant, Remark
from participation.polls.models import (
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyParticipant,
    SurveyQuestion,
    SurveyResponse,
)
from participation.voting.models import Campaign, RegisterEntry

EXPORT_ACTION = "privacy.export"
README = (
    "Ваши данные на платформе «Решаем вместе».\n\n"
    "profile.json — сведения учётной записи; messages.json — ваши сообщения с историей, "
    "ответами и оценками; ratings.json — ваши оценки ответов; surveys.json — опросы, в которых "
    "вы участвовали (ответы — только для именных опросов: ответы анонимных опросов ни с кем не "
    "связаны); votes.json — голосования, в которых вы участвовали (как вы проголосовали, не "
    "хранится нигде: бюллетень тайный); directline.json — ваши вопросы прямых линий; "
    "hearings.json — ваши замечания и предложения к проектам и сведения об участии; "
    "notifications.json — лента уведомлений; files/ — файлы, которые вы приложили.\n"
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


def _row(mapping: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in dict(mapping).items()}


def _rows(query: sa.Select) -> list[dict[str, Any]]:
    return [_row(r) for r in db.session.execute(query).mappings()]


def profile_of(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "esia_oid": user.esia_oid,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "birth_date": _plain(user.birth_date),
        "gender": _plain(user.gender),
        "account_level": _plain(user.account_level),
        "email": user.email,
        "phone": user.phone,
        "registration_address": user.registration_address,
        "registration_territory": (
            user.registration_territory.name if user.registration_territory else None
        ),
        "legal_entity_name": user.legal_entity_name,
        "legal_entity_ogrn": user.legal_entity_ogrn,
        "registered_at": _plain(user.created_at),
        "last_login_at": _plain(user.last_login_at),
        "esia_synced_at": _plain(user.esia_synced_at),
    }


def _by_appeal(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.pop("appeal_id"), []).append(row)
    return out


def messages_of(user: User, files: dict[str, str]) -> list[dict[str, Any]]:
    """The user's messages, each with its history, approved answers, rating and files."""
    executor = sa.orm.aliased(Organization)
    messages = _rows(
        sa.select(
            Appeal.id,
            Appeal.registered_at,
            Appeal.state,
            Appeal.channel,
            Category.name.label("category"),
            Subcategory.name.label("subcategory"),
            Appeal.text,
            Appeal.address,
            Appeal.latitude,
            Appeal.longitude,
            executor.name.label("executor_organization"),
            Appeal.answer_due_at,
            Appeal.answered_at,
            Appeal.closed_at,
        )
        .join(Subcategory, Subcategory.id == Appeal.subcategory_id)
        .join(Category, Category.id == Subcategory.category_id)
        .join(executor, executor.id == Appeal.executor_organization_id)
        .where(Appeal.author_id == user.id)
        .order_by(Appeal.id)
    )
    mine = sa.select(Appeal.id).where(Appeal.author_id == user.id)
    history = _by_appeal(
        _rows(
            sa.select(
                AppealEvent.appeal_id,
                AppealEvent.at,
                AppealEvent.action,
                AppealEvent.from_state,
                AppealEvent.to_state,
                # Only the resident's own words: staff's internal comments are not theirs.
                sa.case((AppealEvent.actor_id == user.id, AppealEvent.comment)).label("comment"),
            )
            .where(AppealEvent.appeal_id.in_(mine))
            .order_by(AppealEvent.appeal_id, AppealEvent.at, AppealEvent.id)
        )
    )
    answers = _by_appeal(
        _rows(
            sa.select(
                AppealAnswer.appeal_id,
                Organization.name.label("organization"),
                AppealAnswer.text,
                AppealAnswer.decided_at.label("answered_at"),
            )
            .join(Organization, Organization.id == AppealAnswer.organization_id)
            .where(AppealAnswer.appeal_id.in_(mine), AppealAnswer.status == AnswerStatus.APPROVED)
            .order_by(AppealAnswer.appeal_id, AppealAnswer.id)
        )
    )
    ratings = _by_appeal(
        _rows(
            sa.select(
                AppealRating.appeal_id,
                AppealRating.score,
                AppealRating.comment,
                AppealRating.created_at,
            ).where(AppealRating.appeal_id.in_(mine), AppealRating.author_id == user.id)
        )
    )
    attached: dict[str, list[str]] = {}
    for public_id, name in files.items():
        attached.setdefault(public_id.split("|", 1)[0], []).append(name)
    for message in messages:
        message["history"] = history.get(message["id"], [])
        message["answers"] = answers.get(message["id"], [])
        message["rating"] = (ratings.get(message["id"]) or [None])[0]
        message["files"] = attached.get(str(message["id"]), [])
    return messages


def ratings_of(user: User) -> list[dict[str, Any]]:
    return _rows(
        sa.select(
            AppealRating.appeal_id.label("message_id"),
            AppealRating.score,
            AppealRating.comment,
            AppealRating.via,
            AppealRating.created_at,
        )
        .where(AppealRating.author_id == user.id)
        .order_by(AppealRating.id)
    )


def surveys_of(user: User) -> list[dict[str, Any]]:
    """Surveys taken part in; the answers themselves only for named responses."""
    taken = _rows(
        sa.select(Survey.id, Survey.title, Survey.anonymous, SurveyParticipant.answered_on)
        .join(SurveyParticipant, SurveyParticipant.survey_id == Survey.id)
        .where(SurveyParticipant.user_id == user.id)
        .order_by(Survey.id)
    )
    option, row = sa.orm.aliased(SurveyOption), sa.orm.aliased(SurveyOption)
    answers: dict[int, list[dict[str, Any]]] = {}
    for item in _rows(
        sa.select(
            SurveyResponse.survey_id,
            SurveyQuestion.text.label("question"),
            option.text.label("option"),
            row.text.label("row"),
            SurveyAnswer.number_value,
            SurveyAnswer.date_value,
            SurveyAnswer.text_value,
        )
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(option, option.id == SurveyAnswer.option_id)
        .outerjoin(row, row.id == SurveyAnswer.row_id)
        .where(SurveyResponse.respondent_id == user.id)
        .order_by(SurveyResponse.survey_id, SurveyQuestion.position, SurveyAnswer.id)
    ):
        survey_id = item.pop("survey_id")
        answers.setdefault(survey_id, []).append({k: v for k, v in item.items() if v is not None})
    for survey in taken:
        survey["answers"] = answers.get(survey["id"], [])
    return taken


def votes_of(user: User) -> list[dict[str, Any]]:
    """Only that the user took part: the register of voters, never the ballot."""
    return _rows(
        sa.select(
            Campaign.id.label("vote_id"),
            Campaign.title,
            RegisterEntry.voted_on,
            RegisterEntry.channel,
        )
        .join(Campaign, Campaign.id == RegisterEntry.campaign_id)
        .where(RegisterEntry.user_id == user.id)
        .order_by(Campaign.id)
    )


def directline_of(user: User) -> list[dict[str, Any]]:
    return _rows(
        sa.select(
            Question.id,
            DirectLine.title.label("direct_line"),
            Question.created_at,
            Question.text,
            Question.address,
            Question.state,
            Question.answered_at,
            Question.answer_text,
        )
        .join(DirectLine, DirectLine.id == Question.event_id)
        .where(Question.author_id == user.id)
        .order_by(Question.id)
    )


def hearings_of(user: User) -> dict[str, list[dict[str, Any]]]:
    return {
        "participation": _rows(
            sa.select(
                Hearing.id.label("hearing_id"),
                Hearing.title,
                Participant.last_name,
                Participant.first_name,
                Participant.middle_name,
                Participant.birth_date,
                Participant.address,
                Participant.resident,
                Participant.registered_at,
            )
            .join(Hearing, Hearing.id == Participant.hearing_id)
            .where(Participant.user_id == user.id)
            .order_by(Participant.id)
        ),
        "remarks": _rows(
            sa.select(
                Hearing.id.label("hearing_id"),
                Hearing.title,
                Remark.number,
                Remark.kind,
                Remark.text,
                Remark.submitted_at,
                Remark.status,
                Remark.recommendation,
                Remark.recommendation_reason,
            )
            .join(Hearing, Hearing.id == Remark.hearing_id)
            .where(Remark.author_id == user.id)
            .order_by(Remark.id)
        ),
    }


def notifications_of(user: User) -> list[dict[str, Any]]:
    return _rows(
        sa.select(
            Notification.created_at,
            Notification.title,
            Notification.body,
            Notification.link,
            Notification.read_at,
        )
        .where(Notification.user_id == user.id)
        .order_by(Notification.id)
    )


def _own_files(user: User) -> list[Attachment]:
    """Files the user attached to their messages (erased ones are gone)."""
    mine = sa.select(sa.cast(Appeal.id, sa.String)).where(Appeal.author_id == user.id)
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(
                Attachment.uploaded_by_id == user.id,
                Attachment.attached_to_type == "appeal",
                Attachment.attached_to_id.in_(mine),
                Attachment.deleted_at.is_(None),
            )
            .order_by(Attachment.id)
        )
    )


def _write_json(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    with archive.open(name, "w") as out:
        out.write(json.dumps(data, ensure_ascii=False, indent=2, default=_plain).encode())


def build_personal_data_zip(user: User) -> tuple[IO[bytes], dict[str, int]]:
    """The user's data as a ZIP in a temporary file (rewound), and what it holds; audit-logged."""
    out = tempfile.TemporaryFile()  # noqa: SIM115  (send_file closes it after the response)
    files = _own_files(user)
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for attachment in files:
            name = f"files/{attachment.public_id}-{attachment.original_name}"
            try:
                archive.write(attachment_path(attachment), name)
            except OSError:
                continue  # missing in storage: listed nowhere rather than broken
            names[f"{attachment.attached_to_id}|{attachment.public_id}"] = name
        sections = {
            "profile.json": profile_of(user),
            "messages.json": messages_of(user, names),
            "ratings.json": ratings_of(user),
            "surveys.json": surveys_of(user),
            "votes.json": votes_of(user),
            "directline.json": directline_of(user),
            "hearings.json": hearings_of(user),
            "notifications.json": notifications_of(user),
        }
        for name, data in sections.items():
            _write_json(archive, name, data)
            if isinstance(data, list):
                counts[name.removesuffix(".json")] = len(data)
        counts["files"] = len(names)
        archive.writestr("README.txt", README)
    out.seek(0)
    audit.record(EXPORT_ACTION, user, actor_id=user.id, counts=counts)
    return out, counts
