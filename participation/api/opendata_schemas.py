"""marshmallow schemas of the open data (/api/v1/open/…): query strings and answers.

Every name starts with «Open» (the OpenAPI components share one namespace). A figure that
could point at a person is never given as a number: its `value` is null and `suppressed`
is true, `shown` says «менее 5» as the public pages do (see `OpenFigureOut`).
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from participation.api.schemas import PageOut
from participation.hearings.stages import PUBLIC_STAGES
from participation.polls.results import Dimension
from participation.reports.rating import PERIOD_GRAINS
from participation.voting.models import CampaignStatus

MAX_ID = 2**31 - 1
FORMATS = ("json", "csv")
PAGE_SIZE_MAX = 1000


def _id_field(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=False,
        validate=ma.validate.Range(min=1, max=MAX_ID, error=_l("Номер от 1.")),
        metadata={"description": description},
    )


# --- query strings ------------------------------------------------------------------------------


class OpenFormatQuery(ma.Schema):
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(FORMATS, error=_l("Допустимые значения: json, csv.")),
        metadata={
            "description": (
                "Формат ответа: `json` (по умолчанию) или `csv` — UTF-8 с BOM, разделитель «;», "
                "заголовки столбцов по-русски, строки CRLF (открывается в Excel)."
            )
        },
    )


class OpenPageQuery(OpenFormatQuery):
    page = ma.fields.Integer(
        strict=False,
        load_default=1,
        validate=ma.validate.Range(min=1, max=100_000, error=_l("Номер страницы от 1.")),
        metadata={"description": "Номер страницы, с 1. За последней — пустой список."},
    )
    size = ma.fields.Integer(
        strict=False,
        load_default=50,
        validate=ma.validate.Range(
            min=1, max=PAGE_SIZE_MAX, error=_l("Размер страницы от 1 до 1000.")
        ),
        metadata={"description": "Строк на странице (1–1000). CSV отдаёт ту же страницу."},
    )


class OpenPlaceQuery(OpenPageQuery):
    region = _id_field("Только регион с этим номером (территория уровня «регион»).")
    municipality = _id_field(
        "Только муниципальное образование с этим номером (район или городской округ) "
        "и поселения в нём."
    )


class OpenVotesQuery(OpenPlaceQuery):
    status = ma.fields.String(
        validate=ma.validate.OneOf(
            [s.value for s in CampaignStatus if s != CampaignStatus.DRAFT],
            error=_l("Допустимые значения: open, upcoming, closed."),
        ),
        metadata={"description": "open — идёт, upcoming — ещё не началось, closed — завершено."},
    )


class OpenHearingsQuery(OpenPlaceQuery):
    stage = ma.fields.String(
        validate=ma.validate.OneOf([s.value for s in PUBLIC_STAGES], error=_l("Неизвестный этап.")),
        metadata={"description": "Этап процедуры сейчас."},
    )


class OpenSurveyResultsQuery(OpenFormatQuery):
    by = ma.fields.String(
        validate=ma.validate.OneOf(
            [d.value for d in Dimension],
            error=_l("Допустимые значения: age, gender, municipality."),
        ),
        metadata={
            "description": (
                "Разбивка по группам участников: age — возраст, gender — пол, "
                "municipality — муниципалитет. Группы меньше 5 человек скрыты."
            )
        },
    )


class OpenPeriodQuery(OpenFormatQuery):
    grain = ma.fields.String(
        load_default="month",
        validate=ma.validate.OneOf(
            [g.value for g in PERIOD_GRAINS],
            error=_l("Допустимые значения: month, quarter, year."),
        ),
        metadata={"description": "Период: месяц, квартал или год."},
    )
    day = ma.fields.Date(
        metadata={
            "description": (
                "Любой день периода (ГГГГ-ММ-ДД); без него — текущий период по времени региона."
            )
        }
    )


class OpenDailyQuery(OpenFormatQuery):
    start = ma.fields.Date(metadata={"description": "С даты (ГГГГ-ММ-ДД, включительно)."})
    end = ma.fields.Date(
        metadata={
            "description": (
                "По дату (включительно); не больше пяти лет от начала. Без обеих дат — "
                "текущий месяц; без одной — с 1-го числа или по сегодня."
            )
        }
    )


# --- shared parts of answers --------------------------------------------------------------------


class OpenPlaceOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    oktmo = ma.fields.String(required=True, metadata={"description": "Код ОКТМО"})
    name = ma.fields.String(required=True)


class OpenOrganizationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class OpenPageOut(PageOut):
    total = ma.fields.Integer(required=True, metadata={"description": "Всего строк по фильтру"})
    pages = ma.fields.Integer(required=True)


class OpenPeriodOut(ma.Schema):
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    grain = ma.fields.String(required=True)
    text = ma.fields.String(required=True, metadata={"description": "«с 01.05.2026 по 31.05.2026»"})


# --- votes --------------------------------------------------------------------------------------


class OpenVoteLinksOut(ma.Schema):
    self = ma.fields.String(required=True)
    results = ma.fields.String(required=True)
    box = ma.fields.String(required=True)
    page = ma.fields.String(required=True, metadata={"description": "Страница на сайте"})


class OpenVoteSummaryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "landscaping | budget"})
    kind_label = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "open | upcoming | closed"})
    status_label = ma.fields.String(required=True)
    organization = ma.fields.Nested(OpenOrganizationOut, required=True)
    territory = ma.fields.Nested(OpenPlaceOut, required=True)
    opens_at = ma.fields.AwareDateTime(required=True)
    closes_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "Окончание (досрочное, если было)"}
    )
    closed_early = ma.fields.Boolean(required=True)
    ballot_rule = ma.fields.String(
        required=True, metadata={"description": "single | approval | budget"}
    )
    links = ma.fields.Nested(OpenVoteLinksOut, required=True)


class OpenVotePageOut(OpenPageOut):
    items = ma.fields.List(ma.fields.Nested(OpenVoteSummaryOut), required=True)


class OpenDistrictOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class OpenVoteObjectOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True, metadata={"description": "№ в бюллетене"})
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    address = ma.fields.String(required=True, allow_none=True)
    latitude = ma.fields.Float(required=True, allow_none=True)
    longitude = ma.fields.Float(required=True, allow_none=True)
    cost = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Оценка стоимости, ₽"}
    )
    district = ma.fields.Nested(OpenDistrictOut, required=True, allow_none=True)


class OpenBoxSealOut(ma.Schema):
    sealed = ma.fields.Boolean(
        required=True,
        metadata={"description": "Урна опечатана: хеши вычислены после окончания и не меняются"},
    )
    sealed_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    json_sha256 = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "SHA-256 (hex) урны в JSON — байтов ответа /box"},
    )
    csv_sha256 = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "SHA-256 (hex) урны в CSV — байтов ответа /box?format=csv"},
    )


class OpenVoteOut(OpenVoteSummaryOut):
    rules = ma.fields.String(required=True, metadata={"description": "Правила организатора"})
    rule_text = ma.fields.String(
        required=True, metadata={"description": "Как определяются победители"}
    )
    period_text = ma.fields.String(required=True)
    eligibility_text = ma.fields.String(
        required=True, metadata={"description": "Кто может голосовать"}
    )
    winners_count = ma.fields.Integer(required=True)
    max_choices = ma.fields.Integer(required=True, allow_none=True)
    budget_limit = ma.fields.Integer(required=True, allow_none=True)
    per_district = ma.fields.Boolean(required=True)
    turnout = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "Проголосовало человек; null, если организатор скрыл явку до конца"
        },
    )
    objects = ma.fields.List(ma.fields.Nested(OpenVoteObjectOut), required=True)
    box = ma.fields.Nested(
        OpenBoxSealOut,
        required=True,
        allow_none=True,
        metadata={"description": "Урна: null до окончания голосования"},
    )


class OpenResultRowOut(ma.Schema):
    object_id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    cost = ma.fields.Integer(required=True, allow_none=True)
    votes = ma.fields.Integer(required=True)
    share = ma.fields.Float(
        required=True, metadata={"description": "Доля бюллетеней группы, % (0–100)"}
    )
    rank = ma.fields.Integer(required=True, metadata={"description": "Место; равные делят место"})
    winner = ma.fields.Boolean(required=True)
    skipped = ma.fields.Boolean(
        required=True, metadata={"description": "Бюджет: голоса есть, но не поместился"}
    )


class OpenResultGroupOut(ma.Schema):
    district = ma.fields.Nested(OpenDistrictOut, required=True, allow_none=True)
    ballots = ma.fields.Integer(required=True)
    budget_left = ma.fields.Integer(required=True, allow_none=True)
    budget_used = ma.fields.Integer(required=True)
    tie_at_boundary = ma.fields.Boolean(
        required=True,
        metadata={"description": "Последний победитель и первый за чертой набрали поровну"},
    )
    rows = ma.fields.List(ma.fields.Nested(OpenResultRowOut), required=True)


class OpenChannelsOut(ma.Schema):
    self = ma.fields.Integer(required=True, metadata={"description": "На сайте"})
    widget = ma.fields.Integer(required=True, metadata={"description": "Через виджет"})
    assisted = ma.fields.Integer(required=True, metadata={"description": "С помощью волонтёра"})


class OpenVoteResultsOut(ma.Schema):
    vote_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    ballot_rule = ma.fields.String(required=True)
    rule_text = ma.fields.String(required=True)
    period_text = ma.fields.String(required=True)
    ballots = ma.fields.Integer(required=True)
    voters = ma.fields.Integer(required=True, metadata={"description": "Человек в реестре"})
    voters_by_channel = ma.fields.Nested(OpenChannelsOut, required=True)
    turnout_target = ma.fields.Integer(required=True, allow_none=True)
    target_reached = ma.fields.Boolean(required=True, allow_none=True)
    groups = ma.fields.List(
        ma.fields.Nested(OpenResultGroupOut),
        required=True,
        metadata={"description": "Одна группа, или по одной на район"},
    )
    box = ma.fields.Nested(OpenBoxSealOut, required=True)


class OpenBoxObjectOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    district_id = ma.fields.Integer(required=True, allow_none=True)


class OpenBallotOut(ma.Schema):
    receipt_sha256 = ma.fields.String(
        required=True, metadata={"description": "SHA-256 (hex) кода квитанции"}
    )
    choices = ma.fields.List(
        ma.fields.Integer(), required=True, metadata={"description": "Номера выбранных объектов"}
    )


class OpenBallotBoxOut(ma.Schema):
    campaign_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    ballot_rule = ma.fields.String(required=True)
    objects = ma.fields.List(ma.fields.Nested(OpenBoxObjectOut), required=True)
    ballots = ma.fields.List(ma.fields.Nested(OpenBallotOut), required=True)


# --- surveys ------------------------------------------------------------------------------------


class OpenSurveyLinksOut(ma.Schema):
    results = ma.fields.String(required=True)
    page = ma.fields.String(required=True)


class OpenSurveySummaryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    organization = ma.fields.Nested(OpenOrganizationOut, required=True)
    territories = ma.fields.List(
        ma.fields.Nested(OpenPlaceOut),
        required=True,
        metadata={"description": "Территории опроса (пусто — территория организатора)"},
    )
    starts_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(required=True)
    anonymous = ma.fields.Boolean(required=True)
    links = ma.fields.Nested(OpenSurveyLinksOut, required=True)


class OpenSurveyPageOut(OpenPageOut):
    items = ma.fields.List(ma.fields.Nested(OpenSurveySummaryOut), required=True)


class OpenOptionResultOut(ma.Schema):
    option_id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)
    share = ma.fields.Float(
        required=True,
        metadata={
            "description": "Доля ответивших на вопрос (0–1); ранжирование — доля первых мест"
        },
    )
    mean_rank = ma.fields.Float(
        required=True, allow_none=True, metadata={"description": "Ранжирование: среднее место"}
    )


class OpenMatrixRowOut(ma.Schema):
    row_id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    answered = ma.fields.Integer(required=True)
    options = ma.fields.List(ma.fields.Nested(OpenOptionResultOut), required=True)


class OpenScaleValueOut(ma.Schema):
    value = ma.fields.Integer(required=True)
    count = ma.fields.Integer(required=True)
    share = ma.fields.Float(required=True)


class OpenGroupFiguresOut(ma.Schema):
    group = ma.fields.String(required=True, allow_none=True)
    answered = ma.fields.Integer(required=True)
    mean = ma.fields.Float(required=True, allow_none=True)
    options = ma.fields.List(ma.fields.Nested(OpenOptionResultOut), required=True)


class OpenQuestionResultOut(ma.Schema):
    question_id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True)
    answered = ma.fields.Integer(required=True)
    options = ma.fields.List(ma.fields.Nested(OpenOptionResultOut), required=True)
    rows = ma.fields.List(ma.fields.Nested(OpenMatrixRowOut), required=True)
    scale = ma.fields.List(ma.fields.Nested(OpenScaleValueOut), required=True)
    mean = ma.fields.Float(required=True, allow_none=True)
    minimum = ma.fields.Float(required=True, allow_none=True)
    maximum = ma.fields.Float(required=True, allow_none=True)
    first_date = ma.fields.Date(required=True, allow_none=True)
    last_date = ma.fields.Date(required=True, allow_none=True)
    free_texts_published = ma.fields.Integer(
        required=True,
        metadata={
            "description": (
                "Свободных ответов прошло модерацию (сами тексты в открытые данные не входят)"
            )
        },
    )
    by_group = ma.fields.List(
        ma.fields.Nested(OpenGroupFiguresOut),
        required=True,
        metadata={"description": "С параметром by: цифры по видимым группам"},
    )


class OpenGroupOut(ma.Schema):
    key = ma.fields.String(required=True, allow_none=True)
    label = ma.fields.String(required=True)
    respondents = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null, если группа скрыта"}
    )
    suppressed = ma.fields.Boolean(
        required=True, metadata={"description": "Группа меньше 5 человек: цифры не показываются"}
    )


class OpenSurveyResultsOut(ma.Schema):
    survey = ma.fields.Nested(OpenSurveySummaryOut, required=True)
    respondents = ma.fields.Integer(required=True)
    computed_at = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Время расчёта для больших опросов; null — посчитано сейчас"},
    )
    dimension = ma.fields.String(required=True, allow_none=True)
    groups = ma.fields.List(ma.fields.Nested(OpenGroupOut), required=True)
    questions = ma.fields.List(ma.fields.Nested(OpenQuestionResultOut), required=True)


# --- hearings -----------------------------------------------------------------------------------


class OpenHearingLinksOut(ma.Schema):
    self = ma.fields.String(required=True)
    documents = ma.fields.String(required=True)
    draft = ma.fields.String(required=True)
    page = ma.fields.String(required=True)


class OpenHearingSummaryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(
        required=True, metadata={"description": "public_hearing | public_discussion"}
    )
    kind_label = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    organization = ma.fields.Nested(OpenOrganizationOut, required=True)
    territory = ma.fields.Nested(OpenPlaceOut, required=True)
    stage = ma.fields.String(required=True)
    stage_label = ma.fields.String(required=True)
    notice_published_at = ma.fields.AwareDateTime(required=True)
    remarks_first_day = ma.fields.Date(required=True)
    remarks_last_day = ma.fields.Date(required=True)
    links = ma.fields.Nested(OpenHearingLinksOut, required=True)


class OpenHearingPageOut(OpenPageOut):
    items = ma.fields.List(ma.fields.Nested(OpenHearingSummaryOut), required=True)


class OpenDocumentOut(ma.Schema):
    kind = ma.fields.String(
        required=True,
        metadata={"description": "notice | draft | material | protocol | conclusion"},
    )
    title = ma.fields.String(required=True)
    date = ma.fields.Date(required=True, allow_none=True)
    url = ma.fields.String(required=True, metadata={"description": "Адрес файла, без входа"})
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Байт; null — файл строится при запросе"},
    )
    sha256 = ma.fields.String(required=True, allow_none=True)


class OpenHearingOut(OpenHearingSummaryOut):
    initiator = ma.fields.String(required=True)
    organizer_address = ma.fields.String(required=True)
    exposition_place = ma.fields.String(required=True)
    exposition_hours = ma.fields.String(required=True)
    exposition_first_day = ma.fields.Date(required=True)
    exposition_last_day = ma.fields.Date(required=True)
    meeting_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    meeting_place = ma.fields.String(required=True, allow_none=True)
    protocol_number = ma.fields.String(required=True, allow_none=True)
    protocol_date = ma.fields.Date(required=True, allow_none=True)
    conclusion_date = ma.fields.Date(required=True, allow_none=True)
    documents = ma.fields.List(ma.fields.Nested(OpenDocumentOut), required=True)


class OpenDocumentListOut(ma.Schema):
    hearing_id = ma.fields.Integer(required=True)
    documents = ma.fields.List(ma.fields.Nested(OpenDocumentOut), required=True)


class OpenParagraphOut(ma.Schema):
    number = ma.fields.String(required=True, metadata={"description": "«3.2»"})
    text = ma.fields.String(required=True)


class OpenSectionOut(ma.Schema):
    title = ma.fields.String(required=True)
    paragraphs = ma.fields.List(ma.fields.Nested(OpenParagraphOut), required=True)


class OpenDraftOut(ma.Schema):
    hearing_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    sections = ma.fields.List(ma.fields.Nested(OpenSectionOut), required=True)


# --- statistics ---------------------------------------------------------------------------------


class OpenRegionListOut(ma.Schema):
    regions = ma.fields.List(ma.fields.Nested(OpenPlaceOut), required=True)


class OpenFigureOut(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    unit = ma.fields.String(
        required=True,
        metadata={"description": "count — число; share — доля 0–1; days — дни; score — балл 1–5"},
    )
    value = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Значение; null — нет данных или скрыто (см. suppressed)"},
    )
    shown = ma.fields.String(
        required=True,
        metadata={"description": "Как на странице: «56,2 %», «менее 5», «нет данных»"},
    )
    suppressed = ma.fields.Boolean(
        required=True,
        metadata={
            "description": (
                "true — значение скрыто, чтобы не указать на человека: число от 1 до 4 "
                "(«менее 5») или доля/среднее по менее чем 5 ответам или оценкам"
            )
        },
    )
    counts = ma.fields.String(required=True, metadata={"description": "Что считается"})


class OpenFiguresOut(ma.Schema):
    region = ma.fields.Nested(OpenPlaceOut, required=True)
    period = ma.fields.Nested(OpenPeriodOut, required=True)
    messages = ma.fields.List(ma.fields.Nested(OpenFigureOut), required=True)
    participation = ma.fields.List(ma.fields.Nested(OpenFigureOut), required=True)


class OpenHotspotOut(ma.Schema):
    topic = ma.fields.String(required=True)
    current = ma.fields.Nested(OpenFigureOut, required=True)
    previous = ma.fields.Nested(OpenFigureOut, required=True)


class OpenHotspotsOut(ma.Schema):
    region = ma.fields.Nested(OpenPlaceOut, required=True)
    period = ma.fields.Nested(OpenPeriodOut, required=True)
    hotspots = ma.fields.List(ma.fields.Nested(OpenHotspotOut), required=True)


class OpenRatingRowOut(ma.Schema):
    municipality_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    place = ma.fields.String(required=True, metadata={"description": "«1», «3–4», «—»"})
    score = ma.fields.Float(required=True, allow_none=True, metadata={"description": "0–100"})
    notes = ma.fields.List(ma.fields.String(), required=True)
    cells = ma.fields.List(ma.fields.Nested(OpenFigureOut), required=True)


class OpenWeightOut(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    weight = ma.fields.Float(required=True)


class OpenRatingOut(ma.Schema):
    region = ma.fields.Nested(OpenPlaceOut, required=True)
    period = ma.fields.Nested(OpenPeriodOut, required=True)
    default_weights = ma.fields.Boolean(required=True)
    weights = ma.fields.List(ma.fields.Nested(OpenWeightOut), required=True)
    method = ma.fields.List(ma.fields.String(), required=True)
    rows = ma.fields.List(ma.fields.Nested(OpenRatingRowOut), required=True)


class OpenDailyRowOut(ma.Schema):
    day = ma.fields.Date(required=True)
    oktmo = ma.fields.String(required=True)
    municipality = ma.fields.String(required=True)
    category_code = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    channel = ma.fields.String(required=True)
    channel_label = ma.fields.String(required=True)
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(allow_none=True),
        required=True,
        metadata={"description": "Счётчики сообщений; null — от 1 до 4 (скрыто)"},
    )
    suppressed = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Какие счётчики скрыты («менее 5»)"},
    )


class OpenDailyOut(ma.Schema):
    region = ma.fields.Nested(OpenPlaceOut, required=True)
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    counters = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Имена счётчиков по порядку"}
    )
    rows = ma.fields.List(ma.fields.Nested(OpenDailyRowOut), required=True)
