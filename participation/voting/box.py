"""The anonymized ballot box as CSV and JSON, streamed in constant memory, and its digests.

Rows are ordered by receipt hash — a random order that says nothing about when anyone voted —
so the same box always gives the same bytes and the published SHA-256 can be checked.
Each row is one ballot: the SHA-256 of its receipt code and the ids of the chosen objects.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator

import sqlalchemy as sa

from participation.extensions import db
from participation.voting.models import Ballot, BallotChoice, Campaign, VotingObject

BATCH = 2000
CSV_HEADER = "receipt_sha256,choices\r\n"


def iter_ballots(campaign_id: int) -> Iterator[tuple[str, list[int]]]:
    """(receipt hash in hex, chosen object ids) for every ballot, by receipt hash."""
    query = (
        sa.select(Ballot.receipt_hash, BallotChoice.object_id)
        .join(BallotChoice, BallotChoice.ballot_id == Ballot.id)
        .where(Ballot.campaign_id == campaign_id)
        .order_by(Ballot.receipt_hash, BallotChoice.object_id)
        .execution_options(yield_per=BATCH)
    )
    rows = db.session.execute(query)
    for receipt, group in itertools.groupby(rows, key=lambda row: row[0]):
        yield receipt.hex(), [object_id for _receipt, object_id in group]


def csv_chunks(campaign: Campaign) -> Iterator[bytes]:
    """The box as CSV (UTF-8, CRLF): receipt_sha256, then the chosen ids separated by spaces."""
    yield CSV_HEADER.encode()
    buffer: list[str] = []
    for receipt, choices in iter_ballots(campaign.id):
        buffer.append(f"{receipt},{' '.join(map(str, choices))}\r\n")
        if len(buffer) >= BATCH:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()


def json_chunks(campaign: Campaign) -> Iterator[bytes]:
    """The box as JSON: the campaign, its objects (id → title), then every ballot."""
    objects = db.session.execute(
        sa.select(VotingObject.id, VotingObject.title, VotingObject.district_id)
        .where(VotingObject.campaign_id == campaign.id)
        .order_by(VotingObject.id)
    )
    head = {
        "campaign_id": campaign.id,
        "title": campaign.title,
        "ballot_rule": campaign.ballot_rule.value,
        "objects": [{"id": i, "title": t, "district_id": d} for i, t, d in objects],
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    yield (text[:-1] + ',"ballots":[').encode()
    buffer: list[str] = []
    first = True
    for receipt, choices in iter_ballots(campaign.id):
        item = json.dumps({"receipt_sha256": receipt, "choices": choices}, separators=(",", ":"))
        buffer.append(item if first else "," + item)
        first = False
        if len(buffer) >= BATCH:
            yield "".join(buffer).encode()
            buffer.clear()
    buffer.append("]}\n")
    yield "".join(buffer).encode()


def digest(chunks: Iterator[bytes]) -> str:
    """SHA-256 (hex) of a stream of bytes."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()
