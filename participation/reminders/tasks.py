"""The sweeps: votes ending in 3 days (to eligible residents who have not voted) and new votes,
surveys and hearings (to the residents of their territory).

They read state, not events: after downtime the next run finds what came due meanwhile, and a
vote that closed meanwhile is no longer looked at. Each person is told once per topic and
object: the sent log's primary key is claimed in the transaction that writes the feed items and
the letters (services.claim_chunks), so a repeated or a concurrent sweep skips them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from participation.core.db import utcnow
from participation.core.i18n import count_days, local_datetime
from participation.core.jobs import sweep
from participation.core.outbox import MAX_ATTEMPTS, OutboxMessage, notify_many
from participation.core.preferences import NoticeKind
from participation.extensions import db
from participation.hearings.models import Hearing
from participation.polls.models import Survey
from participation.reminders.models import NoticeTopic
from participation.reminders.services import (
    claim_chunks,
    eligible_voters,
    not_voted,
    residents_of,
)
from participation.voting.models import Campaign

REMIND_BEFORE = timedelta(days=3)
# Published longer ago than this, a vote, survey or hearing is no longer news (nor announced
# after a long downtime, nor all at once when this feature is first deployed).
ANNOUNCE_HORIZON = timedelta(days=7)


def _url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + path


def remind_vote_ending(campaign: Campaign, now: datetime) -> int:
    """Tell the eligible residents of an open vote who have not voted that it ends soon."""
    if not campaign.is_open(now):  # a closed (or not yet open) vote gets no reminder
        return 0
    tz = campaign.territory.timezone
    closes = campaign.effective_closes_at
    days = max(1, math.ceil((closes - now) / timedelta(days=1)))
    subject = _("Голосование заканчивается через %(days)s", days=count_days(days))
    body = _(
        "Голосование «%(title)s» заканчивается %(when)s. Вы ещё не проголосовали: успейте выбрать.",
        title=campaign.title,
        when=local_datetime(closes, tz),
    )
    candidates = eligible_voters(campaign, now).where(not_voted(campaign.id))
    told = 0
    for chunk in claim_chunks(
        NoticeTopic.VOTE_ENDING, campaign.id, candidates, NoticeKind.REMINDERS
    ):
        notify_many(
            chunk,
            f"vote:{campaign.id}:ending",
            subject,
            body,
            kind=NoticeKind.REMINDERS,
            link=_url(f"/voting/{campaign.id}"),
            timezone=tz,
            mail_before=closes,
        )
        db.session.commit()
        told += len(chunk)
    return told


def _withdraw_closed_reminders(now: datetime) -> int:
    """Letters held through the night for a vote closed early meanwhile are not sent."""
    closed = db.session.scalars(
        sa.select(Campaign.id).where(
            Campaign.published_at.is_not(None),
            Campaign.effective_closes_at <= now,
            Campaign.effective_closes_at > now - REMIND_BEFORE,
        )
    ).all()
    if not closed:
        return 0
    return db.session.execute(
        sa.update(OutboxMessage)
        .where(
            # held letters only (ix_outbox_pending): those due now have gone already
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at > now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
            sa.or_(*(OutboxMessage.dedup_key.startswith(f"vote:{i}:ending:") for i in closed)),
        )
        .values(attempts=MAX_ATTEMPTS, last_error="withdrawn: the vote closed")
    ).rowcount


@sweep
def sweep_vote_reminders() -> dict[str, int]:
    """Votes ending within 3 days: remind who may still vote; withdraw late letters."""
    now = utcnow()
    due = db.session.scalars(
        sa.select(Campaign)
        .where(
            Campaign.published_at.is_not(None),
            Campaign.opens_at <= now,
            Campaign.effective_closes_at > now,
            Campaign.effective_closes_at <= now + REMIND_BEFORE,
        )
        .order_by(Campaign.id)
    ).all()
    told = sum(remind_vote_ending(campaign, now) for campaign in due)
    withdrawn = _withdraw_closed_reminders(now)
    db.session.commit()
    return {"reminded": told, "withdrawn": withdrawn}


def _announce(
    topic: NoticeTopic,
    object_id: int,
    candidates: sa.Select,
    subject: str,
    body: str,
    link: str,
    tz: str,
) -> int:
    told = 0
    for chunk in claim_chunks(topic, object_id, candidates, NoticeKind.ANNOUNCEMENTS):
        notify_many(
            chunk,
            f"{topic}:{object_id}",
            subject,
            body,
            kind=NoticeKind.ANNOUNCEMENTS,
            link=link,
            timezone=tz,
        )
        db.session.commit()
        told += len(chunk)
    return told


def announce_vote(campaign: Campaign, now: datetime) -> int:
    tz = campaign.territory.timezone
    return _announce(
        NoticeTopic.NEW_VOTE,
        campaign.id,
        eligible_voters(campaign, now).where(not_voted(campaign.id)),
        _("Новое голосование: %(title)s", title=campaign.title),
        _(
            "%(organization)s проводит голосование «%(title)s». Голосование открыто "
            "с %(opens)s до %(closes)s.",
            organization=campaign.organization.name,
            title=campaign.title,
            opens=local_datetime(campaign.opens_at, tz),
            closes=local_datetime(campaign.effective_closes_at, tz),
        ),
        _url(f"/voting/{campaign.id}"),
        tz,
    )


def announce_survey(survey: Survey, now: datetime) -> int:
    tz = survey.timezone
    territories = [t.id for t in survey.territories] or [survey.organization.territory_id]
    return _announce(
        NoticeTopic.NEW_SURVEY,
        survey.id,
        residents_of(territories),
        _("Новый опрос: %(title)s", title=survey.title),
        _(
            "%(organization)s проводит опрос «%(title)s» с %(starts)s до %(ends)s.",
            organization=survey.organization.name,
            title=survey.title,
            starts=local_datetime(survey.starts_at, tz),
            ends=local_datetime(survey.ends_at, tz),
        ),
        _url(f"/polls/{survey.id}"),
        tz,
    )


def announce_hearing(hearing: Hearing, now: datetime) -> int:
    from participation.hearings.services import hearing_link

    tz = hearing.territory.timezone
    return _announce(
        NoticeTopic.NEW_HEARING,
        hearing.id,
        residents_of([hearing.territory_id]),
        _("Новое обсуждение: %(title)s", title=hearing.title),
        _(
            "Опубликовано оповещение о начале обсуждения проекта «%(title)s». Предложения "
            "и замечания принимаются с %(opens)s до %(closes)s.",
            title=hearing.title,
            opens=local_datetime(hearing.remarks_open_at, tz),
            closes=local_datetime(hearing.remarks_close_at, tz),
        ),
        hearing_link(hearing.id),
        tz,
    )


@sweep
def sweep_announcements() -> dict[str, int]:
    """New votes, surveys and hearings: tell the residents of their territory, once each."""
    now = utcnow()
    since = now - ANNOUNCE_HORIZON
    votes = db.session.scalars(
        sa.select(Campaign)
        .where(
            Campaign.published_at > since,
            Campaign.published_at <= now,
            Campaign.effective_closes_at > now,
        )
        .order_by(Campaign.id)
    ).all()
    surveys = db.session.scalars(
        sa.select(Survey)
        .where(
            Survey.published_at > since,
            Survey.published_at <= now,
            Survey.closed_at.is_(None),
            Survey.ends_at > now,
        )
        .order_by(Survey.id)
    ).all()
    hearings = db.session.scalars(
        sa.select(Hearing)
        .where(
            Hearing.notice_published_at > since,
            Hearing.notice_published_at <= now,
            Hearing.remarks_close_at > now,
        )
        .order_by(Hearing.id)
    ).all()
    result = {
        "votes": sum(announce_vote(c, now) for c in votes),
        "surveys": sum(announce_survey(s, now) for s in surveys),
        "hearings": sum(announce_hearing(h, now) for h in hearings),
    }
    db.session.commit()
    return result
