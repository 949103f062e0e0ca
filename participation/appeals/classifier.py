"""The national topic classifier: categories, subcategories, fast-track and its regional overrides.

One national classifier (the real platform has 31 categories and 314 subcategories) is edited by
administrators of the platform operator. Whether a subcategory is "fast-track" (answered in 10
days instead of 30) is a national default that each region may override for its own territory.
Moderators' corrections of the suggested topic are kept as `TopicCorrection` rows; the topic
suggester (suggest.py) learns from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from participation.core import audit
from participation.core.cache import Cached
from participation.core.db import Base, utcnow
from participation.core.errors import FieldError
from participation.core.organizations import Organization, OrganizationKind
from participation.core.territories import Territory, TerritoryLevel
from participation.core.users import Role, User
from participation.extensions import db

DEFAULT_TERM_DAYS = 30
DEFAULT_FAST_TRACK_DAYS = 10

CODE_MAX = 60
NAME_MAX = 200
KEYWORDS_MAX = 4000
KEYWORD_MAX = 100
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class Category(Base):
    __tablename__ = "appeal_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_MAX), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by every edit: the topic suggester rebuilds its profiles when it changes.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    subcategories: Mapped[list[Subcategory]] = relationship(
        back_populates="category", order_by="Subcategory.position, Subcategory.id"
    )

    def __repr__(self) -> str:
        return f"<Category {self.code}>"


class Subcategory(Base):
    __tablename__ = "appeal_subcategories"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("appeal_categories.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_MAX), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    position: Mapped[int] = mapped_column(default=0)
    fast_track: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Words and phrases residents use for this topic, one per line (topic suggestion).
    keywords: Mapped[str] = mapped_column(sa.Text, default="")
    # «Похожие сообщения рядом» look this far (metres); None: the platform's default (geo).
    nearby_radius_m: Mapped[int | None] = mapped_column(sa.Integer)
    # The topic's own answer term in days (a loaded classifier gives it); None: 30, or 10 for
    # fast-track (as configured). Never longer than those: see topic_term().
    term_days: Mapped[int | None] = mapped_column(sa.Integer)
    # «Благодарность»: a thanks to the organization, routed as any message but needing no
    # answer; analytics count it apart (reports: the `thanks` counter).
    thanks: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(back_populates="subcategories")

    __table_args__ = (
        sa.UniqueConstraint("category_id", "name"),
        sa.CheckConstraint(
            "nearby_radius_m IS NULL OR nearby_radius_m BETWEEN 1 AND 2000",
            name="nearby_radius_range",
        ),
        sa.CheckConstraint("term_days IS NULL OR term_days BETWEEN 1 AND 30", name="term_range"),
    )

    def __repr__(self) -> str:
        return f"<Subcategory {self.code}>"

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    @property
    def answer_days(self) -> int:
        """The national answer term of this topic in days (a region may change fast-track)."""
        return term_days(self.fast_track, self.term_days)

    @property
    def is_offered(self) -> bool:
        """Active itself and in an active category: residents may choose it."""
        return self.active and self.category.active


class RegionFastTrack(Base):
    """A region's own decision whether a subcategory is fast-track on its territory."""

    __tablename__ = "appeal_region_fast_tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    subcategory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appeal_subcategories.id"), index=True
    )
    fast_track: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    territory: Mapped[Territory] = relationship()
    subcategory: Mapped[Subcategory] = relationship()

    __table_args__ = (sa.UniqueConstraint("territory_id", "subcategory_id"),)


class TopicCorrection(Base):
    """A message text with the subcategory a moderator chose for it (and what was suggested)."""

    __tablename__ = "appeal_topic_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    suggested_subcategory_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appeal_subcategories.id")
    )
    chosen_subcategory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appeal_subcategories.id"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # No foreign key: the appeals table comes in a later migration.
    appeal_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    chosen_subcategory: Mapped[Subcategory] = relationship(foreign_keys=[chosen_subcategory_id])


# --- reading -------------------------------------------------------------------------------


def split_keywords(raw: str | None) -> list[str]:
    """Keyword phrases from the stored text (one per line; commas and semicolons also split)."""
    parts = re.split(r"[\n,;]+", raw or "")
    seen: dict[str, None] = {}
    for part in parts:
        phrase = " ".join(part.split())
        if phrase and phrase.lower() not in {p.lower() for p in seen}:
            seen[phrase] = None
    return list(seen)


def categories_with_subcategories(
    *, only_active: bool = True
) -> list[tuple[Category, list[Subcategory]]]:
    """Categories in display order, each with its subcategories in order (two queries)."""
    query = sa.select(Category).order_by(Category.position, Category.id)
    if only_active:
        query = query.where(Category.active.is_(True))
    categories = list(db.session.scalars(query.options(selectinload(Category.subcategories))))
    return [(c, [s for s in c.subcategories if s.active or not only_active]) for c in categories]


@dataclass(frozen=True)
class Topic:
    """A subcategory as a submission needs it (kept per process: see TOPICS)."""

    id: int
    name: str
    offered: bool  # active itself and in an active category
    fast_track: bool  # the national flag; a region may override it
    term_days: int | None = None  # the topic's own answer term (a loaded classifier)
    thanks: bool = False  # «Благодарность»: counted apart, never overdue


def _load_topics(session: Session) -> dict[int, Topic]:
    rows = session.execute(
        sa.select(
            Subcategory.id,
            Subcategory.name,
            Subcategory.active & Category.active,
            Subcategory.fast_track,
            Subcategory.term_days,
            Subcategory.thanks,
        ).join(Category)
    )
    return {
        i: Topic(i, name, bool(offered), fast, days, bool(thanks))
        for i, name, offered, fast, days, thanks in rows
    }


# Every subcategory by id: a submission checks and routes its topic without a query.
TOPICS = Cached("appeals.topics", _load_topics, watch=(Category, Subcategory))


def topic(subcategory_id: int) -> Topic | None:
    """The subcategory with this id (offered or not), from the per-process copy."""
    return TOPICS.get(db.session).get(subcategory_id)


def offered_subcategory_ids() -> set[int]:
    """Ids of subcategories residents may choose now (active, in an active category)."""
    return {t.id for t in TOPICS.get(db.session).values() if t.offered}


def subcategory_by_code(code: str) -> Subcategory | None:
    """The subcategory with this code, if any."""
    return db.session.scalar(sa.select(Subcategory).where(Subcategory.code == code))


# --- answer terms and fast-track ---------------------------------------------------------


def _region_of(territory: Territory | None) -> Territory | None:
    if territory is None:
        return None
    if territory.level == TerritoryLevel.REGION:
        return territory
    return territory.region()


def _config_days(name: str, default: int) -> int:
    if has_app_context():
        return int(current_app.config.get(name, default))
    return default


def _load_region_fast_tracks(session: Session) -> dict[tuple[int, int], bool]:
    rows = session.execute(
        sa.select(
            RegionFastTrack.territory_id, RegionFastTrack.subcategory_id, RegionFastTrack.fast_track
        )
    )
    return {(region_id, sub_id): fast for region_id, sub_id, fast in rows}


# (region id, subcategory id) → the region's own decision; a few rows per region at most.
REGION_FAST_TRACKS = Cached(
    "appeals.region_fast_tracks", _load_region_fast_tracks, watch=(RegionFastTrack,)
)


def region_fast_track(region_id: int | None, subcategory_id: int, national: bool) -> bool:
    """Fast-track in the region with this id: its override wins over the national flag."""
    if region_id is None:
        return national
    override = REGION_FAST_TRACKS.get(db.session).get((region_id, subcategory_id))
    return national if override is None else override


def is_fast_track(subcategory: Subcategory, region_territory: Territory | None) -> bool:
    """Fast-track in this region: the region's override wins over the national flag."""
    region = _region_of(region_territory)
    return region_fast_track(region.id if region else None, subcategory.id, subcategory.fast_track)


class AnswerTerm(NamedTuple):
    fast_track: bool
    days: int


def term_days(fast_track: bool, own: int | None = None) -> int:
    """Days to answer a message: 30, or 10 for fast-track (as configured); a topic's own
    shorter term (`own`, from a loaded classifier) wins, a longer one never does."""
    if fast_track:
        default = _config_days("APPEALS_FAST_TRACK_DAYS", DEFAULT_FAST_TRACK_DAYS)
    else:
        default = _config_days("APPEALS_TERM_DAYS", DEFAULT_TERM_DAYS)
    return default if own is None else min(own, default)


def _own_term(national: bool, effective: bool, own: int | None) -> int | None:
    # The topic's own term was set for its national flag; a region that overrides the flag
    # gets that flag's default term instead.
    return own if national == effective else None


def answer_term(subcategory: Subcategory, region_territory: Territory | None) -> AnswerTerm:
    """Is a message on this subcategory fast-track in this region, and the days to answer it
    (30, or 10 for fast-track, as configured; the topic's own term if shorter)."""
    fast_track = is_fast_track(subcategory, region_territory)
    own = _own_term(subcategory.fast_track, fast_track, subcategory.term_days)
    return AnswerTerm(fast_track, term_days(fast_track, own))


def topic_term(topic: Topic, region_id: int | None) -> AnswerTerm:
    """answer_term() for a cached topic in the region with this id (no query once loaded)."""
    fast_track = region_fast_track(region_id, topic.id, topic.fast_track)
    own = _own_term(topic.fast_track, fast_track, topic.term_days)
    return AnswerTerm(fast_track, term_days(fast_track, own))


def fast_track_subcategory_ids(region_territory: Territory | None) -> set[int]:
    """Ids of all fast-track subcategories in this region (for clock icons in lists)."""
    national = set(db.session.scalars(sa.select(Subcategory.id).where(Subcategory.fast_track)))
    region = _region_of(region_territory)
    if region is None:
        return national
    overrides = db.session.execute(
        sa.select(RegionFastTrack.subcategory_id, RegionFastTrack.fast_track).where(
            RegionFastTrack.territory_id == region.id
        )
    )
    for subcategory_id, fast in overrides:
        if fast:
            national.add(subcategory_id)
        else:
            national.discard(subcategory_id)
    return national


def region_overrides(region: Territory) -> dict[int, bool]:
    """The region's overrides: subcategory id → fast-track or not."""
    rows = db.session.execute(
        sa.select(RegionFastTrack.subcategory_id, RegionFastTrack.fast_track).where(
            RegionFastTrack.territory_id == region.id
        )
    )
    return dict(rows.all())


# --- seeding and corrections ---------------------------------------------------------------


def seed_classifier() -> int:
    """Add what is missing of the seed classifier (matched by code); return the rows created.

    Existing rows are never changed, so administrators' edits survive a re-seed. The caller
    commits.
    """
    from participation.appeals.classifier_data import CLASSIFIER

    existing_categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
    existing_subcategories = set(db.session.scalars(sa.select(Subcategory.code)))
    created = 0
    for position, record in enumerate(CLASSIFIER, start=1):
        category = existing_categories.get(record["code"])
        if category is None:
            category = Category(code=record["code"], name=record["name"], position=position)
            db.session.add(category)
            created += 1
        for sub_position, sub in enumerate(record["subcategories"], start=1):
            if sub["code"] in existing_subcategories:
                continue
            db.session.add(
                Subcategory(
                    category=category,
                    code=sub["code"],
                    name=sub["name"],
                    position=sub_position,
                    fast_track=sub.get("fast_track", False),
                    thanks=sub.get("thanks", False),
                    keywords="\n".join(sub.get("keywords", ())),
                )
            )
            existing_subcategories.add(sub["code"])
            created += 1
    db.session.flush()
    return created


def record_correction(
    text: str,
    suggested_subcategory_id: int | None,
    chosen_subcategory_id: int,
    user_id: int | None,
    appeal_id: int | None,
) -> TopicCorrection:
    """Remember the subcategory a moderator chose for a text; later suggestions learn from it."""
    if db.session.get(Subcategory, chosen_subcategory_id) is None:
        raise FieldError("subcategory_id", _l("Выберите подкатегорию из списка."))
    correction = TopicCorrection(
        text=text.strip()[:10_000],
        suggested_subcategory_id=suggested_subcategory_id,
        chosen_subcategory_id=chosen_subcategory_id,
        user_id=user_id,
        appeal_id=appeal_id,
    )
    db.session.add(correction)
    db.session.flush()
    return correction


# --- administration ------------------------------------------------------------------------


def _clean_name(name: str | None, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FieldError(field, _l("Укажите название."))
    if len(name) > NAME_MAX:
        raise FieldError(field, _l("Название не длиннее %(max)d символов.", max=NAME_MAX))
    return name


def _clean_code(code: str | None, model: type[Category] | type[Subcategory]) -> str:
    code = (code or "").strip().lower()
    if not code:
        raise FieldError("code", _l("Укажите код."))
    if len(code) > CODE_MAX:
        raise FieldError("code", _l("Код не длиннее %(max)d символов.", max=CODE_MAX))
    if not CODE_PATTERN.fullmatch(code):
        raise FieldError(
            "code",
            _l(
                "Код состоит из латинских строчных букв, цифр и знака подчёркивания, "
                "начинается с буквы; части разделяются точкой (например, roads.potholes)."
            ),
        )
    if db.session.scalar(sa.select(model.id).where(model.code == code)) is not None:
        raise FieldError("code", _l("Код «%(code)s» уже занят.", code=code))
    return code


def _clean_keywords(raw: str | None) -> str:
    raw = raw or ""
    if len(raw) > KEYWORDS_MAX:
        raise FieldError(
            "keywords", _l("Ключевые слова: не больше %(max)d символов всего.", max=KEYWORDS_MAX)
        )
    phrases = split_keywords(raw)
    too_long = [p for p in phrases if len(p) > KEYWORD_MAX]
    if too_long:
        raise FieldError(
            "keywords",
            _l(
                "Фраза «%(phrase)s…» слишком длинная: не больше %(max)d символов в строке.",
                phrase=too_long[0][:30],
                max=KEYWORD_MAX,
            ),
        )
    return "\n".join(phrases)


def _category_name_taken(name: str, except_id: int | None = None) -> bool:
    # Compared in Python: SQLite's lower() folds only ASCII letters, not Cyrillic.
    rows = db.session.execute(sa.select(Category.id, Category.name))
    return any(n.casefold() == name.casefold() and i != except_id for i, n in rows)


def _subcategory_name_taken(category_id: int, name: str, except_id: int | None = None) -> bool:
    rows = db.session.execute(
        sa.select(Subcategory.id, Subcategory.name).where(Subcategory.category_id == category_id)
    )
    return any(n.casefold() == name.casefold() and i != except_id for i, n in rows)


def _insert_unique(row: Category | Subcategory, code: str) -> None:
    """Insert; a concurrent insert of the same code or name becomes a field error."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise FieldError(
            "code", _l("Код «%(code)s» или название уже заняты. Обновите страницу.", code=code)
        ) from None


def create_category(code: str, name: str, actor: User) -> Category:
    """Add a category at the end of the list."""
    code = _clean_code(code, Category)
    name = _clean_name(name)
    if _category_name_taken(name):
        raise FieldError("name", _l("Категория «%(name)s» уже есть.", name=name))
    position = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Category.position), 0)))
    category = Category(code=code, name=name, position=position + 1)
    _insert_unique(category, code)
    audit.record("classifier.category_created", category, actor_id=actor.id, code=code, name=name)
    return category


def rename_category(category: Category, name: str, actor: User) -> Category:
    """Give a category a new name (messages keep their category; only the label changes)."""
    name = _clean_name(name)
    if _category_name_taken(name, except_id=category.id):
        raise FieldError("name", _l("Категория «%(name)s» уже есть.", name=name))
    old = category.name
    if name != old:
        category.name = name
        db.session.flush()
        audit.record("classifier.category_renamed", category, actor_id=actor.id, old=old, new=name)
    return category


def set_category_active(category: Category, active: bool, actor: User) -> Category:
    """Stop offering a category (with all its subcategories) or offer it again."""
    if category.active != active:
        category.active = active
        db.session.flush()
        action = "classifier.category_activated" if active else "classifier.category_deactivated"
        audit.record(action, category, actor_id=actor.id)
    return category


def create_subcategory(
    category: Category, code: str, name: str, fast_track: bool, keywords: str, actor: User
) -> Subcategory:
    """Add a subcategory at the end of a category."""
    code = _clean_code(code, Subcategory)
    name = _clean_name(name)
    keywords = _clean_keywords(keywords)
    if _subcategory_name_taken(category.id, name):
        raise FieldError(
            "name", _l("В этой категории уже есть подкатегория «%(name)s».", name=name)
        )
    position = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Subcategory.position), 0)).where(
            Subcategory.category_id == category.id
        )
    )
    subcategory = Subcategory(
        category_id=category.id,
        code=code,
        name=name,
        position=position + 1,
        fast_track=fast_track,
        keywords=keywords,
    )
    _insert_unique(subcategory, code)
    audit.record(
        "classifier.subcategory_created",
        subcategory,
        actor_id=actor.id,
        category_id=category.id,
        code=code,
        name=name,
        fast_track=fast_track,
    )
    return subcategory


def update_subcategory(
    subcategory: Subcategory, name: str, keywords: str, actor: User
) -> Subcategory:
    """Rename a subcategory and/or change its keywords."""
    name = _clean_name(name)
    keywords = _clean_keywords(keywords)
    if _subcategory_name_taken(subcategory.category_id, name, except_id=subcategory.id):
        raise FieldError(
            "name", _l("В этой категории уже есть подкатегория «%(name)s».", name=name)
        )
    changes: dict[str, Any] = {}
    if name != subcategory.name:
        changes["old_name"], changes["new_name"] = subcategory.name, name
        subcategory.name = name
    if keywords != subcategory.keywords:
        changes["keywords_changed"] = True
        subcategory.keywords = keywords
    if changes:
        db.session.flush()
        audit.record("classifier.subcategory_updated", subcategory, actor_id=actor.id, **changes)
    return subcategory


def rename_subcategory(subcategory: Subcategory, name: str, actor: User) -> Subcategory:
    """Give a subcategory a new name, keeping its keywords."""
    return update_subcategory(subcategory, name, subcategory.keywords, actor)


def set_subcategory_active(subcategory: Subcategory, active: bool, actor: User) -> Subcategory:
    """Stop offering a subcategory or offer it again."""
    if subcategory.active != active:
        subcategory.active = active
        db.session.flush()
        action = (
            "classifier.subcategory_activated" if active else "classifier.subcategory_deactivated"
        )
        audit.record(action, subcategory, actor_id=actor.id)
    return subcategory


def set_national_fast_track(subcategory: Subcategory, fast_track: bool, actor: User) -> Subcategory:
    """Make a subcategory fast-track nationally (10 days) or not (30 days)."""
    if subcategory.fast_track != fast_track:
        subcategory.fast_track = fast_track
        db.session.flush()
        audit.record(
            "classifier.fast_track_set", subcategory, actor_id=actor.id, fast_track=fast_track
        )
    return subcategory


def set_region_fast_track(
    region: Territory, subcategory: Subcategory, fast_track: bool | None, actor: User
) -> RegionFastTrack | None:
    """Set the region's own fast-track decision; None returns to the national setting."""
    if region.level != TerritoryLevel.REGION:
        raise FieldError("mode", _l("Особый порядок задаётся только для субъекта РФ."))
    query = sa.select(RegionFastTrack).where(
        RegionFastTrack.territory_id == region.id,
        RegionFastTrack.subcategory_id == subcategory.id,
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = db.session.scalar(query)
    before = None if row is None else row.fast_track
    if fast_track is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        row = RegionFastTrack(
            territory_id=region.id,
            subcategory_id=subcategory.id,
            fast_track=fast_track,
            updated_by_id=actor.id,
        )
        db.session.add(row)
    else:
        row.fast_track = fast_track
        row.updated_by_id = actor.id
    db.session.flush()
    if before != fast_track:
        audit.record(
            "classifier.region_fast_track_set",
            subcategory,
            actor_id=actor.id,
            territory_id=region.id,
            before=before,
            after=fast_track,
        )
    return None if fast_track is None else row


# --- permissions ---------------------------------------------------------------------------


def _is_administrator(user: Any, organization: Organization | None) -> bool:
    return bool(
        organization is not None
        and getattr(user, "is_authenticated", False)
        and user.has_role(Role.ADMINISTRATOR, organization.id)
    )


def can_edit_classifier(user: Any, organization: Organization | None) -> bool:
    """Administrators of the platform operator edit the national classifier."""
    return bool(
        _is_administrator(user, organization)
        and organization is not None
        and organization.kind == OrganizationKind.OPERATOR
    )


def can_set_region_fast_track(
    user: Any, organization: Organization | None, region: Territory | None
) -> bool:
    """The operator's administrators, or administrators of an organization of that very region
    (its territory is the region itself: the government, the ЦУР, a regional ministry)."""
    if region is None or region.level != TerritoryLevel.REGION:
        return False
    if can_edit_classifier(user, organization):
        return True
    return _is_administrator(user, organization) and organization.territory_id == region.id


def administered_region(user: Any, organization: Organization | None) -> Territory | None:
    """The region whose fast-track list this administrator may change, if any."""
    if not _is_administrator(user, organization) or organization is None:
        return None
    territory = organization.territory
    return territory if territory.level == TerritoryLevel.REGION else None
