"""What the residents' pages (views.py) and the organizer's pages (manage_views.py) share."""

from __future__ import annotations

from typing import Any

from flask import Response

from participation.auth.eligibility import rule_description
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.hearings import pdf, services
from participation.hearings.labels import (
    ATTENDANCE_LABELS,
    KIND_GENITIVE,
    KIND_LABELS,
    RECOMMENDATION_LABELS,
    REMARK_KIND_LABELS,
    REMARK_REJECTION_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
)
from participation.hearings.models import Hearing, RemarkStatus
from participation.hearings.stages import STAGE_LABELS, Stage, stage_at


def template_helpers() -> dict[str, Any]:
    """Labels and stage helpers for every hearings template."""
    return {
        "stage_at": stage_at,
        "STAGE_LABELS": STAGE_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "KIND_GENITIVE": KIND_GENITIVE,
        "REMARK_KIND_LABELS": REMARK_KIND_LABELS,
        "SOURCE_LABELS": SOURCE_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "RECOMMENDATION_LABELS": RECOMMENDATION_LABELS,
        "REJECTION_LABELS": REMARK_REJECTION_LABELS,
        "ATTENDANCE_LABELS": ATTENDANCE_LABELS,
        "Stage": Stage,
        "RemarkStatus": RemarkStatus,
        "now": utcnow(),
    }


def pdf_response(data: bytes, filename: str) -> Response:
    """A generated PDF as a download that no shared cache keeps."""
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def field_error(form, exc: FieldError) -> None:
    """Show a service's FieldError next to its field (or above the form)."""
    target = form._fields.get(exc.field)
    if target is not None:
        target.errors = [*list(target.errors or []), exc.message]
    else:
        form.form_errors.append(exc.message)


def notice_facts(hearing: Hearing) -> list[tuple[str, str]]:
    """The elements of the notice for the notice page."""
    return pdf.notice_facts(
        hearing,
        services.hearing_link(hearing.id),
        [m.title for m in services.materials(hearing)],
        rule_description(services.eligibility_rule(hearing)),
    )


def notice_pdf_response(hearing: Hearing) -> Response:
    """The notice as a PDF download."""
    data = pdf.build_notice_pdf(
        hearing,
        link=services.hearing_link(hearing.id),
        materials=[m.title for m in services.materials(hearing)],
        rule_text=rule_description(services.eligibility_rule(hearing)),
        generated_at=utcnow(),
    )
    return pdf_response(data, f"notice-{hearing.id}.pdf")
