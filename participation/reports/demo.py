"""A year of message history for the demo region: thousands of messages, made in bulk.

`seed_history()` is called by `flask demo seed` after the hand-made demo. It plays each
message through the lifecycle in Python, step by step as the services would record it
(the transition table in appeals/workflow.py is checked at every step; deadlines come from
appeals/deadlines.py and the classifier's terms), and writes the rows with a few multi-row
INSERTs: messages, review cycles, answers, events, hand-offs, ratings. Then it rebuilds the
reports' rollup. A seeded random.Random makes the same history for the same day; the year
ends at the start of that day in the region's time zone, and whatever would happen later is
left undone, so the newest messages are still open (some of them overdue).

No notifications, audit records or outbox rows are written for this past: nobody is told
about events of last spring. A second run adds nothing (the messages' form keys say they exist).
"""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from participation.appeals import deadlines
from participation.appeals.classifier import Subcategory, answer_term
from participation.appeals.models import (
    AnswerStatus,
    Appeal,
    AppealAnswer,
    AppealEvent,
    AppealHandoff,
    AppealRating,
    Arrival,
    Channel,
    HandoffKind,
    RatingVia,
    Relation,
    RoutingRule,
)
from participation.appeals.routing import ARRIVAL_BY_RELATION, relation
from participation.appeals.workflow import (
    OPEN_STATES,
    WORKFLOW,
    Action,
    Actor,
    AppealState,
    ReturnedFrom,
    bucket_for,
)
from participation.core.moderation import RejectionReason
from participation.core.organizations import Organization
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import AccountLevel, Gender, Membership, Role, User, UserKind
from participation.demo import data
from participation.extensions import db
from participation.reports import demo_data as dd
from participation.reports.rollup import rebuild
from participation.widgets.models import BannerDesign, WidgetKind, WidgetSettings, WidgetSiteDay

SEED = 14
MESSAGES_PER_YEAR = 3000
DAYS = 365
KEY_PREFIX = "demo-history-"
RESIDENTS = 48
RESIDENT_OID = 3_000_001  # esia_oid of the first history resident
STAFF_OID = 3_100_001  # … and of the first history official
RATING_DAYS = 30  # APPEALS_RATING_DAYS: then the sweep closes the message unrated
REWORK_DAYS = 10  # APPEALS_REWORK_DAYS
MAX_POSTPONEMENT_DAYS = deadlines.DEFAULT_MAX_POSTPONEMENT_DAYS
ESCALATION_REASON = "Низкая оценка ответа заявителем"  # what rating.py writes
HOURS = (0, 0, 0, 0, 0, 1, 2, 4, 7, 9, 9, 8, 7, 7, 7, 7, 6, 6, 6, 6, 5, 4, 2, 1)
WEEKDAYS = (1.2, 1.1, 1.1, 1.1, 1.0, 0.7, 0.6)

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),  # noqa: SIM905
        strict=True,
    )
)


def _latin(word: str) -> str:
    return "".join(_TRANSLIT.get(c, c) for c in word.lower()).replace("-", "")


# --- who is who ---------------------------------------------------------------------------------


def _organizations() -> dict[str, Organization]:
    names = {r["name"]: r["slug"] for r in data.ORGANIZATIONS}
    rows = db.session.scalars(sa.select(Organization).where(Organization.name.in_(names)))
    return {names[o.name]: o for o in rows}


def _person(rng: random.Random, n: int) -> dict[str, Any]:
    female = n % 2 == 1
    last = dd.LAST_NAMES[rng.randrange(len(dd.LAST_NAMES))]
    first = rng.choice(dd.FEMALE_NAMES if female else dd.MALE_NAMES)
    middle = rng.choice(dd.PATRONYMICS)[1 if female else 0]
    return {
        "kind": UserKind.PERSON,
        "last_name": last + ("а" if female else ""),
        "first_name": first,
        "middle_name": middle,
        "gender": Gender.FEMALE if female else Gender.MALE,
        "birth_date": date(data.REFERENCE_DATE.year - rng.randint(22, 74), rng.randint(1, 12), 1),
        "account_level": AccountLevel.CONFIRMED,
        "is_active_account": True,
        "session_version": 1,
        "created_at": datetime(2025, 1, 10, 6, 0, tzinfo=UTC),
    }


def _insert_missing_users(rows: list[dict[str, Any]]) -> dict[str, int]:
    oids = [r["esia_oid"] for r in rows]
    existing = dict(
        db.session.execute(sa.select(User.esia_oid, User.id).where(User.esia_oid.in_(oids))).all()
    )
    new = [r for r in rows if r["esia_oid"] not in existing]
    if new:
        db.session.execute(sa.insert(User.__table__), new)
    return dict(
        db.session.execute(sa.select(User.esia_oid, User.id).where(User.esia_oid.in_(oids))).all()
    )


def _residents(rng: random.Random, places: dict[str, Territory]) -> dict[str, list[int]]:
    """A few dozen residents, each registered in one of the places; place OKTMO → user ids."""
    homes = [p.oktmo for p in dd.PLACES]  # one in each place, the rest by its share
    homes += rng.choices(
        [p.oktmo for p in dd.PLACES], [p.weight for p in dd.PLACES], k=RESIDENTS - len(homes)
    )
    rows = []
    for n, oktmo in enumerate(homes):
        person = _person(rng, n)
        person["esia_oid"] = str(RESIDENT_OID + n)
        person["email"] = (
            f"{_latin(person['first_name'])}.{_latin(person['last_name'])}{n + 1}@example.ru"
        )
        person["registration_territory_id"] = places[oktmo].id
        rows.append(person)
    ids = _insert_missing_users(rows)
    by_place: dict[str, list[int]] = defaultdict(list)
    for row, oktmo in zip(rows, homes, strict=True):
        by_place[oktmo].append(ids[row["esia_oid"]])
    return by_place


class Cast:
    """Who acts for each organization: people by role, from the memberships."""

    def __init__(self) -> None:
        self.people: dict[tuple[int, Role], list[int]] = defaultdict(list)
        query = sa.select(Membership.organization_id, Membership.role, Membership.user_id)
        for organization_id, role, user_id in db.session.execute(
            query.order_by(Membership.id)
        ).all():
            self.people[(organization_id, Role(role))].append(user_id)

    def has(self, organization_id: int, role: Role) -> bool:
        return bool(self.people.get((organization_id, role)))

    def pick(self, rng: random.Random, organization_id: int, role: Role) -> int:
        return rng.choice(self.people[(organization_id, role)])


def _staff(rng: random.Random, organizations: dict[str, Organization]) -> None:
    """Officials for the organizations the hand-made demo left without coordinator or head."""
    cast = Cast()
    wanted: list[tuple[dict[str, Any], Organization, tuple[Role, ...]]] = []
    n = 0
    for slug in sorted(dd.MANNERS):
        organization = organizations[slug]
        domain = (organization.email or "org@example.ru").split("@")[1]
        for roles in ((Role.COORDINATOR, Role.EXECUTOR), (Role.HEAD,)):
            if all(cast.has(organization.id, r) for r in roles):
                continue
            person = _person(rng, n)
            person["esia_oid"] = str(STAFF_OID + n)
            person["email"] = (
                f"{_latin(person['first_name'])[0]}.{_latin(person['last_name'])}@{domain}"
            )
            person["registration_territory_id"] = organization.territory_id
            wanted.append((person, organization, roles))
            n += 1
    ids = _insert_missing_users([person for person, _, _ in wanted])
    existing = {
        (m.user_id, m.organization_id, m.role) for m in db.session.scalars(sa.select(Membership))
    }
    rows = [
        {"user_id": ids[person["esia_oid"]], "organization_id": organization.id, "role": role}
        for person, organization, roles in wanted
        for role in roles
        if (ids[person["esia_oid"]], organization.id, role) not in existing
    ]
    if rows:
        db.session.execute(sa.insert(Membership.__table__), rows)


def _routing_rules(
    organizations: dict[str, Organization],
    places: dict[str, Territory],
    subcategories: dict[str, Subcategory],
) -> dict[tuple[int, int], int]:
    """Rules for the municipalities' own topics outside Уфа; (subcategory, territory) → org."""
    existing = {
        (s, t): o
        for s, t, o in db.session.execute(
            sa.select(
                RoutingRule.subcategory_id, RoutingRule.territory_id, RoutingRule.organization_id
            )
        )
    }
    rows = []
    for place in dd.PLACES:
        if place.oktmo == data.UFA:
            continue  # Уфа's rules are the hand-made demo's
        territory = places[place.oktmo]
        # The administration answers for the whole municipality: the rule sits on the district.
        settlement = territory.level == TerritoryLevel.SETTLEMENT
        municipal = territory.parent if settlement else territory
        for code in dd.MUNICIPAL_TOPICS:
            key = (subcategories[code].id, municipal.id)
            if key not in existing:
                existing[key] = organizations[place.administration].id
                rows.append(
                    {
                        "subcategory_id": key[0],
                        "territory_id": key[1],
                        "organization_id": existing[key],
                        "created_at": data.CONFIRMED_AT,
                    }
                )
    if rows:
        db.session.execute(sa.insert(RoutingRule.__table__), rows)
    return existing


# --- one message's life -------------------------------------------------------------------------


@dataclass
class Life:
    """A message as it goes through the lifecycle: its row and everything written on the way."""

    row: dict[str, Any]
    horizon: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    rating: dict[str, Any] | None = None
    review: Life | None = None
    review_of: Life | None = None
    id: int | None = None
    stopped: bool = False

    @property
    def state(self) -> AppealState:
        return self.row["state"]

    def step(
        self,
        at: datetime,
        action: Action | str,
        actor_id: int | None,
        role: Role | Actor,
        *,
        comment: str | None = None,
        details: dict[str, Any] | None = None,
        returned_from: ReturnedFrom | None = None,
        target: AppealState | None = None,
        organization_id: int | None = None,
    ) -> bool:
        """Take one step at `at`, as transition() does; False (and stop) past the horizon."""
        if self.stopped or at >= self.horizon:
            self.stopped = True
            return False
        from_state = self.row.get("state")
        if target is None:
            target = WORKFLOW.check(from_state, action, [role]).target
        if (
            organization_id is None
            and role not in (Actor.AUTHOR, Actor.SYSTEM)
            and action != "submit"
        ):
            organization_id = self.row["holder_organization_id"]
        self.events.append(
            {
                "action": str(action),
                "actor_id": actor_id,
                "actor_role": str(role),
                "organization_id": organization_id,
                "at": at,
                "from_state": str(from_state) if from_state is not None else None,
                "to_state": str(target),
                "comment": comment,
                "details": details or {},
            }
        )
        self.row["state"] = target
        self.row["returned_from"] = returned_from if target == AppealState.IN_WORK else None
        self.row["bucket"] = bucket_for(target, self.row["returned_from"])
        return True

    def hand_off(
        self,
        at: datetime,
        to_organization_id: int,
        kind: HandoffKind,
        actor_id: int | None,
        relation: Relation | None = None,
        reason: str | None = None,
    ) -> None:
        if to_organization_id != self.row["holder_organization_id"]:
            self.handoffs.append(
                {
                    "from_organization_id": self.row["holder_organization_id"],
                    "to_organization_id": to_organization_id,
                    "kind": kind,
                    "relation": relation,
                    "reason": reason,
                    "actor_id": actor_id,
                    "at": at,
                }
            )
        self.row["holder_organization_id"] = to_organization_id


def _point(territory: Territory, street: str, house: str) -> tuple[Decimal | None, Decimal | None]:
    """A demo message's point: each street a fixed spot 0.3–3 km from the place's centre, the
    house within ~150 m of it (from hashes of the names, not from the history's random
    sequence, so the history is the same with or without points; busy streets make the heat
    map's busy cells)."""
    if territory.latitude is None or territory.longitude is None:
        return None, None
    spot = random.Random(zlib.crc32(f"{territory.oktmo}:{street}".encode()))  # noqa: S311
    house_at = random.Random(zlib.crc32(f"{territory.oktmo}:{street}:{house}".encode()))  # noqa: S311
    angle, metres = spot.uniform(0, 2 * math.pi), spot.uniform(300, 3_000)
    north = metres * math.cos(angle) + house_at.uniform(-150, 150)
    east = metres * math.sin(angle) + house_at.uniform(-150, 150)
    lat = float(territory.latitude) + north / 111_195
    lon = float(territory.longitude) + east / (111_195 * math.cos(math.radians(lat)))
    six = Decimal("0.000001")
    return Decimal(repr(lat)).quantize(six), Decimal(repr(lon)).quantize(six)


def _appeal_row(**values: Any) -> dict[str, Any]:
    """Every column of an appeals row (multi-row INSERTs need the same keys in each)."""
    row = {
        "submitted_by_id": None,
        "submission_key": None,
        "author_id": None,
        "caller_name": None,
        "caller_phone": None,
        "caller_email": None,
        "channel": Channel.PORTAL,
        "widget_organization_id": None,
        "subcategory_id": None,
        "suggested_subcategory_id": None,
        "suggestion_confidence": None,
        "text": None,
        "address": None,
        "latitude": None,
        "longitude": None,
        "territory_id": None,
        "region_id": None,
        "applicant_region_id": None,
        "executor_organization_id": None,
        "holder_organization_id": None,
        "executor_id": None,
        "auto_routed": False,
        "arrival": Arrival.NEW,
        "state": None,
        "bucket": None,
        "returned_from": None,
        "fast_track": False,
        "term_days": None,
        "registered_at": None,
        "answer_due_at": None,
        "coordination_due_at": None,
        "original_answer_due_at": None,
        "postponed_until": None,
        "postponement_reason": None,
        "postponement_count": 0,
        "answered_at": None,
        "closed_at": None,
        "rework_count": 0,
        "soon_due_flagged_at": None,
        "overdue_flagged_at": None,
        "cycle": 1,
        "review_of_id": None,
    }
    row.update(values)
    return row


@dataclass
class World:
    """What the planner needs to know about the region, loaded once."""

    rng: random.Random
    horizon: datetime
    tz: ZoneInfo
    region: Territory
    organizations: dict[str, Organization]
    by_id: dict[int, Organization]
    places: dict[str, Territory]
    chains: dict[int, list[int]]  # territory → itself and its ancestors
    subcategories: dict[str, Subcategory]
    terms: dict[int, tuple[bool, int]]  # subcategory → (fast track, days)
    rules: dict[tuple[int, int], int]
    residents: dict[str, list[int]]
    cast: Cast
    moderators: list[int]
    centre_id: int
    centre_coordinators: list[int]
    call_operators: list[int]
    operator_id: int
    widget_since: dict[int, datetime]  # organization → when its widget went on its site


class Planner:
    """Plays messages through the lifecycle; `lives` holds every message made (reviews too)."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.rng = world.rng
        self.lives: list[Life] = []
        self.manners = {world.organizations[s].id: m for s, m in dd.MANNERS.items()}

    # time ---------------------------------------------------------------------------------

    def _hours(self, lo: float, hi: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(lo, hi))

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.w.tz).date()

    # routing ------------------------------------------------------------------------------

    def _rule(self, subcategory_id: int, territory_id: int) -> int | None:
        for node in self.w.chains[territory_id]:
            found = self.w.rules.get((subcategory_id, node))
            if found is not None:
                return found
        return None

    def _redirect(self, holder_id: int, code: str, place: dd.Place) -> tuple[int, str] | None:
        slug = next((s for s, o in self.w.organizations.items() if o.id == holder_id), None)
        for source, topic, target, share, reason in dd.REDIRECTS:
            source = place.administration if source == "*" else source
            target = place.administration if target == "*" else target
            if source == slug and code.startswith(topic) and target != slug:
                if self.rng.random() < share:
                    return self.w.organizations[target].id, reason
                return None
        return None

    # one message --------------------------------------------------------------------------

    def message(self, n: int, registered: datetime, place: dd.Place, topic: dd.Topic) -> None:
        w, rng = self.w, self.rng
        sub = w.subcategories[topic.code]
        territory = w.places[place.oktmo]
        executor = self._rule(sub.id, territory.id)
        if executor is None:
            return
        fast, term = w.terms[sub.id]
        due = deadlines.compute_deadlines(registered, term)
        channel = Channel(rng.choices(*zip(*dd.CHANNELS, strict=True))[0])
        street = rng.choice(place.streets)
        house = str(rng.randint(1, 180))
        text = rng.choice(topic.texts).format(street=street, house=house)
        latitude, longitude = _point(territory, street, house)
        row = _appeal_row(
            submission_key=f"{KEY_PREFIX}{n:05d}",
            channel=channel,
            subcategory_id=sub.id,
            suggested_subcategory_id=sub.id if channel != Channel.OPERATOR else None,
            suggestion_confidence=(
                round(rng.uniform(0.45, 0.95), 2) if channel != Channel.OPERATOR else None
            ),
            text=text,
            address=f"{place.locality}, {street}, д. {house}",
            latitude=latitude,
            longitude=longitude,
            territory_id=territory.id,
            region_id=w.region.id,
            applicant_region_id=w.region.id,
            executor_organization_id=executor,
            holder_organization_id=w.operator_id,
            auto_routed=True,
            fast_track=fast,
            term_days=term,
            registered_at=registered,
            answer_due_at=due.answer_due_at,
            coordination_due_at=due.coordination_due_at,
            original_answer_due_at=due.answer_due_at,
        )
        if channel == Channel.OPERATOR:
            caller = _person(rng, n)
            row["submitted_by_id"] = rng.choice(w.call_operators)
            row["caller_name"] = f"{caller['last_name']} {caller['first_name']}"
            row["caller_phone"] = (
                f"+7 917 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{n % 100:02d}"
            )
            if rng.random() < 0.6:
                row["caller_email"] = f"caller{n}@example.ru"
            role: Role | Actor = Role.OPERATOR
        else:
            author = rng.choice(w.residents[place.oktmo])
            row["submitted_by_id"] = row["author_id"] = author
            role = Actor.AUTHOR
            if channel == Channel.WIDGET:
                since = w.widget_since.get(executor)
                if since is not None and since <= registered:
                    row["widget_organization_id"] = executor
                else:  # no widget on its site (yet): the resident used the portal
                    channel = row["channel"] = Channel.PORTAL
        life = Life(row, w.horizon)
        self.lives.append(life)
        life.step(
            registered,
            "submit",
            row["submitted_by_id"],
            role,
            target=AppealState.MODERATION,
            details={"channel": channel.value, "auto_routed": True},
        )
        self._moderate(life, registered, topic.code, place)
        _flags(life)

    def _moderate(self, life: Life, t: datetime, code: str, place: dd.Place) -> None:
        w, rng, row = self.w, self.rng, life.row
        moderator = rng.choice(w.moderators)
        t += self._hours(0.3, 16)
        if rng.random() < 0.05:
            reason = rng.choice(list(RejectionReason))
            if life.step(
                t, Action.REJECT, moderator, Role.MODERATOR, details={"reason": reason.value}
            ):
                row["closed_at"] = t
            return
        if not life.step(t, Action.ACCEPT, moderator, Role.MODERATOR):
            return
        life.hand_off(t, w.centre_id, HandoffKind.FORWARD, moderator)
        row["arrival"] = Arrival.AFTER_MODERATION
        t += self._hours(0.2, 20)
        coordinator = rng.choice(w.centre_coordinators)
        if not life.step(t, Action.CONFIRM, coordinator, Role.COORDINATOR):
            return
        life.hand_off(t, row["executor_organization_id"], HandoffKind.FORWARD, coordinator)
        redirect = self._redirect(row["holder_organization_id"], code, place)
        if redirect is not None:
            t += self._hours(2, 40)
            target, reason = redirect
            holder = row["holder_organization_id"]
            coordinator = w.cast.pick(rng, holder, Role.COORDINATOR)
            rel = relation(w.by_id[holder], w.by_id[target])
            if not life.step(
                t,
                Action.REDIRECT,
                coordinator,
                Role.COORDINATOR,
                comment=reason,
                details={
                    "from_organization_id": row["executor_organization_id"],
                    "to_organization_id": target,
                    "relation": rel.value,
                },
            ):
                return
            life.hand_off(t, target, HandoffKind.REDIRECT, coordinator, rel, reason)
            row.update(
                executor_organization_id=target,
                executor_id=None,
                auto_routed=False,
                arrival=ARRIVAL_BY_RELATION[rel],
            )
        self._work(life, t + self._hours(0.5, 30))

    def _work(self, life: Life, t: datetime) -> None:
        """Assignment, the draft (returned by the head now and then), approval, the author."""
        w, rng, row = self.w, self.rng, life.row
        holder = row["holder_organization_id"]
        manner = self.manners.get(holder, dd.FAIR)
        coordinator = w.cast.pick(rng, holder, Role.COORDINATOR)
        executor = w.cast.pick(rng, holder, Role.EXECUTOR)
        head = w.cast.pick(rng, holder, Role.HEAD)
        if not life.step(
            t, Action.ASSIGN, coordinator, Role.COORDINATOR, details={"executor_id": executor}
        ):
            return
        row["executor_id"] = executor
        on_time = rng.random() < manner.on_time * (0.97 if row["fast_track"] else 1.0)
        due = row["answer_due_at"]
        if (
            not row["fast_track"]
            and row["cycle"] == 1
            and rng.random() < manner.postpones
            and due - t > timedelta(days=3)
        ):
            t = t + (due - t) * rng.uniform(0.5, 0.9)
            latest = self._local_date(row["original_answer_due_at"]) + timedelta(
                days=MAX_POSTPONEMENT_DAYS
            )
            until = min(self._local_date(due) + timedelta(days=rng.randint(7, 28)), latest)
            new_due = deadlines.end_of_local_day(until, str(w.tz)).astimezone(UTC)
            reason = rng.choice(dd.POSTPONE_REASONS)
            if not life.step(
                t,
                Action.POSTPONE,
                executor,
                Role.EXECUTOR,
                comment=reason,
                details={"from": due.isoformat(), "until": until.isoformat()},
            ):
                return
            row.update(
                answer_due_at=new_due,
                postponed_until=new_due,
                postponement_reason=reason,
                postponement_count=row["postponement_count"] + 1,
            )
            due = new_due
            on_time = rng.random() < 0.9
        if on_time and due - t > timedelta(hours=6):
            answer_at = t + (due - t) * min(0.97, rng.betavariate(1.6, 3))
        else:
            answer_at = max(due, t) + timedelta(days=rng.expovariate(1 / manner.late_days))
            answer_at += self._hours(1, 8)
        returned = rng.random() < manner.returns
        if not self._answer(life, t, answer_at, executor, head, returned):
            return
        self._author(life, manner)

    def _answer(
        self,
        life: Life,
        t: datetime,
        answer_at: datetime,
        executor: int,
        head: int,
        returned: bool,
    ) -> bool:
        """Draft(s) and approval, the approval at about `answer_at`; False if cut short."""
        rng, row = self.rng, life.row
        gaps = [self._hours(1, 20)]  # draft → approval
        if returned:
            gaps += [self._hours(2, 24), self._hours(3, 30)]  # redraft, return
        first = answer_at - sum(gaps, timedelta())
        if first <= t + timedelta(minutes=30):
            first = t + self._hours(0.5, 6)
        category = rng.choice(dd.ANSWERS.get(_category(self.w, row), dd.ANSWERS["roads"]))
        moments = [first]
        for gap in reversed(gaps):
            moments.append(moments[-1] + gap)
        draft_at = moments[0]
        answer = self._draft(life, draft_at, executor, category)
        if answer is None:
            return False
        if returned:
            remarks = rng.choice(dd.REMARKS)
            returned_at = moments[1]
            if not life.step(
                returned_at,
                Action.RETURN_DRAFT,
                head,
                Role.HEAD,
                comment=remarks,
                details={"answer_id": answer},
                returned_from=ReturnedFrom.HEAD,
            ):
                return False
            answer.update(
                status=AnswerStatus.RETURNED,
                decided_at=returned_at,
                decided_by_id=head,
                remarks=remarks,
            )
            answer = self._draft(life, moments[2], executor, category + dd.REDRAFT_NOTE)
            if answer is None:
                return False
        approved_at = moments[-1]
        if not life.step(
            approved_at, Action.APPROVE, head, Role.HEAD, details={"answer_id": answer}
        ):
            return False
        answer.update(status=AnswerStatus.APPROVED, decided_at=approved_at, decided_by_id=head)
        row["answered_at"] = approved_at
        return True

    def _draft(self, life: Life, at: datetime, executor: int, text: str) -> dict[str, Any] | None:
        answer = {
            "author_id": executor,
            "organization_id": life.row["holder_organization_id"],
            "text": text,
            "status": AnswerStatus.SUBMITTED,
            "created_at": at,
            "decided_at": None,
            "decided_by_id": None,
            "remarks": None,
        }
        # The event's details name the answer; its id is filled in once the answers are in.
        if not life.step(
            at, Action.SUBMIT_DRAFT, executor, Role.EXECUTOR, details={"answer_id": answer}
        ):
            return None
        life.answers.append(answer)
        return answer

    def _author(self, life: Life, manner: dd.Manner) -> None:
        """The author's word: rework now and then, a rating (a low one escalates), or nothing."""
        w, rng, row = self.w, self.rng, life.row
        author = row["author_id"]
        answered = row["answered_at"]
        late = answered > row["answer_due_at"]
        if author is not None and row["rework_count"] == 0 and rng.random() < 0.035:
            at = answered + self._hours(6, 120)
            if not life.step(
                at,
                Action.RETURN_FOR_REWORK,
                author,
                Actor.AUTHOR,
                comment=rng.choice(dd.REWORK_COMMENTS),
                returned_from=ReturnedFrom.RESIDENT,
            ):
                return
            rework_due = at + timedelta(days=REWORK_DAYS)
            row.update(rework_count=1, answered_at=None)
            if rework_due > row["answer_due_at"]:
                row["answer_due_at"] = rework_due
            holder = row["holder_organization_id"]
            head = w.cast.pick(rng, holder, Role.HEAD)
            answer_at = at + timedelta(days=rng.uniform(1, 12))
            if not self._answer(life, at, answer_at, row["executor_id"], head, False):
                return
            answered = row["answered_at"]
        may_rate = author is not None or row["caller_email"] is not None
        if may_rate and rng.random() < (0.62 if author is not None else 0.35):
            weights = list(manner.scores)
            if late:
                weights = [
                    weights[0] * 1.8,
                    weights[1] * 1.5,
                    weights[2],
                    weights[3] * 0.6,
                    weights[4] * 0.4,
                ]
            score = rng.choices((1, 2, 3, 4, 5), weights)[0]
            higher = w.by_id[row["executor_organization_id"]].parent_id
            if score <= 2 and higher is not None and row["cycle"] > 1:
                score = 3  # one review cycle is enough for the demo
            at = answered + min(
                timedelta(hours=rng.expovariate(1 / 40)), timedelta(days=RATING_DAYS - 1)
            )
            via = RatingVia.LINK if author is None or rng.random() < 0.3 else RatingVia.CABINET
            comment = rng.choice(dd.LOW_COMMENTS if score <= 2 else dd.HIGH_COMMENTS)
            self._rate(life, at, score, via, comment, higher if score <= 2 else None)
        else:
            at = answered + timedelta(days=RATING_DAYS) + self._hours(0.02, 1)
            if life.step(at, Action.CLOSE_UNRATED, None, Actor.SYSTEM):
                row["closed_at"] = at

    def _rate(
        self,
        life: Life,
        at: datetime,
        score: int,
        via: RatingVia,
        comment: str | None,
        higher: int | None,
    ) -> None:
        row = life.row
        if at >= life.horizon:
            life.stopped = True
            return
        life.rating = {
            "author_id": row["author_id"],
            "organization_id": row["executor_organization_id"],
            "score": score,
            "comment": comment,
            "via": via,
            "created_at": at,
        }
        details: dict[str, Any] = {"score": score, "via": via.value}
        actor = row["author_id"]
        if higher is None:
            if score <= 2:
                details["no_higher_organization"] = True
            life.step(at, Action.RATE, actor, Actor.AUTHOR, comment=comment, details=details)
            row["closed_at"] = at
            return
        review = self._review(life, at, higher)
        details.update(higher_organization_id=higher, review_appeal_id=review)
        life.step(at, Action.ESCALATE, actor, Actor.AUTHOR, comment=comment, details=details)
        row["closed_at"] = at
        self._work(review, at + self._hours(1, 48))
        _flags(review)

    def _review(self, life: Life, at: datetime, higher: int) -> Life:
        """The new cycle at the higher organization, as rating.py opens it."""
        row = life.row
        due = deadlines.compute_deadlines(at, row["term_days"])
        copied = {
            name: row[name]
            for name in (
                "submitted_by_id",
                "author_id",
                "caller_name",
                "caller_phone",
                "caller_email",
                "channel",
                "widget_organization_id",
                "subcategory_id",
                "text",
                "address",
                "territory_id",
                "region_id",
                "applicant_region_id",
                "fast_track",
                "term_days",
            )
        }
        review = Life(
            _appeal_row(
                **copied,
                executor_organization_id=higher,
                holder_organization_id=higher,
                arrival=Arrival.FROM_LOWER,
                registered_at=at,
                answer_due_at=due.answer_due_at,
                coordination_due_at=due.coordination_due_at,
                original_answer_due_at=due.answer_due_at,
                cycle=row["cycle"] + 1,
            ),
            life.horizon,
            review_of=life,
        )
        life.review = review
        self.lives.append(review)
        life.hand_off(
            at, higher, HandoffKind.ESCALATION, row["author_id"], Relation.HIGHER, ESCALATION_REASON
        )
        # hand_off moved the holder; the rated message stays where it was answered.
        life.row["holder_organization_id"] = row["executor_organization_id"]
        review.step(
            at,
            "escalation_received",
            None,
            Actor.SYSTEM,
            target=AppealState.ASSIGNMENT,
            organization_id=higher,
            details={"review_of_id": life},
        )
        return review

    # the year -----------------------------------------------------------------------------

    def year(self, today: date, per_year: int) -> None:
        """About `per_year` messages over the DAYS days before `today`."""
        w, rng = self.w, self.rng
        first = today - timedelta(days=DAYS)
        days = [first + timedelta(days=i) for i in range(DAYS)]
        month_load = {m: sum(t.weight * t.season[m - 1] for t in dd.TOPICS) for m in range(1, 13)}
        raw = [
            (0.75 + 0.5 * i / DAYS) * WEEKDAYS[day.weekday()] * month_load[day.month]
            for i, day in enumerate(days)
        ]
        scale = per_year / sum(raw)
        places = list(dd.PLACES)
        place_weights = [p.weight for p in places]
        n = 0
        for day, load in zip(days, raw, strict=True):
            expected = load * scale * rng.uniform(0.75, 1.25)
            count = int(expected) + (1 if rng.random() < expected % 1 else 0)
            topics = list(dd.TOPICS)
            topic_weights = [t.weight * t.season[day.month - 1] for t in topics]
            for _ in range(count):
                hour = rng.choices(range(24), HOURS)[0]
                local = datetime.combine(day, time(hour, rng.randrange(60)), w.tz)
                place = rng.choices(places, place_weights)[0]
                topic = rng.choices(topics, topic_weights)[0]
                n += 1
                self.message(n, local.astimezone(UTC), place, topic)


def _category(world: World, row: dict[str, Any]) -> str:
    code = next(c for c, s in world.subcategories.items() if s.id == row["subcategory_id"])
    return code.split(".")[0]


def _flags(life: Life) -> None:
    """What the deadline sweep would have marked: soon due and overdue while still open."""
    row = life.row
    if row["state"] == AppealState.REJECTED:
        return
    left_open = None if row["state"] in OPEN_STATES else (row["answered_at"] or row["closed_at"])
    due = row["answer_due_at"]
    for name, moment in (
        ("soon_due_flagged_at", due - timedelta(hours=48)),
        ("overdue_flagged_at", due),
    ):
        if moment < life.horizon and (left_open is None or left_open > moment):
            row[name] = moment + timedelta(minutes=1)


# --- writing ------------------------------------------------------------------------------------


def _resolve(value: Any) -> Any:
    """An event's details may name an answer or a message not yet inserted: use their ids."""
    if isinstance(value, Life):
        return value.id
    if isinstance(value, dict) and "author_id" in value and "status" in value:
        return value["id"]
    return value


def _insert(model: type, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` with one executemany (pipelined by psycopg; measured faster here than
    multi-row VALUES, whose compilation costs more than the round trips it saves)."""
    if rows:
        db.session.execute(sa.insert(model.__table__), rows)


def _select_in(query_for: Callable[[list[int]], sa.Select], ids: list[int]) -> list[Any]:
    """The rows of `query_for(some ids)` over many ids, a slice of them at a time."""
    found: list[Any] = []
    for start in range(0, len(ids), 900):
        found += db.session.execute(query_for(ids[start : start + 900])).all()
    return found


def _reviews_of(ids: list[int]) -> sa.Select:
    return sa.select(Appeal.review_of_id, Appeal.id).where(Appeal.review_of_id.in_(ids))


def _answers_of(ids: list[int]) -> sa.Select:
    return (
        sa.select(AppealAnswer.appeal_id, AppealAnswer.id)
        .where(AppealAnswer.appeal_id.in_(ids))
        .order_by(AppealAnswer.appeal_id, AppealAnswer.created_at, AppealAnswer.id)
    )


def _write(lives: list[Life]) -> dict[str, int]:
    firsts = [life for life in lives if life.review_of is None]
    _insert(Appeal, [life.row for life in firsts])
    keys = dict(
        db.session.execute(
            sa.select(Appeal.submission_key, Appeal.id).where(
                Appeal.submission_key.like(f"{KEY_PREFIX}%")
            )
        ).all()
    )
    for life in firsts:
        life.id = keys[life.row["submission_key"]]
    reviews = [life for life in lives if life.review_of is not None]
    for life in reviews:  # a review's form key is made from the rated message's id, as in rating.py
        life.row.update(
            submission_key=f"review-of-{life.review_of.id}", review_of_id=life.review_of.id
        )
    _insert(Appeal, [life.row for life in reviews])
    found = dict(_select_in(_reviews_of, [life.review_of.id for life in reviews]))
    for life in reviews:
        life.id = found[life.review_of.id]

    _insert(
        AppealAnswer,
        [{"appeal_id": life.id, **answer} for life in lives for answer in life.answers],
    )
    stored: dict[int, list[int]] = defaultdict(list)
    for appeal_id, answer_id in _select_in(_answers_of, [life.id for life in lives]):
        stored[appeal_id].append(answer_id)
    for life in lives:
        for answer, answer_id in zip(life.answers, stored[life.id], strict=True):
            answer["id"] = answer_id

    events = [
        {
            **event,
            "appeal_id": life.id,
            "details": {k: _resolve(v) for k, v in event["details"].items()},
        }
        for life in lives
        for event in life.events
    ]
    _insert(AppealEvent, events)
    _insert(AppealHandoff, [{**h, "appeal_id": life.id} for life in lives for h in life.handoffs])
    _insert(AppealRating, [{**life.rating, "appeal_id": life.id} for life in lives if life.rating])
    return {
        "history_appeals": len(firsts),
        "history_reviews": len(reviews),
        "history_events": len(events),
    }


def _widgets(world: World, lives: list[Life], today: date) -> int:
    """Each widget's settings and its daily use on its site: views, logins, the messages sent
    through it (counted from the history, so both agree); rows written."""
    rng = world.rng
    sent: Counter[tuple[int, date]] = Counter(
        (life.row["widget_organization_id"], life.row["registered_at"].date())
        for life in lives
        if life.review_of is None and life.row["widget_organization_id"] is not None
    )
    have = set(db.session.scalars(sa.select(WidgetSettings.organization_id)))
    settings, days = [], []
    for slug, design in dd.WIDGET_SITES.items():
        organization = world.organizations[slug]
        organization_id = organization.id
        since = world.widget_since[organization_id]
        if organization_id in have:
            continue  # set up by someone already: its statistics are its own
        settings.append(
            {
                "organization_id": organization_id,
                "kind": WidgetKind.MESSAGE,
                "design": BannerDesign(design),
                "site_url": organization.website,
                "code_generated_at": since,
                "updated_at": since,
                "updated_by_id": None,
                "created_at": since,
            }
        )
        day = since.date()
        while day < today:
            messages = sent[(organization_id, day)]
            views = int(rng.randint(15, 90) * WEEKDAYS[day.weekday()]) + 12 * messages
            days.append(
                {
                    "organization_id": organization_id,
                    "site": organization.website or "",
                    "day": day,
                    "views": views,
                    "logins": messages + rng.randint(0, 3),
                    "messages": messages,
                    "survey_responses": 0,
                    "ballots": 0,
                }
            )
            day += timedelta(days=1)
    _insert(WidgetSettings, settings)
    _insert(WidgetSiteDay, days)
    return len(days)


# --- the entry point ----------------------------------------------------------------------------


def history_exists() -> bool:
    return (
        db.session.scalar(
            sa.select(Appeal.id).where(Appeal.submission_key.like(f"{KEY_PREFIX}%")).limit(1)
        )
        is not None
    )


def seed_history(today: date | None = None, per_year: int = MESSAGES_PER_YEAR) -> dict[str, int]:
    """The demo region's year of messages up to the start of `today` (local), then the rollup.

    Nothing is added when the history is there already or the demo region is missing.
    """
    region = db.session.scalar(sa.select(Territory).where(Territory.oktmo == data.BASHKORTOSTAN))
    organizations = _organizations()
    if region is None or history_exists() or not all(s in organizations for s in dd.MANNERS):
        return {"history_appeals": 0}
    tz = ZoneInfo(region.timezone)
    today = today or datetime.now(tz).date()
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    territories = list(db.session.scalars(sa.select(Territory)))
    by_oktmo = {t.oktmo: t for t in territories}
    places = {p.oktmo: by_oktmo[p.oktmo] for p in dd.PLACES}
    subcategories = {
        s.code: s
        for s in db.session.scalars(
            sa.select(Subcategory).where(Subcategory.code.in_([t.code for t in dd.TOPICS]))
        )
    }
    residents = _residents(rng, places)
    _staff(rng, organizations)
    rules = _routing_rules(organizations, places, subcategories)
    cast = Cast()
    centre = organizations["rb-cur"]
    operator = organizations["operator"]
    world = World(
        rng=rng,
        horizon=datetime.combine(today, time(), tz).astimezone(UTC),
        tz=tz,
        region=region,
        organizations=organizations,
        by_id={o.id: o for o in organizations.values()},
        places=places,
        chains={t.id: [t.id, *(a.id for a in t.ancestors())] for t in places.values()},
        subcategories=subcategories,
        terms={s.id: tuple(answer_term(s, region)) for s in subcategories.values()},
        rules=rules,
        residents=residents,
        cast=cast,
        moderators=cast.people[(operator.id, Role.MODERATOR)],
        centre_id=centre.id,
        centre_coordinators=cast.people[(centre.id, Role.COORDINATOR)],
        call_operators=cast.people[(centre.id, Role.OPERATOR)],
        operator_id=operator.id,
        widget_since={
            organizations[slug].id: datetime.combine(
                today - timedelta(days=DAYS - rng.randint(0, 150)), time(9), tz
            ).astimezone(UTC)
            for slug in dd.WIDGET_SITES
        },
    )
    planner = Planner(world)
    planner.year(today, per_year)
    counts = _write(planner.lives)
    counts["history_widget_days"] = _widgets(world, planner.lives, today)
    rebuild()
    return counts
