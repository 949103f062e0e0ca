"""Message services: submission, the one transition function and the actions built on it.

Services flush and never commit; notifications go through the outbox in the same transaction.
The package is split by stage; import from here.
"""

from participation.appeals.services.actions import (
    accept_appeal,
    approve_answer,
    assign_executor,
    change_addressee,
    change_topic,
    confirm_addressee,
    executors_of,
    max_postponement_days,
    postpone_appeal,
    reassign_executor,
    redirect_appeal,
    reject_appeal,
    resume_appeal,
    return_draft,
    set_max_postponement_days,
    submit_draft,
)
from participation.appeals.services.common import (
    DEFAULTS,
    cabinet_path,
    card_path,
    eligibility_rule,
    offered_topic_ids,
    setting,
)
from participation.appeals.services.rating import (
    close_unrated,
    higher_organization,
    rate_appeal,
    return_for_rework,
)
from participation.appeals.services.reading import (
    answers_of,
    appeal_history,
    appeal_rating,
    approved_answer,
    current_draft,
    earlier_cycle,
    review_cycle_of,
)
from participation.appeals.services.submission import (
    Caller,
    Submission,
    autoselected_topic,
    find_submission,
    submit_appeal,
    topic_suggestions,
)
from participation.appeals.services.transitions import (
    BadRatingLink,
    appeal_from_rating_token,
    rating_link,
    rating_token,
    transition,
)

__all__ = [
    "DEFAULTS",
    "BadRatingLink",
    "Caller",
    "Submission",
    "accept_appeal",
    "answers_of",
    "appeal_from_rating_token",
    "appeal_history",
    "appeal_rating",
    "approve_answer",
    "approved_answer",
    "assign_executor",
    "autoselected_topic",
    "cabinet_path",
    "card_path",
    "change_addressee",
    "change_topic",
    "close_unrated",
    "confirm_addressee",
    "current_draft",
    "earlier_cycle",
    "eligibility_rule",
    "executors_of",
    "find_submission",
    "higher_organization",
    "max_postponement_days",
    "offered_topic_ids",
    "postpone_appeal",
    "rate_appeal",
    "rating_link",
    "rating_token",
    "reassign_executor",
    "redirect_appeal",
    "reject_appeal",
    "resume_appeal",
    "return_draft",
    "return_for_rework",
    "review_cycle_of",
    "set_max_postponement_days",
    "setting",
    "submit_appeal",
    "submit_draft",
    "topic_suggestions",
    "transition",
]
