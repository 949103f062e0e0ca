"""Open data under /api/v1/open/ (no authentication): votes, survey results, hearing
documents and public statistics, as JSON or, with ?format=csv, as CSV.

What is open is what an anonymous visitor of the site sees: every object is checked with the
feature's own permission predicate for an anonymous user, whatever Authorization header came
along. Views stay thin: load (404) → check → call the feature's services through
opendata_presenters → JSON through the schema, or CSV streamed. Every read has an ETag: JSON
from the answer (flask-smorest), CSV and the streamed files from what they are made of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from flask import Response, json, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import AnonymousUserMixin
from werkzeug.datastructures import MultiDict

from participation.api import opendata_csv as tables
from participation.api import opendata_presenters as p
from participation.api.openapi import ApiBlueprint
from participation.api.opendata_schemas import (
    OpenBallotBoxOut,
    OpenDailyOut,
    OpenDailyQuery,
    OpenDocumentListOut,
    OpenDraftOut,
    OpenFiguresOut,
    OpenFormatQuery,
    OpenHearingOut,
    OpenHearingPageOut,
    OpenHearingsQuery,
    OpenHotspotsOut,
    OpenPeriodQuery,
    OpenPlaceQuery,
    OpenRatingOut,
    OpenRegionListOut,
    OpenSurveyPageOut,
    OpenSurveyResultsOut,
    OpenSurveyResultsQuery,
    OpenVoteOut,
    OpenVotePageOut,
    OpenVoteResultsOut,
    OpenVotesQuery,
)
from participation.api.problems import Problem
from participation.core.db import utcnow
from participation.core.errors import FieldError
from participation.core.exports import CSV_MIMETYPE, content_disposition, stream_csv
from participation.core.territories import Territory
from participation.extensions import db
from participation.hearings import services as hearing_services
from participation.hearings.models import Hearing
from participation.hearings.permissions import can_view as can_view_hearing
from participation.polls.models import Survey
from participation.polls.permissions import can_see_public_results
from participation.polls.snapshots import results_view
from participation.reports import rating as r
from participation.reports.export_forms import ExportForm
from participation.reports.exports import STAT_COUNTERS, stat_csv, stat_rows
from participation.reports.services import Period, Scope
from participation.reports.summary import local_today
from participation.voting import box
from participation.voting.models import Campaign
from participation.voting.pdf import results_csv_chunks
from participation.voting.permissions import can_view as can_view_vote
from participation.voting.tally import tally_campaign

bp = ApiBlueprint(
    "api_opendata",
    __name__,
    url_prefix="/api/v1/open",
    description=(
        "Открытые данные, без ключа и токена: голосования (итоги и урна с SHA-256), итоги "
        "опросов, документы публичных слушаний, открытая статистика. Ничего персонального: "
        "числа от 1 до 4, которые могли бы указать на человека, не выдаются (`value: null`, "
        "`suppressed: true`, `shown: «менее 5»`). Каждый ответ — JSON, а с `?format=csv` — "
        "CSV для Excel (UTF-8 с BOM, «;», заголовки по-русски). У каждого ответа есть ETag: "
        "повторный запрос с If-None-Match получает 304."
    ),
)

ANONYMOUS = AnonymousUserMixin()  # open data is what a visitor without login sees
CSV_DESCRIPTION = (
    "JSON, а с `?format=csv` — CSV: UTF-8 с BOM, разделитель «;», строки CRLF, заголовки "
    "по-русски, дробные числа с запятой."
)
BOX_ANSWER = (
    "Урна: JSON — байты, от которых взят `json_sha256`; с `?format=csv` — CSV "
    "`receipt_sha256,choices`, байты, от которых взят `csv_sha256`."
)


def csv_variant(func: Callable) -> Callable:
    """Document the text/csv body of an endpoint's 200 answer (its ?format=csv)."""
    return bp.alt_response(
        200,
        schema={"type": "string"},
        content_type=CSV_MIMETYPE,
        description=CSV_DESCRIPTION,
        success=True,
    )(func)


def documented(*statuses: int) -> Callable:
    """Document the problem answers an endpoint gives besides the default."""
    names = {
        404: "NOT_FOUND",
        409: "CONFLICT",
        422: "UNPROCESSABLE_ENTITY",
        503: "SERVICE_UNAVAILABLE",
    }

    def decorator(func: Callable) -> Callable:
        for status in statuses:
            func = bp.alt_response(status, response=names[status])(func)
        return func

    return decorator


def described(text: str) -> Callable:
    """Add a long description to a view's docstring (put it right under @bp.route)."""

    def decorator(func: Callable) -> Callable:
        func.__doc__ = f"{func.__doc__.rstrip()}\n\n{text}"
        return func

    return decorator


def _stream(chunks: Iterable[str | bytes], mimetype: str, filename: str, fallback: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    return response


def deliver(
    data: dict[str, Any],
    fmt: str,
    rows: Callable[[Any], Iterator[list[Any]]],
    filename: str,
    fallback: str,
) -> Any:
    """The answer as JSON (the schema dumps it) or as CSV rows made from the same data."""
    if fmt != "csv":
        return data
    bp.set_etag(["csv", data])  # 304 here when the client has it
    return _stream(stream_csv(rows(data)), CSV_MIMETYPE, filename, fallback)


# --- votes --------------------------------------------------------------------------------------


def _vote(vote_id: int) -> Campaign:
    campaign = db.session.get(Campaign, vote_id)
    if campaign is None or not can_view_vote(ANONYMOUS, campaign):
        raise Problem(404, _("Голосования с таким номером нет среди опубликованных."))
    return campaign


def _closed_vote(vote_id: int) -> Campaign:
    campaign = _vote(vote_id)
    if not campaign.is_closed(utcnow()):
        raise Problem(
            409,
            _(
                "Итоги и урна публикуются после окончания голосования (%(when)s UTC). "
                "До этого числа голосов не видит никто, в том числе организаторы.",
                when=campaign.effective_closes_at.strftime("%d.%m.%Y %H:%M"),
            ),
        )
    return campaign


@bp.route("/votes")
@bp.etag
@bp.arguments(OpenVotesQuery, location="query", as_kwargs=True)
@bp.response(200, OpenVotePageOut)
@csv_variant
@documented(422)
def votes(format: str, page: int, size: int, region=None, municipality=None, status=None):
    """Опубликованные голосования

    Голосования за объекты благоустройства и проекты инициативного бюджетирования, новые
    сначала. Фильтры: регион, муниципальное образование, статус (идёт, скоро, завершено).
    Неизвестный регион или муниципалитет — ошибка 422.
    """
    now = utcnow()
    items, numbers = p.page_of(p.votes_query(region, municipality, status, now), page, size)
    data = {**numbers, "items": [p.vote_summary(c, now) for c in items]}
    return deliver(
        data,
        format,
        tables.votes,
        _("Голосования, страница %(n)s.csv", n=page),
        f"votes-{page}.csv",
    )


@bp.route("/votes/<int:vote_id>")
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenVoteOut)
@csv_variant
@documented(404)
def vote(vote_id: int, format: str):
    """Голосование: правила, объекты, явка, хеши урны

    Как на странице голосования: правила, объекты с адресами и стоимостью, явка (если
    организатор её показывает, и всегда после окончания). После окончания — `box`: хеши
    SHA-256 опечатанной урны (те же, что в протоколе). CSV — список объектов.
    """
    campaign = _vote(vote_id)
    data = p.vote_card(campaign, utcnow())
    return deliver(
        data,
        format,
        tables.vote_objects,
        _("Объекты голосования %(id)s.csv", id=campaign.id),
        f"vote-{campaign.id}-objects.csv",
    )


@bp.route("/votes/<int:vote_id>/results")
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenVoteResultsOut)
@csv_variant
@documented(404, 409)
def vote_results(vote_id: int, format: str):
    """Итоги голосования

    Только после окончания (до него — 409): голоса, доли, места и победители по каждому
    району (или по всему голосованию), явка по каналам. Считается так же, как на странице
    итогов; совпадает с пересчётом урны (`/box`). CSV — таблица итогов, как на сайте.
    """
    campaign = _closed_vote(vote_id)
    tally = tally_campaign(campaign)
    data = p.vote_results(campaign, tally)
    if format != "csv":
        return data
    bp.set_etag(["csv", data])
    return _stream(
        results_csv_chunks(tally),
        CSV_MIMETYPE,
        _("Итоги голосования %(id)s.csv", id=campaign.id),
        f"results-voting-{campaign.id}.csv",
    )


BOX_DESCRIPTION = """\
Обезличенная урна завершённого голосования (до окончания — 409): по строке на бюллетень —
SHA-256 кода квитанции и номера выбранных объектов. В урне нет ни людей, ни времени
голосования; строки идут по возрастанию хеша квитанции.

JSON (по умолчанию): `{"campaign_id", "title", "ballot_rule", "objects": [{"id", "title",
"district_id"}], "ballots": [{"receipt_sha256", "choices": [id, …]}]}`.
CSV (`?format=csv`): `receipt_sha256,choices` — машинный файл урны, UTF-8 без BOM, разделитель
«,», номера объектов через пробел. Его байты не переоформляются под CSV для Excel: именно от
них взят хеш, опубликованный в протоколе.

**Как проверить урну.** После окончания голосования платформа «опечатывает» урну: вычисляет
SHA-256 обоих файлов и публикует их в карточке голосования (`GET /api/v1/open/votes/{id}` →
`box.json_sha256`, `box.csv_sha256`) и в протоколе итогов. Скачайте файл как есть и посчитайте
его хеш, например `curl -s …/box?format=csv | sha256sum` или
`hashlib.sha256(response.content).hexdigest()` — он должен совпасть с опубликованным.
Пересчёт итогов: число вхождений номера объекта в `choices` — его голоса (сравните с
`/results`). Свой бюллетень житель находит по SHA-256 кода квитанции в каноническом виде
(заглавные буквы, группы по четыре через дефис, например `K7QX-2MHD-VT9C-4PWA`):
`printf %s K7QX-2MHD-VT9C-4PWA | sha256sum`.

ETag ответа — от опечатанного хеша (или, пока урна не опечатана, от хеша содержимого).
"""


@bp.route("/votes/<int:vote_id>/box")
@described(BOX_DESCRIPTION)
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenBallotBoxOut, description=BOX_ANSWER)
@bp.alt_response(
    200, schema={"type": "string"}, content_type=CSV_MIMETYPE, description=BOX_ANSWER, success=True
)
@documented(404, 409)
def vote_box(vote_id: int, format: str):
    """Урна голосования с SHA-256 для проверки"""
    campaign = _closed_vote(vote_id)
    as_csv = format == "csv"
    chunks = box.csv_chunks if as_csv else box.json_chunks
    sealed = campaign.box_csv_sha256 if as_csv else campaign.box_json_sha256
    digest = sealed or box.digest(chunks(campaign))
    bp.set_etag(["box", format, digest])
    suffix = "csv" if as_csv else "json"
    return _stream(
        chunks(campaign),
        CSV_MIMETYPE if as_csv else "application/json",
        _("Урна голосования %(id)s.%(ext)s", id=campaign.id, ext=suffix),
        f"ballot-box-{campaign.id}.{suffix}",
    )


# --- surveys ------------------------------------------------------------------------------------


@bp.route("/surveys")
@bp.etag
@bp.arguments(OpenPlaceQuery, location="query", as_kwargs=True)
@bp.response(200, OpenSurveyPageOut)
@csv_variant
@documented(422)
def surveys(format: str, page: int, size: int, region=None, municipality=None):
    """Опросы с опубликованными итогами

    Завершённые опросы, итоги которых организатор сделал открытыми, новые сначала. Опрос
    относится к территории организатора и к территориям, которым он адресован.
    """
    items, numbers = p.page_of(p.surveys_query(region, municipality), page, size)
    data = {**numbers, "items": [p.survey_summary(s) for s in items]}
    return deliver(
        data, format, tables.surveys, _("Опросы, страница %(n)s.csv", n=page), f"surveys-{page}.csv"
    )


@bp.route("/surveys/<int:survey_id>/results")
@bp.etag
@bp.arguments(OpenSurveyResultsQuery, location="query", as_kwargs=True)
@bp.response(200, OpenSurveyResultsOut)
@csv_variant
@documented(404, 503)
def survey_results(survey_id: int, format: str, by: str | None = None):
    """Итоги опроса

    Только опросы с открытыми итогами после их окончания (иначе 404). По каждому вопросу:
    ответившие, варианты с долями, шкалы, средние. Тексты свободных ответов не выдаются —
    только их число. С `by` — разбивка по возрасту, полу или муниципалитету; группы меньше
    5 человек скрыты (`suppressed: true`). Итоги больших опросов считаются заданием: пока
    первый расчёт не готов — 503 с Retry-After.
    """
    from participation.polls.results import Dimension

    survey = db.session.get(Survey, survey_id)
    if survey is None or not can_see_public_results(ANONYMOUS, survey):
        raise Problem(404, _("Опроса с открытыми итогами с таким номером нет."))
    view = results_view(survey, dimension=Dimension(by) if by else None)
    if view.requested:
        db.session.commit()  # the refresh job leaves once this commits
    if view.results is None:
        raise Problem(
            503,
            _("Итоги опроса ещё считаются. Повторите запрос через минуту."),
            kind="not-ready",
            headers={"Retry-After": "60"},
        )
    data = p.survey_results(survey, view)
    return deliver(
        data,
        format,
        tables.survey_results,
        _("Итоги опроса %(id)s.csv", id=survey.id),
        f"survey-{survey.id}-results.csv",
    )


# --- hearings -----------------------------------------------------------------------------------


def _hearing(hearing_id: int) -> Hearing:
    hearing = hearing_services.hearing_with_territory(hearing_id)
    if hearing is None or not can_view_hearing(ANONYMOUS, hearing):
        raise Problem(404, _("Опубликованных слушаний или обсуждений с таким номером нет."))
    return hearing


@bp.route("/hearings")
@bp.etag
@bp.arguments(OpenHearingsQuery, location="query", as_kwargs=True)
@bp.response(200, OpenHearingPageOut)
@csv_variant
@documented(422)
def hearings(format: str, page: int, size: int, region=None, municipality=None, stage=None):
    """Публичные слушания и общественные обсуждения

    Опубликованные (с оповещением), новые сначала; фильтры по региону, муниципалитету и
    этапу процедуры сейчас.
    """
    now = utcnow()
    items, numbers = p.page_of(p.hearings_query(region, municipality, stage, now), page, size)
    data = {**numbers, "items": [p.hearing_summary(h, now) for h in items]}
    return deliver(
        data,
        format,
        tables.hearings,
        _("Слушания, страница %(n)s.csv", n=page),
        f"hearings-{page}.csv",
    )


@bp.route("/hearings/<int:hearing_id>")
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenHearingOut)
@csv_variant
@documented(404)
def hearing(hearing_id: int, format: str):
    """Слушания: сведения оповещения и документы

    Сведения из оповещения (организатор, экспозиция, собрание) и список опубликованных
    документов со ссылками. CSV — список документов.
    """
    found = _hearing(hearing_id)
    data = p.hearing_card(found, utcnow())
    return deliver(
        data,
        format,
        lambda d: tables.documents(d["documents"]),
        _("Документы слушаний %(id)s.csv", id=found.id),
        f"hearing-{found.id}-documents.csv",
    )


@bp.route("/hearings/<int:hearing_id>/documents")
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenDocumentListOut)
@csv_variant
@documented(404)
def hearing_documents(hearing_id: int, format: str):
    """Документы слушаний: оповещение, проект, материалы, протокол, заключение

    Ссылки ведут на открытые файлы сайта (вход не нужен): оповещение, файл проекта акта и
    информационные материалы (с размером и SHA-256), протокол — публичная копия без
    приложения со списком участников, заключение о результатах. Протокол и заключение
    появляются, когда организатор их оформил и опубликовал.
    """
    found = _hearing(hearing_id)
    data = {"hearing_id": found.id, "documents": p.hearing_documents(found)}
    return deliver(
        data,
        format,
        lambda d: tables.documents(d["documents"]),
        _("Документы слушаний %(id)s.csv", id=found.id),
        f"hearing-{found.id}-documents.csv",
    )


@bp.route("/hearings/<int:hearing_id>/draft")
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenDraftOut)
@csv_variant
@documented(404)
def hearing_draft(hearing_id: int, format: str):
    """Текст проекта акта по разделам и пунктам

    Опубликованный проект, как на странице обсуждения: разделы и пронумерованные пункты.
    """
    found = _hearing(hearing_id)
    data = p.hearing_draft(found)
    return deliver(
        data,
        format,
        tables.draft,
        _("Проект акта %(id)s.csv", id=found.id),
        f"hearing-{found.id}-draft.csv",
    )


# --- statistics ---------------------------------------------------------------------------------


def _region(region_id: int) -> Territory:
    region = p.public_region(region_id)
    if region is None:
        raise Problem(404, _("Региона с таким номером нет."))
    return region


def _period(region: Territory, grain: str, day: date | None) -> Period:
    """The month, quarter or year around `day`, as the public statistics page picks it."""
    period = r.chosen_period(grain, day.isoformat() if day else None, r.region_today(region))
    if day is not None and day not in period:
        raise FieldError("query.day", _("Нет статистики за эту дату: выберите дату с 2000 года."))
    return period


@bp.route("/statistics/regions")
@bp.etag
@bp.arguments(OpenFormatQuery, location="query", as_kwargs=True)
@bp.response(200, OpenRegionListOut)
@csv_variant
def statistics_regions(format: str):
    """Регионы с открытой статистикой"""
    data = {"regions": p.regions_with_data()}
    return deliver(data, format, tables.regions, _("Регионы.csv"), "regions.csv")


PERIOD_NOTE = (
    "Период — месяц, квартал или год вокруг `day` (без него — текущий по времени региона). "
    "Те же обезличенные цифры, что на странице «Открытая статистика»: числа от 1 до 4 и доли "
    "или средние по менее чем 5 ответам или оценкам скрыты — `value: null`, `suppressed: true`, "
    "а `shown` — текст страницы («менее 5», «менее 5 оценок»). `value: null` при "
    "`suppressed: false` — данных нет."
)


def _period_statistics(
    region_id: int,
    fmt: str,
    grain: str,
    day: date | None,
    build: Callable[[Territory, Period], dict[str, Any]],
    rows: Callable[[Any], Iterator[list[Any]]],
    title: LazyString,
    slug: str,
) -> Any:
    """A region's figures for a period (`build`), as JSON or as CSV named `title`."""
    region = _region(region_id)
    period = _period(region, grain, day)
    data = build(region, period)
    return deliver(
        data,
        fmt,
        rows,
        title % {"region": region.name, "period": data["period"]["text"]},
        f"{slug}-{region.oktmo}-{period.start.isoformat()}.csv",
    )


@bp.route("/statistics/regions/<int:region_id>/figures")
@described(PERIOD_NOTE)
@bp.etag
@bp.arguments(OpenPeriodQuery, location="query", as_kwargs=True)
@bp.response(200, OpenFiguresOut)
@csv_variant
@documented(404, 422)
def statistics_figures(region_id: int, format: str, grain: str, day: date | None = None):
    """Показатели региона: сообщения и участие жителей"""
    return _period_statistics(
        region_id,
        format,
        grain,
        day,
        p.region_figures,
        tables.figures,
        _l("Показатели %(region)s %(period)s.csv"),
        "figures",
    )


@bp.route("/statistics/regions/<int:region_id>/hotspots")
@described(PERIOD_NOTE)
@bp.etag
@bp.arguments(OpenPeriodQuery, location="query", as_kwargs=True)
@bp.response(200, OpenHotspotsOut)
@csv_variant
@documented(404, 422)
def statistics_hotspots(region_id: int, format: str, grain: str, day: date | None = None):
    """Частые темы сообщений региона за период и за предыдущий"""
    return _period_statistics(
        region_id,
        format,
        grain,
        day,
        p.region_hotspots,
        tables.hotspots,
        _l("Частые темы %(region)s %(period)s.csv"),
        "hotspots",
    )


@bp.route("/statistics/regions/<int:region_id>/rating")
@described(PERIOD_NOTE)
@bp.etag
@bp.arguments(OpenPeriodQuery, location="query", as_kwargs=True)
@bp.response(200, OpenRatingOut)
@csv_variant
@documented(404, 422)
def statistics_rating(region_id: int, format: str, grain: str, day: date | None = None):
    """Рейтинг муниципалитетов региона

    Итоговый балл 0–100 из взвешенных показателей, места, веса и описание метода — как на
    странице «Открытая статистика». В ячейках — те же правила скрытия малых чисел.
    """
    return _period_statistics(
        region_id,
        format,
        grain,
        day,
        p.region_rating,
        tables.rating,
        _l("Рейтинг %(region)s %(period)s.csv"),
        "rating",
    )


def _daily_period(region: Territory, start: date | None, end: date | None) -> Period:
    """The chosen dates, checked and completed as the open-data CSV of the site does it."""
    given = {name: day.isoformat() for name, day in (("start", start), ("end", end)) if day}
    form = ExportForm(formdata=MultiDict(given))
    if not form.validate():
        for name in ("start", "end"):
            for message in getattr(form, name).errors:
                raise FieldError(f"query.{name}", str(message))
    return form.period(local_today(region.timezone, utcnow()))


def _daily_json(region: Territory, period: Period) -> Iterator[str]:
    """The daily rows as one JSON document, written a row at a time."""
    head = {
        "region": p.place(region),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "counters": list(STAT_COUNTERS),
    }
    text = json.dumps(head, ensure_ascii=False)
    yield text[:-1] + ', "rows": ['
    rows = stat_rows(Scope(region_id=region.id), period, public=True)
    for n, item in enumerate(p.daily_items(rows, STAT_COUNTERS)):
        yield ("," if n else "") + json.dumps(item, ensure_ascii=False)
    yield "]}\n"


@bp.route("/statistics/regions/<int:region_id>/daily")
@bp.etag
@bp.arguments(OpenDailyQuery, location="query", as_kwargs=True)
@bp.response(200, OpenDailyOut)
@csv_variant
@documented(404, 422)
def statistics_daily(
    region_id: int, format: str, start: date | None = None, end: date | None = None
):
    """Статистика сообщений по дням, муниципалитетам, категориям и источникам

    Счётчики сообщений (поступило, отвечено, в срок, оценки…) за каждый день периода в
    разрезе муниципалитета, категории и источника поступления — без персональных данных и
    текстов. Счётчик от 1 до 4 скрыт: в JSON — `null` и имя счётчика в `suppressed`, в CSV —
    «менее 5». CSV — тот же файл, что «Открытые данные» на сайте (даты ISO 8601). Ответ
    пишется потоком; период — до пяти лет.
    """
    region = _region(region_id)
    period = _daily_period(region, start, end)
    scope = Scope(region_id=region.id)
    # The ETag is the digest of the rows themselves: one pass to hash, then the stream.
    digest = box.digest(s.encode() for s in stat_csv(scope, period, public=True))
    bp.set_etag(["daily", format, digest])
    if format == "csv":
        return _stream(
            stat_csv(scope, period, public=True),
            CSV_MIMETYPE,
            _(
                "Открытые данные: %(region)s %(start)s — %(end)s.csv",
                region=region.name,
                start=period.start.strftime("%d.%m.%Y"),
                end=period.end.strftime("%d.%m.%Y"),
            ),
            f"open-data-{region.oktmo}-{period.start.isoformat()}-{period.end.isoformat()}.csv",
        )
    return _stream(
        _daily_json(region, period),
        "application/json",
        _("Статистика %(region)s.json", region=region.name),
        f"daily-{region.oktmo}-{period.start.isoformat()}.json",
    )
