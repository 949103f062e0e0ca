"""Background jobs of direct lines: turning every unanswered question into a message."""

from __future__ import annotations

import logging

from participation.core.errors import DomainError
from participation.core.users import User
from participation.directline.models import DirectLine, Question
from participation.extensions import db

log = logging.getLogger(__name__)


def convert_unanswered_questions(event_id: int, actor_id: int) -> dict[str, int]:
    """Convert each unanswered question in its own transaction; safe to run twice at once.

    A question another run (or a moderator's single click) converted meanwhile is found
    already linked under its row lock and counted as done, never converted again.
    """
    from participation.directline.services import convert_question, unconverted_question_ids

    event = db.session.get(DirectLine, event_id)
    actor = db.session.get(User, actor_id)
    result = {"converted": 0, "already": 0, "failed": 0}
    if event is None or actor is None:
        return result
    for question_id in unconverted_question_ids(event):
        question = db.session.get(Question, question_id)
        try:
            conversion = convert_question(question, actor)
        except DomainError as exc:
            db.session.rollback()
            result["failed"] += 1
            log.warning("direct-line question %s not converted: %s", question_id, exc.message)
            continue
        db.session.commit()
        result["converted" if conversion.created else "already"] += 1
    return result
