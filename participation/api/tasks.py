"""Periodic work of the API: forget stored Idempotency-Key answers past their time."""

from __future__ import annotations

from participation.api.idempotency import purge_idempotent_requests
from participation.core.jobs import sweep


@sweep
def sweep_idempotent_requests() -> int:
    """Delete answers older than API_IDEMPOTENCY_HOURS (one indexed DELETE)."""
    return purge_idempotent_requests()
