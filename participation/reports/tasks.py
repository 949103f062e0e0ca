"""Jobs and sweeps of the reports: keep the rollup current."""

from __future__ import annotations

from participation.core.jobs import sweep
from participation.reports.heat_rollup import recount_recent_heat
from participation.reports.rollup import refresh_stale


def refresh_rollup() -> int:
    """Job after a lifecycle step: recount the days of the messages that changed."""
    return refresh_stale()


@sweep
def sweep_rollup() -> int:
    """Catch up on changes whose job was lost (Redis down, a worker killed)."""
    return refresh_stale()


@sweep
def sweep_heat_map() -> None:
    """Keep the heat map's rollup of the recent months current."""
    recount_recent_heat()
