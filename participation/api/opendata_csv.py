"""The CSV variants of the open data (?format=csv): a header row in Russian, then the rows.

Each function takes what the JSON answer carries (opendata_presenters) and yields lists of
cells; participation.core.exports.stream_csv writes them for Excel in Russian (UTF-8 with BOM,
«;», CRLF, «3,5», «01.02.2026», formulas guarded). Two files are not made here: the ballot box
(voting.box, a sealed machine file) and the daily statistics (reports.exports.stat_csv).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

Rows = Iterator[list[Any]]


def _yes(value: bool) -> str:
    return _("да") if value else _("нет")


def _moment(value: datetime | None) -> str:
    """UTC moments in ISO 8601 with the zone: a spreadsheet keeps them as text, unambiguous."""
    return value.isoformat() if value is not None else ""


def votes(data: dict[str, Any]) -> Rows:
    yield [
        _("Номер"),
        _("Голосование"),
        _("Вид"),
        _("Статус"),
        _("Организатор"),
        _("Территория"),
        _("ОКТМО"),
        _("Начало (UTC)"),
        _("Окончание (UTC)"),
        _("Завершено досрочно"),
        _("Правило"),
        _("Адрес в API"),
    ]
    for v in data["items"]:
        yield [
            v["id"],
            v["title"],
            v["kind_label"],
            v["status_label"],
            v["organization"]["name"],
            v["territory"]["name"],
            v["territory"]["oktmo"],
            _moment(v["opens_at"]),
            _moment(v["closes_at"]),
            _yes(v["closed_early"]),
            v["ballot_rule"],
            v["links"]["self"],
        ]


def vote_objects(data: dict[str, Any]) -> Rows:
    yield [
        _("Номер объекта"),
        _("№ в бюллетене"),
        _("Объект"),
        _("Описание"),
        _("Адрес"),
        _("Широта"),
        _("Долгота"),
        _("Стоимость, ₽"),
        _("Район"),
    ]
    for o in data["objects"]:
        yield [
            o["id"],
            o["number"],
            o["title"],
            o["description"],
            o["address"],
            o["latitude"],
            o["longitude"],
            o["cost"],
            o["district"]["name"] if o["district"] else "",
        ]


def surveys(data: dict[str, Any]) -> Rows:
    yield [
        _("Номер"),
        _("Опрос"),
        _("Организатор"),
        _("Территории"),
        _("Начало (UTC)"),
        _("Окончание (UTC)"),
        _("Анонимный"),
        _("Адрес итогов в API"),
    ]
    for s in data["items"]:
        yield [
            s["id"],
            s["title"],
            s["organization"]["name"],
            ", ".join(t["name"] for t in s["territories"]),
            _moment(s["starts_at"]),
            _moment(s["ended_at"]),
            _yes(s["anonymous"]),
            s["links"]["results"],
        ]


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 2)


SURVEY_COLUMNS = (
    "group",
    "row",
    "option",
    "answered",
    "chosen",
    "share",
    "mean_rank",
    "mean",
    "minimum",
    "maximum",
)


def survey_results(data: dict[str, Any]) -> Rows:
    """A row per option (matrix: per row and option; scale: per value), then, with a
    breakdown, the same per group; a question without options gets one row of its figures."""
    labels = {g["key"]: g["label"] for g in data["groups"]}
    yield [
        _("№ вопроса"),
        _("Вопрос"),
        _("Тип вопроса"),
        _("Группа"),
        _("Строка таблицы"),
        _("Вариант или значение"),
        _("Ответили на вопрос"),
        _("Выбрали"),
        _("Доля, %"),
        _("Среднее место"),
        _("Среднее"),
        _("Минимум"),
        _("Максимум"),
    ]
    for q in data["questions"]:
        head = [q["number"], q["text"], q["kind_label"]]

        def line(**cells: Any) -> list[Any]:
            return [*head, *(cells.get(c) for c in SURVEY_COLUMNS)]  # noqa: B023

        lines = [
            line(
                option=o["text"],
                answered=q["answered"],
                chosen=o["count"],
                share=_percent(o["share"]),
                mean_rank=o["mean_rank"],
            )
            for o in q["options"]
        ]
        lines += [
            line(
                row=row["text"],
                option=o["text"],
                answered=row["answered"],
                chosen=o["count"],
                share=_percent(o["share"]),
            )
            for row in q["rows"]
            for o in row["options"]
        ]
        lines += [
            line(
                option=s["value"],
                answered=q["answered"],
                chosen=s["count"],
                share=_percent(s["share"]),
                mean=q["mean"],
                minimum=q["minimum"],
                maximum=q["maximum"],
            )
            for s in q["scale"]
        ]
        if not lines:
            lines.append(
                line(
                    answered=q["answered"],
                    mean=q["mean"],
                    minimum=q["minimum"] if q["minimum"] is not None else q["first_date"],
                    maximum=q["maximum"] if q["maximum"] is not None else q["last_date"],
                )
            )
        for g in q["by_group"]:
            group = labels.get(g["group"], g["group"] or "")
            if not g["options"]:
                lines.append(line(group=group, answered=g["answered"], mean=g["mean"]))
            lines += [
                line(
                    group=group,
                    option=o["text"],
                    answered=g["answered"],
                    chosen=o["count"],
                    share=_percent(o["share"]),
                    mean_rank=o["mean_rank"],
                )
                for o in g["options"]
            ]
        yield from lines


def hearings(data: dict[str, Any]) -> Rows:
    yield [
        _("Номер"),
        _("Вид"),
        _("Проект"),
        _("Организатор"),
        _("Территория"),
        _("ОКТМО"),
        _("Этап"),
        _("Приём предложений с"),
        _("Приём предложений по"),
        _("Адрес документов в API"),
    ]
    for h in data["items"]:
        yield [
            h["id"],
            h["kind_label"],
            h["title"],
            h["organization"]["name"],
            h["territory"]["name"],
            h["territory"]["oktmo"],
            h["stage_label"],
            h["remarks_first_day"],
            h["remarks_last_day"],
            h["links"]["documents"],
        ]


def documents(docs: list[dict[str, Any]]) -> Rows:
    yield [
        _("Вид"),
        _("Документ"),
        _("Дата"),
        _("Ссылка"),
        _("Тип файла"),
        _("Размер, байт"),
        _("SHA-256"),
    ]
    for d in docs:
        yield [
            d["kind"],
            d["title"],
            d["date"],
            d["url"],
            d["content_type"],
            d["size"],
            d["sha256"],
        ]


def draft(data: dict[str, Any]) -> Rows:
    yield [_("Раздел"), _("Пункт"), _("Текст")]
    for section in data["sections"]:
        for p in section["paragraphs"]:
            yield [section["title"], p["number"], p["text"]]


def regions(data: dict[str, Any]) -> Rows:
    yield [_("Номер"), _("ОКТМО"), _("Регион")]
    for t in data["regions"]:
        yield [t["id"], t["oktmo"], t["name"]]


def _figure_cells(f: dict[str, Any]) -> list[Any]:
    return [f["value"], f["shown"], _yes(f["suppressed"])]


def figures(data: dict[str, Any]) -> Rows:
    yield [
        _("Раздел"),
        _("Код"),
        _("Показатель"),
        _("Значение"),
        _("Как на странице"),
        _("Скрыто (менее 5)"),
        _("Единица"),
        _("Что считается"),
    ]
    for section, title in (("messages", _("Сообщения жителей")), ("participation", _("Участие"))):
        for f in data[section]:
            yield [title, f["code"], f["name"], *_figure_cells(f), f["unit"], f["counts"]]


def hotspots(data: dict[str, Any]) -> Rows:
    yield [
        _("Тема"),
        _("Сообщений за период"),
        _("Как на странице"),
        _("Скрыто (менее 5)"),
        _("За предыдущий период"),
        _("Как на странице (предыдущий)"),
        _("Скрыто (предыдущий)"),
    ]
    for h in data["hotspots"]:
        yield [h["topic"], *_figure_cells(h["current"]), *_figure_cells(h["previous"])]


def rating(data: dict[str, Any]) -> Rows:
    names = [w["name"] for w in data["weights"]]
    yield [_("Место"), _("Муниципальное образование"), _("Итоговый балл"), *names, _("Примечания")]
    for row in data["rows"]:
        yield [
            row["place"],
            row["name"],
            row["score"],
            *(cell["shown"] for cell in row["cells"]),
            " ".join(row["notes"]),
        ]


def heatmap(data: dict[str, Any]) -> Rows:
    yield [_("Юг"), _("Запад"), _("Север"), _("Восток"), _("Сообщений")]
    for cell in data["cells"]:
        yield [cell["south"], cell["west"], cell["north"], cell["east"], cell["count"]]
