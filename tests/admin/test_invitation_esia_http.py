"""The invitee opens the letter's link, logs in through the ESIA emulator over real HTTP, and
the invitation is bound to that ESIA identity."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from participation.admin import invitations
from participation.admin.models import InvitationStatus, StaffInvitation
from participation.core.organizations import Organization, OrganizationKind
from participation.core.outbox import OutboxMessage
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import Membership, Role, User
from participation.extensions import db
from tests.auth.test_esia_http import CSRF, HIDDEN, Browser
from tests.browser import serve_platform


@pytest.fixture
def served(app, db_session, monkeypatch, tmp_path):
    with serve_platform(app, monkeypatch, tmp_path) as base:
        yield base


def _login_through_esia(browser: Browser, served: str, login_url: str, persona: str) -> str:
    """Follow the login link through the emulator as `persona`; return where it lands."""
    status, headers, _ = browser.open(f"{served}{login_url}")
    assert status == 302
    status, _, page = browser.open(headers["Location"])
    assert status == 200
    fields = dict(HIDDEN.findall(page))
    status, headers, _ = browser.open(
        f"{served}/esia/aas/oauth2/ac", {**fields, "persona": persona, "action": "login"}
    )
    assert status == 302
    status, headers, body = browser.open(headers["Location"])  # the callback
    assert status == 302, body
    return headers["Location"]


@pytest.mark.committed
def test_invitation_is_accepted_after_an_esia_login(app, served, db_session):
    country = Territory(oktmo="00", name="Россия", level=TerritoryLevel.COUNTRY, timezone="UTC")
    region = Territory(
        oktmo="80000000",
        name="Республика Башкортостан",
        level=TerritoryLevel.REGION,
        parent=country,
        timezone="Asia/Yekaterinburg",
    )
    ufa = Territory(
        oktmo="80701000",
        name="городской округ город Уфа",
        level=TerritoryLevel.URBAN_OKRUG,
        parent=region,
        timezone="Asia/Yekaterinburg",
    )
    org = Organization(name="Администрация г. Уфы", kind=OrganizationKind.MUNICIPAL, territory=ufa)
    admin = User(esia_oid="1999999", last_name="Админова", first_name="Анна")
    db.session.add_all([country, region, ufa, org, admin])
    db.session.flush()
    db.session.add(Membership(user=admin, organization=org, role=Role.ADMINISTRATOR))
    db.session.flush()
    invitations.invite(
        org,
        admin,
        email="m.ivanova@example.org",
        last_name="Иванова",
        first_name="Мария",
        middle_name="Петровна",
        roles=[Role.COORDINATOR],
    )
    db.session.commit()
    link = db.session.scalar(
        sa.select(OutboxMessage.link).where(OutboxMessage.email == "m.ivanova@example.org")
    )
    org_id = org.id
    db.session.close()  # hold no lock while the server works (SQLite)
    path = urlsplit(link).path

    browser = Browser()
    status, _, page = browser.open(f"{served}{path}")
    assert status == 200 and "Войти через Госуслуги" in page
    login_url = re.search(r'href="(/login\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    landed = _login_through_esia(browser, served, login_url, "resident-confirmed-ufa")
    assert landed == path  # back on the invitation
    status, _, page = browser.open(f"{served}{path}")
    assert status == 200 and "Вы вошли как Иванова Мария Петровна" in page
    assert "не совпадает" not in page
    status, headers, _ = browser.open(f"{served}{path}", {"csrf_token": CSRF.search(page).group(1)})
    assert status == 302 and headers["Location"] == "/backoffice/"

    person = db.session.scalar(sa.select(User).where(User.esia_oid == "2000001"))
    invitation = db.session.scalar(sa.select(StaffInvitation))
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.accepted_by_id == person.id
    roles = db.session.scalars(
        sa.select(Membership.role).where(
            Membership.user_id == person.id, Membership.organization_id == org_id
        )
    ).all()
    assert roles == [Role.COORDINATOR]
    db.session.close()  # hold no lock while the server works (SQLite)
    # The link is spent: opened again it says so.
    status, _, page = browser.open(f"{served}{path}")
    assert status == 410 and "уже использована" in page
    db.session.close()
