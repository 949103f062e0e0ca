"""The export page's query form: period, cut or step, and the scope's narrowing (read by GET).

# Not yet one form with reports.forms (the dashboards' filter): ids are plain numbers here and
# are checked against the viewer's scope in export_views._requested_scope.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from participation.appeals.models import Channel
from participation.appeals.presenters import CHANNEL_LABELS
from participation.core.forms import Form
from participation.reports.services import CUT_LABELS, MAX_PERIOD_DAYS, Cut, Grain, Period

TABLE_CUTS = (
    Cut.MUNICIPALITY,
    Cut.ORGANIZATION,
    Cut.TERRITORY,
    Cut.CATEGORY,
    Cut.SUBCATEGORY,
    Cut.CHANNEL,
)
STEPS = (Cut.DAY, Cut.WEEK, Cut.MONTH)


class ExportForm(Form):
    """What to export; every field optional (the current month of the whole scope)."""

    class Meta:
        csrf = False  # a GET download changes nothing

    start = DateField(_l("С даты"), validators=[Optional()])
    end = DateField(_l("По дату"), validators=[Optional()])
    cut = SelectField(
        _l("Разрез"),
        choices=[SelectChoice(c.value, CUT_LABELS[c]) for c in TABLE_CUTS],
        default=Cut.MUNICIPALITY.value,
    )
    step = SelectField(
        _l("Шаг динамики"),
        choices=[SelectChoice(c.value, CUT_LABELS[c]) for c in STEPS],
        default=Cut.MONTH.value,
    )
    channel = SelectField(
        _l("Источник поступления"),
        choices=[
            SelectChoice("", _l("Все источники")),
            *(SelectChoice(c.value, CHANNEL_LABELS[c]) for c in Channel),
        ],
        default="",
    )
    organization = IntegerField(_l("Организация (номер)"), validators=[Optional()])
    municipality = IntegerField(_l("Муниципальное образование (номер)"), validators=[Optional()])
    category = IntegerField(_l("Категория (номер)"), validators=[Optional()])

    def validate_end(self, field) -> None:
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("Дата окончания раньше даты начала."))
            if (field.data - self.start.data).days + 1 > MAX_PERIOD_DAYS:
                raise ValidationError(_l("Период длиннее пяти лет: выберите период короче."))

    def period(self, today: date) -> Period:
        """The chosen dates; one missing: from the 1st of the month, or up to today."""
        if not self.start.data and not self.end.data:
            return Period.containing(Grain.MONTH, today)
        start = self.start.data or (self.end.data or today).replace(day=1)
        end = self.end.data or max(today, start)
        return Period(start, end, Grain.RANGE)
