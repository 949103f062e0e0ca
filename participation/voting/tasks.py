"""Background work: sealing the ballot box after the close, building large protocols."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from participation.core import audit
from participation.core.db import utcnow
from participation.core.jobs import STUCK_AFTER, enqueue_after_commit, sweep
from participation.extensions import db
from participation.voting import box
from participation.voting.models import Campaign, ProtocolFile, ProtocolStatus
from participation.voting.reports import (
    PROTOCOL_OWNER,
    protocol_filename,
    protocol_pdf,
    store_generated_file,
)

log = logging.getLogger(__name__)

# A ballot whose checks passed a moment before the scheduled close may still be committing;
# the sweep waits this long after the close before it fixes the box's digests for good.
SEAL_AFTER = timedelta(minutes=1)


def seal_ballot_box(campaign_id: int) -> bool:
    """Compute and publish the SHA-256 of the closed campaign's CSV and JSON exports."""
    now = utcnow()
    # Locked: the job and the sweep may both come; the second finds the box sealed.
    campaign = db.session.get(Campaign, campaign_id, populate_existing=True, with_for_update=True)
    if campaign is None or campaign.sealed_at is not None or not campaign.is_closed(now):
        return False
    campaign.box_csv_sha256 = box.digest(box.csv_chunks(campaign))
    campaign.box_json_sha256 = box.digest(box.json_chunks(campaign))
    campaign.sealed_at = now
    audit.record(
        "voting.box_sealed",
        campaign,
        csv_sha256=campaign.box_csv_sha256,
        json_sha256=campaign.box_json_sha256,
    )
    db.session.commit()
    log.info("ballot box of campaign %s sealed", campaign_id)
    return True


@sweep
def seal_closed_campaigns() -> int:
    """Seal every published campaign that closed at least SEAL_AFTER ago."""
    cutoff = utcnow() - SEAL_AFTER
    ends = sa.case(
        (
            sa.and_(
                Campaign.closed_early_at.is_not(None),
                Campaign.closed_early_at < Campaign.closes_at,
            ),
            Campaign.closed_early_at,
        ),
        else_=Campaign.closes_at,
    )
    due = list(
        db.session.scalars(
            sa.select(Campaign.id).where(
                Campaign.published_at.is_not(None), Campaign.sealed_at.is_(None), ends <= cutoff
            )
        )
    )
    return sum(seal_ballot_box(campaign_id) for campaign_id in due)


def build_protocol_file(protocol_id: int) -> None:
    """Build a requested protocol PDF and keep it as an attachment for the officials.

    Safe to run twice (a re-queued job while a slow first run still works): the row is
    locked and checked again before the file is kept, so only one run stores it.
    """
    protocol = db.session.get(ProtocolFile, protocol_id, populate_existing=True)
    if protocol is None or protocol.status != ProtocolStatus.PENDING:
        return
    campaign = db.session.get(Campaign, protocol.campaign_id)
    try:
        data = protocol_pdf(campaign)
        if not _still_pending(protocol_id):
            db.session.rollback()
            return
        attachment = store_generated_file(
            data, protocol_filename(campaign), "application/pdf", (PROTOCOL_OWNER, campaign.id)
        )
    except Exception as exc:
        db.session.rollback()
        protocol = db.session.get(ProtocolFile, protocol_id, populate_existing=True)
        protocol.status = ProtocolStatus.FAILED
        protocol.error = f"{type(exc).__name__}: {exc}"[:2000]
        protocol.finished_at = utcnow()
        db.session.commit()
        raise
    protocol.attachment_id = attachment.id
    protocol.status = ProtocolStatus.READY
    protocol.finished_at = utcnow()
    db.session.commit()


def _still_pending(protocol_id: int) -> bool:
    """Lock the protocol row and see whether it still waits for a file."""
    status = db.session.scalar(
        sa.select(ProtocolFile.status).where(ProtocolFile.id == protocol_id).with_for_update()
    )
    return status == ProtocolStatus.PENDING


@sweep
def requeue_stuck_protocols() -> int:
    """Queue again the protocols pending for longer than STUCK_AFTER: their job was lost
    (a worker killed mid-build, Redis down when it was queued)."""
    now = utcnow()
    stuck = list(
        db.session.scalars(
            sa.select(ProtocolFile).where(
                ProtocolFile.status == ProtocolStatus.PENDING,
                ProtocolFile.requested_at <= now - STUCK_AFTER,
            )
        )
    )
    for protocol in stuck:
        protocol.requested_at = now  # asked again: not stuck for another STUCK_AFTER
        log.warning("voting protocol %s was stuck pending; queued again", protocol.id)
        enqueue_after_commit(
            "participation.voting.tasks:build_protocol_file", protocol.id, queue="reports"
        )
    return len(stuck)
