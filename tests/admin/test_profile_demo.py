"""The demo's organization profiles: Уфа with a logo served as PNG, Бирск left to fill in."""

from __future__ import annotations

import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.core.organizations import Organization
from participation.demo.seed import seed_demo
from participation.extensions import db


def _by_short_name(short_name: str) -> Organization:
    return db.session.scalar(sa.select(Organization).where(Organization.short_name == short_name))


def test_the_demo_gives_ufa_a_profile_with_a_logo(client):
    seed_demo()
    db.session.commit()
    ufa = _by_short_name("Администрация г. Уфы")
    assert ufa.phone and ufa.working_hours and len(ufa.social_links) == 3
    assert [label for label, _ in ufa.card.social] == ["ВКонтакте", "Одноклассники", "Telegram"]
    logo = client.get(f"/organizations/{ufa.id}/logo/{ufa.logo_id}")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.data.startswith(b"\x89PNG")
    birsk = _by_short_name("Администрация Бирского района")
    assert birsk.phone is None and birsk.logo_id is None and birsk.social_links == []
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEntry.action == "organization.profile_saved")
    ) == len([o for o in db.session.scalars(sa.select(Organization)) if o.phone])
