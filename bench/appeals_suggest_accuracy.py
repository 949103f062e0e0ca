"""Topic suggestion: accuracy on held-out resident messages, before and after corrections; latency.

    .venv/bin/python bench/appeals_suggest_accuracy.py [--seed N] [--held-out 0.4]

The labelled corpus (bench/data/appeals_messages.csv: subcategory code, text) is split at
random (fixed seed) into a "corrections" part and a held-out part. We print top-1 / top-3
accuracy on the held-out part (a) with the classifier's keywords only and (b) after every
message of the corrections part went through record_correction() as a moderator's choice,
the calibration of the top-1 confidence, how many suggestions the form would pre-select and
how often those are right for each auto-selection threshold (SUGGEST_AUTOSELECT_MIN), with the
threshold giving the most right pre-selections net of wrong ones (the lower on a tie), and
the latency of one suggestion against two baselines measured in the same run: a trivial
substring matcher over the same keywords (no morphology) and a bare `SELECT 1` round trip.
Runs on SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from participation import create_app  # noqa: E402
from participation.extensions import db  # noqa: E402

CORPUS = ROOT / "bench" / "data" / "appeals_messages.csv"


def load_corpus() -> list[tuple[str, str]]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [(row["subcategory_code"], row["text"]) for row in csv.DictReader(fh)]


AUTOSELECT_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def evaluate(samples, ids_by_code, suggest) -> dict[str, float]:
    top1 = top3 = 0
    outcomes = []  # (top-1 confidence, top-1 right) per message
    bins: dict[int, list[int]] = {}
    confidences = []
    for code, text in samples:
        suggestions = suggest(text)
        ranked = [s.subcategory_id for s in suggestions]
        truth = ids_by_code[code]
        hit = bool(ranked) and ranked[0] == truth
        top1 += hit
        top3 += truth in ranked[:3]
        confidence = suggestions[0].confidence if suggestions else 0.0
        confidences.append(confidence)
        outcomes.append((confidence, hit))
        bins.setdefault(min(int(confidence * 5), 4), []).append(hit)
    n = len(samples)
    # Expected calibration error over five confidence bins.
    ece = sum(len(h) / n * abs(sum(h) / len(h) - (b + 0.5) / 5) for b, h in bins.items())
    return {
        "top1": top1 / n,
        "top3": top3 / n,
        "mean_confidence": statistics.fmean(confidences),
        "ece": ece,
        "autoselect": {t: autoselect(outcomes, t) for t in AUTOSELECT_THRESHOLDS},
        "bins": {
            f"{b / 5:.1f}–{(b + 1) / 5:.1f}": (len(h), sum(h) / len(h))
            for b, h in sorted(bins.items())
        },
    }


def autoselect(outcomes: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    """(share of messages whose best topic the form pre-selects, accuracy of those)."""
    chosen = [hit for confidence, hit in outcomes if confidence >= threshold]
    return len(chosen) / len(outcomes), (sum(chosen) / len(chosen) if chosen else 0.0)


def report_autoselect(result: dict) -> None:
    """The threshold table and the best threshold: the one with the most right pre-selections
    net of wrong ones (a right guess saves the resident a choice, a wrong one costs a fix)."""
    print("  auto-selection (SUGGEST_AUTOSELECT_MIN): share pre-selected, accuracy of those, net")
    net = {}
    for threshold, (share, accuracy) in result["autoselect"].items():
        net[threshold] = share * accuracy - share * (1 - accuracy)
        print(
            f"    ≥ {threshold:.2f}: pre-selected {share:6.1%}, right {accuracy:6.1%}, "
            f"right − wrong {net[threshold]:+6.1%}"
        )
    best = max(net, key=lambda t: (round(net[t], 6), -t))  # a tie: pre-select more
    share, accuracy = result["autoselect"][best]
    print(
        f"  best threshold {best:.2f}: pre-selects {share:.1%} of messages, "
        f"{accuracy:.1%} of them right"
    )


def substring_baseline(subcategories):
    """Trivial matcher: count keyword phrases found verbatim (lower-case) in the text."""
    phrases = [(s.id, [p.lower() for p in [s.name, *s.keyword_list]]) for s in subcategories]

    def suggest(text: str):
        lowered = text.lower()
        scores = [(sum(p in lowered for p in ps), sub_id) for sub_id, ps in phrases]
        scores = sorted((s for s in scores if s[0] > 0), reverse=True)[:3]
        return [_Plain(sub_id) for _, sub_id in scores]

    return suggest


class _Plain:
    def __init__(self, subcategory_id: int) -> None:
        self.subcategory_id = subcategory_id
        self.confidence = 0.0


def median_ms(fn, texts, repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter()
            fn(text)
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def report(title: str, result: dict) -> None:
    print(
        f"  {title:<38} top-1 {result['top1']:6.1%}   top-3 {result['top3']:6.1%}   "
        f"mean confidence {result['mean_confidence']:.2f}   ECE {result['ece']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--held-out", type=float, default=0.4)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    corpus = load_corpus()
    rng = random.Random(args.seed)
    shuffled = corpus[:]
    rng.shuffle(shuffled)
    cut = int(len(shuffled) * (1 - args.held_out))
    corrections, held_out = shuffled[:cut], shuffled[cut:]

    folder = tempfile.mkdtemp(prefix="suggest-bench-")
    app = create_app(
        env={
            "PARTICIPATION_ENV": "testing",
            "SECRET_KEY": "bench-" + "x" * 40,
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "MAIL_DIR": f"{folder}/mail",
            "STORAGE_DIR": f"{folder}/storage",
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        from participation.appeals.classifier import (
            Subcategory,
            record_correction,
            seed_classifier,
        )
        from participation.appeals.suggest import suggest_topic

        seed_classifier()
        db.session.commit()
        subcategories = list(db.session.scalars(sa.select(Subcategory)))
        ids_by_code = {s.code: s.id for s in subcategories}

        print(
            f"Corpus: {len(corpus)} messages, {len({c for c, _ in corpus})} subcategories; "
            f"corrections {len(corrections)}, held out {len(held_out)} (seed {args.seed})"
        )
        print(f"Classifier: {len(subcategories)} subcategories")

        start = time.perf_counter()
        suggest_topic("яма на дороге")
        cold_ms = (time.perf_counter() - start) * 1000

        keywords = {s.id: s.keywords for s in subcategories}

        def set_keywords(on: bool) -> None:
            for sub in subcategories:
                sub.keywords = keywords[sub.id] if on else ""
            db.session.commit()

        print("\nAccuracy on the held-out messages")
        baseline = evaluate(held_out, ids_by_code, substring_baseline(subcategories))
        report("substring baseline (no morphology)", baseline)
        before = evaluate(held_out, ids_by_code, suggest_topic)
        report("(a) classifier keywords only", before)
        report_autoselect(before)
        set_keywords(False)
        names_before = evaluate(held_out, ids_by_code, suggest_topic)
        set_keywords(True)

        # What the moderator saw, then what they chose (recorded after, as a batch would be).
        seen = [suggest_topic(text, limit=1) for _code, text in corrections]
        for (code, text), suggestions in zip(corrections, seen, strict=True):
            suggested = suggestions[0].subcategory_id if suggestions else None
            record_correction(text, suggested, ids_by_code[code], None, None)
        db.session.commit()
        start = time.perf_counter()
        suggest_topic("яма на дороге")
        learn_ms = (time.perf_counter() - start) * 1000

        after = evaluate(held_out, ids_by_code, suggest_topic)
        report(f"(b) keywords + {len(corrections)} corrections", after)
        print("  calibration of the top-1 confidence after corrections (bin: n, accuracy):")
        for label, (n, accuracy) in after["bins"].items():
            print(f"    {label}: {n:4d} messages, accuracy {accuracy:6.1%}")
        report_autoselect(after)
        print("  the same without any keywords (subcategory names only):")
        report("(c) names only", names_before)
        set_keywords(False)
        names_after = evaluate(held_out, ids_by_code, suggest_topic)
        report(f"(d) names + {len(corrections)} corrections", names_after)
        set_keywords(True)
        suggest_topic("яма на дороге")
        # A moderator's next correction is learnt incrementally, not by a rebuild.
        record_correction("Опять яма у подъезда", None, ids_by_code["roads.potholes"], None, None)
        db.session.commit()
        start = time.perf_counter()
        suggest_topic("яма на дороге")
        one_more_ms = (time.perf_counter() - start) * 1000

        texts = [t for _, t in held_out]
        suggest_ms = median_ms(suggest_topic, texts)
        substring_ms = median_ms(substring_baseline(subcategories), texts)
        select_ms = median_ms(lambda _t: db.session.execute(sa.text("SELECT 1")), texts)
        print("\nLatency of one suggestion (median over the held-out texts, warm caches)")
        print(f"  suggest_topic                     {suggest_ms:7.3f} ms")
        print(
            f"  substring baseline                {substring_ms:7.3f} ms   "
            f"(suggest_topic = {suggest_ms / substring_ms:.1f}× baseline)"
        )
        print(
            f"  SELECT 1 round trip               {select_ms:7.3f} ms   "
            f"(suggest_topic = {suggest_ms / select_ms:.1f}× a bare query)"
        )
        print(f"  first call (analyzer + profiles)  {cold_ms:7.0f} ms")
        print(f"  learning {len(corrections)} corrections at once   {learn_ms:7.0f} ms")
        print(f"  learning one more correction      {one_more_ms:7.0f} ms")


if __name__ == "__main__":
    main()
