"""The demo as a resident meets it: «Голосование заканчивается через 3 дня» lands once in
instance/mail/ for the Стерлитамак resident, and the preferences page is one click from the
profile."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from pathlib import Path

import sqlalchemy as sa

from participation.core.jobs import run_sweeps
from participation.core.users import User
from participation.demo.seed import seed_demo
from participation.extensions import db
from participation.reminders.demo import ENDING_TITLE, seed_reminders_demo
from tests.helpers import login_as
from tests.reminders.conftest import travel


def _letters(app, to: str) -> list:
    found = []
    for path in Path(app.config["MAIL_DIR"]).glob("*.eml"):
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if mail["To"] == to and mail["Subject"] == "Голосование заканчивается через 3 дня":
            found.append(mail)
    return found


def test_the_demo_resident_gets_the_reminder_once(app, client, db_session, run_jobs):
    seed_demo()
    assert seed_reminders_demo() == {"reminder_votes": 0, "subscriptions": 0}  # idempotent
    resident = db.session.scalar(sa.select(User).where(User.esia_oid == "2000006"))
    db.session.commit()
    from participation.core.db import utcnow

    now = utcnow()
    # By day in Стерлитамак (Asia/Yekaterinburg, 08:00–22:00 = 03:00–17:00 UTC): now, or the
    # coming 08:00 local (at most 10 hours on: still less than 3 whole days left).
    moment = now
    if not 3 <= now.hour < 17:
        moment = now.replace(hour=3, minute=0, second=0, microsecond=0)
        if moment < now:
            moment += timedelta(days=1)
    with travel(moment):
        run_sweeps()
        run_sweeps()
        run_jobs()
    [letter] = _letters(app, resident.email)
    assert ENDING_TITLE in letter.get_content()
    login_as(client, resident)
    profile = client.get("/my/profile").get_data(as_text=True)
    assert "/my/notification-settings" in profile
    feed = client.get("/my/notifications").get_data(as_text=True)
    assert feed.count("Голосование заканчивается через 3 дня") == 1


def test_the_send_command_reports_in_russian(app, db_session):
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "Напоминания о голосованиях: получили 0" in result.output
    assert "Анонсы: о голосованиях 0, об опросах 0, об обсуждениях 0." in result.output
