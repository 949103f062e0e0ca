"""Background jobs of surveys: large exports with progress reported on the export row."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _

from participation.core.db import utcnow
from participation.core.jobs import STUCK_AFTER, enqueue_after_commit, sweep
from participation.core.outbox import notify
from participation.extensions import db
from participation.polls.exports import iter_rows, write_csv, write_xlsx
from participation.polls.models import ExportFormat, ExportStatus, Survey, SurveyExport
from participation.polls.results import response_count

log = logging.getLogger(__name__)
EXPORT_DIR = "polls-exports"


def export_path(export: SurveyExport) -> Path:
    """Where the export's file lives (inside STORAGE_DIR, never served directly)."""
    root = Path(current_app.config["STORAGE_DIR"]).resolve()
    path = (root / (export.storage_key or "")).resolve()
    if root not in path.parents:
        raise FileNotFoundError(export.storage_key)
    return path


def run_export(export_id: int) -> None:
    """Write the export's file a page at a time, committing the progress between pages.

    Safe to run twice: a run claims the row (queued → running, with its own file name) in
    one UPDATE, and writes progress and the result only while the row still names its file;
    a run the sweep gave up on and queued again (requeue_stuck_exports) stops counting.
    """
    export = db.session.get(SurveyExport, export_id)
    if export is None:
        return
    key = f"{EXPORT_DIR}/{uuid.uuid4().hex}.{export.format.value}"
    claimed = db.session.execute(
        sa.update(SurveyExport)
        .where(SurveyExport.id == export_id, SurveyExport.status == ExportStatus.QUEUED)
        .values(
            status=ExportStatus.RUNNING,
            storage_key=key,
            rows_done=0,
            rows_total=response_count(export.survey_id),
        )
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    export = db.session.get(SurveyExport, export_id, populate_existing=True)
    survey = db.session.get(Survey, export.survey_id)
    path = export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = sa.update(SurveyExport).where(
        SurveyExport.id == export_id,
        SurveyExport.storage_key == key,
        SurveyExport.status == ExportStatus.RUNNING,
    )

    def progress(done: int) -> None:
        db.session.execute(mine.values(rows_done=done))
        db.session.commit()

    try:
        writer = write_csv if export.format == ExportFormat.CSV else write_xlsx
        written = writer(iter_rows(survey.id), path, progress)
    except Exception as exc:
        db.session.rollback()
        log.exception("survey export %s failed", export_id)
        db.session.execute(
            mine.values(status=ExportStatus.FAILED, error=str(exc)[:1000], finished_at=utcnow())
        )
        db.session.commit()
        return
    done = db.session.execute(
        mine.values(rows_done=written, status=ExportStatus.DONE, finished_at=utcnow())
    ).rowcount
    if not done:  # queued again meanwhile: the other run's file is the one kept
        db.session.rollback()
        path.unlink(missing_ok=True)
        return
    notify(
        export.requested_by_id,
        f"polls:export:{export.id}:done",
        _("Выгрузка ответов готова"),
        _("Выгрузка ответов на опрос «%(title)s» готова к скачиванию.", title=survey.title),
        link=_export_link(export),
        timezone=survey.timezone,
    )
    db.session.commit()


@sweep
def requeue_stuck_exports() -> int:
    """Queue again the exports queued or running for longer than STUCK_AFTER: their job was
    lost (a worker killed, Redis down when it was queued). created_at becomes the time of
    this new start, so an export is retried once per STUCK_AFTER, not on every sweep."""
    now = utcnow()
    stuck = list(
        db.session.scalars(
            sa.select(SurveyExport).where(
                SurveyExport.status.in_([ExportStatus.QUEUED, ExportStatus.RUNNING]),
                SurveyExport.created_at <= now - STUCK_AFTER,
            )
        )
    )
    for export in stuck:
        log.warning("survey export %s was stuck %s; queued again", export.id, export.status)
        export.status = ExportStatus.QUEUED
        export.rows_done = 0
        export.created_at = now
        enqueue_after_commit("participation.polls.tasks:run_export", export.id, queue="reports")
    return len(stuck)


def _export_link(export: SurveyExport) -> str | None:
    try:
        return url_for(
            "polls_reports.export_status", survey_id=export.survey_id, export_id=export.id
        )
    except RuntimeError:  # no request context in a worker: build it from the public URL
        base = current_app.config.get("PUBLIC_BASE_URL", "")
        return f"{base}/polls/manage/{export.survey_id}/exports/{export.id}"
