"""The dashboards' filter (a GET form): the period and the cuts, each checked next to its field."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, ValidationError
from wtforms.fields.choices import SelectChoice

from participation.appeals.models import Channel
from participation.appeals.presenters import CHANNEL_LABELS
from participation.core.forms import Form
from participation.reports.services import GRAIN_LABELS, MAX_PERIOD_DAYS, Grain, Period

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
BAD_DATE = _l("Введите дату в формате ДД.ММ.ГГГГ.")


def _optional_int(value):
    try:
        return int(value) if value not in (None, "", "0") else None
    except (TypeError, ValueError):
        return -1  # not a number: refused as «нет среди доступных»


class DefaultOnField(BooleanField):
    """A checkbox on by default: a link without it keeps the default; the form sends a
    hidden «0» after the box, so unticking it is heard."""

    false_values = (False, "false", "", "0")

    def process_formdata(self, valuelist):
        if valuelist:
            super().process_formdata(valuelist)


class ReportFilterForm(Form):
    """Period and cuts of a dashboard. Choices of ids are the ones this person may see: the
    view sets them with `offer()`; an id outside them is an error at its field."""

    class Meta:
        csrf = False  # a GET filter changes nothing (as the hearings and inbox filters)

    region = SelectField(_l("Регион"), coerce=_optional_int, validate_choice=False)
    grain = SelectField(
        _l("Период"),
        choices=[SelectChoice(g.value, label) for g, label in GRAIN_LABELS.items()],
        default=Grain.MONTH.value,
        validate_choice=False,
    )
    day = DateField(
        _l("Дата внутри периода"),
        format=DATE_FORMATS,
        description=_l("Для дня, недели, месяца, квартала или года: любая дата внутри него."),
    )
    start = DateField(_l("С даты"), format=DATE_FORMATS)
    end = DateField(_l("По дату"), format=DATE_FORMATS, description=_l("Включительно."))
    municipality = SelectField(
        _l("Муниципальное образование"), coerce=_optional_int, validate_choice=False
    )
    organization = SelectField(_l("Организация"), coerce=_optional_int, validate_choice=False)
    exact = BooleanField(_l("Только эта организация, без подведомственных"))
    category = SelectField(_l("Категория"), coerce=_optional_int, validate_choice=False)
    subcategory = SelectField(_l("Подкатегория"), coerce=_optional_int, validate_choice=False)
    channel = SelectField(_l("Источник поступления"), validate_choice=False)
    compare = DefaultOnField(_l("Сравнить с предыдущим периодом"), default=True)

    def process(self, *args, **kwargs):
        super().process(*args, **kwargs)
        # DateField puts an English message on bad input; ours says it in Russian.
        for field in (self.day, self.start, self.end):
            field.process_errors = []
        self.channel.choices = [SelectChoice("", _l("Все источники"))] + [
            SelectChoice(c.value, label) for c, label in CHANNEL_LABELS.items()
        ]

    def offer(
        self,
        *,
        regions: list[tuple[int, str]],
        municipalities: list[tuple[int, str]],
        organizations: list[tuple[int, str]],
        categories: list[tuple[int, str]],
        subcategories: list[tuple[int, str, int]],
    ) -> None:
        """The ids this person may pick (subcategories carry their category id)."""
        self.region.choices = [SelectChoice(i, name) for i, name in regions]
        self.municipality.choices = [SelectChoice("", _l("Все"))] + [
            SelectChoice(i, name) for i, name in municipalities
        ]
        self.organization.choices = [SelectChoice("", _l("Все"))] + [
            SelectChoice(i, name) for i, name in organizations
        ]
        self.category.choices = [SelectChoice("", _l("Все категории"))] + [
            SelectChoice(i, name) for i, name in categories
        ]
        self.subcategory.choices = [SelectChoice("", _l("Все подкатегории"))] + [
            SelectChoice(i, name) for i, name, _category in subcategories
        ]
        self._subcategory_category = {i: category for i, _name, category in subcategories}

    # --- checks -----------------------------------------------------------------------------

    @staticmethod
    def _offered(field, message) -> None:
        if field.data is not None and field.data not in {c.value for c in field.choices}:
            field.data_refused = True
            raise ValidationError(message)

    def validate_region(self, field):
        if field.data is not None and field.data not in {c.value for c in field.choices}:
            field.data_refused = True
            raise ValidationError(_l("Этот регион вам недоступен или его нет."))

    def validate_grain(self, field):
        if field.data not in {g.value for g in Grain}:
            raise ValidationError(_l("Выберите период из списка."))

    def validate_day(self, field):
        if field.raw_data and field.raw_data[0] and field.data is None:
            raise ValidationError(BAD_DATE)

    def validate_start(self, field):
        if field.raw_data and field.raw_data[0] and field.data is None:
            raise ValidationError(BAD_DATE)
        if self.grain.data == Grain.RANGE and field.data is None:
            raise ValidationError(_l("Для своих дат укажите дату начала."))

    def validate_end(self, field):
        if field.raw_data and field.raw_data[0] and field.data is None:
            raise ValidationError(BAD_DATE)
        if self.grain.data != Grain.RANGE:
            return
        if field.data is None:
            raise ValidationError(_l("Для своих дат укажите дату окончания."))
        start = self.start.data
        if start is not None and field.data < start:
            raise ValidationError(_l("Дата окончания раньше даты начала."))
        if start is not None and (field.data - start).days + 1 > MAX_PERIOD_DAYS:
            raise ValidationError(_l("Период не может быть длиннее 5 лет."))

    def validate_municipality(self, field):
        self._offered(field, _l("Такого муниципального образования нет среди доступных вам."))

    def validate_organization(self, field):
        self._offered(field, _l("Такой организации нет среди доступных вам."))

    def validate_category(self, field):
        self._offered(field, _l("Такой категории нет."))

    def validate_subcategory(self, field):
        self._offered(field, _l("Такой подкатегории нет."))
        category = self.category.data
        if (
            field.data is not None
            and category is not None
            and self._subcategory_category.get(field.data) != category
        ):
            raise ValidationError(_l("Эта подкатегория не из выбранной категории."))

    def validate_channel(self, field):
        if field.data and field.data not in {c.value for c in Channel}:
            raise ValidationError(_l("Выберите источник из списка."))

    # --- reading ----------------------------------------------------------------------------

    def period(self, today: date) -> Period:
        """The period asked for (call after a successful validate())."""
        grain = Grain(self.grain.data)
        if grain == Grain.RANGE:
            return Period(self.start.data, self.end.data, grain)
        return Period.containing(grain, self.day.data or today)

    def refused_ids(self) -> bool:
        """An id outside what this person may see was asked for (the views log it)."""
        return any(
            getattr(f, "data_refused", False)
            for f in (self.region, self.municipality, self.organization)
        )
