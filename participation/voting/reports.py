"""Texts about a campaign (labels, rule, period) and the protocol's assembly and storage."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from participation.auth.eligibility import rule_description
from participation.core.db import utcnow
from participation.core.files import Attachment, store_file
from participation.core.i18n import local_datetime, zone_label
from participation.extensions import db
from participation.voting.models import (
    BallotRule,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
)
from participation.voting.pdf import ProtocolContext, build_protocol
from participation.voting.services import eligibility_rule, money
from participation.voting.tally import Tally, tally_campaign

PROTOCOL_OWNER = "voting_protocol"
# Campaigns with more objects than this get their protocol from a background job.
INLINE_PROTOCOL_MAX_OBJECTS = 500

KIND_LABELS = {
    CampaignKind.LANDSCAPING: _l("Благоустройство общественных пространств"),
    CampaignKind.BUDGET: _l("Инициативное бюджетирование"),
}
RULE_LABELS = {
    BallotRule.SINGLE: _l("Один объект"),
    BallotRule.APPROVAL: _l("Несколько объектов (до N)"),
    BallotRule.BUDGET: _l("Проекты в пределах бюджета"),
}
CHANNEL_LABELS = {
    Channel.SELF: _l("На сайте"),
    Channel.WIDGET: _l("Через виджет"),
    Channel.ASSISTED: _l("С помощью волонтёра"),
}
STATUS_LABELS = {
    CampaignStatus.DRAFT: _l("Черновик"),
    CampaignStatus.UPCOMING: _l("Скоро начнётся"),
    CampaignStatus.OPEN: _l("Идёт голосование"),
    CampaignStatus.CLOSED: _l("Завершено"),
}


def rule_text(campaign: Campaign) -> str:
    """How ballots are filled in and winners found, in one or two Russian sentences."""
    winners = ngettext(
        "побеждает %(num)d объект, набравший больше всего голосов",
        "побеждают %(num)d объектов, набравших больше всего голосов",
        campaign.winners_count,
    )
    if campaign.ballot_rule == BallotRule.SINGLE:
        text = _("Каждый выбирает один объект; %(winners)s.", winners=winners)
    elif campaign.ballot_rule == BallotRule.APPROVAL:
        up_to = ngettext("до %(num)d объекта", "до %(num)d объектов", campaign.max_choices or 1)
        text = _("Каждый выбирает %(up_to)s; %(winners)s.", up_to=up_to, winners=winners)
    else:
        text = _(
            "Каждый выбирает проекты общей стоимостью не больше %(budget)s ₽. Победители "
            "определяются по числу голосов: проект проходит, если помещается в оставшийся "
            "бюджет; не поместившийся пропускается, и проверяется следующий. Проект, не "
            "набравший ни одного голоса, не побеждает, даже если бюджета на него хватает.",
            budget=money(campaign.budget_limit or 0),
        )
    if campaign.per_district:
        text += " " + _(
            "Голосование по районам: каждый выбирает объекты своего района, "
            "итоги подводятся по каждому району отдельно."
        )
    return text + " " + _("При равенстве голосов выше стоит объект с меньшим номером.")


def _early_close(campaign: Campaign) -> tuple[str, str] | None:
    """The local date and time of an early close, if the campaign was closed early."""
    if campaign.effective_closes_at != campaign.closed_early_at:
        return None
    tz = campaign.territory.timezone
    return (
        local_datetime(campaign.closed_early_at, tz, "dd.MM.yyyy"),
        local_datetime(campaign.closed_early_at, tz, "HH:mm"),
    )


def period_text(campaign: Campaign, with_zone: bool = True) -> str:
    """The actual period: from the opening to the planned end, or to the early close."""
    tz = campaign.territory.timezone
    start = local_datetime(campaign.opens_at, tz)
    early = _early_close(campaign)
    if early is not None:
        text = _(
            "с %(start)s, досрочно завершено %(date)s в %(time)s",
            start=start,
            date=early[0],
            time=early[1],
        )
    else:
        text = _("с %(start)s по %(end)s", start=start, end=local_datetime(campaign.closes_at, tz))
    if with_zone:
        # The label has its own brackets («екатеринбургское время (МСК+2)»): no second pair.
        text += f", {zone_label(tz, campaign.opens_at)}"
    return text


def early_close_text(campaign: Campaign) -> str | None:
    """«01.02.2026 в 15:30. Причина: …» for a campaign closed early, else None."""
    early = _early_close(campaign)
    if early is None:
        return None
    return _(
        "%(date)s в %(time)s. Причина: %(reason)s",
        date=early[0],
        time=early[1],
        reason=campaign.close_reason,
    )


def eligibility_text(campaign: Campaign) -> str:
    return rule_description(eligibility_rule(campaign))


def public_url(endpoint: str, **values: object) -> str:
    """An absolute link on the public site (PUBLIC_BASE_URL), also from jobs."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return base + url_for(endpoint, **values)


def protocol_context(campaign: Campaign, now: datetime) -> ProtocolContext:
    tz = campaign.territory.tz
    return ProtocolContext(
        organizer=campaign.organization.name,
        municipality=campaign.territory.name,
        period=period_text(campaign),
        eligibility=eligibility_text(campaign),
        rule=rule_text(campaign),
        verify_url=public_url("voting.verify", campaign_id=campaign.id),
        generated_at=now.astimezone(tz),
        early_close=early_close_text(campaign),
        box_sha256=campaign.box_csv_sha256,
        box_json_sha256=campaign.box_json_sha256,
    )


def protocol_pdf(
    campaign: Campaign, tally: Tally | None = None, now: datetime | None = None
) -> bytes:
    """The result protocol of a closed campaign as PDF bytes."""
    now = now or utcnow()
    return build_protocol(
        campaign, tally or tally_campaign(campaign), protocol_context(campaign, now)
    )


def protocol_filename(campaign: Campaign) -> str:
    return f"protocol-voting-{campaign.id}.pdf"


def store_generated_file(
    data: bytes, filename: str, content_type: str, attached_to: tuple[str, object]
) -> Attachment:
    """Keep a file the platform made (not an upload) in storage, as an attachment row."""
    attachment = store_file(
        data, filename, content_type, uploaded_by_id=None, attached_to=attached_to
    )
    db.session.flush()
    return attachment
