"""Users (residents, legal-entity representatives, staff) and their roles in organizations."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.core.db import Base, TimestampMixin, str_enum
from participation.core.organizations import Organization
from participation.core.territories import Territory


class UserKind(enum.StrEnum):
    PERSON = "person"
    LEGAL_REP = "legal_rep"  # представитель юридического лица
    # An organization's API key acting as a named member (participation/api): no ESIA account,
    # never logs in through a browser, holds the roles its key's scopes allow.
    TECHNICAL = "technical"


class AccountLevel(enum.StrEnum):
    """ESIA account levels, weakest first."""

    SIMPLIFIED = "simplified"
    STANDARD = "standard"
    CONFIRMED = "confirmed"

    @property
    def rank(self) -> int:
        return list(AccountLevel).index(self)


class Gender(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    MODERATOR = "moderator"
    COORDINATOR = "coordinator"
    EXECUTOR = "executor"
    HEAD = "head"
    CURATOR = "curator"
    OPERATOR = "operator"  # оператор приёма (например, контакт-центр 122)
    # Уполномоченный региональный: held in a regional body (РОИВ); runs its body's votes,
    # surveys and hearings and oversees those of the municipal bodies of its region.
    REGIONAL_AUTHORIZED = "regional_authorized"
    # Уполномоченный муниципальный: runs the votes, surveys and hearings of its own body. The
    # value predates the split and keeps meaning the own-organization (municipal) official.
    AUTHORIZED = "authorized"
    VOLUNTEER = "volunteer"


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UserKind] = mapped_column(str_enum(UserKind, "kind"), default=UserKind.PERSON)
    esia_oid: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    last_name: Mapped[str] = mapped_column(sa.String(100))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    birth_date: Mapped[date | None]
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender, "gender"))
    account_level: Mapped[AccountLevel] = mapped_column(
        str_enum(AccountLevel, "account_level"), default=AccountLevel.SIMPLIFIED
    )
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    registration_territory_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("territories.id"), index=True
    )
    registration_address: Mapped[str | None] = mapped_column(sa.String(500))
    # Legal-entity representatives act for one organization of their own.
    legal_entity_name: Mapped[str | None] = mapped_column(sa.String(300))
    legal_entity_ogrn: Mapped[str | None] = mapped_column(sa.String(15))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Bumped on logout: a copied session cookie then stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    esia_synced_at: Mapped[datetime | None]

    registration_territory: Mapped[Territory | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "kind <> 'legal_rep' OR legal_entity_name IS NOT NULL", name="legal_rep_has_entity"
        ),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.middle_name) if p)
        return f"{self.last_name} {initials}".strip()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:  # Flask-Login: the version makes old cookies invalid
        return f"{self.id}:{self.session_version}"

    def roles_in(self, organization_id: int) -> set[Role]:
        return {m.role for m in self.memberships if m.organization_id == organization_id}

    def has_role(self, role: Role, organization_id: int | None = None) -> bool:
        return any(
            m.role == role and (organization_id is None or m.organization_id == organization_id)
            for m in self.memberships
        )

    @property
    def is_technical(self) -> bool:
        return self.kind == UserKind.TECHNICAL

    @property
    def is_staff(self) -> bool:
        # The per-request loader reads whether memberships exist with the row itself
        # (has_memberships), so a resident's page never loads the (empty) collection.
        if "memberships" in self.__dict__ or "has_memberships" not in self.__dict__:
            return bool(self.memberships)
        return self.has_memberships

    def organizations(self) -> list[Organization]:
        seen: dict[int, Organization] = {}
        for m in self.memberships:
            seen.setdefault(m.organization_id, m.organization)
        return list(seen.values())


class Membership(TimestampMixin, Base):
    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship()

    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id", "role"),)


# Whether the person holds any role: loaded only where asked for (undefer), by the session
# loader of every request (participation.auth.sessions.load_user) with the user's row.
User.has_memberships = sa.orm.column_property(
    sa.exists().where(Membership.user_id == User.id), deferred=True
)
