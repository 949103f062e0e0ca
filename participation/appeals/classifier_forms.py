"""Forms of the classifier administration pages (errors in Russian, next to the fields)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from participation.appeals.classifier import CODE_MAX, KEYWORDS_MAX, NAME_MAX
from participation.core.forms import Form, strip


def _name_field(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(message=_l("Укажите название.")),
            Length(max=NAME_MAX, message=_l("Название не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )


def _code_field() -> StringField:
    return StringField(
        _l("Код"),
        description=_l(
            "Постоянный код для обмена с другими системами: латинские строчные буквы, цифры и "
            "знак подчёркивания, например potholes. Изменить его потом нельзя."
        ),
        validators=[
            DataRequired(message=_l("Укажите код.")),
            Length(max=CODE_MAX, message=_l("Код не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )


def _keywords_field() -> TextAreaField:
    return TextAreaField(
        _l("Слова и фразы жителей"),
        description=_l(
            "По одной фразе в строке, в любой форме слова: «яма», «провал асфальта», "
            "«не чистят снег». По ним система подсказывает подкатегорию по тексту сообщения."
        ),
        validators=[
            Length(max=KEYWORDS_MAX, message=_l("Не больше %(max)d символов всего.")),
        ],
    )


class CategoryForm(Form):
    code = _code_field()
    name = _name_field(_l("Название категории"))


class CategoryRenameForm(Form):
    name = _name_field(_l("Название категории"))


class SubcategoryForm(Form):
    code = _code_field()
    name = _name_field(_l("Название подкатегории"))
    fast_track = BooleanField(_l("Фаст-трек: ответ за 10 дней вместо 30"))
    keywords = _keywords_field()


class SubcategoryEditForm(Form):
    name = _name_field(_l("Название подкатегории"))
    keywords = _keywords_field()


class NearbyRadiusForm(Form):
    """The radius of «Похожие сообщения рядом»; checked by geo.services.set_nearby_radius."""

    nearby_radius_m = StringField(
        _l("Радиус поиска похожих сообщений, метров"),
        description=_l(
            "Целое число от 1 до 2000. Оставьте пустым, чтобы действовал общий радиус 150 м. "
            "Для ям на дороге хватает 150 м, для протяжённых проблем (свалка, освещение улицы) "
            "радиус можно увеличить."
        ),
        validators=[Length(max=10, message=_l("Радиус — целое число метров от 1 до 2000."))],
        filters=[strip],
    )


class ToggleForm(Form):
    """One switch: the value to set ("1" on, "0" off) travels in a hidden field."""

    value = HiddenField(
        validators=[
            InputRequired(message=_l("Не указано новое значение.")),
            AnyOf(["0", "1"], message=_l("Неверное значение переключателя.")),
        ]
    )

    @property
    def flag(self) -> bool:
        return self.value.data == "1"


REGION_MODES = {"inherit": None, "on": True, "off": False}


class RegionFastTrackForm(Form):
    mode = SelectField(
        _l("Срок в регионе"),
        choices=[
            SelectChoice("inherit", _l("Как в общем классификаторе")),
            SelectChoice("on", _l("Фаст-трек (10 дней)")),
            SelectChoice("off", _l("Обычный срок (30 дней)")),
        ],
        validators=[
            InputRequired(message=_l("Выберите срок.")),
            AnyOf(list(REGION_MODES), message=_l("Выберите срок из списка.")),
        ],
        validate_choice=False,
    )

    @property
    def chosen(self) -> bool | None:
        return REGION_MODES[self.mode.data]
