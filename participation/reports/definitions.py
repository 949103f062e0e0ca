"""The indicators, defined once: what each counts, in plain words, and how it is computed.

Pages, exports, the governor's PDF, the rating and the tests all read `INDICATORS`. A figure
comes from one of three sources:

- `rollup`: sums of the daily counters in `report_appeal_days` (see `ROLLUP_COUNTERS`);
  `numerator`/`denominator` name counters, a share or average is their quotient;
- `snapshot`: the state of messages now (in work, overdue), counted on the base tables;
- `participation`: votes, surveys, hearings, direct line and widgets, counted on their tables.

Days are calendar days in the time zone of the message's territory: a message registered at
23:30 in Уфа belongs to that day in Уфа.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


class Unit(enum.StrEnum):
    COUNT = "count"
    SHARE = "share"  # 0…1, shown as a percentage
    DAYS = "days"
    SCORE = "score"  # 1…5


class Better(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    NEUTRAL = "neutral"


class Block(enum.StrEnum):
    MESSAGES = "messages"
    SATISFACTION = "satisfaction"
    PARTICIPATION = "participation"


class Source(enum.StrEnum):
    ROLLUP = "rollup"
    SNAPSHOT = "snapshot"
    PARTICIPATION = "participation"


BLOCK_LABELS = {
    Block.MESSAGES: _l("Сообщения"),
    Block.SATISFACTION: _l("Удовлетворённость"),
    Block.PARTICIPATION: _l("Участие жителей"),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    counts: str  # what is counted, in plain words (shown next to the figure)
    unit: Unit
    better: Better
    block: Block
    source: Source
    numerator: str | None = None  # a rollup counter
    denominator: str | None = None  # a rollup counter: the figure is numerator / denominator
    rule: str = ""  # the edge cases, in plain words
    # Counts small enough to point at a person are shown as «менее 5» on public pages.
    personal: bool = False


# The daily counters kept per day × territory × organization × subcategory × channel.
ROLLUP_COUNTERS = (
    "received",
    "rejected_moderation",
    "answered",
    "answered_on_time",
    "answer_days_sum",
    "fast_track_answered",
    "fast_track_on_time",
    "returned_for_rework",
    "postponed",
    "redirected",
    "ratings",
    "rating_sum",
    "rated_high",
    "rated_low",
    "escalated",
    "escalations_answered",
    "thanks",
)

M, S, P = Block.MESSAGES, Block.SATISFACTION, Block.PARTICIPATION
R, SN, PA = Source.ROLLUP, Source.SNAPSHOT, Source.PARTICIPATION

# fmt: off  (a table: one indicator per paragraph)
INDICATORS: tuple[Indicator, ...] = (
    # --- messages ---------------------------------------------------------------------------
    Indicator(
        "received",
        _l("Поступило сообщений"),
        _l(
            "Сообщения, зарегистрированные за период, кроме отклонённых модератором "
            "и благодарностей; сообщение относится к организации, которая отвечает "
            "за ответ сейчас."
        ),
        Unit.COUNT,
        Better.NEUTRAL,
        M,
        R,
        numerator="received",
        rule=_l(
            "Перенаправленное сообщение считается у организации, куда его перенаправили. "
            "Повторное рассмотрение после низкой оценки — новое сообщение "
            "вышестоящей организации. Отклонённые модератором и благодарности "
            "сюда не входят."
        ),
        personal=True,
    ),
    Indicator(
        "in_work_now",
        _l("В работе сейчас"),
        _l(
            "Сообщения, по которым ответ ещё не направлен: на модерации, координации, "
            "у исполнителя, на согласовании и отложенные."
        ),
        Unit.COUNT,
        Better.NEUTRAL,
        M,
        SN,
        rule=_l("Показывает состояние на текущий момент, период на него не влияет."),
    ),
    Indicator(
        "answered",
        _l("Дан ответ"),
        _l("Сообщения, ответ на которые утверждён и направлен заявителю за период."),
        Unit.COUNT,
        Better.NEUTRAL,
        M,
        R,
        numerator="answered",
        rule=_l(
            "Сообщение, возвращённое заявителем на доработку, считается отвеченным один "
            "раз — в день последнего ответа. Ответы на благодарности не входят."
        ),
        personal=True,
    ),
    Indicator(
        "answered_on_time_share",
        _l("Ответ в срок"),
        _l("Доля сообщений с ответом за период, ответ на которые направлен не позже срока."),
        Unit.SHARE,
        Better.UP,
        M,
        R,
        numerator="answered_on_time",
        denominator="answered",
        rule=_l(
            "Ответ, направленный точно в момент окончания срока, — в срок. Срок — тот, что "
            "действовал в момент ответа: продлённый при законном откладывании или при "
            "возврате на доработку."
        ),
    ),
    Indicator(
        "overdue_now",
        _l("Просрочено сейчас"),
        _l("Сообщения без ответа, срок ответа по которым уже прошёл."),
        Unit.COUNT,
        Better.DOWN,
        M,
        SN,
        rule=_l(
            "Отложенное сообщение просрочено, только если прошла новая дата. "
            "Благодарность не требует ответа и просроченной не бывает."
        ),
    ),
    Indicator(
        "answer_days_avg",
        _l("Среднее время ответа, дней"),
        _l(
            "Сколько календарных дней в среднем прошло от регистрации до ответа "
            "(по местному времени территории сообщения)."
        ),
        Unit.DAYS,
        Better.DOWN,
        M,
        R,
        numerator="answer_days_sum",
        denominator="answered",
        rule=_l("Ответ в день регистрации — 0 дней."),
    ),
    Indicator(
        "answer_days_median",
        _l("Медианное время ответа, дней"),
        _l("Половина ответов дана не позже этого числа календарных дней от регистрации."),
        Unit.DAYS,
        Better.DOWN,
        M,
        R,
        rule=_l("Считается по тем же ответам, что и среднее время."),
    ),
    Indicator(
        "fast_track_on_time_share",
        _l("Ускоренные: ответ в срок"),
        _l("Доля сообщений по темам с сокращённым сроком, ответ на которые дан в срок."),
        Unit.SHARE,
        Better.UP,
        M,
        R,
        numerator="fast_track_on_time",
        denominator="fast_track_answered",
        rule=_l("Тема с сокращённым сроком определяется на момент регистрации сообщения."),
    ),
    Indicator(
        "returned_for_rework",
        _l("Возвращено на доработку"),
        _l("Сколько раз за период заявители вернули ответ на доработку."),
        Unit.COUNT,
        Better.DOWN,
        M,
        R,
        numerator="returned_for_rework",
        personal=True,
    ),
    Indicator(
        "postponed",
        _l("Отложено решение"),
        _l("Сколько раз за период решение по сообщению было отложено."),
        Unit.COUNT,
        Better.NEUTRAL,
        M,
        R,
        numerator="postponed",
        personal=True,
    ),
    Indicator(
        "rejected_moderation",
        _l("Отклонено модератором"),
        _l(
            "Сообщения, отклонённые при модерации за период. Считаются отдельно: "
            "организация их не получала."
        ),
        Unit.COUNT,
        Better.NEUTRAL,
        M,
        R,
        numerator="rejected_moderation",
        personal=True,
        rule=_l("Относятся к организации, которой было адресовано сообщение."),
    ),
    Indicator(
        "thanks",
        _l("Благодарности"),
        _l(
            "Благодарности жителей организации, поступившие за период. Считаются отдельно: "
            "ответа они не требуют и в поступившие и отвеченные сообщения не входят."
        ),
        Unit.COUNT,
        Better.UP,
        M,
        R,
        numerator="thanks",
        personal=True,
        rule=_l(
            "Благодарность — сообщение по теме «Благодарность» классификатора; относится "
            "к организации, которой она адресована. Отклонённые модератором не входят."
        ),
    ),
    Indicator(
        "redirected",
        _l("Перенаправлено"),
        _l("Сколько раз за период организация перенаправила сообщение в другую организацию."),
        Unit.COUNT,
        Better.NEUTRAL,
        M,
        R,
        numerator="redirected",
        personal=True,
        rule=_l("Считается у организации, которая перенаправила."),
    ),
    # --- satisfaction -----------------------------------------------------------------------
    Indicator(
        "rating_avg",
        _l("Средняя оценка"),
        _l("Средняя оценка ответов от 1 до 5, поставленных заявителями за период."),
        Unit.SCORE,
        Better.UP,
        S,
        R,
        numerator="rating_sum",
        denominator="ratings",
        rule=_l(
            "Оценка относится к организации, давшей оцениваемый ответ. "
            "Ответ, закрытый без оценки, не учитывается."
        ),
    ),
    Indicator(
        "rated_high_share",
        _l("Оценки 4–5"),
        _l("Доля оценок 4 и 5 среди оценок за период."),
        Unit.SHARE,
        Better.UP,
        S,
        R,
        numerator="rated_high",
        denominator="ratings",
    ),
    Indicator(
        "rated_low_share",
        _l("Оценки 1–2"),
        _l("Доля оценок 1 и 2 среди оценок за период."),
        Unit.SHARE,
        Better.DOWN,
        S,
        R,
        numerator="rated_low",
        denominator="ratings",
    ),
    Indicator(
        "escalated",
        _l("Передано в вышестоящую организацию"),
        _l(
            "Сообщения, которые после оценки 1–2 ушли на повторное рассмотрение "
            "в вышестоящую организацию за период."
        ),
        Unit.COUNT,
        Better.DOWN,
        S,
        R,
        numerator="escalated",
        personal=True,
        rule=_l("Считается у организации, чей ответ оценён низко."),
    ),
    Indicator(
        "escalations_answered",
        _l("Повторно рассмотрено"),
        _l(
            "Сколько переданных сообщений вышестоящая организация рассмотрела и дала "
            "новый ответ за период."
        ),
        Unit.COUNT,
        Better.NEUTRAL,
        S,
        R,
        numerator="escalations_answered",
        personal=True,
        rule=_l("Считается у организации, чей ответ оценён низко, в день нового ответа."),
    ),
    # --- participation ----------------------------------------------------------------------
    Indicator(
        "votes_held",
        _l("Проведено голосований"),
        _l("Голосования, завершённые за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        rule=_l(
            "Голосование проведено в день своего окончания по местному времени территории "
            "голосования; досрочно завершённое — в день досрочного завершения. Не считаются "
            "неопубликованные, ещё не завершившиеся и завершённые до начала приёма голосов."
        ),
    ),
    Indicator(
        "ballots_cast",
        _l("Голосов подано"),
        _l("Бюллетени, поданные за период во всех голосованиях."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        personal=True,
        rule=_l(
            "Бюллетень относится к дню подачи по местному времени голосования и к району "
            "голосования, если он указан; переголосование учитывается один раз — в день "
            "последнего бюллетеня."
        ),
    ),
    Indicator(
        "surveys_held",
        _l("Проведено опросов"),
        _l("Опросы, завершённые за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        rule=_l(
            "Опрос проведён в день окончания (или досрочного закрытия) по местному времени "
            "организации-организатора; не считаются неопубликованные и ещё идущие опросы."
        ),
    ),
    Indicator(
        "survey_answers",
        _l("Ответов на опросы"),
        _l("Анкеты, заполненные за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        personal=True,
        rule=_l("Анкета относится к организатору опроса и к дню отправки по его местному времени."),
    ),
    Indicator(
        "hearings_held",
        _l("Проведено общественных обсуждений"),
        _l("Общественные обсуждения, приём замечаний по которым завершён за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        rule=_l(
            "Обсуждение проведено в последний день приёма замечаний; неопубликованные не считаются."
        ),
    ),
    Indicator(
        "hearing_remarks",
        _l("Замечаний и предложений"),
        _l("Замечания и предложения к проектам, поданные за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        personal=True,
        rule=_l(
            "Отклонённые модератором не считаются; ожидающие модерации считаются. "
            "Замечания с собрания — в день их записи."
        ),
    ),
    Indicator(
        "directline_questions",
        _l("Вопросов на прямую линию"),
        _l("Вопросы, заданные на прямые линии за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        personal=True,
        rule=_l(
            "Вопрос относится к территории, о которой он задан, и к организации, проводящей "
            "прямую линию. Отклонённые и объединённые с похожими (дубли) не считаются."
        ),
    ),
    Indicator(
        "directline_answered",
        _l("Отвечено на прямой линии"),
        _l("Вопросы прямых линий, на которые дан ответ за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        personal=True,
        rule=_l("Считаются ответы в эфире, в день ответа."),
    ),
    Indicator(
        "widget_sites",
        _l("Сайтов с виджетом"),
        _l("Организации, у которых виджет установлен на сайте (указан адрес сайта) сейчас."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        rule=_l(
            "Нужны сгенерированный код и указанный адрес сайта; отозванный код не считается. "
            "Показывает состояние на текущий момент, период на него не влияет."
        ),
    ),
    Indicator(
        "widget_visits",
        _l("Посещений виджета"),
        _l("Показы виджета на сайтах организаций за период."),
        Unit.COUNT,
        Better.UP,
        P,
        PA,
        rule=_l("Показы учитываются по дням UTC, как их записывает виджет."),
    ),
    Indicator(
        "connected_municipalities_share",
        _l("Подключено муниципалитетов"),
        _l(
            "Доля муниципальных образований региона, администрация которых подтвердила "
            "готовность к работе и прохождение обучения."
        ),
        Unit.SHARE,
        Better.UP,
        P,
        PA,
        rule=_l(
            "Муниципалитет подключён, если его администрация дала оба подтверждения не позже "
            "последнего дня периода. Муниципалитет без администрации на платформе считается "
            "неподключённым."
        ),
    ),
)
# fmt: on

BY_CODE = {indicator.code: indicator for indicator in INDICATORS}


def indicators_of(block: Block) -> list[Indicator]:
    """The indicators of one block, in table order."""
    return [i for i in INDICATORS if i.block == block]
