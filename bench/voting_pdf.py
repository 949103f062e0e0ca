"""Benchmark: the result protocol PDF with 20 000 object rows (target <= 2 s).

Run by hand:  .venv/bin/python bench/voting_pdf.py [--rows 20000] [--repeat 3]

Builds the protocol with the product builder (participation.voting.pdf.build_protocol) from
an in-memory tally — the PDF part alone; counting is measured by bench/voting_tally.py — in
two shapes: one table of 20 000 objects, and a per-district protocol of 4 000 districts with
five objects each (a heading and a short table per district). For comparison in the same
run: the same 20 000 rows through the core's general `chunked_table` (Paragraph cells).
Printed: wall and CPU seconds (best of the repeats), pages, size; the text of the last
row is checked by extraction.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from datetime import UTC, datetime

import _common


def _app():
    from participation import create_app

    instance = tempfile.mkdtemp(prefix="bench-voting-pdf-")
    database = f"sqlite:///{instance}/unused.sqlite3"
    return create_app(env=_common.app_env(database, instance, {"PARTICIPATION_ENV": "testing"}))


def _tally(rows: int, per_group: int | None):
    from participation.voting.models import BallotRule, Channel
    from participation.voting.tally import District, ObjectResult, Tally, rank_and_choose

    groups = []
    size = per_group or rows
    for g in range(0, rows, size):
        items = [
            ObjectResult(
                id=n + 1,
                number=n + 1,
                # most titles fit one line; every 20th is long and wraps
                title=f"Сквер «Берёзовая роща» у дома {n % 300 + 1} по улице Ленина"
                + (", с детской площадкой и прогулочной зоной у пруда" if n % 20 == 0 else ""),
                votes=(n * 7919) % 5000,
            )
            for n in range(g, min(rows, g + size))
        ]
        group = rank_and_choose(items, BallotRule.SINGLE, 1)
        group.district = District(g, f"Муниципалитет {g // size + 1}") if per_group else None
        group.ballots = sum(r.votes for r in items)
        for r in items:
            r.share = 100.0 * r.votes / group.ballots if group.ballots else 0.0
        groups.append(group)
    ballots = sum(g.ballots for g in groups)
    return Tally(
        campaign_id=1,
        rule=BallotRule.SINGLE,
        ballots=ballots,
        groups=groups,
        voters=ballots,
        voters_by_channel={Channel.SELF: ballots - 1000, Channel.WIDGET: 0, Channel.ASSISTED: 1000},
        turnout_target=1_000_000,
    )


def _context():
    from participation.voting.pdf import ProtocolContext

    return ProtocolContext(
        organizer="Министерство строительства и жилищно-коммунального хозяйства",
        municipality="Российская Федерация",
        period="с 15.04.2026 00:00 по 31.05.2026 23:59 (местное время, Europe/Moscow)",
        eligibility="Голосование доступно жителям от 14 лет с подтверждённой учётной записью.",
        rule="Каждый выбирает один объект; побеждает 1 объект, набравший больше всего голосов.",
        verify_url="https://pos.example/voting/1/verify",
        generated_at=datetime.now(UTC),
        box_sha256="ab" * 32,
        box_json_sha256="cd" * 32,
    )


def _measure(label: str, build, repeat: int) -> bytes:
    best_wall = best_cpu = float("inf")
    data = b""
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        data = build()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    print(
        f"{label:<44} wall {best_wall:5.2f} s  cpu {best_cpu:5.2f} s  "
        f"{len(pages):4d} pages  {len(data) / 1e6:5.2f} MB"
    )
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}")
    app = _app()
    with app.test_request_context():
        from reportlab.lib.units import mm

        from participation.core import pdf
        from participation.voting.models import Campaign
        from participation.voting.pdf import build_protocol

        campaign = Campaign(title="Всероссийское голосование за объекты благоустройства")
        context = _context()
        one = _tally(args.rows, None)
        grouped = _tally(args.rows, 5)
        data = _measure(
            f"protocol, one table of {args.rows:,} rows",
            lambda: build_protocol(campaign, one, context),
            args.repeat,
        )
        from pypdf import PdfReader

        pages = PdfReader(io.BytesIO(data)).pages
        tail = " ".join(" ".join(p.extract_text() for p in pages[-4:]).split())
        last = one.rows[-1]
        print(f"  last row «{last.title}» extracted: {last.title in tail}")
        _measure(
            f"protocol, {args.rows // 5:,} districts x 5 rows",
            lambda: build_protocol(campaign, grouped, context),
            args.repeat,
        )
        rows = [(r.rank, r.id, r.title, r.votes, f"{r.share:.1f} %") for r in one.rows]
        _measure(
            f"core chunked_table, {args.rows:,} rows (reference)",
            lambda: pdf.render_pdf(
                pdf.chunked_table(
                    ["Место", "№", "Объект", "Голоса", "Доля"],
                    rows,
                    widths=(12 * mm, 14 * mm, 110 * mm, 20 * mm, 18 * mm),
                ),
                title="x",
                generated_at=datetime.now(UTC),
            ),
            1,
        )


if __name__ == "__main__":
    main()
