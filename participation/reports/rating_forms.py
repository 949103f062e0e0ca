"""The rating weights form: one field per indicator, a number from 0 to 100, not all zero."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

from participation.core.forms import Form
from participation.core.i18n import number
from participation.reports.definitions import BY_CODE
from participation.reports.rating import CODES, weights_problem


def _parse(text: str | None) -> float | None:
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def weight_in_range(form: Any, field: Any) -> None:
    """A weight is a number (12 or 12,5) from 0 to 100."""
    if not (field.data or "").strip():
        raise StopValidation(_l("Укажите вес — число от 0 до 100 (0 — не учитывать)."))
    value = _parse(field.data)
    if value is None:
        raise StopValidation(_l("Вес должен быть числом, например 15 или 12,5."))
    if value < 0:
        raise StopValidation(_l("Вес не может быть отрицательным."))
    if value > 100:
        raise StopValidation(_l("Вес не может быть больше 100."))


class WeightsForm(Form):
    """Fields `w_<indicator code>` are added by `weights_form()`."""

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        problem = weights_problem(self.weights)
        if problem:
            self.weight_fields()[0].errors.append(problem)
            return False
        return True

    def weight_fields(self) -> list[Any]:
        return [self[f"w_{code}"] for code in CODES]

    @property
    def weights(self) -> dict[str, float]:
        return {code: _parse(self[f"w_{code}"].data) or 0.0 for code in CODES}


def weights_form(current: dict[str, float]) -> WeightsForm:
    """The form for the rating's indicators, filled with the weights in force."""

    class Bound(WeightsForm):
        pass

    for code in CODES:
        setattr(
            Bound,
            f"w_{code}",
            StringField(
                BY_CODE[code].name,
                validators=[weight_in_range],
                description=BY_CODE[code].counts,
                render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 6},
            ),
        )
    data = {f"w_{code}": number(current.get(code, 0), 2, grouping=False) for code in CODES}
    return Bound(data=data)  # on a POST the sent values take their place
