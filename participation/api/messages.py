"""Russian texts for marshmallow's and webargs' English validation messages (per-field errors).

Schemas may give their own Russian messages (`validate=Length(max=100, error="…")`); those pass
through unchanged. The defaults of marshmallow's fields and validators are translated here, so
a schema written without care for messages still answers in Russian.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _


def _ops() -> dict[str, str]:
    return {
        "greater than or equal to": _("не меньше"),
        "greater than": _("больше"),
        "less than or equal to": _("не больше"),
        "less than": _("меньше"),
    }


def _texts() -> dict[str, str]:
    return {
        "Missing data for required field.": _("Обязательное поле."),
        "Field may not be null.": _("Поле не может быть пустым (null)."),
        "Unknown field.": _("Неизвестное поле."),
        "Invalid input type.": _("Ожидается объект JSON."),
        "Invalid type.": _("Неверный тип значения."),
        "Invalid value.": _("Недопустимое значение."),
        "Invalid input.": _("Недопустимое значение."),
        "Not a valid string.": _("Ожидается строка."),
        "Not a valid integer.": _("Ожидается целое число."),
        "Not a valid number.": _("Ожидается число."),
        "Not a valid boolean.": _("Ожидается true или false."),
        "Not a valid date.": _("Ожидается дата в формате ГГГГ-ММ-ДД."),
        "Not a valid datetime.": _("Ожидаются дата и время в формате ISO 8601."),
        "Not a valid list.": _("Ожидается список."),
        "Not a valid mapping type.": _("Ожидается объект."),
        "Not a valid email address.": _("Неверный адрес электронной почты."),
        "Not a valid URL.": _("Неверный адрес (URL)."),
        "Not a valid UUID.": _("Ожидается UUID."),
        "Not a valid utf-8 string.": _("Строка не в кодировке UTF-8."),
        "Number too large.": _("Слишком большое число."),
        "Special numeric values (nan or infinity) are not permitted.": _(
            "Значения NaN и бесконечность не допускаются."
        ),
        "String does not match expected pattern.": _("Значение не соответствует формату."),
    }


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile(r"^Longer than maximum length (?P<n>\d+)\.$"), _("Не длиннее %(n)s символов.")),
        (
            re.compile(r"^Shorter than minimum length (?P<n>\d+)\.$"),
            _("Не короче %(n)s символов."),
        ),
        (
            re.compile(r"^Length must be between (?P<a>\d+) and (?P<b>\d+)\.$"),
            _("Длина от %(a)s до %(b)s символов."),
        ),
        (re.compile(r"^Length must be (?P<n>\d+)\.$"), _("Длина ровно %(n)s символов.")),
        (re.compile(r"^Must be one of: (?P<v>.*)\.$"), _("Допустимые значения: %(v)s.")),
        (
            re.compile(r"^Not a valid (?P<v>[\w ]+)\.$"),
            _("Неверное значение (ожидается %(v)s)."),
        ),
    ]


_RANGE = re.compile(
    r"^Must be (?P<op1>(?:greater|less) than(?: or equal to)?) (?P<a>\S+)"
    r"(?: and (?P<op2>(?:greater|less) than(?: or equal to)?) (?P<b>\S+))?\.$"
)


def russian(message: str) -> str:
    """The Russian text for one validation message (unchanged when it is not a known default)."""
    text = _texts().get(message)
    if text is not None:
        return text
    match = _RANGE.match(message)
    if match:
        ops = _ops()
        parts = [f"{ops[match['op1']]} {match['a']}"]
        if match["op2"]:
            parts.append(f"{ops[match['op2']]} {match['b']}")
        return _("Значение должно быть %(range)s.", range=_(" и ").join(parts))
    for pattern, template in _patterns():
        match = pattern.match(message)
        if match:
            return template % match.groupdict()
    return message


def flatten_errors(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as {"field.sub.0": ["…"]}, messages in Russian."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if key != "_schema" else ""
            path = ".".join(p for p in (prefix, name) if p)
            for field, texts in flatten_errors(value, path).items():
                found.setdefault(field, []).extend(texts)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            found[prefix or "_body"] = [russian(m) for m in messages]
        else:
            for item in messages:
                for field, texts in flatten_errors(item, prefix).items():
                    found.setdefault(field, []).extend(texts)
    else:
        found[prefix or "_body"] = [russian(str(messages))]
    return found
