"""What the open data answers: votes, survey results, hearing documents, public statistics.

Each function reads through the feature's own services (the same the public pages use) and
returns plain dicts for the schemas in opendata_schemas.py. Nothing here names a person or
carries a resident's text: votes give objects and counts, surveys give counts (free-text
answers only as a number), hearings give the organizer's documents, statistics give the
public page's aggregates with «менее 5» turned into `value: null, suppressed: true`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from participation.api.presenters import named, rows_and_total, vote_object
from participation.core.errors import FieldError
from participation.core.files import Attachment
from participation.core.organizations import Organization
from participation.core.territories import Territory, TerritoryLevel
from participation.extensions import db
from participation.hearings import services as hearings
from participation.hearings.labels import KIND_LABELS as HEARING_KIND_LABELS
from participation.hearings.models import Hearing
from participation.hearings.stages import STAGE_LABELS, Stage, stage_at
from participation.polls import answering
from participation.polls.models import Survey, TextStatus, survey_territories
from participation.polls.results import KIND_LABELS as QUESTION_KIND_LABELS
from participation.polls.results import (
    MIN_GROUP_SIZE,
    Breakdown,
    Group,
    OptionResult,
    QuestionResult,
)
from participation.polls.snapshots import ResultsView
from participation.reports import participation
from participation.reports import rating as r
from participation.reports.definitions import BY_CODE, Indicator
from participation.reports.rollup import MUNICIPAL_LEVELS, descendants
from participation.reports.services import Cut, Period, Scope, figures
from participation.reports.services import hotspots as top_topics
from participation.reports.summary import period_text
from participation.voting import reports as vote_texts
from participation.voting.models import Campaign, CampaignStatus, Channel
from participation.voting.services import (
    count_voters,
    public_campaigns_query,
    status_filter,
)
from participation.voting.tally import Tally


def absolute(endpoint: str, **values: Any) -> str:
    """An absolute link on the platform (PUBLIC_BASE_URL), for the API and the site alike."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, **values)


def place(territory: Territory) -> dict[str, Any]:
    return {"id": territory.id, "oktmo": territory.oktmo, "name": territory.name}


# --- filters and pages ------------------------------------------------------------------------


def placed_in(region_id: int | None, municipality_id: int | None) -> list[int] | None:
    """Ids of the territories inside the chosen region and municipality (422 for a bad one);
    None when neither is chosen. A few indexed reads down the tree, not a scan of it."""
    if region_id is None and municipality_id is None:
        return None
    inside: set[int] | None = None
    if region_id is not None:
        found = db.session.get(Territory, region_id)
        if found is None or found.level != TerritoryLevel.REGION:
            raise FieldError("query.region", _("Региона с таким номером нет."))
        inside = set(descendants(region_id))
    if municipality_id is not None:
        found = db.session.get(Territory, municipality_id)
        if found is None or found.level not in MUNICIPAL_LEVELS:
            raise FieldError(
                "query.municipality",
                _("Муниципального образования (района или городского округа) с таким номером нет."),
            )
        below = set(descendants(municipality_id))
        inside = below if inside is None else inside & below
    return sorted(inside or ())


def page_of(query: sa.Select, page: int, size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of `query` and its numbers (a page past the last one is empty)."""
    items, total = rows_and_total(query, page, size)
    return items, {"page": page, "size": size, "total": total, "pages": -(-total // size)}


# --- votes --------------------------------------------------------------------------------------


def votes_query(
    region_id: int | None, municipality_id: int | None, status: str | None, now: datetime
) -> sa.Select:
    """Published campaigns, newest first, filtered as the public list filters them."""
    query = status_filter(public_campaigns_query(), status, now).options(
        joinedload(Campaign.organization), joinedload(Campaign.territory)
    )
    placed = placed_in(region_id, municipality_id)
    if placed is not None:
        query = query.where(Campaign.territory_id.in_(placed))
    return query


def vote_summary(campaign: Campaign, now: datetime) -> dict[str, Any]:
    status = campaign.status(now)
    return {
        "id": campaign.id,
        "title": campaign.title,
        "kind": campaign.kind.value,
        "kind_label": str(vote_texts.KIND_LABELS[campaign.kind]),
        "status": status.value,
        "status_label": str(vote_texts.STATUS_LABELS[status]),
        "organization": named(campaign.organization),
        "territory": place(campaign.territory),
        "opens_at": campaign.opens_at,
        "closes_at": campaign.effective_closes_at,
        "closed_early": campaign.effective_closes_at == campaign.closed_early_at,
        "ballot_rule": campaign.ballot_rule.value,
        "links": {
            "self": absolute("api_opendata.vote", vote_id=campaign.id),
            "results": absolute("api_opendata.vote_results", vote_id=campaign.id),
            "box": absolute("api_opendata.vote_box", vote_id=campaign.id),
            "page": absolute("voting.show", campaign_id=campaign.id),
        },
    }


def box_seal(campaign: Campaign) -> dict[str, Any]:
    return {
        "sealed": campaign.sealed_at is not None,
        "sealed_at": campaign.sealed_at,
        "json_sha256": campaign.box_json_sha256,
        "csv_sha256": campaign.box_csv_sha256,
    }


def vote_card(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """The campaign as its public page shows it: rules, objects, turnout when shown, the box."""
    status = campaign.status(now)
    closed = status == CampaignStatus.CLOSED
    return {
        **vote_summary(campaign, now),
        "rules": campaign.rules_text,
        "rule_text": vote_texts.rule_text(campaign),
        "period_text": vote_texts.period_text(campaign),
        "eligibility_text": vote_texts.eligibility_text(campaign),
        "winners_count": campaign.winners_count,
        "max_choices": campaign.max_choices,
        "budget_limit": campaign.budget_limit,
        "per_district": campaign.per_district,
        "turnout": count_voters(campaign) if campaign.show_turnout or closed else None,
        "objects": [
            {**vote_object(o), "district": named(o.district) if o.district else None}
            for o in campaign.objects
        ],
        "box": box_seal(campaign) if closed else None,
    }


def vote_results(campaign: Campaign, tally: Tally) -> dict[str, Any]:
    """The tally of a closed campaign, group by group (districts or the whole campaign)."""
    return {
        "vote_id": campaign.id,
        "title": campaign.title,
        "ballot_rule": campaign.ballot_rule.value,
        "rule_text": vote_texts.rule_text(campaign),
        "period_text": vote_texts.period_text(campaign),
        "ballots": tally.ballots,
        "voters": tally.voters or 0,
        "voters_by_channel": {c.value: tally.voters_by_channel.get(c, 0) for c in Channel},
        "turnout_target": tally.turnout_target,
        "target_reached": tally.target_reached,
        "groups": [
            {
                "district": (
                    {"id": g.district.id, "name": g.district.name} if g.district else None
                ),
                "ballots": g.ballots,
                "budget_left": g.budget_left,
                "budget_used": g.budget_used,
                "tie_at_boundary": g.tie_at_boundary,
                "rows": [
                    {
                        "object_id": row.id,
                        "number": row.number,
                        "title": row.title,
                        "cost": row.cost,
                        "votes": row.votes,
                        "share": round(row.share, 4),
                        "rank": row.rank,
                        "winner": row.winner,
                        "skipped": row.skipped,
                    }
                    for row in g.rows
                ],
            }
            for g in tally.groups
        ],
        "box": box_seal(campaign),
    }


# --- surveys ------------------------------------------------------------------------------------


def surveys_query(region_id: int | None, municipality_id: int | None) -> sa.Select:
    """Closed surveys whose publisher made the results public, newest first.

    A survey is in a territory when its organizer is, or when it was addressed to it.
    """
    query = answering.results_published_query().options(
        joinedload(Survey.organization), selectinload(Survey.territories)
    )
    placed = placed_in(region_id, municipality_id)
    if placed is not None:
        query = query.where(
            sa.or_(
                Survey.organization_id.in_(
                    sa.select(Organization.id).where(Organization.territory_id.in_(placed))
                ),
                Survey.id.in_(
                    sa.select(survey_territories.c.survey_id).where(
                        survey_territories.c.territory_id.in_(placed)
                    )
                ),
            )
        )
    return query


def survey_summary(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "title": survey.title,
        "description": survey.description,
        "organization": named(survey.organization),
        "territories": [place(t) for t in survey.territories],
        "starts_at": survey.starts_at,
        "ended_at": min(survey.closed_at or survey.ends_at, survey.ends_at),
        "anonymous": survey.anonymous,
        "links": {
            "results": absolute("api_opendata.survey_results", survey_id=survey.id),
            "page": absolute("polls.public_results", survey_id=survey.id),
        },
    }


def _option(o: OptionResult) -> dict[str, Any]:
    return {
        "option_id": o.option.id,
        "text": o.option.text,
        "count": o.count,
        "share": round(o.share, 6),
        "mean_rank": o.mean_rank,
    }


def _group_key(key: Any) -> str | None:
    return None if key is None else str(key)


def shown_groups(breakdown: Breakdown | None) -> list[Group]:
    """The groups whose figures may be published: at least MIN_GROUP_SIZE people.

    The public page hides small groups of anonymous surveys only; open data hides them in
    named surveys too, since anyone may join it with other sources.
    """
    if breakdown is None:
        return []
    return [g for g in breakdown.groups if not g.hidden and g.respondents >= MIN_GROUP_SIZE]


def _by_group(result: QuestionResult, breakdown: Breakdown | None) -> list[dict[str, Any]]:
    if breakdown is None or result.rows:
        return []  # matrices are not broken down
    question_id = result.question.id
    figures_ = []
    for group in shown_groups(breakdown):
        options = []
        for option in result.question.choices if result.options else []:
            options.append(
                {
                    "option_id": option.id,
                    "text": option.text,
                    "count": breakdown.count(question_id, option.id, group.key),
                    "share": round(breakdown.share(question_id, option.id, group.key), 6),
                    "mean_rank": breakdown.means.get((question_id, option.id), {}).get(group.key),
                }
            )
        figures_.append(
            {
                "group": _group_key(group.key),
                "answered": breakdown.answered.get(question_id, {}).get(group.key, 0),
                "mean": breakdown.means.get(question_id, {}).get(group.key),
                "options": options,
            }
        )
    return figures_


def _question(result: QuestionResult, breakdown: Breakdown | None) -> dict[str, Any]:
    question = result.question
    return {
        "question_id": question.id,
        "number": result.number,
        "text": question.text,
        "kind": question.kind.value,
        "kind_label": str(QUESTION_KIND_LABELS[question.kind]),
        "answered": result.answered,
        "options": [_option(o) for o in result.options],
        "rows": [
            {
                "row_id": row.id,
                "text": row.text,
                "answered": answered,
                "options": [_option(c) for c in cells],
            }
            for row, answered, cells in result.rows
        ],
        "scale": [
            {"value": s.value, "count": s.count, "share": round(s.share, 6)} for s in result.scale
        ],
        "mean": result.mean,
        "minimum": result.minimum,
        "maximum": result.maximum,
        "first_date": result.first_date,
        "last_date": result.last_date,
        "free_texts_published": result.texts.get(TextStatus.APPROVED, 0),
        "by_group": _by_group(result, breakdown),
    }


def survey_results(survey: Survey, view: ResultsView) -> dict[str, Any]:
    """Totals of every question (and the groups of a breakdown), from the results service."""
    assert view.results is not None
    breakdown = view.breakdown
    shown = {g.key for g in shown_groups(breakdown)}
    return {
        "survey": survey_summary(survey),
        "respondents": view.results.total,
        "computed_at": view.computed_at,
        "dimension": breakdown.dimension.value if breakdown else None,
        "groups": [
            {
                "key": _group_key(g.key),
                "label": g.label,
                "respondents": g.respondents if g.key in shown else None,
                "suppressed": g.key not in shown,
            }
            for g in (breakdown.groups if breakdown else [])
        ],
        "questions": [_question(q, breakdown) for q in view.results.questions],
    }


# --- hearings -----------------------------------------------------------------------------------


def hearings_query(
    region_id: int | None, municipality_id: int | None, stage: str | None, now: datetime
) -> sa.Select:
    """Published hearings, newest notice first, as the public list selects them."""
    query = hearings.public_hearings_query(stage=Stage(stage) if stage else None, now=now)
    placed = placed_in(region_id, municipality_id)
    if placed is not None:
        query = query.where(Hearing.territory_id.in_(placed))
    return query


def hearing_summary(hearing: Hearing, now: datetime) -> dict[str, Any]:
    stage = stage_at(hearing, now)
    return {
        "id": hearing.id,
        "kind": hearing.kind.value,
        "kind_label": str(HEARING_KIND_LABELS[hearing.kind]),
        "title": hearing.title,
        "subject": hearing.subject,
        "organization": named(hearing.organization),
        "territory": place(hearing.territory),
        "stage": stage.value,
        "stage_label": str(STAGE_LABELS[stage]),
        "notice_published_at": hearing.notice_published_at,
        "remarks_first_day": hearing.remarks_first_day,
        "remarks_last_day": hearing.remarks_last_day,
        "links": {
            "self": absolute("api_opendata.hearing", hearing_id=hearing.id),
            "documents": absolute("api_opendata.hearing_documents", hearing_id=hearing.id),
            "draft": absolute("api_opendata.hearing_draft", hearing_id=hearing.id),
            "page": absolute("hearings.show", hearing_id=hearing.id),
        },
    }


def _file(kind: str, title: str, day: date | None, attachment: Attachment) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "date": day,
        "url": absolute("core.download_file", public_id=attachment.public_id),
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def _built(kind: str, title: str, day: date | None, endpoint: str, hearing: Hearing) -> dict:
    """A PDF the public pages build on request (notice, public protocol, conclusion)."""
    return {
        "kind": kind,
        "title": title,
        "date": day,
        "url": absolute(endpoint, hearing_id=hearing.id),
        "content_type": "application/pdf",
        "size": None,
        "sha256": None,
    }


def hearing_documents(hearing: Hearing) -> list[dict[str, Any]]:
    """The public documents in the order of the procedure: the notice, the draft act's file,
    the information materials, the protocol (public copy, no annex) and the conclusion."""
    docs = [
        _built(
            "notice",
            _("Оповещение о начале общественных обсуждений или публичных слушаний"),
            hearing.local_date(hearing.notice_published_at),
            "hearings.notice_pdf",
            hearing,
        )
    ]
    if hearing.draft_attachment is not None:
        docs.append(
            _file(
                "draft",
                _("Проект: %(title)s", title=hearing.title),
                hearing.local_date(hearing.notice_published_at),
                hearing.draft_attachment,
            )
        )
    for material in hearings.materials(hearing):
        docs.append(
            _file(
                "material",
                material.title,
                hearing.local_date(material.created_at),
                material.attachment,
            )
        )
    if hearing.protocol_issued_at is not None:
        docs.append(
            _built(
                "protocol",
                _(
                    "Протокол № %(number)s от %(date)s",
                    number=hearing.protocol_number,
                    date=hearing.protocol_date.strftime("%d.%m.%Y"),
                ),
                hearing.protocol_date,
                "hearings.protocol_pdf",
                hearing,
            )
        )
    if hearing.conclusion_published_at is not None:
        docs.append(
            _built(
                "conclusion",
                _("Заключение о результатах"),
                hearing.conclusion_date,
                "hearings.conclusion_pdf",
                hearing,
            )
        )
    return docs


def hearing_card(hearing: Hearing, now: datetime) -> dict[str, Any]:
    return {
        **hearing_summary(hearing, now),
        "initiator": hearing.initiator,
        "organizer_address": hearing.organizer_address,
        "exposition_place": hearing.exposition_place,
        "exposition_hours": hearing.exposition_hours,
        "exposition_first_day": hearing.exposition_first_day,
        "exposition_last_day": hearing.exposition_last_day,
        "meeting_at": hearing.meeting_at,
        "meeting_place": hearing.meeting_place,
        "protocol_number": hearing.protocol_number if hearing.protocol_issued_at else None,
        "protocol_date": hearing.protocol_date if hearing.protocol_issued_at else None,
        "conclusion_date": hearing.conclusion_date if hearing.conclusion_published_at else None,
        "documents": hearing_documents(hearing),
    }


def hearing_draft(hearing: Hearing) -> dict[str, Any]:
    return {
        "hearing_id": hearing.id,
        "title": hearing.title,
        "sections": [
            {
                "title": section.title,
                "paragraphs": [{"number": p.number, "text": p.text} for p in paragraphs],
            }
            for section, paragraphs in hearings.draft_outline(hearing)
        ],
    }


# --- statistics ---------------------------------------------------------------------------------


def figure(indicator: Indicator, value: float | int | None, base: int | None = None) -> dict:
    """One public figure: the public page's text, and the number unless it is hidden.

    Hidden is what rating.public_value hides («менее 5»): a value whose public text differs
    from its plain text.
    """
    shown = r.public_value(indicator, value, base)
    suppressed = value is not None and shown != r.show_value(indicator, value)
    return {
        "code": indicator.code,
        "name": str(indicator.name),
        "unit": indicator.unit.value,
        "value": None if value is None or suppressed else float(value),
        "shown": shown,
        "suppressed": suppressed,
        "counts": str(indicator.counts),
    }


def period_out(period: Period) -> dict[str, Any]:
    return {
        "start": period.start,
        "end": period.end,
        "grain": period.grain.value,
        "text": period_text(period),
    }


def region_figures(region: Territory, period: Period) -> dict[str, Any]:
    """The figures of the public statistics page: messages, then participation."""
    scope = Scope(region_id=region.id)
    messages = figures(scope, period)
    taking_part = participation.figures(scope, period)

    def of(row, codes) -> list[dict]:
        out = []
        for code in codes:
            indicator = BY_CODE[code]
            base = row.counters.get(indicator.denominator) if indicator.denominator else None
            out.append(figure(indicator, row.values.get(code), base))
        return out

    return {
        "region": place(region),
        "period": period_out(period),
        "messages": of(messages, r.PUBLIC_MESSAGE_CODES),
        "participation": of(taking_part, participation.CODES),
    }


def region_hotspots(region: Territory, period: Period) -> dict[str, Any]:
    received = BY_CODE["received"]
    spots = top_topics(Scope(region_id=region.id), period, Cut.SUBCATEGORY, limit=r.PUBLIC_HOTSPOTS)
    return {
        "region": place(region),
        "period": period_out(period),
        "hotspots": [
            {
                "topic": spot.label,
                "current": figure(received, spot.count),
                "previous": figure(received, spot.previous),
            }
            for spot in spots
        ],
    }


def region_rating(region: Territory, period: Period) -> dict[str, Any]:
    rating = r.compute_rating(region.id, period, r.RatingOf.MUNICIPALITIES)
    return {
        "region": place(region),
        "period": period_out(period),
        "default_weights": rating.default_weights,
        "weights": [
            {"code": code, "name": str(BY_CODE[code].name), "weight": float(rating.weights[code])}
            for code in r.CODES
        ],
        "method": r.method_text(rating),
        "rows": [
            {
                "municipality_id": row.key,
                "name": row.label,
                "place": row.place,
                "score": None if row.score is None else round(row.score, 1),
                "notes": list(row.notes),
                "cells": [
                    figure(BY_CODE[code], row.cells[code].value, row.cells[code].base)
                    for code in r.CODES
                ],
            }
            for row in rating.rows
        ],
    }


def regions_with_data() -> list[dict[str, Any]]:
    return [place(t) for t in r.regions_with_data()]


def public_region(region_id: int) -> Territory | None:
    found = db.session.get(Territory, region_id)
    return found if found is not None and found.level == TerritoryLevel.REGION else None


def daily_items(rows: Iterator[list[Any]], counters: tuple[str, ...]) -> Iterator[dict]:
    """The public statistics rows (reports.exports.stat_rows, public) as JSON objects: a
    count the public variant shows as «менее 5» becomes null and is named in `suppressed`."""
    next(rows)  # the header
    for day, oktmo, name, code, category, channel, channel_label, *counts in rows:
        suppressed = [c for c, v in zip(counters, counts, strict=True) if isinstance(v, str)]
        yield {
            "day": day.isoformat(),
            "oktmo": oktmo,
            "municipality": name,
            "category_code": code,
            "category": category,
            "channel": channel,
            "channel_label": channel_label,
            "counts": {
                c: (None if isinstance(v, str) else int(v))
                for c, v in zip(counters, counts, strict=True)
            },
            "suppressed": suppressed,
        }
