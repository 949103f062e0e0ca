"""Duplicates: a resident joins a message instead of sending their own; staff merge duplicates.

A duplicate keeps its own row, author and rating: it waits in state `merged`, linked to the
main message (`merged_into_id`); when the main message's answer is approved, every waiting
duplicate is answered with it, and its author rates it separately (a low rating escalates that
author's message, as for any other). Deadlines are the main message's. A staff merge can be
undone until the answer is sent; the duplicate then goes back to where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from participation.appeals.classifier import Subcategory
from participation.appeals.models import Appeal, AppealEvent, Channel, MergeKind
from participation.appeals.services.common import (
    ADDRESS_MAX_LENGTH,
    SUBMISSION_KEY,
    _clean_comment,
    _clean_text,
    eligibility_rule,
    setting,
)
from participation.appeals.services.submission import _check_coordinates, find_submission
from participation.appeals.services.transitions import (
    _lock,
    _tell_answer,
    _tell_author,
    _write_event,
)
from participation.appeals.suggest import lemma_sequence
from participation.appeals.workflow import OPEN_STATES, Actor, AppealState, ReturnedFrom
from participation.auth.eligibility import check
from participation.core import audit
from participation.core.db import utcnow
from participation.core.errors import Conflict, DomainError, FieldError
from participation.core.organizations import OrganizationKind
from participation.core.users import Role, User
from participation.extensions import db
from participation.geo.services import NearbyAppeal, bounding_box, distance_m, nearby_appeals

# A message others may follow: moderation has accepted it and it has no answer yet.
JOINABLE_STATES = OPEN_STATES - {AppealState.MODERATION}
MERGING_ROLES = frozenset({Role.MODERATOR, Role.COORDINATOR})
CANDIDATE_RADIUS_M = 300
CANDIDATE_DAYS = 30
CANDIDATE_LIMIT = 10


class MergeRefused(DomainError):
    status = 403


def main_of(appeal: Appeal) -> Appeal:
    """The message whose answer this one receives: itself, unless it follows another."""
    return appeal.merged_into if appeal.merged_into_id is not None else appeal


def followers_of(appeal: Appeal) -> list[Appeal]:
    """The messages that follow this one (joined or merged), oldest first."""
    return list(
        db.session.scalars(
            sa.select(Appeal).where(Appeal.merged_into_id == appeal.id).order_by(Appeal.id)
        )
    )


def _refuse_main(main: Appeal) -> None:
    if main.merged_into_id is not None:
        raise Conflict(
            _l(
                "Сообщение № %(number)s само объединено с сообщением № %(main)s: выберите его.",
                number=main.number,
                main=main.merged_into_id,
            )
        )
    if main.state == AppealState.MODERATION:
        raise Conflict(
            _l(
                "Сообщение № %(number)s ещё на модерации: дождитесь, пока его примут.",
                number=main.number,
            )
        )
    if main.state not in JOINABLE_STATES:
        raise Conflict(
            _l(
                "По сообщению № %(number)s работа уже завершена: объединять можно только "
                "с сообщением, на которое ещё не дан ответ.",
                number=main.number,
            )
        )


# --- a resident joins --------------------------------------------------------------------------


@dataclass(frozen=True)
class NearbyChoice:
    """One of «Похожие сообщения рядом» on the form, and whether this resident may join it."""

    message: NearbyAppeal
    own: bool  # the resident's own message (or one they already follow)
    joinable: bool


def nearby_for(
    user: User, latitude: Any, longitude: Any, subcategory_id: int
) -> list[NearbyChoice]:
    """Open messages near the point for the form (nothing personal of their authors)."""
    found = nearby_appeals(latitude, longitude, subcategory_id)
    ids = [m.id for m in found]
    own = set(
        db.session.scalars(
            sa.select(Appeal.id).where(Appeal.id.in_(ids), Appeal.author_id == user.id)
        )
    ) | set(
        db.session.scalars(
            sa.select(Appeal.merged_into_id).where(
                Appeal.merged_into_id.in_(ids), Appeal.author_id == user.id
            )
        )
    )
    return [
        NearbyChoice(m, m.id in own, m.id not in own and m.state in JOINABLE_STATES) for m in found
    ]


def join_appeal(
    main: Appeal,
    user: User,
    *,
    submission_key: str,
    text: str | None = None,
    address: str | None = None,
    latitude: Any = None,
    longitude: Any = None,
) -> Appeal:
    """The resident follows `main` instead of sending a duplicate: told of its answer, rates it."""
    if not submission_key or not SUBMISSION_KEY.fullmatch(submission_key):
        raise FieldError(
            "submission_key", _l("Форма устарела. Обновите страницу и отправьте снова.")
        )
    existing = find_submission(user, submission_key)
    if existing is not None and existing.merged_into_id == main.id:
        return existing  # the same form sent twice
    decision = check(user, eligibility_rule(), utcnow().date())
    if not decision.allowed:
        raise DomainError(decision.reason or _l("Отправка сообщений вам недоступна."))
    _lock(main)
    _refuse_main(main)
    if main.author_id == user.id:
        raise Conflict(_l("Это ваше собственное сообщение: ответ по нему придёт вам и так."))
    text = " ".join((text or "").split())
    if text:
        text = _clean_text(
            text,
            "text",
            min_length=1,
            max_length=int(setting("APPEALS_TEXT_MAX_LENGTH")),
            empty=_l("Опишите проблему."),
        )
    latitude, longitude = _check_coordinates(latitude, longitude)
    address = " ".join((address or "").split()) or None
    if address is not None and len(address) > ADDRESS_MAX_LENGTH:
        raise FieldError(
            "address", _l("Адрес не длиннее %(max)d символов.", max=ADDRESS_MAX_LENGTH)
        )
    now = utcnow()
    follower = Appeal(
        submitted_by_id=user.id,
        submission_key=submission_key,
        author_id=user.id,
        channel=Channel.PORTAL,
        subcategory_id=main.subcategory_id,
        text=text or _("Присоединение к сообщению № %(number)s", number=main.number),
        address=address,
        latitude=latitude,
        longitude=longitude,
        territory_id=main.territory_id,
        region_id=main.region_id,
        applicant_region_id=main.applicant_region_id,
        executor_organization_id=main.executor_organization_id,
        holder_organization_id=main.holder_organization_id,
        fast_track=main.fast_track,
        term_days=main.term_days,
        registered_at=now,
        answer_due_at=main.answer_due_at,
        coordination_due_at=main.coordination_due_at,
        original_answer_due_at=main.answer_due_at,
        merged_into_id=main.id,
        merge_kind=MergeKind.JOINED,
    )
    follower.set_state(AppealState.MERGED)
    try:
        with db.session.begin_nested():
            db.session.add(follower)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            _l("Вы уже присоединились к сообщению № %(number)s.", number=main.number)
        ) from None
    _record(
        follower,
        main,
        user,
        "join",
        None,
        _("Вы присоединились к сообщению № %(number)s", number=main.number),
        _(
            "Ответ по сообщению № %(number)s придёт и вам; вы сможете его оценить. "
            "Ваша запись — № %(own)s.",
            number=main.number,
            own=follower.number,
        ),
    )
    return follower


# --- staff merge ---------------------------------------------------------------------------------


def may_merge_from(user: Any, appeal: Appeal) -> bool:
    """Whether the card offers to merge this message into another: it is open, follows
    nobody, and the user moderates or coordinates where it is."""
    return (
        getattr(user, "is_authenticated", False)
        and appeal.state in OPEN_STATES
        and appeal.merged_into_id is None
        and bool(user.roles_in(appeal.holder_organization_id) & MERGING_ROLES)
    )


def can_merge(user: Any, duplicate: Appeal, main: Appeal) -> bool:
    """A moderator or coordinator of the organizations holding both messages; the platform's
    moderators (who hold every new message) merge a new one into any accepted message."""
    if not getattr(user, "is_authenticated", False):
        return False
    held = user.roles_in(duplicate.holder_organization_id) & MERGING_ROLES
    if not held:
        return False
    if user.roles_in(main.holder_organization_id) & MERGING_ROLES:
        return True
    return (
        Role.MODERATOR in held and duplicate.holder_organization.kind == OrganizationKind.OPERATOR
    )


def merge_appeals(
    duplicate: Appeal, main: Appeal, actor: User, comment: str | None = None
) -> AppealEvent:
    """Staff: `duplicate` follows `main` from now on (one answer, its own rating)."""
    if duplicate.id == main.id:
        raise FieldError("main", _l("Нельзя объединить сообщение с самим собой."))
    if not can_merge(actor, duplicate, main):
        raise MergeRefused(
            _l(
                "Объединять можно только сообщения организаций, в которых вы модератор "
                "или координатор."
            )
        )
    comment = _clean_comment(comment)
    _lock(duplicate)
    _lock(main)
    _refuse_main(main)
    if duplicate.merged_into_id is not None:
        raise Conflict(
            _l(
                "Сообщение № %(number)s уже объединено с сообщением № %(main)s.",
                number=duplicate.number,
                main=duplicate.merged_into_id,
            )
        )
    if duplicate.state not in OPEN_STATES:
        raise Conflict(
            _l(
                "Сообщение № %(number)s уже не в работе: объединять можно только открытые.",
                number=duplicate.number,
            )
        )
    if db.session.scalar(sa.select(Appeal.id).where(Appeal.merged_into_id == duplicate.id)):
        raise Conflict(
            _l(
                "С сообщением № %(number)s уже объединены другие: сделайте основным его.",
                number=duplicate.number,
            )
        )
    from_state, returned_from = duplicate.state, duplicate.returned_from
    duplicate.merged_into_id, duplicate.merge_kind = main.id, MergeKind.MERGED
    duplicate.set_state(AppealState.MERGED)
    return _record(
        duplicate,
        main,
        actor,
        "merge",
        from_state,
        _("Сообщение № %(number)s объединено с другим", number=duplicate.number),
        _(
            "О той же проблеме уже сообщили: ваше сообщение № %(number)s объединено с "
            "сообщением № %(main)s. Ответ по нему придёт и вам, и вы сможете его оценить.",
            number=duplicate.number,
            main=main.number,
        ),
        comment=comment,
        details={"returned_from": returned_from.value if returned_from else None},
        email=True,
    )


def unmerge_appeal(duplicate: Appeal, actor: User) -> AppealEvent:
    """Staff: undo a merge while the answer has not been sent; the message goes back to work."""
    main = duplicate.merged_into
    if main is None or duplicate.merge_kind != MergeKind.MERGED:
        raise Conflict(_l("Это сообщение ни с чем не объединено сотрудником."))
    if not can_merge(actor, duplicate, main):
        raise MergeRefused(
            _l(
                "Отменить объединение может модератор или координатор организаций, "
                "в которых оба сообщения."
            )
        )
    _lock(duplicate)
    if duplicate.state != AppealState.MERGED:
        raise Conflict(_l("Ответ уже направлен заявителю: объединение отменить нельзя."))
    merged = db.session.scalar(
        sa.select(AppealEvent)
        .where(AppealEvent.appeal_id == duplicate.id, AppealEvent.action == "merge")
        .order_by(AppealEvent.id.desc())
        .limit(1)
    )
    back = AppealState(merged.from_state)
    returned = merged.details.get("returned_from")
    duplicate.merged_into_id, duplicate.merge_kind = None, None
    duplicate.set_state(back, ReturnedFrom(returned) if returned else None)
    return _record(
        duplicate,
        main,
        actor,
        "unmerge",
        AppealState.MERGED,
        _("Сообщение № %(number)s снова рассматривается отдельно", number=duplicate.number),
        _(
            "Объединение с сообщением № %(main)s отменено: по вашему сообщению № %(number)s "
            "будет дан отдельный ответ.",
            number=duplicate.number,
            main=main.number,
        ),
    )


def _record(
    follower: Appeal,
    main: Appeal,
    actor: User,
    action: str,
    from_state: AppealState | None,
    subject: str,
    body: str,
    *,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
    email: bool = False,
) -> AppealEvent:
    """Both messages' history (`join`/`merge`/`unmerge` and `<action>_main`), the audit log,
    and the follower's author told."""
    staff = action != "join"
    role: Any = Actor.AUTHOR
    if staff:
        held = actor.roles_in(follower.holder_organization_id)
        role = Role.MODERATOR if Role.MODERATOR in held else Role.COORDINATOR
    event = _write_event(
        follower,
        action,
        actor,
        role,
        from_state,
        comment=comment,
        details={"main_id": main.id, **(details or {})},
        organization_id=follower.holder_organization_id if staff else None,
    )
    _write_event(
        main,
        f"{action}_main",
        actor if staff else None,
        role if staff else Actor.SYSTEM,
        main.state,
        comment=comment,
        details={"follower_id": follower.id},
        organization_id=main.holder_organization_id if staff else None,
    )
    audit.record(f"appeal.{action}", follower, actor_id=actor.id, main_id=main.id)
    _tell_author(follower, event, subject, body, email=email)
    return event


def answer_followers(main: Appeal, approval: AppealEvent) -> int:
    """The main message's answer is approved: every waiting follower receives it, to rate."""
    waiting = list(
        db.session.scalars(
            sa.select(Appeal)
            .where(Appeal.merged_into_id == main.id, Appeal.state == AppealState.MERGED)
            .order_by(Appeal.id)
        )
    )
    for follower in waiting:
        follower.executor_organization_id = main.executor_organization_id
        follower.holder_organization_id = main.holder_organization_id
        follower.answered_at = main.answered_at
        follower.set_state(AppealState.ANSWERED)
        event = _write_event(
            follower,
            "answer_of_main",
            None,
            Actor.SYSTEM,
            AppealState.MERGED,
            details={"main_id": main.id, "answer_id": approval.details.get("answer_id")},
        )
        _tell_answer(follower, event)
    return len(waiting)


# --- duplicate candidates for staff --------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A message that may be about the same problem, with why it looks so."""

    appeal: Appeal
    distance_m: int | None  # None: one of them has no point
    same_subcategory: bool
    similarity: float  # share of common words (lemmas), 0…1
    age_days: int  # whole days since it was registered


def _lemmas(text: str) -> set[str]:
    return {lemma for lemmas in lemma_sequence(text) for lemma in lemmas}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' lemmas (pymorphy3, as the topic suggester)."""
    left, right = _lemmas(a), _lemmas(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def duplicate_candidates(appeal: Appeal, *, now: datetime | None = None) -> list[Candidate]:
    """Open messages that look like the same problem: nearby (or, without a point, in the same
    territory), same or related subcategory, the last 30 days; most alike first."""
    now = now or utcnow()
    since = now - timedelta(days=CANDIDATE_DAYS)
    category = sa.select(Subcategory.category_id).where(Subcategory.id == appeal.subcategory_id)
    related = sa.select(Subcategory.id).where(Subcategory.category_id == category.scalar_subquery())
    query = sa.select(Appeal).where(
        Appeal.id != appeal.id,
        Appeal.region_id == appeal.region_id,
        Appeal.state.in_(sorted(OPEN_STATES)),
        Appeal.merged_into_id.is_(None),
        Appeal.registered_at >= since,
        Appeal.subcategory_id.in_(related),
    )
    point = appeal.latitude is not None
    if point:
        lat, lon = float(appeal.latitude), float(appeal.longitude)
        south, north, west, east = bounding_box(lat, lon, CANDIDATE_RADIUS_M)
        query = query.where(
            Appeal.latitude.between(south, north), Appeal.longitude.between(west, east)
        )
    else:
        query = query.where(Appeal.territory_id == appeal.territory_id)
    found = []
    query = query.options(sa.orm.joinedload(Appeal.subcategory))  # the card shows its name
    for other in db.session.scalars(query.order_by(Appeal.id.desc()).limit(200)):
        metres = None
        if point and other.latitude is not None:
            metres = round(distance_m(lat, lon, float(other.latitude), float(other.longitude)))
            if metres > CANDIDATE_RADIUS_M:
                continue
        found.append(
            Candidate(
                appeal=other,
                distance_m=metres,
                same_subcategory=other.subcategory_id == appeal.subcategory_id,
                similarity=similarity(appeal.text, other.text),
                age_days=(now - other.registered_at).days,
            )
        )
    found.sort(
        key=lambda c: (
            -c.similarity - (0.2 if c.same_subcategory else 0),
            c.distance_m if c.distance_m is not None else CANDIDATE_RADIUS_M,
            c.appeal.id,
        )
    )
    return found[:CANDIDATE_LIMIT]
