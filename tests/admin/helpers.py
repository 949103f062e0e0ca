"""Organization profiles for tests: a small PNG logo and a filled-in profile."""

from __future__ import annotations

import io

from PIL import Image

from participation.admin.services import ProfileData, save_profile
from participation.core.organizations import Organization
from participation.core.users import User


def png(size: tuple[int, int] = (64, 64), colour: str = "#0b4dad") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def give_profile(organization: Organization, actor: User, *, logo: bool = True) -> Organization:
    """Fill in the organization's profile (with a logo) as its administrator would."""
    save_profile(
        organization,
        actor,
        ProfileData(
            name=organization.name,
            short_name=organization.short_name or "Администрация (кратко)",
            address="450098, г. Уфа, пр. Октября, д. 120",
            phone="+7 (347) 279-05-05",
            email="priemnaya@ufacity.example",
            website="https://ufacity.example",
            social_links="https://vk.com/ufacity\nhttps://t.me/ufacity",
            working_hours="Пн–чт 9:00–18:00\nПт 9:00–16:45",
        ),
        logo=io.BytesIO(png()) if logo else None,
        logo_name="герб.png" if logo else None,
    )
    return organization


def assert_card(html: str, organization: Organization) -> None:
    """The page shows the organization's card: logo with alt text, name, contacts, hours."""
    assert f'data-org-card="{organization.id}"' in html
    assert f"/organizations/{organization.id}/logo/{organization.logo_id}" in html
    assert f'alt="Логотип: {organization.short_name}"' in html
    assert 'href="tel:+73472790505"' in html and "priemnaya@ufacity.example" in html
    assert ">ВКонтакте<" in html and ">Telegram<" in html
    assert "Пн–чт 9:00–18:00" in html
