"""Loading the classifier from a CSV file (`flask appeals import-classifier`).

A region loads the official national list as exported from Excel: UTF-8 with or without a BOM
(Windows-1251 is read too), `;` or `,` between values. One row per subcategory; categories and
subcategories are matched by their codes, so a new name under the same code is a rename.

The file is the whole classifier: what is in the database and not in the file is retired
(hidden from new messages' choices, kept for old messages and analytics), never deleted; a
retired one that comes back in the file is restored. An optional column left out of the file
leaves that attribute as it is. Everything is checked before anything is changed, and a real
run applies all of it in the caller's transaction or nothing (`ClassifierFileError`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from participation.appeals.classifier import (
    CODE_MAX,
    CODE_PATTERN,
    DEFAULT_FAST_TRACK_DAYS,
    DEFAULT_TERM_DAYS,
    KEYWORDS_MAX,
    NAME_MAX,
    Category,
    Subcategory,
    split_keywords,
)
from participation.core import audit
from participation.extensions import db

# The legal maximum of an answer term (59-ФЗ: 30 days) and of a fast-track one (10 days).
LEGAL_MAX_TERM_DAYS = DEFAULT_TERM_DAYS
LEGAL_MAX_FAST_TRACK_DAYS = DEFAULT_FAST_TRACK_DAYS

# Column → its header as written in the file, and the other headers accepted for it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "category_code": ("Код категории", "category_code"),
    "category": ("Категория", "category"),
    "code": ("Код подкатегории", "subcategory_code"),
    "name": ("Подкатегория", "subcategory"),
    "fast_track": ("Ускоренная", "Ускоренный срок", "fast_track"),
    "term_days": ("Срок ответа, дней", "Срок ответа", "term_days"),
    "keywords": ("Ключевые слова", "keywords"),
    "thanks": ("Благодарность", "thanks"),
}
REQUIRED = ("category_code", "category", "code", "name")
TITLES = {key: names[0] for key, names in COLUMNS.items()}
YES = {"да", "1", "true", "yes", "y", "+", "д"}
NO = {"нет", "0", "false", "no", "n", "-", "н", ""}


def _norm_header(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").strip().lower().replace("ё", "е").split())


HEADER_INDEX = {_norm_header(name): key for key, names in COLUMNS.items() for name in names}


class ClassifierFileError(Exception):
    """The file cannot be loaded; `errors` are Russian sentences, with line numbers."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Row:
    line: int
    category_code: str
    category: str
    code: str
    name: str
    fast_track: bool = False
    term_days: int | None = None
    keywords: str = ""
    thanks: bool = False


@dataclass
class ParsedFile:
    rows: list[Row]
    columns: set[str]  # the columns the file has (an absent optional one changes nothing)


@dataclass
class Change:
    kind: str  # add, rename, change, retire, restore
    level: str  # category, subcategory
    code: str
    text: str


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    rows: int = 0

    def count(self, kind: str, level: str | None = None) -> int:
        return sum(
            1 for c in self.changes if c.kind == kind and (level is None or c.level == level)
        )

    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in ("add", "rename", "change", "retire", "restore")}

    def summary(self) -> str:
        c = self.counts()
        return (
            f"строк в файле: {self.rows}; добавить: {c['add']}, переименовать: {c['rename']}, "
            f"изменить: {c['change']}, вывести из употребления: {c['retire']}, "
            f"восстановить: {c['restore']}"
        )

    def lines(self) -> list[str]:
        marks = {"add": "+", "rename": "~", "change": "*", "retire": "-", "restore": "↺"}
        return [f"{marks[c.kind]} {c.text}" for c in self.changes]


# --- reading the file -----------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's «CSV (разделители — точка с запятой)» on a Russian Windows writes cp1251.
        return data.decode("cp1251")


def _header_keys(cells: list[str]) -> list[str | None]:
    return [HEADER_INDEX.get(_norm_header(c)) for c in cells]


def _sniff(text: str) -> str:
    """The delimiter whose header splits into more known columns (`;` wins a tie)."""
    first = text.splitlines()[0] if text.strip() else ""
    best, best_known = ";", -1
    for delimiter in (";", ","):
        cells = next(csv.reader([first], delimiter=delimiter), [])
        known = sum(1 for k in _header_keys(cells) if k is not None)
        if known > best_known:
            best, best_known = delimiter, known
    return best


def _flag(raw: str, line: int, key: str, errors: list[str]) -> bool:
    value = raw.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    errors.append(f"Строка {line}: в столбце «{TITLES[key]}» укажите «да» или «нет», а не «{raw}».")
    return False


def _term(raw: str, line: int, fast_track: bool, errors: list[str]) -> int | None:
    value = raw.strip()
    if not value:
        return None
    title = TITLES["term_days"]
    if not value.isdigit() or int(value) < 1:
        errors.append(
            f"Строка {line}: срок ответа «{value}» — укажите целое положительное число дней."
        )
        return None
    days = int(value)
    limit = LEGAL_MAX_FAST_TRACK_DAYS if fast_track else LEGAL_MAX_TERM_DAYS
    if days > limit:
        kind = "ускоренной темы" if fast_track else "темы"
        errors.append(
            f"Строка {line}: в столбце «{title}» {days} дней — срок ответа для {kind} "
            f"не больше {limit} дней."
        )
        return None
    return days


def _code(raw: str, line: int, what: str, errors: list[str]) -> str:
    code = raw.strip().lower()
    if not code:
        errors.append(f"Строка {line}: не указан код {what}.")
    elif len(code) > CODE_MAX:
        errors.append(f"Строка {line}: код {what} длиннее {CODE_MAX} символов.")
    elif not CODE_PATTERN.fullmatch(code):
        errors.append(
            f"Строка {line}: код {what} «{code}» — только латинские строчные буквы, цифры и "
            "знак подчёркивания, начинается с буквы, части через точку (например, roads.potholes)."
        )
    return code


def _name(raw: str, line: int, what: str, errors: list[str]) -> str:
    name = " ".join(raw.split())
    if not name:
        errors.append(f"Строка {line}: не указано название {what}.")
    elif len(name) > NAME_MAX:
        errors.append(f"Строка {line}: название {what} длиннее {NAME_MAX} символов.")
    return name


def parse(data: bytes | str) -> ParsedFile:
    """Read and check the file; every problem found is reported at once."""
    text = data if isinstance(data, str) else _decode(data)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ClassifierFileError(["Файл пуст: нужна строка заголовков и строки подкатегорий."])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff(text))
    header = next(reader)
    keys = _header_keys(header)
    errors: list[str] = []
    seen_columns: dict[str, int] = {}
    for position, (cell, key) in enumerate(zip(header, keys, strict=True), start=1):
        if key is None:
            if cell.strip():
                errors.append(
                    f"Строка 1: неизвестный столбец «{cell.strip()}». Допустимые столбцы: "
                    + ", ".join(f"«{t}»" for t in TITLES.values())
                    + "."
                )
            else:
                errors.append(f"Строка 1: у столбца {position} нет заголовка.")
        elif key in seen_columns:
            errors.append(f"Строка 1: столбец «{TITLES[key]}» указан дважды.")
        else:
            seen_columns[key] = position - 1
    for key in REQUIRED:
        if key not in seen_columns:
            errors.append(f"Нет обязательного столбца «{TITLES[key]}».")
    if errors:
        raise ClassifierFileError(errors)

    rows: list[Row] = []
    sub_lines: dict[str, int] = {}
    category_names: dict[str, tuple[str, int]] = {}  # code → (name, line)
    category_codes: dict[str, tuple[str, int]] = {}  # lowercased name → (code, line)
    names_in_category: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                f"Строка {line}: значений больше, чем столбцов ({len(cells)} из {len(header)})."
            )
            continue
        cells = cells + [""] * (len(header) - len(cells))

        def cell(key: str, cells: list[str] = cells) -> str:
            index = seen_columns.get(key)
            return "" if index is None else cells[index]

        category_code = _code(cell("category_code"), line, "категории", errors)
        category = _name(cell("category"), line, "категории", errors)
        code = _code(cell("code"), line, "подкатегории", errors)
        name = _name(cell("name"), line, "подкатегории", errors)
        fast_track = _flag(cell("fast_track"), line, "fast_track", errors)
        thanks = _flag(cell("thanks"), line, "thanks", errors)
        term_days = _term(cell("term_days"), line, fast_track, errors)
        keywords = "\n".join(split_keywords(cell("keywords")))
        if len(keywords) > KEYWORDS_MAX:
            errors.append(f"Строка {line}: ключевые слова длиннее {KEYWORDS_MAX} символов.")
        if thanks and (fast_track or term_days is not None):
            errors.append(
                f"Строка {line}: благодарность не требует ответа — у неё не бывает "
                "ускоренного срока и срока ответа; оставьте эти столбцы пустыми."
            )
        if code:
            if code in sub_lines:
                errors.append(
                    f"Строка {line}: код подкатегории «{code}» повторяется "
                    f"(уже в строке {sub_lines[code]})."
                )
            else:
                sub_lines[code] = line
        if category_code and category:
            known = category_names.get(category_code)
            if known is None:
                category_names[category_code] = (category, line)
            elif known[0] != category:
                errors.append(
                    f"Строка {line}: у категории «{category_code}» другое название, чем в строке "
                    f"{known[1]}: «{category}» и «{known[0]}»."
                )
            other = category_codes.setdefault(category.lower(), (category_code, line))
            if other[0] != category_code:
                errors.append(
                    f"Строка {line}: название категории «{category}» уже у категории "
                    f"с кодом «{other[0]}» (строка {other[1]})."
                )
        if category_code and name:
            key = (category_code, name.lower())
            if key in names_in_category:
                errors.append(
                    f"Строка {line}: подкатегория «{name}» уже есть в категории "
                    f"«{category_code}» (строка {names_in_category[key]})."
                )
            else:
                names_in_category[key] = line
        rows.append(
            Row(line, category_code, category, code, name, fast_track, term_days, keywords, thanks)
        )
    if not rows and not errors:
        errors.append("В файле нет ни одной подкатегории: загрузка вывела бы из употребления все.")
    if errors:
        raise ClassifierFileError(errors)
    return ParsedFile(rows, set(seen_columns))


# --- comparing with the database and applying -------------------------------------------------


def _yes(flag: bool) -> str:
    return "да" if flag else "нет"


def _term_text(days: int | None) -> str:
    return "по умолчанию" if days is None else f"{days} дн."


def _in_use() -> dict[int, int]:
    from participation.appeals.models import Appeal

    rows = db.session.execute(
        sa.select(Appeal.subcategory_id, sa.func.count()).group_by(Appeal.subcategory_id)
    )
    return dict(rows.all())


class _Import:
    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
        self.subcategories = {s.code: s for s in db.session.scalars(sa.select(Subcategory))}
        self.plan = Plan(rows=len(parsed.rows))
        # First row of each category in the file, in file order.
        self.file_categories: dict[str, Row] = {}
        for row in parsed.rows:
            self.file_categories.setdefault(row.category_code, row)

    def _add(self, kind: str, level: str, code: str, text: str) -> None:
        self.plan.changes.append(Change(kind, level, code, text))

    def check_clashes(self) -> None:
        """A retired name in the way of a new code: the unique names would refuse it."""
        errors: list[str] = []
        staying = set(self.file_categories)
        for code, category in self.categories.items():
            if code in staying:
                continue
            for row in self.file_categories.values():
                if row.category.lower() == category.name.lower():
                    errors.append(
                        f"Строка {row.line}: название «{row.category}» носит категория с кодом "
                        f"«{code}», которой нет в файле; укажите в файле её код, чтобы "
                        "переименовать или восстановить её, или другое название."
                    )
        file_codes = {row.code for row in self.parsed.rows}
        for row in self.parsed.rows:
            category = self.categories.get(row.category_code)
            if category is None:
                continue
            for sub in category.subcategories:
                if sub.code not in file_codes and sub.name.lower() == row.name.lower():
                    errors.append(
                        f"Строка {row.line}: в категории «{row.category_code}» название "
                        f"«{row.name}» носит подкатегория «{sub.code}», которой нет в файле; "
                        "укажите её код, чтобы восстановить её, или другое название."
                    )
        if errors:
            raise ClassifierFileError(errors)

    def compare(self) -> None:
        columns = self.parsed.columns
        for code, row in self.file_categories.items():
            category = self.categories.get(code)
            if category is None:
                self._add("add", "category", code, f"категория {code} «{row.category}»")
                continue
            if category.name != row.category:
                self._add(
                    "rename",
                    "category",
                    code,
                    f"категория {code}: «{category.name}» → «{row.category}»",
                )
            if not category.active:
                self._add("restore", "category", code, f"категория {code} «{row.category}»")
        for row in self.parsed.rows:
            sub = self.subcategories.get(row.code)
            if sub is None:
                extra = " (благодарность)" if row.thanks else ""
                self._add(
                    "add",
                    "subcategory",
                    row.code,
                    f"подкатегория {row.code} «{row.name}» в категории {row.category_code}{extra}",
                )
                continue
            if sub.name != row.name:
                self._add(
                    "rename", "subcategory", row.code, f"{row.code}: «{sub.name}» → «{row.name}»"
                )
            details = []
            if sub.category.code != row.category_code:
                details.append(f"категория: {sub.category.code} → {row.category_code}")
            if "fast_track" in columns and sub.fast_track != row.fast_track:
                details.append(f"ускоренная: {_yes(sub.fast_track)} → {_yes(row.fast_track)}")
            if "term_days" in columns and sub.term_days != row.term_days:
                details.append(
                    f"срок ответа: {_term_text(sub.term_days)} → {_term_text(row.term_days)}"
                )
            if "thanks" in columns and sub.thanks != row.thanks:
                details.append(f"благодарность: {_yes(sub.thanks)} → {_yes(row.thanks)}")
            if "keywords" in columns:
                old = {k.lower() for k in sub.keyword_list}
                new = {k.lower() for k in split_keywords(row.keywords)}
                if old != new:
                    details.append(f"ключевые слова: +{len(new - old)} −{len(old - new)}")
            if details:
                self._add("change", "subcategory", row.code, f"{row.code}: " + "; ".join(details))
            if not sub.active:
                self._add(
                    "restore", "subcategory", row.code, f"подкатегория {row.code} «{row.name}»"
                )
        file_codes = {row.code for row in self.parsed.rows}
        in_use = _in_use()
        for code, sub in self.subcategories.items():
            if code in file_codes or not sub.active:
                continue
            used = in_use.get(sub.id, 0)
            note = f" (сообщений: {used}, останутся с этой темой)" if used else ""
            self._add("retire", "subcategory", code, f"подкатегория {code} «{sub.name}»{note}")
        for code, category in self.categories.items():
            if code not in self.file_categories and category.active:
                self._add("retire", "category", code, f"категория {code} «{category.name}»")

    def apply(self) -> None:
        columns = self.parsed.columns
        session = db.session
        # Renames may swap names; park the changed ones under unique placeholders first.
        parked = False
        for code, row in self.file_categories.items():
            category = self.categories.get(code)
            if category is not None and category.name != row.category:
                category.name = f"⟨переименование {category.id}⟩"
                parked = True
        for row in self.parsed.rows:
            sub = self.subcategories.get(row.code)
            if sub is not None and (sub.name != row.name or sub.category.code != row.category_code):
                sub.name = f"⟨переименование {sub.id}⟩"
                parked = True
        if parked:
            session.flush()
        for position, (code, row) in enumerate(self.file_categories.items(), start=1):
            category = self.categories.get(code)
            if category is None:
                category = Category(code=code, name=row.category, position=position)
                session.add(category)
                self.categories[code] = category
            category.name = row.category
            category.position = position
            category.active = True
        positions: dict[str, int] = {}
        for row in self.parsed.rows:
            positions[row.category_code] = positions.get(row.category_code, 0) + 1
            sub = self.subcategories.get(row.code)
            if sub is None:
                sub = Subcategory(code=row.code, keywords="")
                session.add(sub)
                self.subcategories[row.code] = sub
                new = True
            else:
                new = False
            sub.category = self.categories[row.category_code]
            sub.name = row.name
            sub.position = positions[row.category_code]
            sub.active = True
            if new or "fast_track" in columns:
                sub.fast_track = row.fast_track
            if new or "term_days" in columns:
                sub.term_days = row.term_days
            if new or "thanks" in columns:
                sub.thanks = row.thanks
            if new or "keywords" in columns:
                sub.keywords = row.keywords
        file_codes = {row.code for row in self.parsed.rows}
        for code, sub in self.subcategories.items():
            if code not in file_codes:
                sub.active = False
        for code, category in self.categories.items():
            if code not in self.file_categories:
                category.active = False
        session.flush()


def import_classifier(
    data: bytes | str, *, dry_run: bool = False, actor_id: int | None = None, source: str = ""
) -> Plan:
    """Check the file, compare it with the classifier and (unless a dry run) apply it.

    Raises ClassifierFileError with every problem found, having changed nothing. A real run
    flushes in the caller's transaction and audit-logs the counts; the caller commits.
    """
    parsed = parse(data)
    job = _Import(parsed)
    job.check_clashes()
    job.compare()
    if dry_run:
        return job.plan
    job.apply()
    counts: dict[str, Any] = job.plan.counts()
    audit.record(
        "classifier.imported",
        actor_id=actor_id,
        object_type="appeal_categories",
        source=source,
        rows=len(parsed.rows),
        **counts,
    )
    return job.plan
