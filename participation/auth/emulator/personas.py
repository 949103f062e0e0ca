"""The emulator's people (from the demo personas) and their data in ESIA's JSON shapes.

The emulator is the identity provider: what it says about a person comes from
`participation.demo.data`, never from the platform's users table. Values ESIA has but the demo
data lacks (mobile numbers, FIAS codes, staff addresses) are derived from the oid, so they are
the same on every run.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from typing import Any

from participation.core.users import AccountLevel, UserKind
from participation.demo import data

# Everyone logs in with this password (a development emulator; shown on its login page).
PASSWORD = "gosuslugi"  # noqa: S105

# Scopes the emulator understands; anything else in a request is refused as invalid_scope.
SUPPORTED_SCOPES = frozenset(
    {"openid", "fullname", "birthdate", "gender", "email", "mobile", "contacts", "addresses"}
    | {"usr_org", "snils", "id_doc"}
)

_REGION_CODES = {"Республика Башкортостан": "02", "Республика Татарстан": "16"}

# Staff personas carry only a territory; ESIA still knows where they are registered.
# OKTMO → (zip, region, municipal district or None, city, street).
_RB = "Республика Башкортостан"
_STAFF_ADDRESSES: dict[str, tuple[str, str, str | None, str, str]] = {
    data.UFA: ("450008", _RB, None, "Уфа", "ул. Пушкина"),
    data.STERLITAMAK: ("453100", _RB, None, "Стерлитамак", "ул. Худайбердина"),
    data.BIRSK_DISTRICT: ("452450", _RB, "Бирский район", "Бирск", "ул. Мира"),
}


def personas() -> list[dict[str, Any]]:
    """Everyone one can log in as: residents first, then staff, in the demo data's order."""
    return [*data.RESIDENTS, *data.STAFF]


def persona_by_slug(slug: str | None) -> dict[str, Any] | None:
    return data.PERSONAS.get(slug or "")


def persona_by_oid(oid: str) -> dict[str, Any] | None:
    return next((p for p in personas() if p["esia_oid"] == oid), None)


def persona_by_login(login: str, password: str) -> dict[str, Any] | None:
    """The persona whose e-mail (or demo slug) is `login`, if the password is right."""
    wanted = login.strip().casefold()
    if not wanted or password != PASSWORD:
        return None
    return next(
        (p for p in personas() if wanted in {p["email"].casefold(), p["slug"].casefold()}), None
    )


def _mobile(oid: str) -> str:
    return f"+7(917){int(oid) % 10**7:07d}"


def _etag(*parts: Any) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest().upper()  # noqa: S324


def person_json(persona: Mapping[str, Any], scopes: frozenset[str]) -> dict[str, Any]:
    """`GET /rs/prns/{oid}`: the fields the granted scopes allow.

    `trusted` marks a confirmed account; `rIdDoc` (the id of the verified identity document)
    appears only for standard and confirmed accounts — the relying party tells standard from
    simplified by it (see participation.auth.esia.account_level_from_person).
    """
    oid, level = persona["esia_oid"], AccountLevel(persona["account_level"])
    body: dict[str, Any] = {
        "stateFacts": ["EntityRoot"],
        "eTag": _etag(oid, level),
        "status": "REGISTERED",
        "trusted": level == AccountLevel.CONFIRMED,
        "verifying": False,
        "citizenship": "RUS",
    }
    if level.rank >= AccountLevel.STANDARD.rank:
        body["rIdDoc"] = int(oid) * 10 + 1
    if "fullname" in scopes:
        body["firstName"] = persona["first_name"]
        body["lastName"] = persona["last_name"]
        if persona["middle_name"]:
            body["middleName"] = persona["middle_name"]
    if "birthdate" in scopes:
        body["birthDate"] = persona["birth_date"].strftime("%d.%m.%Y")
    if "gender" in scopes:
        body["gender"] = str(persona["gender"])
    if "snils" in scopes and "rIdDoc" in body:
        n = int(oid) % 10**9
        body["snils"] = f"{n // 10**6:03d}-{n // 10**3 % 1000:03d}-{n % 1000:03d} {n % 97:02d}"
    return body


def _collection(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "stateFacts": ["hasSize"],
        "size": len(elements),
        "eTag": _etag(*(e["id"] for e in elements)),
        "elements": elements,
    }


def contacts_json(persona: Mapping[str, Any], scopes: frozenset[str]) -> dict[str, Any]:
    """`GET /rs/prns/{oid}/ctts?embed=(elements)`: EML and MBT contacts."""
    oid, elements = int(persona["esia_oid"]), []
    if scopes & {"email", "contacts"}:
        elements.append(
            {"id": oid * 100 + 1, "type": "EML", "vrfStu": "VERIFIED", "value": persona["email"]}
        )
    if scopes & {"mobile", "contacts"}:
        elements.append(
            {
                "id": oid * 100 + 2,
                "type": "MBT",
                "vrfStu": "VERIFIED",
                "value": _mobile(persona["esia_oid"]),
            }
        )
    for element in elements:
        element["stateFacts"] = ["Identifiable"]
        element["eTag"] = _etag(element["id"], element["value"])
    return _collection(elements)


def _fias_code(region: str, city: str, street: str) -> str:
    """A KLADR-shaped code (СС-Р-РРР-ГГГ-ППП-ВВВ-УУУУ-ДДДД-ККК) stable for the same address."""
    city_code = zlib.crc32(city.encode()) % 1000
    street_code = zlib.crc32(f"{city}/{street}".encode()) % 10000
    region_code = _REGION_CODES.get(region, "00")
    return f"{region_code}-0-000-{city_code:03d}-000-000-{street_code:04d}-0000-000"


def registration_address(persona: Mapping[str, Any]) -> dict[str, Any] | None:
    """The PRG address element, or None when ESIA knows no registration for the person."""
    address = persona.get("address")
    if address:
        zip_code, region, area, city = (
            address["zip_code"],
            address["region"],
            None,
            address["city"],
        )
        street, house, flat = address["street"], address["house"], address["flat"]
    elif persona["registration_territory"] in _STAFF_ADDRESSES:
        zip_code, region, area, city, street = _STAFF_ADDRESSES[persona["registration_territory"]]
        house, flat = str(int(persona["esia_oid"]) % 90 + 1), None
    else:
        return None
    place = ", ".join(p for p in (region, area, f"г. {city}", street) if p)
    element: dict[str, Any] = {
        "stateFacts": ["Identifiable"],
        "id": int(persona["esia_oid"]) * 100 + 11,
        "type": "PRG",
        "addressStr": place,
        "countryId": "RUS",
        "zipCode": zip_code,
        "region": region,
        "city": city,
        "street": street,
        "house": house,
        "fiasCode": _fias_code(region, city, street),
        "vrfStu": "VERIFIED",
    }
    if area:
        element["area"] = area
    if flat:
        element["flat"] = flat
    element["eTag"] = _etag(element["id"], place, house, flat)
    return element


def addresses_json(persona: Mapping[str, Any]) -> dict[str, Any]:
    """`GET /rs/prns/{oid}/addrs?embed=(elements)`: registration (PRG) address."""
    element = registration_address(persona)
    return _collection([element] if element else [])


def roles_json(persona: Mapping[str, Any]) -> dict[str, Any]:
    """`GET /rs/prns/{oid}/roles`: organizations the person may act for (legal entities)."""
    elements = []
    if persona["kind"] == UserKind.LEGAL_REP and persona.get("legal_entity_name"):
        elements.append(
            {
                "id": int(persona["esia_oid"]) * 100 + 21,
                "oid": int(persona["esia_oid"]) + 9_000_000,
                "fullName": persona["legal_entity_name"],
                "shortName": persona["legal_entity_name"],
                "ogrn": persona["legal_entity_ogrn"],
                "type": "LEGAL",
                "chief": True,
                "active": True,
                "hasRightOfSubstitution": True,
            }
        )
    return _collection(elements)
