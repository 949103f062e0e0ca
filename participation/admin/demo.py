"""Demo organization profiles: contacts, official pages, working hours and, for Уфа, a logo.

`seed_profiles_demo()` is called by `flask demo seed`. A profile is filled in only where the
organization has none yet (no phone, pages, hours or logo), so a second run changes nothing
and what an administrator typed in the demo is kept. Бирск stays without a profile: filling it
in is part of the demo's path for a new organization.
"""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from participation.admin.services import ProfileData, save_profile
from participation.core.organizations import Organization
from participation.core.users import Membership, Role, User
from participation.demo import data
from participation.extensions import db

FONT = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans-Bold.ttf"

# slug → (phone, official pages, working hours, logo letters or None)
PROFILES: dict[str, tuple[str, tuple[str, ...], str, str | None]] = {
    "ufa-admin": (
        "+7 (347) 279-05-05",
        ("https://vk.com/ufacity", "https://ok.ru/ufacity", "https://t.me/ufacity"),
        "Пн–чт 9:00–18:00, пт 9:00–16:45, обед 13:00–13:48\n"
        "Приём граждан: вторник 14:00–17:00, каб. 101",
        "УФА",
    ),
    "rb-government": (
        "+7 (347) 280-80-80",
        ("https://vk.com/bashkortostan", "https://t.me/bashkortostan"),
        "Пн–чт 9:00–18:00, пт 9:00–16:45",
        None,
    ),
    "ufa-lyceum-1": (
        "+7 (347) 222-11-11",
        ("https://vk.com/lyceum1ufa",),
        "Пн–пт 8:00–17:00, сб 8:00–13:00",
        None,
    ),
    "sterlitamak-admin": (
        "+7 (3473) 25-19-19",
        ("https://vk.com/sterlitamak",),
        "Пн–чт 9:00–18:00, пт 9:00–16:45",
        None,
    ),
}


def logo_png(letters: str, colour: str = "#0b4dad") -> bytes:
    """A small square logo: letters on a shield-blue ground (made at seed time, no file kept)."""
    image = Image.new("RGB", (128, 128), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 123, 123), radius=18, fill=colour)
    draw.ellipse((20, 20, 107, 107), outline="white", width=4)
    font = ImageFont.truetype(FONT, 26)
    draw.text((64, 64), letters, font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _organization(slug: str) -> Organization | None:
    record = next(o for o in data.ORGANIZATIONS if o["slug"] == slug)
    return db.session.scalar(sa.select(Organization).where(Organization.name == record["name"]))


def _administrator(organization: Organization) -> User | None:
    return db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id == organization.id,
            Membership.role == Role.ADMINISTRATOR,
        )
        .order_by(User.id)
        .limit(1)
    )


def seed_profiles_demo() -> int:
    """Fill in the demo organizations' profiles that are still empty; how many were filled."""
    filled = 0
    for slug, (phone, pages, hours, letters) in PROFILES.items():
        organization = _organization(slug)
        if organization is None:
            continue
        if organization.phone or organization.social_links or organization.working_hours:
            continue
        if organization.logo_id is not None:
            continue
        actor = _administrator(organization)
        save_profile(
            organization,
            actor,
            ProfileData(
                name=organization.name,
                short_name=organization.short_name,
                address=organization.address,
                phone=phone,
                email=organization.email,
                website=organization.website,
                social_links=list(pages),
                working_hours=hours,
            ),
            logo=io.BytesIO(logo_png(letters)) if letters else None,
            logo_name=f"logo-{slug}.png" if letters else None,
        )
        filled += 1
    return filled
