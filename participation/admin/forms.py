"""Forms of organization administration: add a staff member, add a role, remove a role."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from participation.core.forms import Form
from participation.core.labels import ROLE_LABELS
from participation.core.users import Role


def _role_field() -> SelectField:
    return SelectField(
        _l("Роль"),
        choices=[
            SelectChoice("", _l("— выберите роль —")),
            *(SelectChoice(r.value, ROLE_LABELS[r]) for r in Role),
        ],
        validators=[InputRequired(message=_l("Выберите роль."))],
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class AddStaffForm(Form):
    identifier = StringField(
        _l("OID ЕСИА или адрес электронной почты"),
        description=_l(
            "Сотрудник должен хотя бы раз войти на платформу через Госуслуги. "
            "OID — номер учётной записи ЕСИА, например 1000123456."
        ),
        validators=[
            DataRequired(message=_l("Укажите OID ЕСИА или адрес электронной почты сотрудника.")),
            Length(max=254, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[_strip],
    )
    role = _role_field()

    @property
    def chosen_role(self) -> Role:
        return Role(self.role.data)


class RoleForm(Form):
    role = _role_field()

    @property
    def chosen_role(self) -> Role:
        return Role(self.role.data)


class RemoveRoleForm(Form):
    """Only the CSRF token: the membership is named in the URL."""
