"""The course catalogue: real exam categories, course titles built from them, teachers, prices."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from faker import Faker

from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import EPOCH, moment_between


@dataclass(frozen=True, slots=True)
class Exam:
    """A qualification exam, the catalogue category it is listed under, and its papers."""

    category: str
    name: str
    subjects: tuple[str, ...]


EXAMS: tuple[Exam, ...] = (
    Exam("会计", "初级会计职称", ("初级会计实务", "经济法基础")),
    Exam("会计", "中级会计职称", ("中级会计实务", "财务管理", "经济法")),
    Exam(
        "教师资格", "教师资格证", ("综合素质", "教育知识与能力", "教育教学知识与能力", "结构化面试")
    ),
    Exam(
        "建造师",
        "一级建造师",
        ("建设工程经济", "建设工程项目管理", "建设工程法规及相关知识", "建筑工程管理与实务"),
    ),
    Exam(
        "建造师",
        "二级建造师",
        ("建设工程施工管理", "建设工程法规及相关知识", "市政公用工程管理与实务"),
    ),
    Exam("公务员", "国家公务员考试", ("行政职业能力测验", "申论", "结构化面试")),
    Exam("公务员", "省考公务员", ("行政职业能力测验", "申论")),
    Exam("法律职业资格", "法律职业资格考试", ("客观题民法", "客观题刑法", "主观题", "民事诉讼法")),
    Exam("医师资格", "临床执业医师", ("医学综合", "实践技能")),
    Exam("医师资格", "中医执业医师", ("中医基础理论", "实践技能")),
    Exam("护士资格", "护士执业资格", ("专业实务", "实践能力")),
    Exam(
        "消防工程师",
        "一级注册消防工程师",
        ("消防安全技术实务", "消防安全技术综合能力", "消防安全案例分析"),
    ),
    Exam("人力资源", "企业人力资源管理师", ("基础知识", "专业技能", "论文答辩")),
    Exam("证券从业", "证券从业资格", ("金融市场基础知识", "证券市场基本法律法规")),
    Exam(
        "CPA",
        "注册会计师",
        ("会计", "审计", "财务成本管理", "经济法", "税法", "公司战略与风险管理"),
    ),
    Exam(
        "考研",
        "全国硕士研究生招生考试",
        ("政治", "英语一", "英语二", "数学一", "数学二", "管理类联考综合"),
    ),
    Exam(
        "经济师", "中级经济师", ("经济基础知识", "人力资源管理专业知识与实务", "金融专业知识与实务")
    ),
    Exam("税务师", "税务师", ("税法一", "税法二", "涉税服务实务")),
)

EXAM_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(exam.category for exam in EXAMS))

CLASS_TYPES = (
    "零基础入门班",
    "精讲班",
    "习题强化班",
    "真题解析班",
    "考点串讲班",
    "冲刺押题班",
    "全程班",
)
PRICE_POINTS_CENTS = (
    9_900,
    19_900,
    29_900,
    39_900,
    59_900,
    79_900,
    99_900,
    129_900,
    199_900,
    299_900,
)
SHIPS_MATERIALS_SHARE = 0.30
MERCHANT_SHARE = 0.25
_CATALOGUE_START = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CourseRef:
    """What later steps need of a course."""

    id: int
    price_cents: int
    ships_materials: bool


def _share(rng: random.Random, count: int, share: float) -> set[int]:
    """Exactly ``share`` of ``range(count)``, at least one, chosen at random."""
    return set(rng.sample(range(count), max(1, round(count * share))))


def make_courses(
    rng: random.Random, fake: Faker, ids: IdSequence, count: int, merchant_id: int
) -> tuple[list[Row], list[CourseRef]]:
    """``count`` courses; about 30% ship printed materials, about 25% sold by the merchant."""
    teachers = {
        category: [str(fake.name()) for _ in range(rng.randint(2, 4))]
        for category in EXAM_CATEGORIES
    }
    shipping = _share(rng, count, SHIPS_MATERIALS_SHARE)
    merchants = _share(rng, count, MERCHANT_SHARE)
    rows: list[Row] = []
    refs: list[CourseRef] = []
    for index in range(count):
        exam = rng.choice(EXAMS)
        subject = rng.choice(exam.subjects)
        class_type = rng.choice(CLASS_TYPES)
        teacher = rng.choice(teachers[exam.category])
        created_at = moment_between(rng, _CATALOGUE_START, EPOCH - timedelta(days=7))
        # Courses opened in autumn prepare for next year's sitting.
        exam_year = created_at.year + int(created_at.month >= 9)
        ships = index in shipping
        description = (
            f"{exam.name}《{subject}》{class_type},由{teacher}老师主讲,"
            f"共{rng.randint(12, 120)}课时,含章节练习、历年真题解析与模拟试卷。"
        )
        if ships:
            description += "报名后寄送纸质讲义与配套习题册。"
        course_id = ids.next()
        rows.append(
            {
                "id": course_id,
                "title": f"{exam_year}年{exam.name}《{subject}》{class_type}",
                "category": exam.category,
                "description": description,
                "teacher": teacher,
                "price_cents": rng.choice(PRICE_POINTS_CENTS),
                "ships_materials": ships,
                "merchant_id": merchant_id if index in merchants else None,
                "created_at": created_at,
            }
        )
        refs.append(CourseRef(course_id, rows[-1]["price_cents"], ships))
    return rows, refs
