"""One pass over the answers gives what plain counting gives; a refresh adds only what is new."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.core.users import Gender
from participation.extensions import db
from participation.polls import snapshots, tally
from participation.polls.engine import answer_rows, load_questionnaire
from participation.polls.models import (
    AgeBand,
    QuestionKind,
    SurveyAnswer,
    SurveyResponse,
    SurveyResultSnapshot,
    TextStatus,
)
from participation.polls.results import (
    MIN_GROUP_SIZE,
    Dimension,
    assemble_breakdown,
    assemble_results,
    compute_breakdown,
    compute_results,
    compute_with_breakdowns,
)
from tests.helpers import count_statements
from tests.polls.conftest import build_survey, q

K = QuestionKind


def _survey(world, anonymous: bool):
    return build_survey(
        world,
        [
            q(K.SINGLE, "Парк?", options=["Да", "Нет"], has_other=True),
            q(K.MULTIPLE, "Что важно?", options=["Дороги", "Свет", "Школы"], max_choices=2),
            q(K.SCALE, "Оценка", scale_max=10),
            q(K.NUMBER, "Минут до работы", min_value=0, max_value=300),
            q(K.DATE, "Когда переехали"),
            q(K.MATRIX, "Оцените", options=["Хорошо", "Плохо"], rows=["Дворы", "Дороги"]),
            q(K.RANKING, "Что важнее", options=["Парки", "Дороги", "Свет"]),
            q(K.TEXT, "Предложение"),
        ],
        org=world.regional_org,
        anonymous=anonymous,
    )


def _answers(rng: random.Random, qn) -> dict:
    """One respondent's answers in the engine's shape; each question is skipped now and then."""
    single, multi, scale, number, when, matrix, ranking, text = qn.questions
    out: dict = {}
    if rng.random() < 0.9:
        choice = rng.choice(single.choices)
        out[str(single.id)] = {"o": [choice.id]}
        if choice.is_other:
            out[str(single.id)]["other"] = "Сквер"
    if rng.random() < 0.8:
        out[str(multi.id)] = {"o": [o.id for o in rng.sample(multi.choices, rng.randint(1, 2))]}
    if rng.random() < 0.85:
        out[str(scale.id)] = {"n": rng.randint(1, 10)}
    if rng.random() < 0.7:
        out[str(number.id)] = {"n": rng.choice([0, 5, 12.5, 40, 300])}
    if rng.random() < 0.6:
        out[str(when.id)] = {
            "d": (date(2001, 1, 1) + timedelta(days=rng.randrange(9000))).isoformat()
        }
    if rng.random() < 0.75:
        rows = rng.sample(matrix.rows, rng.randint(1, 2))
        out[str(matrix.id)] = {"m": {str(r.id): rng.choice(matrix.choices).id for r in rows}}
    if rng.random() < 0.7:
        places = rng.sample(range(1, 4), 3)
        out[str(ranking.id)] = {
            "r": {str(o.id): p for o, p in zip(ranking.choices, places, strict=True)}
        }
    if rng.random() < 0.3:
        out[str(text.id)] = {"t": "Больше скамеек"}
    return out


def _respond(world, survey, n: int, seed: int, *, first_id: int | None = None) -> list[dict]:
    """n responses with every kind of group (age and gender not known, no municipality),
    written set-wise through the engine's own rows; returns them with their answer rows."""
    rng = random.Random(seed)
    qn = load_questionnaire(survey.id)
    first_id = first_id or (db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0) + 1
    responses, rows = [], []
    for i in range(n):
        rid = first_id + i
        response = {
            "id": rid,
            "survey_id": survey.id,
            # Uneven groups: some big enough to show in an anonymous survey, some not.
            "age_band": rng.choice(
                [AgeBand.A25_34] * 20 + [AgeBand.UNKNOWN] * 9 + [AgeBand.A65_PLUS]
            ),
            "gender": rng.choice([Gender.FEMALE, Gender.FEMALE, Gender.MALE, None]),
            "municipality_id": rng.choice(
                [world.city.id, world.city.id, world.city.id, world.other_city.id, None]
            ),
        }
        answer = answer_rows(qn, rid, _answers(rng, qn))
        responses.append({**response, "answers": answer})
        rows += answer
    db.session.execute(sa.insert(SurveyResponse), [_without(r, "answers") for r in responses])
    if rows:
        db.session.execute(SurveyAnswer.__table__.insert(), rows)
    # Moderation changes a text's status after the fact.
    for row in rows[::7]:
        if row["text_value"] is not None:
            db.session.execute(
                sa.update(SurveyAnswer)
                .where(
                    SurveyAnswer.response_id == row["response_id"],
                    SurveyAnswer.question_id == row["question_id"],
                )
                .values(text_status=TextStatus.APPROVED)
            )
            row["text_status"] = TextStatus.APPROVED
    db.session.flush()
    return responses


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


_GROUP_OF = {
    Dimension.AGE: lambda r: r["age_band"].value,
    Dimension.GENDER: lambda r: r["gender"].value if r["gender"] else None,
    Dimension.MUNICIPALITY: lambda r: r["municipality_id"],
}


def _plain_breakdown(responses: list[dict], dimension: Dimension, anonymous: bool):
    """What a breakdown must show, counted the plain way, response by response."""
    group_of = _GROUP_OF[dimension]
    sizes: dict = defaultdict(int)
    for r in responses:
        sizes[group_of(r)] += 1
    hidden = {k for k, n in sizes.items() if anonymous and n < MIN_GROUP_SIZE}
    counts: dict = defaultdict(dict)
    answered: dict = defaultdict(dict)
    values: dict = defaultdict(list)
    for r in responses:
        key = group_of(r)
        if key in hidden:
            continue
        for a in r["answers"]:
            q = a["question_id"]
            if a["option_id"] is not None:
                cell = counts[(q, a["option_id"], a["row_id"])]
                cell[key] = cell.get(key, 0) + 1
            if a["item_no"] == 0:
                answered[q][key] = answered[q].get(key, 0) + 1
            if a["number_value"] is not None:
                values[(q, key)].append(a["number_value"])
                if a["option_id"] is not None:
                    values[((q, a["option_id"]), key)].append(a["number_value"])
    means: dict = defaultdict(dict)
    for (target, key), vs in values.items():
        means[target][key] = pytest.approx(sum(vs) / len(vs))
    groups = {k: (n, k in hidden) for k, n in sizes.items()}
    return groups, dict(counts), dict(answered), dict(means)


def _shown(breakdown):
    groups = {g.key: (g.respondents, g.hidden) for g in breakdown.groups}
    return groups, breakdown.counts, breakdown.answered, breakdown.means


def _plain_totals(responses: list[dict], qn) -> dict:
    """Per question: answered, counts per option (and matrix row), mean, extremes, scale."""
    by_question: dict = defaultdict(lambda: {"answered": 0, "options": defaultdict(int), "v": []})
    dates: dict = defaultdict(list)
    texts: dict = defaultdict(lambda: defaultdict(int))
    firsts: dict = defaultdict(int)
    for r in responses:
        for a in r["answers"]:
            entry = by_question[a["question_id"]]
            entry["answered"] += a["item_no"] == 0
            if a["option_id"] is not None:
                entry["options"][(a["option_id"], a["row_id"])] += 1
                firsts[a["option_id"]] += a["number_value"] == 1
            if a["number_value"] is not None:
                entry["v"].append(a["number_value"])
            if a["date_value"] is not None:
                dates[a["question_id"]].append(a["date_value"])
            if a["text_status"] is not None:
                texts[a["question_id"]][a["text_status"]] += 1
    return {"questions": by_question, "dates": dates, "texts": texts, "firsts": firsts}


def _check_totals(results, responses, qn):
    plain = _plain_totals(responses, qn)
    assert results.total == len(responses)
    for result in results.questions:
        question = result.question
        expected = plain["questions"][question.id]
        assert result.answered == expected["answered"], question.text
        if result.kind == K.MATRIX:
            shown = {
                (c.option.id, row.id): c.count for row, _n, cells in result.rows for c in cells
            }
            assert {k: v for k, v in shown.items() if v} == dict(expected["options"])
        elif result.kind in (K.SINGLE, K.MULTIPLE, K.RANKING):
            shown = {(o.option.id, None): o.count for o in result.options}
            assert {k: v for k, v in shown.items() if v} == dict(expected["options"])
        if result.kind == K.RANKING:
            assert {o.option.id: o.first_places for o in result.options} == {
                o.id: plain["firsts"][o.id] for o in question.choices
            }
        if result.kind in (K.NUMBER, K.SCALE):
            vs = expected["v"]
            assert result.mean == pytest.approx(sum(vs) / len(vs))
            assert (result.minimum, result.maximum) == (min(vs), max(vs))
        if result.kind == K.SCALE:
            assert [s.count for s in result.scale] == [vs.count(v) for v in range(1, 11)]
        if result.kind == K.DATE:
            ds = plain["dates"][question.id]
            assert (result.first_date, result.last_date) == (min(ds), max(ds))
        assert result.texts == dict(plain["texts"].get(question.id, {})), question.text


@pytest.mark.parametrize("anonymous", [False, True])
@pytest.mark.parametrize("large", [False, True], ids=["small", "tuned"])
def test_one_pass_equals_plain_counting(world, monkeypatch, anonymous, large):
    if large:  # the settings PostgreSQL gets for a large count (no effect on SQLite)
        monkeypatch.setattr(tally, "LARGE", 0)
    survey = _survey(world, anonymous)
    responses = _respond(world, survey, 90, seed=3)
    qn = load_questionnaire(survey.id)

    results, breakdowns = compute_with_breakdowns(survey, qn, list(Dimension))
    _check_totals(results, responses, qn)
    _check_totals(compute_results(survey, qn), responses, qn)
    without_totals, _newer = tally.count_tally(survey.id, list(Dimension))
    for dimension, together in zip(Dimension, breakdowns, strict=True):
        expected = _plain_breakdown(responses, dimension, anonymous)
        assert _shown(together) == expected, dimension
        assert _shown(compute_breakdown(survey, dimension)) == expected, dimension
        alone = assemble_breakdown(survey, dimension, without_totals.breakdown_raw(dimension))
        assert _shown(alone) == expected, dimension
    if anonymous:  # the fixture has groups on both sides of the line
        assert {g.hidden for b in breakdowns for g in b.groups} == {True, False}


def test_a_survey_without_responses_counts_nothing(world):
    survey = _survey(world, anonymous=True)
    qn = load_questionnaire(survey.id)
    results, breakdowns = compute_with_breakdowns(survey, qn, list(Dimension))
    assert results.total == 0 and all(r.answered == 0 for r in results.questions)
    assert all(b.groups == [] and b.counts == {} for b in breakdowns)


def _from_snapshot(survey):
    snapshot = db.session.scalar(
        sa.select(SurveyResultSnapshot).where(SurveyResultSnapshot.survey_id == survey.id)
    )
    db.session.refresh(snapshot)
    qn = load_questionnaire(survey.id)
    results = assemble_results(survey, qn, snapshot.data["totals"])
    return snapshot, results, [assemble_breakdown(survey, d, snapshot.data[d]) for d in Dimension]


def _assert_snapshot_is_live(survey):
    snapshot, results, breakdowns = _from_snapshot(survey)
    live, live_breakdowns = compute_with_breakdowns(
        survey, load_questionnaire(survey.id), list(Dimension)
    )
    assert results == live
    assert [_shown(b) for b in breakdowns] == [_shown(b) for b in live_breakdowns]
    return snapshot


def test_refresh_counts_only_the_new_responses(world):
    """The first refresh counts everything; the next ones only the responses after the
    highest id they counted before, and the snapshot equals a live count each time."""
    survey = _survey(world, anonymous=True)
    first = _respond(world, survey, 40, seed=5)
    snapshots.refresh_results(survey.id)
    snapshot = _assert_snapshot_is_live(survey)
    assert snapshot.responses == 40 and snapshot.data["tally"]["upto"] == first[-1]["id"]

    # Old answers changed behind the app's back (it never does that) stay as counted: the
    # refresh does not read the old responses' answers again, only the new ones'.
    single = load_questionnaire(survey.id).questions[0]
    yes, no = single.choices[0].id, single.choices[1].id
    old_yes = _from_snapshot(survey)[1].questions[0].options[0].count
    assert old_yes > 0
    db.session.execute(
        sa.update(SurveyAnswer)
        .where(SurveyAnswer.question_id == single.id, SurveyAnswer.option_id == yes)
        .values(option_id=no)
    )
    new = _respond(world, survey, 15, seed=6)
    new_yes = sum(a["option_id"] == yes for r in new for a in r["answers"])
    snapshots.refresh_results(survey.id)
    _snapshot, results, _ = _from_snapshot(survey)
    assert results.total == 55
    assert results.questions[0].options[0].count == old_yes + new_yes
    assert compute_results(survey).questions[0].options[0].count == new_yes


def test_new_responses_join_the_kept_tally_once_settled(world, monkeypatch):
    survey = _survey(world, anonymous=False)
    _respond(world, survey, 20, seed=7)
    snapshots.refresh_results(survey.id)
    kept = db.session.scalar(sa.select(SurveyResultSnapshot)).data["tally"]["upto"]
    later = _respond(world, survey, 10, seed=8)
    snapshots.refresh_results(survey.id)
    snapshot = _assert_snapshot_is_live(survey)
    # Seen only now: they may still have company with lower ids in flight, so they are
    # counted again next time rather than kept.
    assert snapshot.data["tally"]["upto"] == kept and snapshot.responses == 30
    monkeypatch.setattr(snapshots, "SETTLE_AFTER", timedelta(0))
    with count_statements(db.engine) as seen:
        snapshots.refresh_results(survey.id)
    snapshot = _assert_snapshot_is_live(survey)
    assert snapshot.data["tally"]["upto"] == later[-1]["id"]
    # A fixed number of statements, one pass over the answers (and one over the texts).
    over_answers = [s for s in seen if "FROM survey_answers" in s and "GROUP BY" in s]
    assert len(over_answers) == 2, over_answers
    assert len(seen) <= 16, seen


def test_a_response_committed_after_a_higher_id_was_counted_is_not_lost(world):
    """Ids are handed out before commit: a response may show up below the highest id a
    refresh already counted. The next refresh sees its tally no longer matches and counts
    everything again."""
    survey = _survey(world, anonymous=True)
    start = (db.session.scalar(sa.select(sa.func.max(SurveyResponse.id))) or 0) + 1
    _respond(world, survey, 20, seed=9, first_id=start)
    _respond(world, survey, 20, seed=10, first_id=start + 21)  # id start+20 still in flight
    snapshots.refresh_results(survey.id)
    assert _assert_snapshot_is_live(survey).responses == 40
    _respond(world, survey, 1, seed=11, first_id=start + 20)  # …and now committed
    snapshots.refresh_results(survey.id)
    assert _assert_snapshot_is_live(survey).responses == 41


def test_moderation_after_a_refresh_shows_in_the_next(world):
    survey = _survey(world, anonymous=True)
    _respond(world, survey, 30, seed=12)
    snapshots.refresh_results(survey.id)
    db.session.execute(
        sa.update(SurveyAnswer)
        .where(SurveyAnswer.text_status == TextStatus.PENDING)
        .values(text_status=TextStatus.APPROVED)
    )
    snapshots.refresh_results(survey.id)
    _snapshot, results, _ = _from_snapshot(survey)
    assert all(TextStatus.PENDING not in r.texts for r in results.questions)
    _assert_snapshot_is_live(survey)
