"""Loading the classifier from a CSV file: dry run, applying, renames, retiring, restoring,
all-or-nothing on bad input (`flask appeals import-classifier`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.appeals.classifier import (
    Category,
    Subcategory,
    offered_subcategory_ids,
    seed_classifier,
)
from participation.appeals.classifier_import import (
    ClassifierFileError,
    import_classifier,
    parse,
)
from participation.appeals.cli import appeals_cli
from participation.core.audit import AuditEntry
from participation.extensions import db
from tests.appeals.conftest import submit

HEADER = (
    "Код категории;Категория;Код подкатегории;Подкатегория;Ускоренная;"
    "Срок ответа, дней;Ключевые слова;Благодарность"
)
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "classifier_sample.csv"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def snapshot(positions: bool = True) -> list[tuple]:
    """Every classifier row with every column: equal before and after means nothing changed.
    (An applied file also sets the display order to the file's order: `positions=False`.)"""
    categories = db.session.execute(
        sa.select(
            Category.id,
            Category.code,
            Category.name,
            Category.position if positions else sa.null(),
            Category.active,
        )
    ).all()
    subcategories = db.session.execute(
        sa.select(
            Subcategory.id,
            Subcategory.category_id,
            Subcategory.code,
            Subcategory.name,
            Subcategory.position if positions else sa.null(),
            Subcategory.fast_track,
            Subcategory.active,
            Subcategory.keywords,
            Subcategory.term_days,
            Subcategory.thanks,
        )
    ).all()
    return sorted(map(tuple, categories)) + sorted(map(tuple, subcategories))


def world_file(w, *extra: str, potholes_name: str = "Ямы и выбоины (тест)") -> str:
    """The world's classifier as a file (the retired topic left out), plus extra rows."""
    roads, yards = w.roads.code, w.yards.code
    return csv_text(
        f"{roads};Дороги (тест);{w.potholes.code};{potholes_name};да;;"
        "яма, выбоина, ямы на дороге;нет",
        f"{roads};Дороги (тест);{w.marking.code};Дорожная разметка (тест);нет;;разметка, зебра;",
        f"{yards};Дворы (тест);{w.benches.code};Скамейки (тест);нет;;скамейка, лавочка;нет",
        *extra,
    )


def errors_of(text: str | bytes) -> list[str]:
    with pytest.raises(ClassifierFileError) as info:
        import_classifier(text)
    return info.value.errors


# --- the file as the world already has it -----------------------------------------------------


def test_the_same_classifier_changes_nothing(world):
    before = snapshot(positions=False)
    plan = import_classifier(world_file(world))
    assert plan.changes == []
    assert snapshot(positions=False) == before


# --- dry run ------------------------------------------------------------------------------------


def test_dry_run_shows_additions_renames_changes_and_removals_and_changes_nothing(world):
    w = world
    text = csv_text(
        f"{w.roads.code};Дороги;{w.potholes.code};Ямы;да;5;яма, провал;нет",
        f"{w.yards.code};Дворы (тест);{w.benches.code};Скамейки (тест);нет;;скамейка, лавочка;",
        "thanks;Благодарность;thanks.organization;Благодарность организации;нет;;спасибо;да",
    )
    submit(w, subcategory_id=w.marking.id, suggested_subcategory_id=w.marking.id)
    before = snapshot()
    plan = import_classifier(text, dry_run=True)
    assert snapshot() == before
    lines = "\n".join(plan.lines())
    assert "+ категория thanks «Благодарность»" in lines
    assert "+ подкатегория thanks.organization «Благодарность организации»" in lines
    assert "(благодарность)" in lines
    assert f"~ категория {w.roads.code}: «Дороги (тест)» → «Дороги»" in lines
    assert f"~ {w.potholes.code}: «Ямы и выбоины (тест)» → «Ямы»" in lines
    assert f"* {w.potholes.code}: срок ответа: по умолчанию → 5 дн.; ключевые слова: +1 −2" in lines
    # The marking topic has a message: it is retired and the message keeps it.
    assert f"- подкатегория {w.marking.code} «Дорожная разметка (тест)» (сообщений: 1" in lines
    assert plan.counts() == {"add": 2, "rename": 2, "change": 1, "retire": 1, "restore": 0}
    assert "добавить: 2, переименовать: 2, изменить: 1, вывести из употребления: 1" in (
        plan.summary()
    )
    assert not db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "classifier.imported")
    ).all()


# --- applying -----------------------------------------------------------------------------------


def test_import_applies_additions_renames_terms_retires_and_audits(world):
    w = world
    appeal = submit(w, subcategory_id=w.marking.id, suggested_subcategory_id=w.marking.id)
    text = csv_text(
        f"{w.roads.code};Дороги;{w.potholes.code};Ямы;да;5;яма, провал;нет",
        f"{w.yards.code};Дворы (тест);{w.benches.code};Лавочки;нет;20;скамейка;",
        f"{w.yards.code};Дворы (тест);yards.playgrounds;Детские площадки;нет;;качели, горка;",
        "thanks;Благодарность;thanks.organization;Благодарность организации;нет;;спасибо;да",
    )
    plan = import_classifier(text)
    db.session.expire_all()
    assert plan.counts()["add"] == 3
    potholes = db.session.get(Subcategory, w.potholes.id)
    assert (potholes.name, potholes.term_days, potholes.fast_track) == ("Ямы", 5, True)
    assert potholes.keyword_list == ["яма", "провал"]
    assert potholes.category.name == "Дороги"
    benches = db.session.get(Subcategory, w.benches.id)
    assert (benches.name, benches.term_days) == ("Лавочки", 20)
    playgrounds = db.session.scalars(
        sa.select(Subcategory).where(Subcategory.code == "yards.playgrounds")
    ).one()
    assert playgrounds.category_id == w.yards.id and playgrounds.active
    assert playgrounds.keyword_list == ["качели", "горка"]
    thanks = db.session.scalars(
        sa.select(Subcategory).where(Subcategory.code == "thanks.organization")
    ).one()
    assert thanks.thanks and thanks.term_days is None and thanks.category.code == "thanks"
    # Retired, never deleted: the message keeps its topic, residents no longer see it.
    marking = db.session.get(Subcategory, w.marking.id)
    assert marking is not None and not marking.active
    assert db.session.get(type(appeal), appeal.id).subcategory_id == w.marking.id
    assert w.marking.id not in offered_subcategory_ids()
    assert {w.potholes.id, w.benches.id, thanks.id} <= offered_subcategory_ids()
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "classifier.imported")
    ).one()
    assert entry.details["add"] == 3 and entry.details["retire"] == 1
    assert entry.details["rows"] == 4


def test_the_topics_own_term_sets_a_new_messages_deadline(world):
    w = world
    import_classifier(
        world_file(
            w,
            f"{w.roads.code};Дороги (тест);roads.quick;Быстрая тема;да;3;;",
            f"{w.roads.code};Дороги (тест);roads.slow;Обычная тема;нет;20;;",
        )
    )
    db.session.flush()
    quick = db.session.scalars(sa.select(Subcategory).where(Subcategory.code == "roads.quick"))
    slow = db.session.scalars(sa.select(Subcategory).where(Subcategory.code == "roads.slow"))
    quick_id, slow_id = quick.one().id, slow.one().id
    a = submit(w, subcategory_id=quick_id, suggested_subcategory_id=quick_id)
    assert (a.fast_track, a.term_days) == (True, 3)
    b = submit(w, subcategory_id=slow_id, suggested_subcategory_id=slow_id)
    assert (b.fast_track, b.term_days) == (False, 20)
    c = submit(w)  # potholes: fast-track, no own term → 10 days
    assert (c.fast_track, c.term_days) == (True, 10)


def test_renames_may_swap_names_under_the_unique_constraints(world):
    w = world
    text = csv_text(
        f"{w.roads.code};Дворы (тест);{w.potholes.code};Дорожная разметка (тест);да;;;",
        f"{w.roads.code};Дворы (тест);{w.marking.code};Ямы и выбоины (тест);нет;;;",
        f"{w.yards.code};Дороги (тест);{w.benches.code};Скамейки (тест);нет;;;",
    )
    plan = import_classifier(text)
    assert plan.count("rename") == 4
    db.session.expire_all()
    assert db.session.get(Category, w.roads.id).name == "Дворы (тест)"
    assert db.session.get(Category, w.yards.id).name == "Дороги (тест)"
    assert db.session.get(Subcategory, w.potholes.id).name == "Дорожная разметка (тест)"
    assert db.session.get(Subcategory, w.marking.id).name == "Ямы и выбоины (тест)"


def test_a_retired_topic_in_the_file_is_restored(world):
    w = world
    row = f"{w.yards.code};Дворы (тест);{w.retired.code};Снятая с учёта тема (тест);нет;;;"
    plan = import_classifier(world_file(w, row), dry_run=True)
    assert f"↺ подкатегория {w.retired.code} «Снятая с учёта тема (тест)»" in plan.lines()
    import_classifier(world_file(w, row))
    db.session.expire_all()
    assert db.session.get(Subcategory, w.retired.id).active
    assert w.retired.id in offered_subcategory_ids()


def test_a_category_left_out_is_retired_and_comes_back(world):
    w = world
    only_roads = csv_text(
        f"{w.roads.code};Дороги (тест);{w.potholes.code};Ямы и выбоины (тест);да;;;",
    )
    plan = import_classifier(only_roads)
    assert f"- категория {w.yards.code} «Дворы (тест)»" in plan.lines()
    db.session.expire_all()
    assert not db.session.get(Category, w.yards.id).active
    assert not db.session.get(Subcategory, w.benches.id).active
    import_classifier(world_file(w))
    db.session.expire_all()
    assert db.session.get(Category, w.yards.id).active
    assert db.session.get(Subcategory, w.benches.id).active


def test_optional_columns_left_out_keep_what_is_there(world):
    w = world
    header = "Код категории;Категория;Код подкатегории;Подкатегория"
    text = csv_text(
        f"{w.roads.code};Дороги (тест);{w.potholes.code};Ямы и выбоины (тест)",
        f"{w.roads.code};Дороги (тест);{w.marking.code};Дорожная разметка (тест)",
        f"{w.yards.code};Дворы (тест);{w.benches.code};Скамейки (тест)",
        header=header,
    )
    before = snapshot(positions=False)
    assert import_classifier(text).changes == []
    assert snapshot(positions=False) == before


def test_the_seed_classifier_survives_the_sample_file_with_a_thanks_topic(db_session):
    seed_classifier()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Subcategory))
    plan = import_classifier(SAMPLE.read_bytes(), dry_run=True)
    assert plan.count("add", "subcategory") == 0  # the seed has thanks.organization too
    assert plan.count("retire", "subcategory") == total - 4
    changes = [c.text for c in plan.changes if c.kind == "change"]
    assert any(
        t.startswith("roads.traffic_lights: срок ответа: по умолчанию → 7 дн.") for t in changes
    )


# --- reading Excel's files ----------------------------------------------------------------------


def test_bom_comma_delimiter_and_windows_1251_are_read(world):
    w = world
    comma = (
        world_file(w)
        .replace(";", ",")
        .replace("Срок ответа, дней", '"Срок ответа, дней"')
        .replace("яма, выбоина, ямы на дороге", '"яма; выбоина"')
    )
    comma = comma.replace("разметка, зебра", "разметка").replace("скамейка, лавочка", "скамейка")
    parsed = parse(("\ufeff" + comma).encode("utf-8"))
    assert [r.code for r in parsed.rows] == [w.potholes.code, w.marking.code, w.benches.code]
    assert parsed.rows[0].keywords == "яма\nвыбоина"
    assert parse(world_file(w).encode("cp1251")).rows[0].name == "Ямы и выбоины (тест)"
    assert parse("\ufeff" + world_file(w)).rows[2].name == "Скамейки (тест)"


# --- bad input: clear Russian errors with line numbers, nothing applied ------------------------


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            HEADER + ";Примечание",
            "a;A;a.b;B;нет;;;;x",
            "Строка 1: неизвестный столбец «Примечание»",
        ),
        (
            "Код категории;Категория;Подкатегория",
            "a;A;B",
            "Нет обязательного столбца «Код подкатегории»",
        ),
        (HEADER, "a;A;a.b;B;нет;тридцать;;", "Строка 2: срок ответа «тридцать» — укажите целое"),
        (HEADER, "a;A;a.b;B;нет;0;;", "Строка 2: срок ответа «0» — укажите целое положительное"),
        (HEADER, "a;A;a.b;B;нет;-3;;", "Строка 2: срок ответа «-3»"),
        (HEADER, "a;A;a.b;B;нет;45;;", "45 дней — срок ответа для темы не больше 30 дней"),
        (HEADER, "a;A;a.b;B;да;15;;", "15 дней — срок ответа для ускоренной темы не больше 10"),
        (HEADER, "a;A;a.b;;нет;;;", "Строка 2: не указано название подкатегории"),
        (HEADER, "a;;a.b;B;нет;;;", "Строка 2: не указано название категории"),
        (HEADER, ";;a.b;B;нет;;;", "Строка 2: не указан код категории"),
        (HEADER, "a;A;;B;нет;;;", "Строка 2: не указан код подкатегории"),
        (HEADER, "a;A;Ямы;B;нет;;;", "код подкатегории «ямы» — только латинские"),
        (HEADER, "a;A;a.b;B;может быть;;;", "в столбце «Ускоренная» укажите «да» или «нет»"),
        (HEADER, "t;Спасибо;t.a;Спасибо;нет;5;;да", "благодарность не требует ответа"),
        (HEADER, "a;A;a.b;B;нет;;;;лишнее", "Строка 2: значений больше, чем столбцов"),
    ],
)
def test_bad_input_is_refused_with_the_line_and_nothing_changes(world, header, row, expected):
    before = snapshot()
    errors = errors_of(csv_text(row, header=header))
    assert any(expected in e for e in errors), errors
    assert snapshot() == before


def test_duplicate_codes_and_names_are_refused(world):
    errors = errors_of(
        csv_text(
            "a;Первая;a.b;Тема;нет;;;",
            "a;Первая;a.b;Другая тема;нет;;;",
            "a;Вторая;a.c;Ещё;нет;;;",
            "c;Первая;c.d;Тема;нет;;;",
            "a;Первая;a.e;тема;нет;;;",
        )
    )
    assert "Строка 3: код подкатегории «a.b» повторяется (уже в строке 2)." in errors
    assert any(e.startswith("Строка 4: у категории «a» другое название") for e in errors)
    assert any(
        e.startswith("Строка 5: название категории «Первая» уже у категории") for e in errors
    )
    assert any(e.startswith("Строка 6: подкатегория «тема» уже есть в категории") for e in errors)


def test_empty_file_and_header_only_are_refused(world):
    assert errors_of("") == ["Файл пуст: нужна строка заголовков и строки подкатегорий."]
    assert "В файле нет ни одной подкатегории" in errors_of(csv_text())[0]


def test_one_bad_line_among_good_ones_applies_nothing(world):
    w = world
    before = snapshot()
    text = world_file(
        w,
        f"{w.yards.code};Дворы (тест);yards.new;Новая тема;нет;;;",
        f"{w.yards.code};Дворы (тест);yards.bad;Плохая тема;нет;31;;",
        potholes_name="Переименованные ямы",
    )
    errors = errors_of(text)
    assert errors == [
        "Строка 6: в столбце «Срок ответа, дней» 31 дней — срок ответа для темы не больше 30 дней."
    ]
    assert snapshot() == before


def test_a_new_code_under_a_retired_topics_name_is_refused(world):
    w = world
    row = f"{w.yards.code};Дворы (тест);yards.again;Снятая с учёта тема (тест);нет;;;"
    before = snapshot()
    errors = errors_of(world_file(w, row))
    assert "носит подкатегория" in errors[0] and w.retired.code in errors[0]
    assert snapshot() == before


# --- the command ----------------------------------------------------------------------------------


def test_command_dry_run_apply_and_refusal(app, world, tmp_path):
    w = world
    runner = app.test_cli_runner()
    path = tmp_path / "classifier.csv"
    path.write_bytes(("\ufeff" + world_file(w, potholes_name="Ямы")).encode())
    before = snapshot()
    result = runner.invoke(appeals_cli, ["import-classifier", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"~ {w.potholes.code}: «Ямы и выбоины (тест)» → «Ямы»" in result.output
    assert "Пробный запуск, ничего не изменено" in result.output
    assert snapshot() == before
    result = runner.invoke(appeals_cli, ["import-classifier", str(path)])
    assert result.exit_code == 0, result.output
    assert "Классификатор загружен" in result.output
    db.session.expire_all()
    assert db.session.get(Subcategory, w.potholes.id).name == "Ямы"

    path.write_text(csv_text("a;A;a.b;B;нет;99;;"), encoding="utf-8")
    after = snapshot()
    result = runner.invoke(appeals_cli, ["import-classifier", str(path)])
    assert result.exit_code == 1
    assert "Строка 2" in result.output and "Классификатор не изменён." in result.output
    assert snapshot() == after


# --- the administration pages and regional overrides ------------------------------------------


def test_admin_pages_mark_retired_topics_and_show_terms_and_thanks(client, db_session):
    from participation.core.organizations import OrganizationKind
    from participation.core.territories import TerritoryLevel
    from participation.core.users import Role
    from tests import factories
    from tests.helpers import login_as

    seed_classifier()
    import_classifier(SAMPLE.read_bytes())
    country = factories.territory(TerritoryLevel.COUNTRY)
    operator = factories.organization(OrganizationKind.OPERATOR, territory_=country)
    login_as(client, factories.staff(operator, Role.ADMINISTRATOR))
    roads = db.session.scalars(sa.select(Category).where(Category.code == "roads")).one()
    page = client.get(f"/admin/classifier/categories/{roads.id}").text
    assert "Ямы и выбоины" in page and "фаст-трек, 10 дн." in page
    assert "фаст-трек, 7 дн." in page  # traffic lights: the file's own term
    assert "выведена из употребления" in page  # e.g. the markings, not in the sample
    thanks = db.session.scalars(
        sa.select(Subcategory).where(Subcategory.code == "thanks.organization")
    ).one()
    page = client.get(f"/admin/classifier/subcategories/{thanks.id}").text
    assert "благодарность: ответ не обязателен" in page
    index = client.get("/admin/classifier/").text
    assert "выведена из употребления" in index and "import-classifier" in index


def test_a_region_overriding_fast_track_gets_that_flags_default_term(world):
    from participation.appeals.classifier import set_region_fast_track

    w = world
    import_classifier(
        world_file(w, f"{w.roads.code};Дороги (тест);roads.slow;Обычная тема;нет;20;;")
    )
    slow = db.session.scalars(sa.select(Subcategory).where(Subcategory.code == "roads.slow")).one()
    set_region_fast_track(w.region, slow, True, w.administrator)
    db.session.flush()
    a = submit(w, subcategory_id=slow.id, suggested_subcategory_id=slow.id)
    assert (a.fast_track, a.term_days) == (True, 10)


@pytest.mark.committed
def test_a_failure_while_applying_rolls_everything_back(app, monkeypatch, tmp_path):
    """Checks pass, then the database refuses midway (here: the audit entry): the command's
    transaction is rolled back whole, renames and retirements included."""
    import participation.appeals.classifier_import as ci

    first = csv_text(
        "roads;Дороги;roads.potholes;Ямы;да;;яма;нет",
        "roads;Дороги;roads.signs;Знаки;нет;;знак;нет",
    )
    import_classifier(first)
    db.session.commit()
    before = snapshot()

    def refuse(*args, **kwargs):
        raise RuntimeError("база данных недоступна")

    monkeypatch.setattr(ci.audit, "record", refuse)
    path = tmp_path / "classifier.csv"
    path.write_text(
        csv_text(
            "roads;Автодороги;roads.potholes;Ямы и выбоины;да;5;яма;нет",
            "yards;Дворы;yards.benches;Скамейки;нет;;;нет",
        ),
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(appeals_cli, ["import-classifier", str(path)])
    assert result.exit_code != 0
    db.session.remove()
    assert snapshot() == before
