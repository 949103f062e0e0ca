"""Topic suggestion: which subcategory a resident's text is about, and how sure we are.

How it works
------------
1. **Lemmas.** The text is split into words and each word is reduced to its dictionary forms with
   pymorphy3 (OpenCorpora dictionaries, shipped in `pymorphy3-dicts-ru`), so «ямы», «ямой», «ям»
   all become «яма» and «снега», «снегом» become «снег». An ambiguous word keeps every likely
   lemma («ямы» → «ям», «яма»). Prepositions, conjunctions, pronouns, greetings and address words
   are dropped; «не»/«нет» are kept to glue to the next word («не чистить», «нет вода»). A word
   missing from the dictionary (a typo such as «светафор», «выбоены») is matched to a
   vocabulary word one edit away.
2. **Features.** Lemma unigrams plus bigrams of neighbouring lemmas («провал асфальт», «нет
   вода», «не чистить» carry more than their words).
3. **Model.** Each offered subcategory is a multinomial language model over features, built from
   its name (weight 2), its category's name (0.5) and its keyword phrases (1 each), smoothed
   towards the background model of the whole classifier (Dirichlet prior, μ = LM_MU). A text is
   scored by query likelihood against the background,
       score(s) = Σ_f log(1 + n_s(f) / (μ·P_bg(f))) + |f| · log(μ / (N_s + μ)),
   i.e. naive Bayes with Dirichlet smoothing written as a log-likelihood ratio: words common to
   every topic add nothing, rare topic words add a lot, and the "background" itself is a
   candidate with score 0 — a text that fits no topic gets nothing or a low confidence. We
   first tried TF-IDF/cosine profiles; on the bench corpus the language model was one to two
   points better in top-1 and its scores turn into probabilities without extra tuning.
4. **Learning from moderators.** Every TopicCorrection (text → chosen subcategory) teaches the
   model twice: (a) a feature seen in at least CORRECTION_MIN_SUPPORT corrected texts of the
   same subcategory joins that subcategory's model (a word seen once is usually incidental —
   «ржавый», «новый» — and merging every word of every text made the held-out accuracy
   worse); (b) mistake-driven perceptron updates, replayed oldest first: whenever the model as
   it stands would not rank the moderator's choice first by PERCEPTRON_MARGIN, the text's
   features are pushed towards that choice and away from the winning rival. (b) is what makes a
   single correction change the suggestion for a similar later text.
5. **Confidence.** A softmax over the scores with the background as a competitor:
   p_s = exp(score_s) / (1 + Σ exp(score_t)), the naive-Bayes posterior. On the bench corpus
   the top-1 confidence tracks top-1 accuracy within about 0.05 (expected calibration error).

Caching: the analyzer is created once per process, lazily; word → lemmas and a correction's
features are memoised. The model is cached per application and rebuilt when a one-query
signature of the classifier and the corrections table changes (counts, max ids, max
timestamps). Scoring touches only the postings of the text's features: about a millisecond.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app

from participation.appeals.classifier import Category, Subcategory, TopicCorrection
from participation.extensions import db

NAME_WEIGHT = 2.0
CATEGORY_WEIGHT = 0.5
KEYWORD_WEIGHT = 1.0
LM_MU = 80.0
CORRECTION_WEIGHT = 1.0
CORRECTION_MIN_SUPPORT = 3
PERCEPTRON_RATE = 0.5
PERCEPTRON_MARGIN = 3.0
PERCEPTRON_EPOCHS = 10
MAX_CORRECTIONS = 20_000
MAX_REPLAYED = 5_000  # perceptron steps on a full rebuild: the newest corrections
MAX_TEXT_CHARS = 5_000

_WORD = re.compile(r"[а-яёa-z0-9]+(?:-[а-яёa-z0-9]+)*", re.IGNORECASE)
_NEGATIONS = frozenset({"не", "нет", "ни"})
_SKIP_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO", "PRED"})
# Words of politeness, addresses and filler that say nothing about the topic.
_STOP_LEMMAS = frozenset(
    """
    здравствуйте здравствовать добрый день утро вечер уважаемый просить просьба пожалуйста
    помочь помогите спасибо заранее благодарить быть являться это этот тот такой весь свой
    наш ваш который какой мочь хотеть очень уже ещё так там тут здесь вот только также
    сказать ул улица д дом кв квартира г город р-н район пр проспект пер переулок село
    посёлок деревня номер год раз время месяц неделя сегодня вчера который всё самый
    """.split()  # noqa: SIM905
)
_ALPHABET = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


@dataclass(frozen=True)
class Suggestion:
    """One suggested subcategory: how sure (0..1), the raw score, the features that matched."""

    subcategory_id: int
    confidence: float
    score: float
    matched_terms: tuple[str, ...] = ()


# --- morphology ------------------------------------------------------------------------------

_analyzer_lock = threading.Lock()
_analyzer: Any = None


def analyzer() -> Any:
    """The process-wide pymorphy3 analyzer (created on first use: ~0.2 s, ~15 MB)."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                import pymorphy3

                _analyzer = pymorphy3.MorphAnalyzer(lang="ru")
    return _analyzer


def _norm(word: str) -> str:
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=200_000)
def word_lemmas(word: str) -> tuple[str, ...]:
    """Likely lemmas of one lower-case word; () for function words; ('не',) for negation."""
    if word in _NEGATIONS:
        return ("не",) if word != "нет" else ("нет",)
    if word.isdigit():
        return ()
    parses = analyzer().parse(word)
    if not parses or parses[0].tag.POS in _SKIP_POS:
        return ()
    weights: dict[str, float] = defaultdict(float)
    for parse in parses:
        weights[_norm(parse.normal_form)] += parse.score
    best = max(weights.values())
    lemmas = tuple(sorted(lemma for lemma, w in weights.items() if w >= best * 0.3))
    if any(lemma in _STOP_LEMMAS for lemma in lemmas):
        return ()
    return lemmas


@lru_cache(maxsize=50_000)
def _is_known(word: str) -> bool:
    return analyzer().word_is_known(word)


@lru_cache(maxsize=20_000)
def _lemma_forms(lemma: str) -> frozenset[str]:
    """All word forms of a lemma (used to recognise one-letter typos)."""
    forms: set[str] = {lemma}
    for parse in analyzer().parse(lemma)[:2]:
        if _norm(parse.normal_form) == lemma:
            forms.update(_norm(f.word) for f in parse.lexeme)
    return frozenset(forms)


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return deletes | transposes | replaces | inserts


def tokens(text: str) -> list[str]:
    """Lower-case words of a text (ё folded into е)."""
    return [_norm(w) for w in _WORD.findall(text[:MAX_TEXT_CHARS])]


def lemma_sequence(text: str, typo_fix: Any = None) -> list[tuple[str, ...]]:
    """The text as a sequence of lemma sets (function words dropped, negation kept)."""
    sequence = []
    for word in tokens(text):
        lemmas = word_lemmas(word)
        if typo_fix is not None and lemmas and len(word) >= 4 and not _is_known(word):
            lemmas = typo_fix(word, lemmas)
        if lemmas:
            sequence.append(lemmas)
    return sequence


def features(sequence: list[tuple[str, ...]]) -> Counter[str]:
    """Unigram and bigram features of a lemma sequence."""
    counts: Counter[str] = Counter()
    for i, lemmas in enumerate(sequence):
        for lemma in lemmas:
            if lemma not in ("не", "нет"):
                counts[lemma] += 1
        if i + 1 < len(sequence):
            for a in lemmas:
                for b in sequence[i + 1]:
                    if b not in ("не", "нет"):
                        counts[f"{a} {b}"] += 1
    return counts


def phrase_features(text: str) -> Counter[str]:
    """Features of a keyword phrase or a name (no typo correction: it is our own text)."""
    return features(lemma_sequence(text))


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """One immutable model; updates build a new one and swap it in (readers never see a half)."""

    classifier_signature: tuple
    last_correction: tuple  # (id, created_at) of the newest correction learnt from
    keyword_bags: dict[int, Counter[str]]
    # subcategory id → how many of its corrected texts had each feature
    support: dict[int, Counter[str]]
    # feature → [(subcategory id, log(1 + n_s(f) / (μ·P_bg(f))))]
    postings: dict[str, list[tuple[int, float]]]
    # subcategory id → log(μ / (N_s + μ)), paid once per known feature of the text
    penalty: dict[int, float]
    # feature → {subcategory id: weight}, learnt from moderators' corrections
    learnt: dict[str, dict[int, float]]
    vocabulary_forms: dict[str, frozenset[str]]
    typo_cache: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def knows(self, feature: str) -> bool:
        return feature in self.postings or feature in self.learnt

    def fix_typo(self, word: str, lemmas: tuple[str, ...]) -> tuple[str, ...]:
        """For a word not in the dictionary: vocabulary lemmas one edit away, else as is."""
        if any(self.knows(lemma) for lemma in lemmas):
            return lemmas
        cached = self.typo_cache.get(word)
        if cached is None:
            found = {
                lemma
                for candidate in _edits1(word)
                for lemma in self.vocabulary_forms.get(candidate, ())
            }
            cached = tuple(sorted(found)) if 0 < len(found) <= 2 else lemmas
            if len(self.typo_cache) < 50_000:
                self.typo_cache[word] = cached
        return cached


_indexes: dict[int, _Index] = {}
_checked_at: dict[int, float] = {}  # when each application's model was last compared
_build_lock = threading.Lock()


def _signatures() -> tuple[tuple, tuple]:
    """The classifier's signature and the newest correction, in one cheap query."""
    sub, cat, cor = Subcategory, Category, TopicCorrection
    newest = sa.select(cor.id).order_by(cor.id.desc()).limit(1).scalar_subquery()
    parts = (
        sa.select(sa.func.count(sub.id)),
        sa.select(sa.func.max(sub.id)),
        sa.select(sa.func.max(sub.updated_at)),
        sa.select(sa.func.count(cat.id)),
        sa.select(sa.func.max(cat.updated_at)),
        sa.select(newest),
        sa.select(cor.created_at).where(cor.id == newest),
    )
    row = db.session.execute(sa.select(*(p.scalar_subquery() for p in parts))).one()
    return tuple(row[:5]), tuple(row[5:])


@lru_cache(maxsize=50_000)
def _text_features(text: str) -> tuple[str, ...]:
    """Distinct features of a stored correction text (memoised: rebuilds stay cheap)."""
    return tuple(features(lemma_sequence(text)))


def _add(bag: Counter[str], feats: Iterable[str], weight: float) -> None:
    for f in feats:
        bag[f] += weight  # a phrase counts each of its features once


def _keyword_bags() -> dict[int, Counter[str]]:
    offered = db.session.execute(
        sa.select(Subcategory.id, Subcategory.name, Subcategory.keywords, Category.name)
        .join(Category)
        .where(Subcategory.active.is_(True), Category.active.is_(True))
    ).all()
    bags: dict[int, Counter[str]] = {}
    for sub_id, name, keywords, category_name in offered:
        bag: Counter[str] = Counter()
        _add(bag, phrase_features(name), NAME_WEIGHT)
        _add(bag, phrase_features(category_name), CATEGORY_WEIGHT)
        for phrase in re.split(r"[\n,;]+", keywords or ""):
            if phrase.strip():
                _add(bag, phrase_features(phrase), KEYWORD_WEIGHT)
        bags[sub_id] = bag
    return bags


def _language_model(
    keyword_bags: dict[int, Counter[str]], support: dict[int, Counter[str]]
) -> tuple[dict[str, list[tuple[int, float]]], dict[int, float]]:
    """Postings and length penalties of the per-subcategory language models."""
    bags: dict[int, Counter[str]] = {}
    for sub_id, keyword_bag in keyword_bags.items():
        bag = Counter(keyword_bag)
        # Features seen in several corrected texts of one subcategory join its model.
        for f, times in support.get(sub_id, Counter()).items():
            if times >= CORRECTION_MIN_SUPPORT:
                bag[f] += CORRECTION_WEIGHT * (times - CORRECTION_MIN_SUPPORT + 1)
        bags[sub_id] = bag
    background: Counter[str] = Counter()
    for bag in bags.values():
        background.update(bag)
    total = sum(background.values()) + len(background)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    penalty: dict[int, float] = {}
    for sub_id, bag in bags.items():
        penalty[sub_id] = math.log(LM_MU / (sum(bag.values()) + LM_MU))
        for f, count in bag.items():
            p_background = (background[f] + 1) / total
            postings[f].append((sub_id, math.log(1 + count / (LM_MU * p_background))))
    return dict(postings), penalty


def _vocabulary_forms(
    postings: dict[str, Any], known: dict[str, frozenset[str]] | None = None, old: Any = ()
) -> dict[str, frozenset[str]]:
    """Word form → vocabulary lemmas (for typos); extends `known` with lemmas not in `old`."""
    forms: dict[str, frozenset[str]] = dict(known or {})
    for f in postings:
        if f not in old and " " not in f and f.isalpha() and len(f) >= 3:
            for form in _lemma_forms(f):
                forms[form] = forms.get(form, frozenset()) | {f}
    return forms


def _corrections_after(last_id: int | None, limit: int) -> list[tuple[int, tuple[str, ...]]]:
    query = sa.select(TopicCorrection.chosen_subcategory_id, TopicCorrection.text)
    if last_id is not None:
        query = query.where(TopicCorrection.id > last_id)
    rows = db.session.execute(query.order_by(TopicCorrection.id.desc()).limit(limit)).all()
    return [(sub_id, _text_features(text)) for sub_id, text in reversed(rows)]


def _learn(index: _Index, corrections: list[tuple[int, tuple[str, ...]]], last: tuple) -> _Index:
    """A new model that has also learnt from `corrections` (oldest first)."""
    corrections = [(s, f) for s, f in corrections if s in index.keyword_bags]
    support = dict(index.support)
    crossed = False
    for sub_id, feats in corrections:
        counter = support[sub_id] = Counter(support.get(sub_id, Counter()))
        for f in feats:
            counter[f] += 1
            crossed = crossed or counter[f] >= CORRECTION_MIN_SUPPORT
    postings, penalty, forms = index.postings, index.penalty, index.vocabulary_forms
    if crossed:
        postings, penalty = _language_model(index.keyword_bags, support)
        forms = _vocabulary_forms(postings, index.vocabulary_forms, index.postings)
    learnt = dict(index.learnt)
    updated = _Index(
        classifier_signature=index.classifier_signature,
        last_correction=last,
        keyword_bags=index.keyword_bags,
        support=support,
        postings=postings,
        penalty=penalty,
        learnt=learnt,
        vocabulary_forms=forms,
    )
    # Mistake-driven perceptron: push the text's features towards the moderator's choice and
    # away from the rival until the choice wins by PERCEPTRON_MARGIN.
    for sub_id, feats in corrections[-MAX_REPLAYED:]:
        step = PERCEPTRON_RATE / math.sqrt(max(len(feats), 1))
        for _ in range(PERCEPTRON_EPOCHS):
            scores, _matched = _score_features(feats, updated)
            rival = max((k for k in scores if k != sub_id), key=scores.__getitem__, default=None)
            if rival is None or scores.get(sub_id, 0.0) >= scores[rival] + PERCEPTRON_MARGIN:
                break
            for f in feats:
                column = learnt[f] = dict(learnt.get(f, {}))
                column[sub_id] = column.get(sub_id, 0.0) + step
                column[rival] = column.get(rival, 0.0) - step
    return updated


def _build(classifier_signature: tuple, last: tuple) -> _Index:
    keyword_bags = _keyword_bags()
    postings, penalty = _language_model(keyword_bags, {})
    empty = _Index(
        classifier_signature=classifier_signature,
        last_correction=(None, None),
        keyword_bags=keyword_bags,
        support={},
        postings=postings,
        penalty=penalty,
        learnt={},
        vocabulary_forms=_vocabulary_forms(postings),
    )
    if last[0] is None:
        return empty
    return _learn(empty, _corrections_after(None, MAX_CORRECTIONS), last)


def _newest_is_unchanged(last: tuple) -> bool:
    created_at = db.session.scalar(
        sa.select(TopicCorrection.created_at).where(TopicCorrection.id == last[0])
    )
    return created_at is not None and created_at == last[1]


def current_index() -> _Index:
    """This application's model: rebuilt when the classifier changed, and taught the new
    corrections when only corrections were added."""
    key = id(current_app._get_current_object())  # type: ignore[attr-defined]
    index = _indexes.get(key)
    checked = time.monotonic()
    fresh_for = current_app.config["SUGGEST_REFRESH_SECONDS"]
    if index is not None and checked - _checked_at.get(key, -math.inf) < fresh_for:
        return index
    classifier_signature, last = _signatures()
    if (
        index is not None
        and index.classifier_signature == classifier_signature
        and index.last_correction == last
    ):
        _checked_at[key] = checked
        return index
    with _build_lock:
        index = _indexes.get(key)
        if index is None or index.classifier_signature != classifier_signature:
            index = _build(classifier_signature, last)
        elif index.last_correction != last:
            known_id = index.last_correction[0]
            appended = last[0] is not None and (
                known_id is None
                or (last[0] > known_id and _newest_is_unchanged(index.last_correction))
            )
            if appended:
                index = _learn(index, _corrections_after(known_id, MAX_CORRECTIONS), last)
            else:  # corrections were removed (a rolled-back transaction): start again
                index = _build(classifier_signature, last)
        _indexes[key] = index
        _checked_at[key] = checked
    return index


# --- suggesting --------------------------------------------------------------------------------


def _score_features(
    feats: Iterable[str], index: _Index
) -> tuple[dict[int, float], dict[int, list[str]]]:
    scores: dict[int, float] = defaultdict(float)
    matched: dict[int, list[str]] = defaultdict(list)
    known = 0
    for f in feats:
        if f in index.postings:
            known += 1
            for sub_id, weight in index.postings[f]:
                scores[sub_id] += weight
                matched[sub_id].append(f)
    for sub_id in scores:
        scores[sub_id] += known * index.penalty[sub_id]
    for f in feats:
        for sub_id, weight in index.learnt.get(f, {}).items():
            if sub_id not in scores:
                scores[sub_id] = known * index.penalty.get(sub_id, 0.0)
            scores[sub_id] += weight
            if weight > 0:
                matched[sub_id].append(f)
    return scores, matched


def score_text(text: str, index: _Index) -> tuple[dict[int, float], dict[int, list[str]]]:
    """Log-likelihood-ratio scores of the text for every subcategory sharing a feature with it."""
    feats = list(features(lemma_sequence(text, index.fix_typo)))
    return _score_features(feats, index)


# A second or third topic with less than this chance is noise to a resident ("уверенность 0%").
ALTERNATIVE_MIN_CONFIDENCE = 0.05


def worth_showing(suggestions: list[Suggestion]) -> list[Suggestion]:
    """What the form shows: the best topic, and the others only where they have a real chance."""
    return suggestions[:1] + [
        s for s in suggestions[1:] if s.confidence >= ALTERNATIVE_MIN_CONFIDENCE
    ]


def suggest_topic(
    text: str, allowed_subcategory_ids: Iterable[int] | None = None, limit: int = 3
) -> list[Suggestion]:
    """The most likely subcategories for a text, best first (empty when nothing matches)."""
    if not text or not text.strip() or limit <= 0:
        return []
    index = current_index()
    scores, matched = score_text(text, index)
    if allowed_subcategory_ids is not None:
        allowed = set(allowed_subcategory_ids)
        scores = {k: v for k, v in scores.items() if k in allowed}
    # Only topics that explain the text better than the background are worth suggesting.
    scores = {k: v for k, v in scores.items() if v > 0}
    if not scores:
        return []
    top = max(scores.values())
    exps = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exps.values()) + math.exp(-top)  # the background competes with score 0
    ranked = sorted(scores, key=lambda k: (-scores[k], k))[:limit]
    weight = {
        f: max((w for _, w in index.postings.get(f, ())), default=0.0)
        for k in ranked
        for f in matched[k]
    }
    return [
        Suggestion(
            subcategory_id=k,
            confidence=round(exps[k] / total, 4),
            score=round(scores[k], 4),
            matched_terms=tuple(sorted(set(matched[k]), key=lambda f: -weight.get(f, 0.0))[:6]),
        )
        for k in ranked
    ]
