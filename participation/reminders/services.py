"""Who is told: residents of a territory, eligible voters who have not voted, selected in SQL;
the claim of each notice in the sent log; saving a person's notification preferences."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from participation.auth.eligibility import age_on
from participation.core.db import insert_unless_present, utcnow
from participation.core.outbox import Recipient
from participation.core.preferences import NoticeKind, NotificationPreference, email_enabled
from participation.core.territories import Territory
from participation.core.users import AccountLevel, User, UserKind
from participation.extensions import db
from participation.reminders.models import NoticeTopic, SentNotice
from participation.voting.models import Campaign, RegisterEntry

CHUNK = 1000


class PreferencesRefused(ValueError):
    """The choice cannot be saved; the message says why, in Russian."""


# --- Preferences --------------------------------------------------------------------------


def kinds_for(user: User) -> list[NoticeKind]:
    """The kinds a person can choose for: staff deadlines only for staff."""
    return [k for k in NoticeKind if k != NoticeKind.DEADLINES or user.is_staff]


def save_preferences(user: User, choices: dict[NoticeKind, bool]) -> None:
    """Store the person's e-mail choice for every kind offered to them, all or nothing."""
    offered = kinds_for(user)
    if set(choices) - set(offered):
        raise PreferencesRefused(_("Этот вид уведомлений вам недоступен."))
    if any(choices.values()) and not user.email:
        raise PreferencesRefused(
            _(
                "В вашей учётной записи Госуслуг нет адреса электронной почты, поэтому письма "
                "отправить некуда. Укажите адрес на Госуслугах, обновите данные и включите "
                "письма снова."
            )
        )
    now = utcnow()
    dialect = db.session.get_bind().dialect.name
    table = NotificationPreference.__table__
    insert = insert_unless_present(table, ("user_id", "kind"), None, dialect)
    for kind in offered:
        wanted = bool(choices.get(kind, False))
        db.session.execute(
            insert, {"user_id": user.id, "kind": kind, "email": wanted, "updated_at": now}
        )
        db.session.execute(
            table.update()
            .where(table.c.user_id == user.id, table.c.kind == kind)
            .values(email=wanted, updated_at=now)
        )
    db.session.flush()


# --- Recipients in SQL --------------------------------------------------------------------


def territory_subtree(territory_ids: list[int]) -> sa.CTE:
    """The given territories and everything inside them (a recursive CTE of ids)."""
    tree = (
        sa.select(Territory.id.label("id"))
        .where(Territory.id.in_(territory_ids))
        .cte("subtree", recursive=True)
    )
    below = sa.select(Territory.id).join(tree, Territory.parent_id == tree.c.id)
    return tree.union_all(below)


def residents_of(territory_ids: list[int]) -> sa.Select:
    """Residents (active personal accounts) registered in the territories or inside them."""
    tree = territory_subtree(territory_ids)
    return sa.select(User.id).where(
        User.kind == UserKind.PERSON,
        User.is_active_account.is_(True),
        User.registration_territory_id.in_(sa.select(tree.c.id)),
    )


def latest_birth_date(min_age: int, on: date) -> date:
    """The last birth date of someone at least `min_age` full years old on `on` (as age_on
    counts, 29 February included)."""
    try:
        born = on.replace(year=on.year - min_age)
    except ValueError:  # 29 February in a common year
        born = date(on.year - min_age, 2, 28)
    while age_on(born + timedelta(days=1), on) >= min_age:
        born += timedelta(days=1)
    while age_on(born, on) < min_age:
        born -= timedelta(days=1)
    return born


def eligible_voters(campaign: Campaign, now: datetime) -> sa.Select:
    """The campaign's eligibility rule (voting.services.eligibility_rule) in SQL: level, age on
    the campaign's local day, registration inside its territory; personal accounts only."""
    query = residents_of([campaign.territory_id])
    levels = [level for level in AccountLevel if level.rank >= campaign.min_level.rank]
    query = query.where(User.account_level.in_(levels))
    if campaign.min_age is not None:
        cutoff = latest_birth_date(campaign.min_age, campaign.local_day(now))
        query = query.where(User.birth_date.is_not(None), User.birth_date <= cutoff)
    return query


def not_voted(campaign_id: int) -> sa.ColumnElement[bool]:
    """No entry in the register of who voted (the ballot box is never read)."""
    return ~sa.exists().where(
        RegisterEntry.campaign_id == campaign_id, RegisterEntry.user_id == User.id
    )


def not_told(topic: NoticeTopic, object_id: int) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        SentNotice.topic == topic, SentNotice.object_id == object_id, SentNotice.user_id == User.id
    )


def claim_chunks(
    topic: NoticeTopic, object_id: int, candidates: sa.Select, kind: NoticeKind
) -> Iterator[list[Recipient]]:
    """Claim the candidates not told yet, CHUNK at a time, in the sent log; yield each chunk's
    claimed recipients (a concurrent sweep's claims are skipped: the primary key decides).

    The caller writes the chunk's notices and commits before asking for the next one, so a
    sweep stopped halfway has sent exactly what it logged."""
    dialect = db.session.get_bind().dialect.name
    table = SentNotice.__table__
    base = candidates.where(not_told(topic, object_id))
    last = 0
    while True:
        ids = db.session.scalars(base.where(User.id > last).order_by(User.id).limit(CHUNK)).all()
        if not ids:
            return
        last = ids[-1]
        claim = insert_unless_present(
            table, ("topic", "object_id", "user_id"), table.c.user_id, dialect
        )
        now = utcnow()
        # One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: only this sweep's claims
        claimed = db.session.scalars(
            claim,
            [{"topic": topic, "object_id": object_id, "user_id": i, "sent_at": now} for i in ids],
        ).all()
        if not claimed:
            continue
        default_zone = current_app.config["DEFAULT_TIMEZONE"]
        rows = db.session.execute(
            sa.select(User.id, User.email, email_enabled(kind), Territory.timezone)
            .outerjoin(Territory, Territory.id == User.registration_territory_id)
            .where(User.id.in_(claimed))
            .order_by(User.id)
        ).all()
        yield [
            Recipient(uid, email, bool(wants), zone or default_zone)
            for uid, email, wants, zone in rows
        ]
