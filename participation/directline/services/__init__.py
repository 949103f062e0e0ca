"""Direct-line services: events, questions and supports, moderation, the broadcast, conversion.

Services flush and never commit; notices go through the outbox in the same transaction. Every
move of a question goes through `moderation.transition()`, which checks the table in
workflow.py. Rules that must hold when two people click at once are kept by the database
(unique constraints, the partial unique index on the question on air) and by row locks on
PostgreSQL; SQLite already serializes writers (BEGIN IMMEDIATE).
"""

from participation.directline.services.common import (
    DEFAULTS,
    PRESET_CATEGORIES,
    PRESETS,
    author_ids,
    conversion_key,
    eligibility_rule,
    event_path,
    my_questions_path,
    question_path,
    setting,
    to_utc,
)
from participation.directline.services.conversion import (
    Conversion,
    convert_question,
    question_for_appeal,
    request_bulk_conversion,
    unconverted_question_ids,
)
from participation.directline.services.events import (
    EventInput,
    create_event,
    eligibility_territories,
    finish_broadcast,
    start_broadcast,
    update_event,
)
from participation.directline.services.moderation import (
    current_on_air,
    mark_answered,
    merge_questions,
    move_in_shortlist,
    publish_question,
    put_on_air,
    reject_question,
    shortlist_question,
    take_off_air,
    transition,
    unshortlist_question,
    update_answer,
)
from participation.directline.services.questions import (
    Submission,
    default_question_territory,
    event_facts,
    find_question_submission,
    lock_for_support,
    question_territories,
    submit_question,
    support_locked,
    support_question,
)

__all__ = [
    "DEFAULTS",
    "PRESETS",
    "PRESET_CATEGORIES",
    "Conversion",
    "EventInput",
    "Submission",
    "author_ids",
    "conversion_key",
    "convert_question",
    "create_event",
    "current_on_air",
    "default_question_territory",
    "eligibility_rule",
    "eligibility_territories",
    "event_facts",
    "event_path",
    "find_question_submission",
    "finish_broadcast",
    "lock_for_support",
    "mark_answered",
    "merge_questions",
    "move_in_shortlist",
    "my_questions_path",
    "publish_question",
    "put_on_air",
    "question_for_appeal",
    "question_path",
    "question_territories",
    "reject_question",
    "request_bulk_conversion",
    "setting",
    "shortlist_question",
    "start_broadcast",
    "submit_question",
    "support_locked",
    "support_question",
    "take_off_air",
    "to_utc",
    "transition",
    "unconverted_question_ids",
    "unshortlist_question",
    "update_answer",
    "update_event",
]
