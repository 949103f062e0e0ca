"""Every kind of page, in a real browser, on the demo region: each feature's resident and
staff pages, forms with their errors shown, results, protocols and verification, as the role
that sees them, at desktop (1280×800) and phone (375×740) width. axe-core finds no violation of
any impact (WCAG 2.1 A/AA and axe's best practices) and the page never scrolls sideways
(WCAG 1.4.10, which axe does not test). One browser, one logged-in context per role;
screenshots and the findings go to test-artifacts/a11y/.

And the header on a phone: the menu collapsed behind a disclosure button (defect 11).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from participation.extensions import db
from tests.browser import ARTIFACTS, WCAG_21_AA, axe_violations, esia_login, serve_platform, shot

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FOLDER = "a11y"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# WCAG 2.1 A and AA, and axe's best practices: heading order, unique landmarks, content in them
TAGS = [*WCAG_21_AA, "best-practice"]


# The page's width and the innermost elements that stick out to the right of the screen.
WIDEST = """(screen) => {
    const out = (el) => el.getBoundingClientRect().right > screen + 1;
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + [...el.classList].map((c) => "." + c).join("");
    const wide = [...document.body.querySelectorAll("*")]
        .filter((el) => out(el) && ![...el.children].some(out))
        .map((el) => (el.parentElement ? name(el.parentElement) + " > " : "") + name(el));
    return [document.documentElement.scrollWidth, [...new Set(wide)].slice(0, 5)];
}"""


@pytest.fixture
def base(app, monkeypatch, tmp_path):
    with serve_platform(app, monkeypatch, tmp_path) as url:
        yield url


@dataclass(frozen=True)
class Visit:
    """A page to check: `path` as `role` (None: nobody logged in), answered with `status`;
    with `submit`, the form matching that selector is sent empty (the browser's own validation
    off) and the page with the errors is checked too; `steps` go on from there, each a name
    and what the user does to get to the next page."""

    name: str
    role: str | None
    path: str
    submit: str | None = None
    status: int = 200
    lands: str | None = None  # where it redirects to, if it does
    steps: tuple[tuple[str, Callable], ...] = ()


def send(page, selector: str) -> None:
    """Press the first submit button of the last form matching `selector`; wait for the page."""
    form = page.locator(selector).last
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()


def send_main_form(page) -> None:
    send(page, "main form")


def choose_and_send(page) -> None:
    page.locator("input[name=choices]").first.check()
    send(page, "main form")


def demo_ids() -> dict[str, int]:
    """The demo rows the pages are about."""
    from participation.appeals.models import Appeal
    from participation.core.organizations import Organization
    from participation.core.users import User
    from participation.demo import data
    from participation.directline.models import DirectLine, Question
    from participation.hearings import demo as hearings_demo
    from participation.hearings.models import DraftParagraph, Hearing, Remark
    from participation.polls.models import Survey, SurveyQuestion
    from participation.voting import demo as voting_demo
    from participation.voting.models import Campaign, VotingObject
    from participation.widgets.models import WidgetKind
    from tests.widgets.conftest import enable

    def user(slug: str) -> User:
        oid = data.PERSONAS[slug]["esia_oid"]
        return db.session.scalar(sa.select(User).where(User.esia_oid == oid))

    def first(query):
        return db.session.scalar(query.limit(1))

    resident = user("resident-confirmed-ufa")
    city = user("ufa-administrator").memberships[0].organization
    ids = {}
    ids["my_appeal"] = first(
        sa.select(Appeal.id).where(Appeal.author_id == resident.id).order_by(Appeal.id.desc())
    )
    ids["appeal"] = first(
        sa.select(Appeal.id).where(Appeal.executor_organization_id == city.id).order_by(Appeal.id)
    )
    ids["staff"] = user("ufa-executor").id
    voting = {
        c.title: c.id
        for c in db.session.scalars(sa.select(Campaign).where(Campaign.organization_id == city.id))
    }
    ids["vote_open"] = voting[voting_demo.OPEN_TITLE]
    ids["vote_closed"] = voting[voting_demo.CLOSED_TITLE]
    ids["vote_object"] = first(
        sa.select(VotingObject.id).where(VotingObject.campaign_id == ids["vote_open"])
    )
    ids["survey"] = first(sa.select(Survey.id).where(Survey.organization_id == city.id))
    ids["survey_question"] = first(
        sa.select(SurveyQuestion.id)
        .where(SurveyQuestion.survey_id == ids["survey"])
        .order_by(SurveyQuestion.id)
    )
    hearings = {h.title: h.id for h in db.session.scalars(sa.select(Hearing))}
    ids["hearing_open"] = hearings[hearings_demo.LANDSCAPING_TITLE]
    ids["hearing_done"] = hearings[hearings_demo.PLANNING_TITLE]
    ids["paragraph"] = first(
        sa.select(DraftParagraph.id).where(DraftParagraph.hearing_id == ids["hearing_open"])
    )
    ids["remark"] = first(sa.select(Remark.id).where(Remark.hearing_id == ids["hearing_done"]))
    ids["line"] = first(sa.select(DirectLine.id))
    ids["line_question"] = first(
        sa.select(Question.id).where(Question.event_id == ids["line"]).order_by(Question.id)
    )
    from participation.appeals.classifier import Category
    from participation.core.organizations import OrganizationKind
    from participation.core.users import Membership, Role
    from participation.polls.models import SurveySection

    operator = first(sa.select(Organization).where(Organization.kind == OrganizationKind.OPERATOR))
    db.session.add(
        Membership(user=user("pos-moderator-2"), organization=operator, role=Role.ADMINISTRATOR)
    )
    ids["category"] = first(sa.select(Category.id).order_by(Category.position))
    ids["region"] = city.territory.parent_id
    ids["survey_section"] = first(
        sa.select(SurveySection.id).where(SurveySection.survey_id == ids["survey"])
    )
    org = db.session.get(Organization, city.id)
    ids["widget_code"] = enable(org, user("ufa-administrator"), WidgetKind.PARTICIPATE)
    # The demo app, authorised once by the resident: «Мои данные» lists it with «Отозвать».
    from participation.api.oauth import services as oauth
    from participation.api.oauth.demo import DEMO_CLIENT_ID

    mobile = oauth.client_by_client_id(DEMO_CLIENT_ID)
    code = oauth.issue_authorization_code(
        "a11y-code",
        mobile,
        resident,
        redirect_uri="ru.participation.app:/oauth",
        scope="profile appeals",
        code_challenge="c" * 43,
        device_name="Pixel 8",
    )
    oauth.start_app_session(code, resident, {"access_token": "a11y-a", "refresh_token": "a11y-r"})
    return ids


def visits(i: dict) -> list[Visit]:
    resident, vote, hearing, line = (
        "resident-confirmed-ufa",
        i["vote_open"],
        i["hearing_open"],
        i["line"],
    )
    survey = i["survey"]
    return [
        # Anyone
        Visit("home", None, "/"),
        Visit("esia-personas", None, "/login", lands="/esia/aas/oauth2/ac"),
        Visit("voting-index", None, "/voting/"),
        Visit("polls-index", None, "/polls/"),
        Visit("hearings-index", None, "/hearings/"),
        Visit("directline-index", None, "/directline/"),
        Visit("voting-results", None, f"/voting/{i['vote_closed']}/results"),
        Visit("voting-verify", None, f"/voting/{i['vote_closed']}/verify", "main form"),
        Visit("hearing-done", None, f"/hearings/{i['hearing_done']}"),
        Visit("hearing-notice", None, f"/hearings/{i['hearing_done']}/notice"),
        Visit("widget-participate", None, f"/widget/{i['widget_code']}"),
        Visit("not-found", None, "/no-such-page", status=404),
        # The resident
        Visit("appeal-new", resident, "/appeals/new", "main form"),
        Visit("my-appeals", resident, "/my/appeals"),
        Visit("my-appeal", resident, f"/my/appeals/{i['my_appeal']}"),
        Visit("notifications", resident, "/my/notifications"),
        Visit("profile", resident, "/my/profile"),
        Visit("notification-settings", resident, "/my/notification-settings"),
        Visit(
            "oauth-consent",
            resident,
            "/oauth/authorize?response_type=code&client_id=participation-demo-app"
            "&redirect_uri=ru.participation.app:/oauth&scope=appeals+votes+profile&state=a11y"
            f"&code_challenge={'c' * 43}&code_challenge_method=S256&device_name=Pixel+8",
            lands="/oauth/authorize",
        ),
        Visit("voting-show", resident, f"/voting/{vote}"),
        Visit("voting-object", resident, f"/voting/{vote}/objects/{i['vote_object']}"),
        Visit(
            "voting-ballot",
            resident,
            f"/voting/{vote}/ballot",
            "main form",
            steps=(
                ("voting-confirm", choose_and_send),
                ("voting-receipt", lambda p: send(p, "main form")),
            ),
        ),
        Visit("poll-show", resident, f"/polls/{survey}"),
        Visit("poll-answer", resident, f"/polls/{survey}/answer", "main form"),
        Visit("polls-mine", resident, "/polls/my"),
        Visit("hearing-open", resident, f"/hearings/{hearing}"),
        Visit("hearing-paragraph", resident, f"/hearings/{hearing}/paragraphs/{i['paragraph']}"),
        Visit("hearing-general", resident, f"/hearings/{hearing}/general"),
        Visit("hearing-remark", resident, f"/hearings/{hearing}/remarks/new", "main form"),
        Visit("directline-show", resident, f"/directline/{line}"),
        Visit("directline-ask", resident, f"/directline/{line}/ask", "main form"),
        Visit(
            "directline-question", resident, f"/directline/{line}/questions/{i['line_question']}"
        ),
        Visit("directline-my", resident, f"/directline/{line}/my"),
        Visit("directline-live", resident, f"/directline/{line}/live"),
        # Staff: appeals
        Visit("backoffice-home", "ufa-coordinator", "/backoffice/"),
        Visit("appeals-inbox", "ufa-coordinator", "/backoffice/appeals/"),
        Visit("appeals-card", "ufa-coordinator", f"/backoffice/appeals/{i['appeal']}"),
        Visit("appeals-curator", "ufa-curator", "/backoffice/appeals/curator"),
        Visit("appeals-operator", "cur-operator", "/backoffice/appeals/new", "main form"),
        # Staff: the administrator
        Visit("admin-staff", "ufa-administrator", "/admin/"),
        Visit("admin-staff-member", "ufa-administrator", f"/admin/staff/{i['staff']}"),
        Visit("admin-staff-new", "ufa-administrator", "/admin/staff/new", "main form"),
        Visit("admin-widget", "ufa-administrator", "/admin/widget/"),
        Visit("admin-profile", "ufa-administrator", "/admin/profile", "main form"),
        Visit("admin-invite", "ufa-administrator", "/admin/invitations/new", "main form"),
        Visit("backoffice-readiness", "ufa-administrator", "/backoffice/readiness"),
        Visit("backoffice-confirm", "ufa-administrator", "/backoffice/confirm"),
        Visit("classifier", "pos-moderator-2", "/admin/classifier/"),
        Visit(
            "classifier-category",
            "pos-moderator-2",
            f"/admin/classifier/categories/{i['category']}",
        ),
        Visit("classifier-region", "pos-moderator-2", f"/admin/classifier/regions/{i['region']}"),
        # Staff: voting, hearings, polls
        Visit("voting-manage", "ufa-authorized", "/backoffice/voting/"),
        Visit("voting-manage-show", "ufa-authorized", f"/backoffice/voting/{vote}"),
        Visit("voting-manage-new", "ufa-authorized", "/backoffice/voting/new", "main form"),
        Visit("voting-manage-closed", "ufa-authorized", f"/backoffice/voting/{i['vote_closed']}"),
        Visit("voting-manage-close", "ufa-authorized", f"/backoffice/voting/{vote}/close"),
        Visit("voting-assist", "ufa-volunteer", f"/voting/{vote}/assist", "main form"),
        Visit("hearings-manage", "ufa-authorized", "/backoffice/hearings/"),
        Visit("hearings-manage-show", "ufa-authorized", f"/backoffice/hearings/{hearing}"),
        Visit("hearings-manage-new", "ufa-authorized", "/backoffice/hearings/new", "main form"),
        Visit("hearings-protocol", "ufa-authorized", f"/backoffice/hearings/{i['hearing_done']}"),
        Visit(
            "hearings-meeting",
            "ufa-authorized",
            f"/backoffice/hearings/{i['hearing_done']}/meeting",
        ),
        Visit(
            "hearings-remark",
            "ufa-authorized",
            f"/backoffice/hearings/{i['hearing_done']}/remarks/{i['remark']}",
        ),
        Visit("polls-manage", "ufa-authorized", "/polls/manage"),
        Visit("polls-manage-new", "ufa-authorized", "/polls/manage/new", "main form"),
        Visit("polls-questions", "ufa-authorized", f"/polls/manage/{survey}"),
        Visit(
            "polls-question",
            "ufa-authorized",
            f"/polls/manage/{survey}/questions/{i['survey_question']}",
        ),
        Visit(
            "polls-question-new",
            "ufa-authorized",
            f"/polls/manage/{survey}/sections/{i['survey_section']}/questions/new",
            "main form",
        ),
        Visit("polls-settings", "ufa-authorized", f"/polls/manage/{survey}/settings"),
        Visit("polls-results", "ufa-authorized", f"/polls/manage/{survey}/results"),
        Visit("polls-texts", "ufa-authorized", f"/polls/manage/{survey}/texts"),
        # Staff: the direct line
        Visit("directline-manage", "pos-moderator", "/backoffice/directline/"),
        Visit("directline-manage-show", "pos-moderator", f"/backoffice/directline/{line}"),
        Visit("directline-manage-edit", "pos-moderator", f"/backoffice/directline/{line}/edit"),
        Visit("directline-results", "pos-moderator", f"/backoffice/directline/{line}/results"),
        Visit("directline-broadcast", "pos-moderator", f"/backoffice/directline/{line}/broadcast"),
        Visit("directline-manage-new", "pos-moderator", "/backoffice/directline/new", "main form"),
    ]


def check(page, axe_source: str, name: str, found: dict) -> None:
    """axe-core at both widths, and no sideways scrolling of the whole page (WCAG 1.4.10
    Reflow, which axe does not test); a screenshot at each width."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        problems = axe_violations(page.main_frame, axe_source, TAGS)
        width, wide = page.evaluate(WIDEST, size["width"])
        if width > size["width"]:
            problems.append({"id": "reflow", "help": f"страница шириной {width}px", "nodes": wide})
        if problems:
            found[f"{name}@{label}"] = problems
        shot(page, FOLDER, f"{name}-{label}")


def test_every_kind_of_page_has_no_wcag_violation(base, browser, axe_source):
    from participation.demo.seed import seed_demo

    seed_demo()
    db.session.commit()
    ids = demo_ids()
    db.session.commit()
    db.session.close()  # hold no lock while the server works (SQLite)

    contexts, found, statuses = {}, {}, {}
    for visit in visits(ids):
        page = contexts.get(visit.role)
        if page is None:
            context = browser.new_context(bypass_csp=True, viewport=DESKTOP)  # to inject axe
            page = contexts[visit.role] = context.new_page()
            if visit.role is not None:
                page.goto(f"{base}/login?next=/")
                esia_login(page, visit.role)
                page.wait_for_url(f"{base}/")
        page.set_viewport_size(DESKTOP)
        response = page.goto(f"{base}{visit.path}")
        landed = urlsplit(page.url).path
        if response.status != visit.status or landed != (visit.lands or visit.path):
            statuses[visit.name] = (response.status, landed)
        check(page, axe_source, visit.name, found)
        if visit.submit:
            page.locator(visit.submit).last.evaluate("form => { form.noValidate = true; }")
            send(page, visit.submit)
            check(page, axe_source, f"{visit.name}-errors", found)
        for name, action in visit.steps:
            page.set_viewport_size(DESKTOP)
            action(page)
            check(page, axe_source, name, found)
    for page in contexts.values():
        page.context.close()

    (ARTIFACTS / FOLDER / "violations.json").write_text(
        json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    assert statuses == {}
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_on_a_phone_the_header_menu_is_collapsed_behind_a_menu_button(base, browser, axe_source):
    from participation.core.users import Role
    from participation.demo import data
    from tests import factories as f

    oid = data.PERSONAS["ufa-coordinator"]["esia_oid"]
    f.staff(f.organization(name="Администрация г. Уфы"), Role.COORDINATOR, esia_oid=oid)
    db.session.commit()
    db.session.close()

    context = browser.new_context(viewport=PHONE)  # no CSP bypass: the real headers
    page = context.new_page()
    page.goto(f"{base}/login?next=/")
    esia_login(page, "ufa-coordinator")
    page.wait_for_url(f"{base}/")
    button = page.get_by_role("button", name="Меню")
    residents = page.get_by_role("navigation", name="Для жителей")
    staff = page.get_by_role("navigation", name="Для сотрудников")

    # Collapsed: the brand and the button, the content right under them.
    assert button.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    assert button.get_attribute("aria-controls") == "site-menu staff-menu"
    assert residents.is_hidden() and staff.is_hidden()
    assert page.locator("header").bounding_box()["height"] < 100  # of 740
    shot(page, FOLDER, "menu-phone-closed")

    # The button opens it: every link is there.
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert residents.get_by_role("link", name="Голосования").is_visible()
    assert staff.get_by_role("link", name="Сообщения жителей").is_visible()
    assert page.get_by_role("button", name="Выйти").is_visible()
    shot(page, FOLDER, "menu-phone-open")

    # By keyboard: Tab goes into the menu; Escape closes it and the focus is on the button.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('#site-menu') !== null")
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert residents.is_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('menu-toggle')")
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true" and residents.is_visible()

    # At desktop width: the navigation is shown, there is no button.
    page.set_viewport_size(DESKTOP)
    assert residents.is_visible() and staff.is_visible()
    assert button.is_hidden()
    context.close()

    # The open menu, through axe-core (the CSP bypassed only to inject it).
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base}/")
    page.get_by_role("button", name="Меню").click()
    assert axe_violations(page.main_frame, axe_source, TAGS) == []
    context.close()

    # Without JavaScript, on a phone: no button, the menu is simply shown.
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/")
    assert page.get_by_role("navigation", name="Для жителей").is_visible()
    assert page.get_by_role("link", name="Войти через Госуслуги").is_visible()
    assert page.locator(".menu-toggle").is_hidden()
    context.close()
