"""The daily digest's sweep: each subscriber's organization day, once, caught up after downtime."""

from __future__ import annotations

from participation.core.jobs import sweep
from participation.reports.digest import send_due_digests


@sweep
def sweep_digests() -> int:
    """Send the digests whose local day has turned (none twice: see reports.digest)."""
    return send_due_digests()
