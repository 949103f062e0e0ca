"""Forms of the geography pages: the region's public map settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from participation.core.forms import Form


class PublicMapForm(Form):
    public_map = BooleanField(_l("Показывать публичную карту проблем региона"))
    publish_texts = BooleanField(
        _l("Публиковать на карте тексты и адреса сообщений (e-mail и телефоны скрываются)")
    )
