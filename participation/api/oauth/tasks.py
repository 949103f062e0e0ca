"""Periodic housekeeping of resident apps' authorisations: expired codes and tokens go."""

from __future__ import annotations

from participation.api.oauth.services import purge_expired
from participation.core.jobs import sweep


@sweep
def sweep_expired_oauth_credentials() -> dict[str, int]:
    """Delete codes and token pairs that ran out over a day ago (sessions stay for the record)."""
    return purge_expired()
