"""The log of reminders and announcements sent: one row per (kind, object, recipient), ever."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from participation.core.db import Base, str_enum, utcnow


class NoticeTopic(enum.StrEnum):
    VOTE_ENDING = "vote_ending"  # голосование заканчивается через 3 дня
    NEW_VOTE = "new_vote"
    NEW_SURVEY = "new_survey"
    NEW_HEARING = "new_hearing"


class SentNotice(Base):
    """Claimed by the sweep in the transaction that writes the feed item and the letter: the
    primary key makes a second sweep (repeated, or running at the same time) skip the person."""

    __tablename__ = "sent_notices"

    topic: Mapped[NoticeTopic] = mapped_column(str_enum(NoticeTopic, "topic"), primary_key=True)
    object_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
