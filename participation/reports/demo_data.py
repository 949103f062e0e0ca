"""The demo year of messages as plain data: places, topics, seasons, texts, how bodies work."""

from __future__ import annotations

from dataclasses import dataclass

from participation.demo import data

# --- seasons: a multiplier per month, January first ------------------------------------------

FLAT = (1.0,) * 12
WINTER = (4, 4, 3, 1, 0, 0, 0, 0, 0, 0.5, 2.5, 4)
THAW = (1, 1, 2.5, 2.5, 1, 0.8, 1, 1, 0.8, 1, 1, 1)
SPRING_ROADS = (0.5, 0.5, 2, 3.5, 3, 1.5, 1, 1, 1, 1, 0.7, 0.5)
SUMMER = (0.3, 0.3, 0.5, 1, 2, 3, 3, 2.5, 1.5, 0.8, 0.4, 0.3)
DARK = (2, 1.5, 1, 0.6, 0.3, 0.2, 0.2, 0.4, 1, 1.8, 2.2, 2.2)
HEATING = (2, 1.5, 1, 0.5, 0.1, 0.1, 0.1, 0.2, 1, 3.5, 2.5, 2)
WATER = (0.6, 0.6, 0.7, 0.8, 1, 2.5, 3, 2, 1, 0.8, 0.7, 0.6)
SCHOOL = (0.5, 0.5, 1.5, 2, 1.5, 1, 1.5, 3, 2, 0.8, 0.6, 0.5)
TERM = (1.2, 1.2, 1.2, 1.2, 1, 0.2, 0.1, 0.3, 1.5, 1.2, 1.2, 1)
FLU = (1.5, 1.5, 1.2, 1, 0.8, 0.7, 0.7, 0.8, 1, 1.2, 1.4, 1.5)
FIRE = (0.2, 0.2, 0.5, 3, 3, 1, 1, 1, 1, 0.7, 0.3, 0.2)


@dataclass(frozen=True)
class Topic:
    """A subcategory residents write about: how often, in which season, in which words."""

    code: str
    weight: float
    season: tuple[float, ...]
    texts: tuple[str, ...]  # {street} and {house} are filled in


TOPICS: tuple[Topic, ...] = (
    Topic(
        "roads.potholes",
        10,
        SPRING_ROADS,
        (
            "На {street} у дома {house} после зимы огромные ямы, машины объезжают их по встречной.",
            "Напротив дома {house} по {street} провал асфальта, вчера пробил колесо. Прошу "
            "заделать яму.",
            "Разбита проезжая часть на {street} от дома {house} до перекрёстка, ямы глубиной "
            "с ладонь.",
        ),
    ),
    Topic(
        "roads.road_repair",
        4,
        SPRING_ROADS,
        (
            "Дорогу по {street} латают каждый год, но она снова разбита. Нужен капитальный "
            "ремонт покрытия у дома {house}.",
            "Прошу включить {street} в план ремонта дорог: покрытие у дома {house} полностью "
            "разрушено.",
        ),
    ),
    Topic(
        "roads.snow",
        8,
        WINTER,
        (
            "Не чистят от снега {street}, у дома {house} машины буксуют, автобус не может "
            "подъехать к остановке.",
            "После снегопада на {street} снег не убран уже третий день, проезд сужен до одной "
            "полосы.",
            "Грейдер сгрёб снег на тротуар у дома {house} по {street}, пешеходы идут по дороге.",
        ),
    ),
    Topic(
        "roads.traffic_lights",
        3,
        FLAT,
        (
            "Не работает светофор на перекрёстке у дома {house} по {street}, переходить опасно.",
            "Светофор на {street} мигает жёлтым уже неделю, водители не пропускают пешеходов.",
        ),
    ),
    Topic(
        "roads.markings",
        3,
        SUMMER,
        (
            "Стёрлась разметка пешеходного перехода у дома {house} по {street}, водители его "
            "не видят.",
            "На {street} нет разметки полос, на повороте у дома {house} постоянно аварийные "
            "ситуации.",
        ),
    ),
    Topic(
        "roads.sidewalks",
        4,
        SPRING_ROADS,
        (
            "Тротуар вдоль дома {house} по {street} разбит, с коляской не пройти.",
            "На {street} у дома {house} тротуар заканчивается, люди идут по проезжей части.",
        ),
    ),
    Topic(
        "roads.crossings",
        2,
        FLAT,
        ("Прошу сделать пешеходный переход у дома {house} по {street}: рядом школа и остановка.",),
    ),
    Topic(
        "roads.speed_bumps",
        2,
        SUMMER,
        (
            "Во дворе у дома {house} по {street} машины ездят на большой скорости, там играют "
            "дети. Прошу установить лежачего полицейского.",
        ),
    ),
    Topic(
        "roads.signs",
        2,
        FLAT,
        ("На {street} у дома {house} сбит дорожный знак, лежит на обочине.",),
    ),
    Topic(
        "roads.bridges",
        1,
        SPRING_ROADS,
        ("Разрушается ограждение моста на {street}, в перилах дыры, ходить опасно.",),
    ),
    Topic(
        "yards.yard_snow",
        8,
        WINTER,
        (
            "Двор дома {house} по {street} не чистят от снега, к подъезду не пройти.",
            "Во дворе дома {house} по {street} гололёд, ничем не посыпано, люди падают.",
            "Снег из двора дома {house} по {street} не вывозят, сугробы закрыли парковку "
            "и проезд для скорой.",
        ),
    ),
    Topic(
        "yards.yard_cleaning",
        5,
        SUMMER,
        (
            "Во дворе дома {house} по {street} не убирают мусор и листья, урны переполнены.",
            "Двор дома {house} по {street} зарос травой по пояс, её никто не косит.",
        ),
    ),
    Topic(
        "yards.playgrounds",
        4,
        SUMMER,
        (
            "На детской площадке у дома {house} по {street} сломаны качели, торчат острые детали.",
            "Прошу отремонтировать горку на площадке во дворе дома {house} по {street}: "
            "проломлен скат.",
        ),
    ),
    Topic(
        "yards.yard_repair",
        3,
        SUMMER,
        ("Во дворе дома {house} по {street} разбит асфальт, после дождя стоит огромная лужа.",),
    ),
    Topic(
        "yards.yard_lighting",
        3,
        DARK,
        ("Во дворе дома {house} по {street} не горит ни один фонарь, вечером темно и страшно.",),
    ),
    Topic(
        "improvement.street_lighting",
        4,
        DARK,
        (
            "На {street} от дома {house} до остановки не горят фонари, идти в темноте опасно.",
            "Фонари на {street} горят днём и не горят ночью, проверьте, пожалуйста, "
            "расписание включения.",
        ),
    ),
    Topic(
        "improvement.parks",
        2,
        SUMMER,
        ("В сквере у дома {house} по {street} сломаны скамейки и не вывозят мусор из урн.",),
    ),
    Topic(
        "improvement.trees",
        2,
        SUMMER,
        (
            "Аварийное дерево у дома {house} по {street} наклонилось над детской площадкой, "
            "может упасть.",
        ),
    ),
    Topic(
        "mkd.roof",
        4,
        THAW,
        (
            "Протекает крыша дома {house} по {street}, в квартирах верхнего этажа течёт с потолка.",
            "С крыши дома {house} по {street} свисают сосульки над входом в подъезд.",
        ),
    ),
    Topic(
        "mkd.entrance",
        3,
        FLAT,
        ("В подъезде дома {house} по {street} не убирают, облезла краска, разбиты окна.",),
    ),
    Topic(
        "mkd.elevators",
        3,
        FLAT,
        (
            "В доме {house} по {street} не работает лифт уже неделю, пожилые жильцы не могут "
            "выйти из квартир.",
        ),
    ),
    Topic(
        "mkd.basement",
        2,
        FLAT,
        ("В подвале дома {house} по {street} стоит вода, в подъезде запах сырости и комары.",),
    ),
    Topic(
        "mkd.management_company",
        3,
        FLAT,
        (
            "Управляющая компания дома {house} по {street} не отвечает на заявки и не выполняет "
            "текущий ремонт.",
        ),
    ),
    Topic(
        "health.appointments",
        5,
        FLU,
        (
            "В поликлинике на {street} невозможно записаться к терапевту: талонов нет на две "
            "недели вперёд.",
            "Не могу дозвониться в регистратуру поликлиники на {street}, запись через Госуслуги "
            "недоступна.",
        ),
    ),
    Topic(
        "health.doctors_shortage",
        3,
        FLAT,
        ("В поликлинике на {street} уже полгода нет педиатра, детей принимает один врач.",),
    ),
    Topic(
        "health.medicines",
        2,
        FLAT,
        ("В аптеке на {street} нет льготных лекарств по рецепту уже месяц.",),
    ),
    Topic(
        "health.ambulance",
        2,
        FLAT,
        ("Скорая помощь к дому {house} по {street} ехала больше часа.",),
    ),
    Topic(
        "health.clinic_work",
        3,
        FLAT,
        ("В поликлинике на {street} огромные очереди, не работает электронная очередь.",),
    ),
    Topic(
        "education.kindergarten_queue",
        2,
        SCHOOL,
        ("Ребёнку три года, а места в детском саду рядом с домом {house} по {street} так и нет.",),
    ),
    Topic(
        "education.school_enrollment",
        2,
        SCHOOL,
        ("Не можем записать ребёнка в первый класс школы по месту жительства на {street}.",),
    ),
    Topic(
        "education.school_meals",
        2,
        TERM,
        ("В школе на {street} дети жалуются на холодную и невкусную еду в столовой.",),
    ),
    Topic(
        "education.school_buildings",
        1,
        SUMMER,
        ("В здании школы на {street} протекает крыша спортзала, занятия отменяют.",),
    ),
    Topic(
        "ecology.air",
        2,
        SUMMER,
        ("По вечерам у дома {house} по {street} сильный запах гари, невозможно открыть окна.",),
    ),
    Topic(
        "ecology.water_bodies",
        1,
        SUMMER,
        ("В пруд у {street} сливают что-то из трубы, вода стала мутной, погибла рыба.",),
    ),
    Topic(
        "ecology.burning",
        1,
        FIRE,
        ("На пустыре у {street} каждый день жгут сухую траву и мусор, дым идёт в дома.",),
    ),
    Topic(
        "mfc.mfc_queues",
        2,
        FLAT,
        ("В МФЦ на {street} очередь на два часа, работают только два окна из восьми.",),
    ),
    Topic(
        "mfc.mfc_staff",
        1,
        FLAT,
        ("Сотрудник МФЦ на {street} отказался принимать документы без объяснения причин.",),
    ),
    Topic(
        "mfc.mfc_schedule",
        1,
        FLAT,
        ("Прошу продлить часы работы МФЦ на {street}: после работы попасть туда невозможно.",),
    ),
    Topic(
        "water.no_water",
        4,
        WATER,
        (
            "В доме {house} по {street} нет холодной воды второй день, никто не предупредил.",
            "В доме {house} по {street} отключили воду без объявления, когда дадут?",
        ),
    ),
    Topic(
        "heating.no_heating",
        5,
        HEATING,
        (
            "В доме {house} по {street} нет отопления, в квартирах +15, батареи холодные.",
            "Отопительный сезон начался, а в доме {house} по {street} батареи так и не включили.",
        ),
    ),
    Topic(
        "waste.collection",
        5,
        SUMMER,
        (
            "С контейнерной площадки у дома {house} по {street} не вывозят мусор уже неделю.",
            "Мусоровоз приезжает к дому {house} по {street} раз в несколько дней, контейнеры "
            "переполнены.",
        ),
    ),
)

# Topics that a municipality's own administration answers outside Уфа (Уфа has its own rules).
MUNICIPAL_TOPICS = (
    "roads.markings",
    "roads.traffic_lights",
    "roads.sidewalks",
    "roads.snow",
    "roads.crossings",
    "roads.speed_bumps",
    "yards.yard_cleaning",
    "yards.yard_snow",
    "yards.playgrounds",
    "yards.yard_repair",
    "yards.yard_lighting",
    "improvement.street_lighting",
    "improvement.parks",
    "improvement.trees",
    "mkd.roof",
    "mkd.entrance",
    "mkd.elevators",
    "mkd.basement",
    "mkd.management_company",
    "education.kindergarten_queue",
    "education.school_enrollment",
    "education.school_meals",
    "education.school_buildings",
)


@dataclass(frozen=True)
class Place:
    """A territory messages are about: its municipality's administration, share, streets."""

    oktmo: str
    administration: str  # organization slug
    weight: float
    locality: str
    streets: tuple[str, ...]


PLACES: tuple[Place, ...] = (
    Place(
        data.UFA,
        "ufa-admin",
        45,
        "г. Уфа",
        (
            "ул. Ленина",
            "пр. Октября",
            "ул. Менделеева",
            "ул. Комсомольская",
            "ул. Рихарда Зорге",
            "ул. Бакалинская",
            "ул. Первомайская",
            "ул. Степана Кувыкина",
            "ул. Юрия Гагарина",
            "ул. Кирова",
        ),
    ),
    Place(
        data.STERLITAMAK,
        "sterlitamak-admin",
        12,
        "г. Стерлитамак",
        ("пр. Октября", "ул. Худайбердина", "ул. Коммунистическая", "ул. Артёма", "пр. Ленина"),
    ),
    Place(
        data.SALAVAT,
        "salavat-admin",
        6,
        "г. Салават",
        ("ул. Ленина", "б-р Салавата Юлаева", "ул. Губкина", "ул. Уфимская"),
    ),
    Place(
        data.NEFTEKAMSK,
        "neftekamsk-admin",
        6,
        "г. Нефтекамск",
        ("пр. Комсомольский", "ул. Ленина", "ул. Социалистическая", "ул. Парковая"),
    ),
    Place(
        data.OKTYABRSKY,
        "oktyabrsky-admin",
        4,
        "г. Октябрьский",
        ("ул. Чапаева", "ул. Губкина", "пр. Ленина", "ул. Кортунова"),
    ),
    Place(
        data.UFA_DISTRICT,
        "ufa-district-admin",
        6,
        "Уфимский район, с. Зубово",
        ("ул. Центральная", "ул. Луговая", "ул. Школьная"),
    ),
    Place(
        data.BELEBEY_DISTRICT,
        "belebey-district-admin",
        4,
        "г. Белебей",
        ("ул. Красная", "ул. Пионерская", "ул. Морозова"),
    ),
    Place(
        data.TUYMAZY_TOWN,
        "tuymazy-district-admin",
        3,
        "г. Туймазы",
        ("ул. Островского", "ул. Мичурина", "ул. Чапаева"),
    ),
    Place(
        data.TUYMAZY_DISTRICT,
        "tuymazy-district-admin",
        1.5,
        "Туймазинский район, с. Серафимовский",
        ("ул. Девонская", "ул. Школьная"),
    ),
    Place(
        data.ISHIMBAY_DISTRICT,
        "ishimbay-district-admin",
        4,
        "г. Ишимбай",
        ("пр. Ленина", "ул. Стахановская", "ул. Бульварная"),
    ),
    Place(
        data.BLAGOVESHCHENSK_DISTRICT,
        "blagoveshchensk-district-admin",
        3,
        "г. Благовещенск",
        ("ул. Седова", "ул. Демьяна Бедного", "ул. Комарова"),
    ),
    Place(
        data.AKYAR_SELSOVET,
        "khaibullinsky-district-admin",
        1.5,
        "Хайбуллинский район, с. Акъяр",
        ("пр. Салавата Юлаева", "ул. Дружбы"),
    ),
    Place(
        data.KHAIBULLINSKY_DISTRICT,
        "khaibullinsky-district-admin",
        1,
        "Хайбуллинский район, с. Подольск",
        ("ул. Советская",),
    ),
)


@dataclass(frozen=True)
class Manner:
    """How an organization works: share answered on time, how late the late ones are, and the
    ratings it gets (weights of scores 1…5)."""

    on_time: float
    late_days: float
    scores: tuple[int, int, int, int, int]
    returns: float = 0.06  # the head sends the draft back
    postpones: float = 0.04


GOOD = Manner(0.96, 3, (1, 1, 3, 12, 30), returns=0.04, postpones=0.03)
FAIR = Manner(0.86, 6, (2, 2, 6, 14, 20))
POOR = Manner(0.62, 12, (6, 5, 8, 10, 8), returns=0.12, postpones=0.07)

MANNERS: dict[str, Manner] = {
    "ufa-admin": FAIR,
    "ufa-education": GOOD,
    "ufa-uk-zhilservis": POOR,
    "ufa-uk-uyutny-dom": GOOD,
    "ufa-gkb-21": FAIR,
    "rb-government": GOOD,
    "rb-minzdrav": POOR,
    "rb-mintrans": FAIR,
    "rb-mingkh": POOR,
    "rb-minecology": GOOD,
    "rb-mfc": GOOD,
    "sterlitamak-admin": GOOD,
    "salavat-admin": FAIR,
    "neftekamsk-admin": POOR,
    "oktyabrsky-admin": GOOD,
    "ufa-district-admin": FAIR,
    "belebey-district-admin": GOOD,
    "tuymazy-district-admin": FAIR,
    "ishimbay-district-admin": POOR,
    "blagoveshchensk-district-admin": FAIR,
    "khaibullinsky-district-admin": GOOD,
}

# (from organization, topic prefix or code, to organization, share, reason); "*" is the
# municipality's own administration.
REDIRECTS: tuple[tuple[str, str, str, float, str], ...] = (
    (
        "ufa-uk-zhilservis",
        "mkd.",
        "ufa-uk-uyutny-dom",
        0.18,
        "Дом находится в управлении ООО «УК Уютный дом».",
    ),
    (
        "rb-minzdrav",
        "health.",
        "ufa-gkb-21",
        0.25,
        "Вопрос работы поликлиники относится к ГБУЗ РБ ГКБ № 21, направляем для ответа по "
        "существу.",
    ),
    (
        "ufa-admin",
        "yards.yard_cleaning",
        "ufa-uk-zhilservis",
        0.2,
        "Придомовая территория обслуживается управляющей компанией.",
    ),
    (
        "rb-mintrans",
        "roads.",
        "*",
        0.12,
        "Дорога местного значения, её содержание — полномочие администрации муниципального "
        "образования.",
    ),
    (
        "*",
        "roads.",
        "rb-mintrans",
        0.04,
        "Дорога регионального значения, её содержание — полномочие Минтранса РБ.",
    ),
)

# Organizations with the widget on their site (its messages come through it); the Уфа
# administration is left without one: the README has its administrator generate the code.
WIDGET_SITES: dict[str, str] = {  # organization slug → the banner's design
    "sterlitamak-admin": "municipal",
    "salavat-admin": "municipal-card",
    "neftekamsk-admin": "contrast",
    "oktyabrsky-admin": "municipal",
    "belebey-district-admin": "municipal",
    "rb-minzdrav": "health-poster",
    "rb-mingkh": "municipal",
    "rb-mfc": "municipal",
}

CHANNELS = (("portal", 62), ("api", 16), ("widget", 12), ("operator", 10))

# --- people -------------------------------------------------------------------------------------

LAST_NAMES = (
    "Абдуллин",
    "Гайсин",
    "Хасанов",
    "Валеев",
    "Иванов",
    "Смирнов",
    "Кузьмин",
    "Фаизов",
    "Галиев",
    "Шайхутдинов",
    "Попов",
    "Мухаметшин",
    "Зарипов",
    "Лебедев",
    "Николаев",
    "Ахметов",
    "Сорокин",
    "Исмагилов",
)
MALE_NAMES = (
    "Ринат",
    "Азат",
    "Олег",
    "Сергей",
    "Ильдар",
    "Артём",
    "Радик",
    "Владимир",
    "Тимур",
    "Евгений",
    "Айрат",
    "Андрей",
)
FEMALE_NAMES = (
    "Гульнара",
    "Елена",
    "Лилия",
    "Наталья",
    "Альфия",
    "Ольга",
    "Регина",
    "Татьяна",
    "Эльмира",
    "Светлана",
    "Резеда",
    "Ирина",
)
PATRONYMICS = (
    ("Ринатович", "Ринатовна"),
    ("Азатович", "Азатовна"),
    ("Олегович", "Олеговна"),
    ("Сергеевич", "Сергеевна"),
    ("Ильдарович", "Ильдаровна"),
    ("Викторович", "Викторовна"),
    ("Фаритович", "Фаритовна"),
    ("Николаевич", "Николаевна"),
    ("Маратович", "Маратовна"),
    ("Александрович", "Александровна"),
)

# --- what people write back -----------------------------------------------------------------

ANSWERS: dict[str, tuple[str, ...]] = {
    "roads": (
        "Работы выполнены: покрытие отремонтировано подрядной организацией, результат "
        "проверен на месте. Фотографии прилагаются.",
        "Участок включён в план ремонта текущего сезона; до начала работ выполнен ямочный ремонт.",
    ),
    "yards": (
        "Управляющей организации выдано предписание; уборка выполнена, результат проверен "
        "инспектором.",
        "Работы по двору выполнены, территория приведена в порядок.",
    ),
    "improvement": (
        "Неисправность устранена подрядной организацией, освещение и благоустройство проверены.",
        "Работы включены в план благоустройства; аварийная часть устранена сразу.",
    ),
    "mkd": (
        "Заявка выполнена: ремонт проведён силами управляющей компании, жильцы уведомлены.",
        "Проведено обследование дома, работы выполнены, акт подписан представителем жильцов.",
    ),
    "health": (
        "Расписание приёма врачей расширено, дополнительные талоны открыты для записи через "
        "Госуслуги.",
        "Проведена проверка; главному врачу поручено устранить недостатки, результат на "
        "контроле министерства.",
    ),
    "education": (
        "Вопрос рассмотрен: ребёнок поставлен в очередь, место будет предоставлено "
        "в порядке очерёдности.",
        "Проведена проверка, руководителю учреждения даны поручения, недостатки устранены.",
    ),
    "ecology": (
        "Проведён рейд, нарушитель установлен и привлечён к ответственности.",
        "Пробы воздуха и воды отобраны, превышений не выявлено; наблюдение продолжается.",
    ),
    "mfc": (
        "Открыты дополнительные окна приёма, работа офиса проверена руководством МФЦ.",
        "С сотрудником проведена беседа, документы приняты, приносим извинения.",
    ),
    "water": ("Авария на сети устранена, водоснабжение восстановлено.",),
    "heating": ("Система отопления дома запущена и отрегулирована, температура в норме.",),
    "waste": ("Региональному оператору выдано предписание, мусор вывезен, график восстановлен.",),
}
REDRAFT_NOTE = " Фотографии выполненных работ прилагаются."
REMARKS = (
    "Ответ не по существу: напишите, когда и кем выполнены работы.",
    "Приложите фотографии результата и уточните сроки.",
    "Уберите канцелярит, ответ должен быть понятен жителю.",
)
POSTPONE_REASONS = (
    "Работы требуют подрядчика; контракт заключается, выход бригады запланирован.",
    "Нужны средства бюджета; работы включены в план, срок уточнён.",
    "Работы возможны только при плюсовой температуре.",
)
REWORK_COMMENTS = (
    "Ничего не сделано, ответ формальный.",
    "Работы выполнены только частично, прошу доделать.",
)
LOW_COMMENTS = ("Проблема не решена.", "Ответ-отписка, на месте ничего не изменилось.", None)
HIGH_COMMENTS = ("Спасибо, всё сделали!", "Спасибо за быструю работу.", None, None)
