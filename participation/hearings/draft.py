"""Splitting the text of a draft act into sections and numbered paragraphs.

The organizer pastes the text as it is written in the act. Recognised:
- section headings: lines starting with «Раздел», «Глава» or «Статья» and a number, or with «#»;
- numbered paragraphs: lines starting with «1.», «1.1», «2.3.1.» or «4)» and then the text;
- other lines continue the paragraph above; an empty line ends it, and a following
  unnumbered line becomes a paragraph of its own, numbered automatically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from participation.core.errors import FieldError

SECTION_RE = re.compile(
    r"^(?:(?:раздел|глава|статья)\s+(?:\d+|[IVXLC]+)\b.*|#+\s*(?P<hash>\S.*))$", re.IGNORECASE
)
PARAGRAPH_RE = re.compile(r"^(?P<number>\d{1,4}(?:\.\d{1,4}){0,5})[.)]?\s+(?P<text>\S.*)$")
DEFAULT_SECTION = "Вводная часть"
MAX_PARAGRAPHS = 3000
MAX_PARAGRAPH_CHARS = 20000
MAX_TITLE_CHARS = 500


@dataclass
class ParsedParagraph:
    number: str | None
    lines: list[str]
    line_no: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


@dataclass
class ParsedSection:
    title: str
    paragraphs: list[ParsedParagraph] = field(default_factory=list)


def split_draft(
    text: str, field_name: str = "draft_text"
) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(section title, [(paragraph number, paragraph text), …]), …]; FieldError if unusable."""
    sections: list[ParsedSection] = []
    current: ParsedParagraph | None = None

    def section() -> ParsedSection:
        if not sections:
            sections.append(ParsedSection(DEFAULT_SECTION))
        return sections[-1]

    for line_no, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        heading = SECTION_RE.match(line)
        if heading:
            title = (heading.group("hash") or line).strip()
            if len(title) > MAX_TITLE_CHARS:
                raise FieldError(
                    field_name,
                    _(
                        "Заголовок в строке %(line)d длиннее %(max)d знаков.",
                        line=line_no,
                        max=MAX_TITLE_CHARS,
                    ),
                )
            sections.append(ParsedSection(title))
            current = None
            continue
        numbered = PARAGRAPH_RE.match(line)
        if numbered:
            current = ParsedParagraph(numbered.group("number"), [numbered.group("text")], line_no)
            section().paragraphs.append(current)
        elif current is not None:
            current.lines.append(line)
        else:
            current = ParsedParagraph(None, [line], line_no)
            section().paragraphs.append(current)

    return _numbered(sections, field_name)


def _numbered(
    sections: list[ParsedSection], field_name: str
) -> list[tuple[str, list[tuple[str, str]]]]:
    sections = [s for s in sections if s.paragraphs]
    total = sum(len(s.paragraphs) for s in sections)
    if total == 0:
        raise FieldError(
            field_name,
            _("В тексте проекта нет ни одного пункта. Вставьте текст проекта целиком."),
        )
    if total > MAX_PARAGRAPHS:
        raise FieldError(
            field_name,
            _("В проекте больше %(max)d пунктов: разделите его на части.", max=MAX_PARAGRAPHS),
        )
    seen: dict[str, int] = {}
    for paragraph in (p for s in sections for p in s.paragraphs):
        if paragraph.number is None:
            continue
        if paragraph.number in seen:
            raise FieldError(
                field_name,
                _(
                    "Пункт %(number)s встречается дважды (строки %(first)d и %(second)d). "
                    "Номера пунктов не должны повторяться.",
                    number=paragraph.number,
                    first=seen[paragraph.number],
                    second=paragraph.line_no,
                ),
            )
        seen[paragraph.number] = paragraph.line_no
    result = []
    for s_index, parsed in enumerate(sections, start=1):
        items = []
        for p_index, paragraph in enumerate(parsed.paragraphs, start=1):
            if len(paragraph.text) > MAX_PARAGRAPH_CHARS:
                raise FieldError(
                    field_name,
                    _(
                        "Пункт в строке %(line)d длиннее %(max)d знаков: разбейте его на части.",
                        line=paragraph.line_no,
                        max=MAX_PARAGRAPH_CHARS,
                    ),
                )
            number = paragraph.number
            if number is None:
                # Unnumbered text (a preamble, an act without numbering) gets «раздел.абзац».
                base = f"{s_index}.{p_index}" if len(sections) > 1 else str(p_index)
                number, k = base, 1
                while number in seen:
                    k += 1
                    number = f"{base}-{k}"
                seen[number] = paragraph.line_no
            items.append((number, paragraph.text))
        result.append((parsed.title, items))
    return result
