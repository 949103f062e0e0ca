"""Texts about a campaign (labels, rule, period) and the protocol's assembly and storage."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from participation.auth.eligibility import rule_description
from participation.core.db import utcnow
from participation.core.files import Attachment
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
            "бюджет; не поместившийся пропускается, и проверяется следующий.",
            budget=money(campaign.budget_limit or 0),
        )
    if campaign.per_district:
        text += " " + _(
            "Голосование по районам: каждый выбирает объекты своего района, "
            "итоги подводятся по каждому району отдельно."
        )
    return text + " " + _("При равенстве голосов выше стоит объект с меньшим номером.")


def period_text(campaign: Campaign) -> str:
    tz = campaign.territory.timezone
    return _(
        "с %(start)s по %(end)s (%(zone)s)",
        start=local_datetime(campaign.opens_at, tz),
        end=local_datetime(campaign.closes_at, tz),
        zone=zone_label(tz, campaign.opens_at),
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
    early = None
    if campaign.closed_early_at is not None:
        early = _(
            "%(when)s. Причина: %(reason)s",
            when=local_datetime(campaign.closed_early_at, campaign.territory.timezone),
            reason=campaign.close_reason,
        )
    return ProtocolContext(
        organizer=campaign.organization.name,
        municipality=campaign.territory.name,
        period=period_text(campaign),
        eligibility=eligibility_text(campaign),
        rule=rule_text(campaign),
        verify_url=public_url("voting.verify", campaign_id=campaign.id),
        generated_at=now.astimezone(tz),
        early_close=early,
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
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest[2:4]}/{uuid.uuid4().hex}"
    target = Path(current_app.config["STORAGE_DIR"]) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    attachment = Attachment(
        original_name=filename,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by_id=None,
        attached_to_type=attached_to[0],
        attached_to_id=str(attached_to[1]),
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment
