"""The retention sweep: once a day, anonymise what passed its term."""

from __future__ import annotations

from participation.core.jobs import sweep
from participation.privacy.retention import one_purge_at_a_time, purge_due, purge_personal_data


@sweep
def sweep_retention() -> dict[str, int] | str:
    """Purge personal data past its term, at most once a day (each run is audit-logged)."""
    one_purge_at_a_time()  # a second sweep at once waits, then finds the purge done
    if not purge_due():
        return "not due"
    return {r.kind: r.total for r in purge_personal_data(commit=True)}
