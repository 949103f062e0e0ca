"""Periodic upkeep: views buffered in Redis go into the counters; old sessions go away."""

from __future__ import annotations

from participation.core.jobs import sweep
from participation.widgets.services import flush_views, purge_widget_sessions


@sweep
def flush_widget_views() -> int:
    """Add the widget views buffered in Redis to the per-site counters."""
    return flush_views()


@sweep
def purge_old_widget_sessions() -> int:
    """Delete widget sessions that ended or went unused two days ago or earlier."""
    return purge_widget_sessions()
