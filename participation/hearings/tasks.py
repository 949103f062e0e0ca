"""Background work of hearings: telling participants about the conclusion, reminding organizers."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from participation.core.db import utcnow
from participation.core.jobs import sweep
from participation.core.outbox import OutboxMessage, notify
from participation.core.users import Membership, User
from participation.extensions import db
from participation.hearings.labels import KIND_GENITIVE
from participation.hearings.models import Hearing, Participant
from participation.hearings.permissions import ORGANIZER_ROLES

# How long after the window closes organizers are still reminded (the sweep looks no further).
REMINDER_HORIZON = timedelta(days=30)
# The job queued at publication normally tells the participants within this time.
CONCLUSION_GRACE = timedelta(minutes=2)


def notify_conclusion_published(hearing_id: int) -> int:
    """Tell every participant with an account that the conclusion is out. Returns how many."""
    from participation.hearings.services import hearing_link

    hearing = db.session.get(Hearing, hearing_id)
    if hearing is None or hearing.conclusion_published_at is None:
        return 0
    rows = db.session.execute(
        sa.select(User.id, User.email)
        .join(Participant, Participant.user_id == User.id)
        .where(Participant.hearing_id == hearing.id)
    )
    subject = _("Опубликовано заключение о результатах %(kind)s", kind=KIND_GENITIVE[hearing.kind])
    body = _(
        "По проекту «%(title)s» опубликовано заключение о результатах %(kind)s. "
        "В нём указано, учтены ли ваши предложения и почему. На странице обсуждения можно "
        "скачать заключение и выписку из протокола с вашими предложениями.",
        title=hearing.title,
        kind=KIND_GENITIVE[hearing.kind],
    )
    sent = 0
    for user_id, email in rows:
        sent += bool(
            notify(
                user_id,
                f"hearing:{hearing.id}:conclusion:{user_id}",
                subject,
                body,
                link=hearing_link(hearing.id),
                email=email,
                timezone=hearing.territory.timezone,
            )
        )
    db.session.commit()
    return sent


@sweep
def notify_conclusions_not_sent() -> int:
    """Catch-up: a conclusion whose participants were not all told (its job was lost: a
    worker killed, Redis down when it was queued) is announced again; notify() skips the
    people already told, so nobody hears it twice."""
    now = utcnow()
    key = (
        sa.literal("hearing:")
        + sa.cast(Hearing.id, sa.String)
        + sa.literal(":conclusion:")
        + sa.cast(Participant.user_id, sa.String)
        + sa.literal(":feed")
    )
    untold = (
        sa.select(Participant.id)
        .where(
            Participant.hearing_id == Hearing.id,
            Participant.user_id.is_not(None),
            ~sa.select(OutboxMessage.id).where(OutboxMessage.dedup_key == key).exists(),
        )
        .exists()
    )
    due = db.session.scalars(
        sa.select(Hearing.id).where(
            Hearing.conclusion_published_at <= now - CONCLUSION_GRACE,
            Hearing.conclusion_published_at > now - REMINDER_HORIZON,
            untold,
        )
    ).all()
    return sum(notify_conclusion_published(hearing_id) for hearing_id in due)


def manage_link(hearing_id: int) -> str:
    """Absolute address of the organizer's page of a hearing."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/backoffice/hearings/{hearing_id}"


@sweep
def remind_protocol_due() -> int:
    """Once the window has closed, remind the organizers (once each) to issue the protocol."""

    now = utcnow()
    due = db.session.scalars(
        sa.select(Hearing).where(
            Hearing.notice_published_at.is_not(None),
            Hearing.protocol_issued_at.is_(None),
            Hearing.remarks_close_at <= now,
            Hearing.remarks_close_at > now - REMINDER_HORIZON,
        )
    ).all()
    sent = 0
    for hearing in due:
        organizers = db.session.scalars(
            sa.select(Membership.user_id)
            .where(
                Membership.organization_id == hearing.organization_id,
                Membership.role.in_(list(ORGANIZER_ROLES)),
            )
            .distinct()
        ).all()
        for user_id in organizers:
            sent += bool(
                notify(
                    user_id,
                    f"hearing:{hearing.id}:window-closed:{user_id}",
                    _("Приём предложений завершён: оформите протокол"),
                    _(
                        "Приём предложений и замечаний по проекту «%(title)s» завершён. "
                        "Рассмотрите оставшиеся замечания и оформите протокол.",
                        title=hearing.title,
                    ),
                    link=manage_link(hearing.id),
                    timezone=hearing.territory.timezone,
                )
            )
    return sent
