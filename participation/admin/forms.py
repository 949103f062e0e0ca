"""Forms of organization administration: staff, roles, invitations; the organization's profile."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from participation.admin.services import (
    HOURS_MAX_LENGTH,
    SOCIAL_LINKS_MAX,
    ProfileData,
    check_email,
    check_phone,
    check_social_links,
    check_website,
    check_working_hours,
)
from participation.core.errors import FieldError
from participation.core.forms import Form, strip
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
        filters=[strip],
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


def _checked_by(check: Callable[[str | None], object]):
    """A field validator running the service's own check (one rule, one message)."""

    def validator(form, field) -> None:
        try:
            check(field.data)
        except FieldError as exc:
            raise ValidationError(str(exc.message)) from None

    return validator


class ProfileForm(Form):
    name = StringField(
        _l("Полное наименование"),
        validators=[
            DataRequired(message=_l("Укажите полное наименование организации.")),
            Length(max=300, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )
    short_name = StringField(
        _l("Краткое наименование"),
        description=_l("Его видят жители в карточке организации и в списках."),
        validators=[Length(max=120, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )
    address = StringField(
        _l("Почтовый адрес"),
        validators=[Length(max=300, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
    )
    phone = StringField(
        _l("Телефон"),
        description=_l("Например +7 (347) 279-05-05."),
        validators=[_checked_by(check_phone)],
    )
    email = StringField(_l("Электронная почта"), validators=[_checked_by(check_email)])
    website = StringField(
        _l("Официальный сайт"),
        description=_l("Например https://ufacity.ru."),
        validators=[_checked_by(check_website)],
    )
    social_links = TextAreaField(
        _l("Официальные страницы в социальных сетях"),
        description=_l(
            "По одному адресу в строке, не больше %(max)d: ВКонтакте, Одноклассники, "
            "Telegram и другие.",
            max=SOCIAL_LINKS_MAX,
        ),
        validators=[_checked_by(check_social_links)],
    )
    working_hours = TextAreaField(
        _l("Часы работы и приёма граждан"),
        description=_l(
            "Свободным текстом, как на двери приёмной: например «Пн–чт 9:00–18:00, "
            "пт 9:00–16:45, обед 13:00–13:48». Не длиннее %(max)d символов.",
            max=HOURS_MAX_LENGTH,
        ),
        validators=[_checked_by(check_working_hours)],
    )
    logo = FileField(
        _l("Логотип или герб"),
        description=_l("PNG, JPEG или WEBP, не больше 1 МБ. Лучше квадратный, от 128 точек."),
        render_kw={"accept": "image/png,image/jpeg,image/webp"},
    )
    remove_logo = BooleanField(_l("Убрать логотип"))

    @property
    def profile(self) -> ProfileData:
        return ProfileData(
            name=self.name.data,
            short_name=self.short_name.data,
            address=self.address.data,
            phone=self.phone.data,
            email=self.email.data,
            website=self.website.data,
            social_links=self.social_links.data,
            working_hours=self.working_hours.data,
        )

    @property
    def uploaded_logo(self):
        """The file sent in «Логотип», or None when none was chosen."""
        upload = self.logo.data
        return upload if upload is not None and getattr(upload, "filename", "") else None


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
        filters=[strip],
    )
    last_name = StringField(
        _l("Фамилия"),
        validators=[
            DataRequired(message=_l("Укажите фамилию.")),
            Length(max=100, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )
    first_name = StringField(
        _l("Имя"),
        validators=[
            DataRequired(message=_l("Укажите имя.")),
            Length(max=100, message=_l("Не длиннее %(max)d символов.")),
        ],
        filters=[strip],
    )
    middle_name = StringField(
        _l("Отчество"),
        validators=[Optional(), Length(max=100, message=_l("Не длиннее %(max)d символов."))],
        filters=[strip],
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
