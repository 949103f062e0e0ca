"""With DATABASE_REPLICA_URL set, report queries go to the replica engine and nowhere else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation import create_app
from participation.extensions import db
from participation.reports import services as r
from participation.reports.rollup import refresh_stale
from tests.appeals.conftest import submit


@pytest.mark.committed
def test_dashboards_read_from_the_replica(app, world, tmp_path):
    submit(world)
    refresh_stale()
    region_id = world.region.id
    db.session.commit()
    db.session.close()  # SQLite: let the other engine take the database
    replica_app = create_app(
        env={
            "PARTICIPATION_ENV": "testing",
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            # The tests point the replica at the same database (a real one is a streaming copy).
            "DATABASE_REPLICA_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_DIR": str(tmp_path / "mail"),
            "STORAGE_DIR": str(tmp_path / "storage"),
        }
    )
    on_replica: list[str] = []
    with replica_app.app_context():
        primary, replica = db.engines[None], db.engines["replica"]
        assert primary is not replica
        sa.event.listen(replica, "before_cursor_execute", lambda *a: on_replica.append(a[2]))
        on_primary: list[str] = []
        sa.event.listen(primary, "before_cursor_execute", lambda *a: on_primary.append(a[2]))
        today = date.today()  # the message may be on tomorrow's date where it was sent
        period = r.Period(date(today.year - 1, 1, 1), today + timedelta(days=1))
        figures = r.figures(r.Scope(region_id), period)
        db.session.remove()
    assert figures.values["received"] == 1 and figures.values["in_work_now"] == 1
    assert any("report_appeal_days" in sql for sql in on_replica)
    assert not any("report_appeal_days" in sql or "FROM appeals" in sql for sql in on_primary)
