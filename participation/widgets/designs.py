"""The widget's banner designs and approved wording: one table, read by forms, views and tests.

A design is a colour scheme (whose texts suit one kind of organization, as the real platform
groups its variants: authorities, health care, schools, kindergartens) laid out one of three
ways. The colours live here and in app.css (`.widget-banner-<scheme>`); a test checks that both
agree and that every pair of colours a banner shows meets WCAG AA contrast (4.5:1).

Placement rules of the platform (DOMAIN.md § 8, seed 000): the widget is at least 400 px tall
while 200–300 px wide (300 px tall when wider) and sits on the first screen of the page: the
cabinet warns when a reported position is lower than FIRST_SCREEN_TOP.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from participation.widgets.models import BannerDesign, WidgetKind

MIN_WIDTH = 200
NARROW_MAX_WIDTH = 300
MIN_HEIGHT_NARROW = 400  # at 200–300 px wide
MIN_HEIGHT_WIDE = 300  # wider than 300 px
FIRST_SCREEN_TOP = 300  # px from the top of the page: the widget's top must not be lower
CUSTOM_TEXT_MAX = 60
CUSTOM = "custom"  # the text_choice meaning «the organization's own text»


@dataclass(frozen=True)
class Scheme:
    """Colours of a banner (hex), and the texts that suit its kind of organization."""

    slug: str
    label: object
    background: str
    text: str
    accent: str  # the stripe, the poster's field, the card's badge
    accent_text: str  # text drawn on the accent
    title: object  # the default headline
    message_text: object  # the lead of a «Сообщить о проблеме» widget
    participate_text: object  # the lead of an «Участвовать» widget


@dataclass(frozen=True)
class Layout:
    slug: str
    label: object
    description: object


@dataclass(frozen=True)
class Design:
    value: BannerDesign
    number: int  # shown to the administrator: «Вариант 7»
    scheme: Scheme
    layout: Layout

    @property
    def label(self) -> str:
        return f"{self.scheme.label}, {self.layout.label}"

    def lead(self, kind: WidgetKind) -> object:
        scheme = self.scheme
        return scheme.message_text if kind == WidgetKind.MESSAGE else scheme.participate_text


_MUNICIPAL_MESSAGE = _l(
    "Яма на дороге, не вывезли мусор, не горит фонарь? "
    "Сообщите о проблеме — ответим в установленный срок."
)
_MUNICIPAL_PARTICIPATE = _l(
    "Ваше мнение важно: участвуйте в опросах и голосованиях о жизни города и района."
)

SCHEMES = {
    s.slug: s
    for s in (
        Scheme(
            "municipal",
            _l("Органы власти и местного самоуправления"),
            "#e8effa",
            "#1b1f24",
            "#0b4dad",
            "#ffffff",
            _l("Ваш город — ваше мнение"),
            _MUNICIPAL_MESSAGE,
            _MUNICIPAL_PARTICIPATE,
        ),
        Scheme(
            "health",
            _l("Здравоохранение"),
            "#e3f3ef",
            "#1b1f24",
            "#0b6e5f",
            "#ffffff",
            _l("Здоровье — общее дело"),
            _l(
                "Не получается записаться к врачу, долго ждали приёма, нет лекарства? "
                "Сообщите о проблеме в работе медицинской организации."
            ),
            _l("Помогите сделать медицинскую помощь удобнее: ответьте на вопросы и проголосуйте."),
        ),
        Scheme(
            "education",
            _l("Образование"),
            "#f0eaf7",
            "#1b1f24",
            "#6a3d9a",
            "#ffffff",
            _l("Школа, которую мы делаем вместе"),
            _l(
                "Питание, ремонт, школьный автобус, безопасность? "
                "Расскажите о проблеме — школа и управление образования ответят."
            ),
            _l("Участвуйте в опросах и голосованиях об образовании в вашем городе и районе."),
        ),
        Scheme(
            "preschool",
            _l("Дошкольное образование"),
            "#fdf0e3",
            "#1b1f24",
            "#8a3f00",
            "#ffffff",
            _l("Детский сад: вместе о главном"),
            _l(
                "Очередь, питание, площадка, тепло в группах? "
                "Напишите о проблеме в работе детского сада."
            ),
            _l("Родители решают вместе: опросы и голосования о детских садах и площадках."),
        ),
        Scheme(
            "contrast",
            _l("Контрастная (органы власти)"),
            "#14213d",
            "#ffffff",
            "#ffd166",
            "#14213d",
            _l("Вместе сделаем город лучше"),
            _MUNICIPAL_MESSAGE,
            _MUNICIPAL_PARTICIPATE,
        ),
    )
}

LAYOUTS = {
    layout.slug: layout
    for layout in (
        Layout("classic", _l("полоса слева"), _l("Спокойный баннер с цветной полосой слева.")),
        Layout(
            "poster",
            _l("плакат"),
            _l("Заголовок крупно на цветном поле: заметен на первом экране."),
        ),
        Layout("card", _l("карточка"), _l("Значок и текст по центру, рамка в цвет оформления.")),
    )
}

# The table. The four first rows are the designs the platform has had from the start (their
# values stay as they were); the rest follow scheme by scheme.
DESIGNS: dict[BannerDesign, Design] = {
    d.value: d
    for d in (
        Design(BannerDesign.MUNICIPAL, 1, SCHEMES["municipal"], LAYOUTS["classic"]),
        Design(BannerDesign.MUNICIPAL_POSTER, 2, SCHEMES["municipal"], LAYOUTS["poster"]),
        Design(BannerDesign.MUNICIPAL_CARD, 3, SCHEMES["municipal"], LAYOUTS["card"]),
        Design(BannerDesign.CONTRAST, 4, SCHEMES["contrast"], LAYOUTS["classic"]),
        Design(BannerDesign.CONTRAST_POSTER, 5, SCHEMES["contrast"], LAYOUTS["poster"]),
        Design(BannerDesign.CONTRAST_CARD, 6, SCHEMES["contrast"], LAYOUTS["card"]),
        Design(BannerDesign.HEALTH, 7, SCHEMES["health"], LAYOUTS["classic"]),
        Design(BannerDesign.HEALTH_POSTER, 8, SCHEMES["health"], LAYOUTS["poster"]),
        Design(BannerDesign.HEALTH_CARD, 9, SCHEMES["health"], LAYOUTS["card"]),
        Design(BannerDesign.EDUCATION, 10, SCHEMES["education"], LAYOUTS["classic"]),
        Design(BannerDesign.EDUCATION_POSTER, 11, SCHEMES["education"], LAYOUTS["poster"]),
        Design(BannerDesign.EDUCATION_CARD, 12, SCHEMES["education"], LAYOUTS["card"]),
        Design(BannerDesign.PRESCHOOL, 13, SCHEMES["preschool"], LAYOUTS["classic"]),
        Design(BannerDesign.PRESCHOOL_POSTER, 14, SCHEMES["preschool"], LAYOUTS["poster"]),
        Design(BannerDesign.PRESCHOOL_CARD, 15, SCHEMES["preschool"], LAYOUTS["card"]),
    )
}


def design_of(value: BannerDesign | str) -> Design:
    """The design row of a stored value (the first design for an unknown one)."""
    try:
        return DESIGNS[BannerDesign(value)]
    except ValueError:
        return DESIGNS[BannerDesign.MUNICIPAL]


def designs_by_scheme() -> list[tuple[Scheme, list[Design]]]:
    """The designs grouped as the administrator's list shows them."""
    groups: dict[str, list[Design]] = {}
    for design in sorted(DESIGNS.values(), key=lambda d: d.number):
        groups.setdefault(design.scheme.slug, []).append(design)
    return [(SCHEMES[slug], rows) for slug, rows in groups.items()]


@dataclass(frozen=True)
class Wording:
    key: str
    text: object
    kinds: tuple[WidgetKind, ...]  # the widgets it suits


# Approved headlines (seed 000: «Сообщить о проблеме», «Расскажите о проблеме», «Участвовать»,
# «Госуслуги — Решаем вместе»; the designs' own headlines). Each fits CUSTOM_TEXT_MAX.
_BOTH = (WidgetKind.MESSAGE, WidgetKind.PARTICIPATE)
WORDINGS = {
    w.key: w
    for w in (
        Wording("report", _l("Сообщите о проблеме — мы поможем её решить"), (WidgetKind.MESSAGE,)),
        Wording("tell", _l("Расскажите о проблеме"), (WidgetKind.MESSAGE,)),
        Wording(
            "street",
            _l("Яма на дороге? Не горит фонарь? Сообщите нам"),
            (WidgetKind.MESSAGE,),
        ),
        Wording(
            "participate", _l("Участвуйте в опросах и голосованиях"), (WidgetKind.PARTICIPATE,)
        ),
        Wording("opinion", _l("Ваше мнение важно"), (WidgetKind.PARTICIPATE,)),
        Wording("together", _l("Госуслуги — Решаем вместе"), _BOTH),
        Wording("city", _l("Ваш город — ваше мнение"), _BOTH),
    )
}


def headline(design: Design, text_choice: str | None, custom_text: str | None) -> str:
    """The banner's headline: the organization's own text, an approved one, or the design's."""
    if text_choice == CUSTOM and custom_text:
        return custom_text
    wording = WORDINGS.get(text_choice or "")
    return str(wording.text if wording else design.scheme.title)


@dataclass(frozen=True)
class Banner:
    """What a banner shows: its design, headline and lead (for one kind of widget)."""

    design: Design
    headline: str
    lead: str

    @property
    def css_class(self) -> str:
        return f"widget-banner-{self.design.scheme.slug} widget-layout-{self.design.layout.slug}"


def banner(
    design: BannerDesign | str,
    kind: WidgetKind,
    text_choice: str | None = None,
    custom_text: str | None = None,
) -> Banner:
    """The banner of a widget's settings (saved or, in the preview, as being chosen)."""
    row = design_of(design)
    return Banner(row, headline(row, text_choice, custom_text), str(row.lead(kind)))
