"""What the organisation endpoints answer: inbox lines, the message card (as the staff card shows
it, through the same reads), folders with counts, the opaque inbox cursor."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import joinedload

from participation.appeals import services
from participation.appeals.inbox import (
    BUCKET_ORDER,
    COUNT_CAP,
    SED_FOLDERS,
    Filters,
    Folder,
    InboxItem,
)
from participation.appeals.models import Appeal, AppealAnswer, AppealHandoff
from participation.appeals.permissions import available_actions
from participation.appeals.presenters import coordination_countdown, event_label
from participation.appeals.workflow import (
    ACTION_LABELS,
    FOLDER_TITLES,
    SED_FOLDERS_LABEL,
    STATE_LABELS,
    Action,
)
from participation.core.db import utcnow
from participation.core.files import Attachment
from participation.core.organizations import Organization

# Workflow actions an organisation key may take through the API: action → its path segment.
API_ACTIONS: dict[Action, str] = {
    Action.ASSIGN: "assign",
    Action.REASSIGN: "reassign",
    Action.POSTPONE: "postpone",
    Action.RESUME: "resume",
    Action.REDIRECT: "redirect",
    Action.SUBMIT_DRAFT: "answer",
}


# What a line shows beyond the staff list's columns, loaded with the page's own query.
LINE_OPTIONS = (joinedload(Appeal.territory), joinedload(Appeal.sed_organization))


def _ref(obj: Any, name: str | None = None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.id, "name": name if name is not None else obj.name}


def _org(organization: Organization | None) -> dict[str, Any] | None:
    return _ref(organization, organization.display_name) if organization is not None else None


def _topic(row: Any) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "name": row.name}


def _sed(appeal: Appeal) -> dict[str, Any] | None:
    if appeal.sed_number is None:
        return None
    return {
        "number": appeal.sed_number,
        "date": appeal.sed_registered_on,
        "organization": _org(appeal.sed_organization),
        "registered_at": appeal.sed_registered_at,
    }


def _handoff(handoff: AppealHandoff | None) -> dict[str, Any] | None:
    if handoff is None:
        return None
    return {
        "at": handoff.at,
        "to_organization": _org(handoff.to_organization),
        "reason": handoff.reason,
    }


def message_line(appeal: Appeal, handoff: AppealHandoff | None = None) -> dict[str, Any]:
    """A message as a line of the inbox (the staff list's card)."""
    return {
        "id": appeal.id,
        "number": appeal.number,
        "state": appeal.state.value,
        "state_label": str(STATE_LABELS[appeal.state]),
        "bucket": appeal.bucket.value,
        "category": _topic(appeal.subcategory.category),
        "subcategory": _topic(appeal.subcategory),
        "fast_track": appeal.fast_track,
        "channel": appeal.channel.value,
        "arrival": appeal.arrival.value,
        "auto_routed": appeal.auto_routed,
        "returned_from": appeal.returned_from.value if appeal.returned_from else None,
        "text": appeal.text,
        "address": appeal.address,
        "territory": _ref(appeal.territory),
        "applicant_region": _ref(appeal.applicant_region),
        "executor_organization": _org(appeal.executor_organization),
        "registered_at": appeal.registered_at,
        "answer_due_at": appeal.answer_due_at,
        "coordination_due_at": (
            appeal.coordination_due_at if coordination_countdown(appeal) is not None else None
        ),
        "overdue": appeal.is_overdue(utcnow()),
        "sed": _sed(appeal),
        "handoff": _handoff(handoff),
    }


def inbox_lines(items: list[InboxItem]) -> list[dict[str, Any]]:
    return [message_line(item.appeal, item.handoff) for item in items]


def _file(attachment: Attachment, appeal: Appeal) -> dict[str, Any]:
    return {
        "id": attachment.public_id,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url_for(
            "api_organization.message_file", appeal_id=appeal.id, file_id=attachment.public_id
        ),
    }


def _answer(answer: AppealAnswer, files: list[Attachment], appeal: Appeal) -> dict[str, Any]:
    return {
        "id": answer.id,
        "status": answer.status.value,
        "text": answer.text,
        "author": answer.author.full_name,
        "created_at": answer.created_at,
        "decided_at": answer.decided_at,
        "remarks": answer.remarks,
        "files": [_file(f, appeal) for f in files],
    }


def available_api_actions(user: Any, appeal: Appeal, organization: Organization) -> list[Action]:
    """The workflow actions this key may take on the message now (the card's buttons)."""
    return [a for a in available_actions(user, appeal, organization) if a in API_ACTIONS]


def message_card(appeal: Appeal, user: Any, organization: Organization) -> dict[str, Any]:
    """The message as the staff card shows it, read by the same services."""
    answers = services.answers_of(appeal)
    answer_files = services.attachments_of("appeal_answer", [a.id for a in answers])
    rating = services.appeal_rating(appeal)
    card = message_line(appeal)
    card.update(
        {
            "applicant": {"name": appeal.applicant_name, "phone": appeal.caller_phone},
            "latitude": float(appeal.latitude) if appeal.latitude is not None else None,
            "longitude": float(appeal.longitude) if appeal.longitude is not None else None,
            "holder_organization": _org(appeal.holder_organization),
            "executor": _ref(appeal.executor, appeal.executor.full_name)
            if appeal.executor
            else None,
            "postponed_until": appeal.postponed_until,
            "postponement_reason": appeal.postponement_reason,
            "answered_at": appeal.answered_at,
            "closed_at": appeal.closed_at,
            "files": [
                _file(f, appeal)
                for f in services.attachments_of("appeal", [appeal.id]).get(appeal.id, [])
            ],
            "answers": [_answer(a, answer_files.get(a.id, []), appeal) for a in answers],
            "rating": {"score": rating.score, "comment": rating.comment} if rating else None,
            "history": [
                {
                    "at": e.at,
                    "action": e.action,
                    "label": event_label(e),
                    "actor_role": e.actor_role,
                    "actor": e.actor.full_name if e.actor else None,
                    "organization": e.organization.display_name if e.organization else None,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "comment": e.comment,
                }
                for e in services.appeal_history(appeal)
            ],
            "actions": [
                {
                    "action": a.value,
                    "label": str(ACTION_LABELS[a]),
                    "path": url_for(f"api_organization.{API_ACTIONS[a]}", appeal_id=appeal.id),
                }
                for a in available_api_actions(user, appeal, organization)
            ],
        }
    )
    return card


def folders(counts: dict[Folder, int]) -> dict[str, Any]:
    """Every folder with its title and count, in the staff inbox's order."""
    rows = []
    for folder in (*BUCKET_ORDER, *SED_FOLDERS):
        n = counts.get(folder, 0)
        rows.append(
            {
                "folder": folder.value,
                "title": str(FOLDER_TITLES[folder]),
                "count": n,
                "capped": n > COUNT_CAP,
                "group": str(SED_FOLDERS_LABEL) if folder in SED_FOLDERS else None,
            }
        )
    return {"folders": rows}


# --- the cursor --------------------------------------------------------------------------------


class BadCursor(ValueError):
    """The cursor was altered, or made for another folder, filter or sort."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="api-inbox-cursor")


def _query_print(filters: Filters, key_id: int) -> str:
    """What a cursor is valid for: the key and every argument that picks or orders rows."""
    args = filters.query_args(page=None, size=None)
    raw = json.dumps([key_id, sorted(args.items())], ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_cursor(after: tuple[datetime, int], filters: Filters, key_id: int) -> str:
    """An opaque, signed token for "after this row", bound to the query that made it."""
    moment, ident = after
    return _serializer().dumps([moment.isoformat(), ident, _query_print(filters, key_id)])


def read_cursor(token: str, filters: Filters, key_id: int) -> tuple[datetime, int]:
    """The position a cursor stands for; BadCursor if forged or from another query."""
    try:
        moment, ident, printed = _serializer().loads(token)
        after = (datetime.fromisoformat(moment), int(ident))
    except (BadSignature, ValueError, TypeError):
        raise BadCursor from None
    if printed != _query_print(filters, key_id) or after[0].tzinfo is None:
        raise BadCursor
    return after
