"""The ledger of the side-by-side story (issue 13): plans as plain data, the same for both sides.

`story_plans(plans=10, assignments=1000)` gives `plans` plans of exactly `assignments`
assignments each (an assignment is one milestone of an item for one unit). The items vary:
tasks and key projects, one lead unit and up to three co-operating units, one to three
milestones spread over 2025–2026 (a quarter-end, a month-end or a day in the month), some
recurring duties (每季度 / 每半年 / 每年) and some items without a date of their own (due at the
plan's end). Units are real departments of the plan's city, named as the unit directory
(tasks_data/units.yaml) names them, so the loader resolves them as it does a real plan.

Deterministic for a given `seed`. Pure Python (no project imports): the peer
(benchmarks/peer_jobstore.py) reads the same data without importing the bot.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

CITIES = [
    ("上饶市", "SR"),
    ("龙南市", "LN"),
    ("南昌市", "NC"),
    ("赣州市", "GZ"),
    ("九江市", "JJ"),
    ("景德镇市", "JD"),
    ("萍乡市", "PX"),
    ("新余市", "XY"),
    ("鹰潭市", "YT"),
    ("吉安市", "JA"),
    ("宜春市", "YC"),
    ("抚州市", "FZ"),
]
# departments of every city government, as the directory's templates name them
DEPARTMENTS = [
    "卫生健康委员会",
    "财政局",
    "发展和改革委员会",
    "人力资源和社会保障局",
    "教育局",
    "民政局",
    "医疗保障局",
    "市场监督管理局",
    "自然资源局",
    "住房和城乡建设局",
    "农业农村局",
    "交通运输局",
    "生态环境局",
    "工业和信息化局",
    "商务局",
    "文化广电新闻出版旅游局",
    "公安局",
    "司法局",
    "应急管理局",
    "体育局",
]
SECTIONS = [
    "公共卫生能力提升行动",
    "医疗服务能力提升行动",
    "产业转型升级行动",
    "城乡建设提质行动",
    "民生保障行动",
]
VERBS = ["推进", "完成", "建成", "落实", "开展", "提升", "组织", "新建", "改造", "实施"]
OBJECTS = [
    "老旧小区改造",
    "公办幼儿园建设",
    "基层医疗卫生机构标准化建设",
    "县域医共体建设",
    "农村公路提档升级",
    "高标准农田建设",
    "城市污水管网改造",
    "智慧医院建设",
    "职业技能培训",
    "中医药传承创新",
    "数字政府建设",
    "营商环境优化",
]
RECURRENCES = [["每季度"], ["每半年"], ["每年"]]
FIRST, LAST = date(2025, 1, 1), date(2026, 12, 31)


@dataclass
class StoryItem:
    ref: str
    number: str
    section: str
    kind: str  # task | project
    title: str
    text: str
    units: list[tuple[str, str]]  # (canonical name, role lead | co)
    milestones: list[tuple[date, str]]  # (due, phrase)
    recurrence: list[str] = field(default_factory=list)

    @property
    def assignments(self) -> int:
        return len(self.units) * len(self.milestones)


@dataclass
class StoryPlan:
    code: str
    city: str
    title: str
    issuer: str
    start: date
    end: date
    items: list[StoryItem]

    @property
    def assignments(self) -> int:
        return sum(i.assignments for i in self.items)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _due(rng: random.Random) -> tuple[date, str]:
    """A due date in 2025–2026 written the ways plans write them."""
    year = rng.choice((2025, 2026))
    shape = rng.random()
    if shape < 0.35:
        quarter = rng.randint(1, 4)
        names = "一二三四"
        return _month_end(year, quarter * 3), f"{year}年{names[quarter - 1]}季度末"
    if shape < 0.8:
        month = rng.randint(1, 12)
        return _month_end(year, month), f"{year}年{month}月底前"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return date(year, month, day), f"{year}年{month}月{day}日前"


def _item(rng: random.Random, code: str, city: str, n: int, budget: int) -> StoryItem:
    """Item `n` of the plan, with at most `budget` assignments."""
    prefix = city[-1]
    project = rng.random() < 0.25
    units_wanted = min(budget, rng.choice((1, 1, 2, 2, 3, 4)))
    milestones_wanted = max(1, min(budget // units_wanted, rng.choice((1, 1, 1, 2, 2, 3))))
    departments = rng.sample(DEPARTMENTS, units_wanted)
    units = [(f"{city}{d}", "lead" if i == 0 else "co") for i, d in enumerate(departments)]
    recurrence: list[str] = []
    if rng.random() < 0.08:  # a standing duty: report requests each period, due at plan end
        recurrence = rng.choice(RECURRENCES)
        milestones = [(LAST, "长期坚持")]
    elif rng.random() < 0.05:  # no date of its own: the plan's end
        milestones = [(LAST, "")]
    else:
        milestones = sorted({_due(rng) for _ in range(milestones_wanted)})
    title = f"{rng.choice(VERBS)}{rng.choice(OBJECTS)}"
    text = (
        f"{title}，{rng.randint(2, 60)}个点位完成年度任务。"
        f"（{prefix}{departments[0][:2]}牵头）" + "按计划推进，定期报送进展。" * rng.randint(0, 3)
    )
    ref = f"{code}-P{n}" if project else f"{code}-{n}"
    return StoryItem(
        ref=ref,
        number=str(n),
        section=rng.choice(SECTIONS),
        kind="project" if project else "task",
        title=title,
        text=text,
        units=units,
        milestones=milestones,
        recurrence=recurrence,
    )


def story_plans(plans: int = 10, assignments: int = 1000, *, seed: int = 13) -> list[StoryPlan]:
    """`plans` plans of exactly `assignments` assignments each (module docstring)."""
    out = []
    for p in range(plans):
        rng = random.Random(seed * 1000 + p)
        city, base = CITIES[p % len(CITIES)]
        code = base if p < len(CITIES) else f"{base}{p // len(CITIES) + 1}"
        items: list[StoryItem] = []
        left = assignments
        while left > 0:
            item = _item(rng, code, city, len(items) + 1, left)
            items.append(item)
            left -= item.assignments
        out.append(
            StoryPlan(
                code=code,
                city=city,
                title=f"{city}关于推进高质量发展的实施意见（2025—2026年）",
                issuer=f"{city}人民政府",
                start=FIRST,
                end=LAST,
                items=items,
            )
        )
    return out
