"""Forms of organization administration: staff, roles, invitations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

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


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class InvitationForm(Form):
    """Invite a person by e-mail: the name is compared with the ESIA name of who accepts."""

    email = EmailField(
        _l("Адрес электронной почты"),
        validators=[
            DataRequired(message=_l("Укажите адрес электронной почты сотрудника.")),
            Length(max=254, message=_l("Не длиннее %(max)d символов.")),
            Email(message=_l("Укажите адрес электронной почты, например ivanova@example.org.")),
        ],
        filters=[_strip],
    )
    last_name = StringField(
        _l("Фамилия"),
        validators=[
            DataRequired(message=_l("Укажите фамилию.")),
            Length(max=100, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[_strip],
    )
    first_name = StringField(
        _l("Имя"),
        validators=[
            DataRequired(message=_l("Укажите имя.")),
            Length(max=100, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[_strip],
    )
    middle_name = StringField(
        _l("Отчество"),
        validators=[Optional(), Length(max=100, message=_l("Не длиннее %(max)d символов."))],
        filters=[_strip],
    )
    roles = MultiCheckboxField(
        _l("Роли"),
        description=_l(
            "Имя сравнивается с именем в ЕСИА того, кто примет приглашение: при расхождении "
            "роли выдаются только после вашего подтверждения."
        ),
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
        validators=[DataRequired(message=_l("Выберите хотя бы одну роль."))],
    )

    @property
    def chosen_roles(self) -> list[Role]:
        return [Role(v) for v in self.roles.data or []]


class ActionForm(Form):
    """Only the CSRF token: revoke, re-send, confirm, decline an invitation."""


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ReassignForm(Form):
    """Hand every open message of a leaving member to one executor."""

    successor_id = SelectField(
        _l("Кому передать сообщения"),
        coerce=_int_or_none,
        validate_choice=False,  # the service checks the executor and says why in Russian
    )
