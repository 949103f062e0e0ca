"""Forms of the «Вебхуки» section; the services check each value and say what is wrong."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from participation.api.webhooks.models import DeliveryStatus, EventType
from participation.api.webhooks.transport import Policy, url_problem
from participation.core.forms import Form

EVENT_LABELS = {
    EventType.APPEAL_ASSIGNED: _l("Сообщение поступило в организацию на исполнение"),
    EventType.APPEAL_DUE_SOON: _l("До срока ответа осталось меньше 24 часов"),
    EventType.APPEAL_OVERDUE: _l("Срок ответа истёк"),
    EventType.APPEAL_RATED: _l("Заявитель оценил ответ"),
    EventType.APPEAL_ESCALATED: _l("Низкая оценка: сообщение передано в вышестоящую организацию"),
    EventType.APPEAL_ANSWER_RETURNED: _l("Заявитель вернул ответ на доработку"),
}

STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("Отправляется"),
    DeliveryStatus.SUCCEEDED: _l("Доставлено"),
    DeliveryStatus.FAILED: _l("Не доставлено"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _acceptable_url(form, field) -> None:
    """The address rules, next to the field; the service checks again, resolving the name."""
    policy = Policy.from_config(current_app.config)
    problem = url_problem((field.data or "").strip(), policy, look_up=False)
    if problem is not None:
        raise ValidationError(str(problem))


class EndpointForm(Form):
    # Every field is checked here so that all the errors show at once; the service is the rule.
    url = StringField(
        _l("Адрес получателя"),
        validators=[
            InputRequired(message=_l("Укажите адрес, на который отправлять события.")),
            _acceptable_url,
        ],
        description=_l(
            "Адрес вашей системы (СЭД, чат-бота), начинающийся с https://. "
            "На него придут POST-запросы с JSON и подписью."
        ),
    )
    description = StringField(
        _l("Описание"),
        validators=[Length(max=200, message=_l("Не больше %(max)d символов.", max=200))],
        description=_l("Для себя: например, «СЭД „Дело“, рабочий контур»"),
    )
    events = MultiCheckboxField(
        _l("События"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Выберите хотя бы одно событие."))],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.events.choices = [
            SelectChoice(e.value, f"{EVENT_LABELS[e]} ({e.value})") for e in EventType
        ]


class ActionForm(Form):
    """A button that changes something (rotate, pause, delete, resend): CSRF only."""
