"""Background jobs of surveys: large exports with progress reported on the export row."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _

from participation.core.db import utcnow
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
    """Write the export's file a page at a time, committing the progress between pages."""
    export = db.session.get(SurveyExport, export_id)
    if export is None or export.status != ExportStatus.QUEUED:
        return
    survey = db.session.get(Survey, export.survey_id)
    export.status = ExportStatus.RUNNING
    export.rows_total = response_count(survey.id)
    export.storage_key = f"{EXPORT_DIR}/{uuid.uuid4().hex}.{export.format.value}"
    db.session.commit()
    path = export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)

    def progress(done: int) -> None:
        export.rows_done = done
        db.session.commit()

    try:
        writer = write_csv if export.format == ExportFormat.CSV else write_xlsx
        written = writer(iter_rows(survey.id), path, progress)
    except Exception as exc:
        db.session.rollback()
        log.exception("survey export %s failed", export_id)
        export = db.session.get(SurveyExport, export_id)
        export.status = ExportStatus.FAILED
        export.error = str(exc)[:1000]
        export.finished_at = utcnow()
        db.session.commit()
        return
    export.rows_done = written
    export.status = ExportStatus.DONE
    export.finished_at = utcnow()
    notify(
        export.requested_by_id,
        f"polls:export:{export.id}:done",
        _("Выгрузка ответов готова"),
        _("Выгрузка ответов на опрос «%(title)s» готова к скачиванию.", title=survey.title),
        link=_export_link(export),
        timezone=survey.timezone,
    )
    db.session.commit()


def _export_link(export: SurveyExport) -> str | None:
    try:
        return url_for(
            "polls_reports.export_status", survey_id=export.survey_id, export_id=export.id
        )
    except RuntimeError:  # no request context in a worker: build it from the public URL
        base = current_app.config.get("PUBLIC_BASE_URL", "")
        return f"{base}/polls/manage/{export.survey_id}/exports/{export.id}"
