"""Russian plural forms are complete for every ngettext in the code; English is kept."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "participation" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
}


def _catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def _plural_msgids_in_code() -> set[str]:
    method_map = [("participation/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        if isinstance(message, tuple | list) and len(message) > 1 and message[1]:
            found.add(message[0])
    return found


def test_every_plural_in_the_code_has_three_russian_forms():
    ru = _catalogue("ru")
    incomplete = []
    for msgid in sorted(_plural_msgids_in_code()):
        entry = ru.get(msgid)
        if entry is None or not isinstance(entry.string, tuple) or not all(entry.string):
            incomplete.append(msgid)
    assert incomplete == [], "run `make messages` and fill the Russian plural forms"


def test_english_catalogue_is_kept():
    en = _catalogue("en")
    entries = [m for m in en if m.id]
    translated = [
        m for m in entries if (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert entries and len(translated) / len(entries) >= 0.95
