"""The base form's select writes the same markup as WTForms' own, only faster."""

from wtforms import SelectField, widgets
from wtforms.fields.choices import SelectChoice

from participation.core.forms import Form


class _Picked(Form):
    class Meta:
        csrf = False

    topic = SelectField(
        "Тема",
        choices=[
            SelectChoice("", "Все"),
            SelectChoice(1, "Дороги <и> «тротуары»"),
            SelectChoice(2, 'Свет & "фонари"'),
            SelectChoice(3, "Особая", render_kw={"disabled": True}),
        ],
        coerce=lambda v: int(v) if v else None,
    )


def test_a_select_renders_exactly_as_wtforms_does(app):
    with app.test_request_context("/?topic=2"):
        from flask import request

        form = _Picked(formdata=request.args)
        fast = form.topic()
        plain = widgets.Select()(form.topic)
    assert type(form.topic.widget) is not widgets.Select  # the base form's own
    assert fast == plain
    assert '<option selected value="2">Свет &amp; &#34;фонари&#34;</option>' in fast
    assert '<option disabled value="3">Особая</option>' in fast
