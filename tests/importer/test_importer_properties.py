"""Property tests: random and mangled documents never crash the importer, and every due date
stays within sane bounds. Only PlanInputError may come out."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.units import load_unit_directory
from bot.importer import parse_plan_text
from bot.importer.errors import PlanInputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"
SAMPLE = (FIXTURES / "plan_a_jiujiang.md").read_text(encoding="utf-8")
SAMPLE_LINES = (
    SAMPLE.splitlines()
    + (FIXTURES / "plan_d_pingxiang.txt").read_text(encoding="utf-8").splitlines()
)
LAYOUT_LINES = [
    line
    for path in sorted((Path(__file__).parent / "plans").iterdir())
    for line in path.read_text(encoding="utf-8").splitlines()
]
DIRECTORY = load_unit_directory()
BRACKETS = "（）()〔〕【】[]［］"
PIECES = st.sampled_from(
    [
        "1.",
        "2、",
        "（一）",
        "二、",
        "第三章",
        "专栏2",
        "附件",
        "〔责任单位：",
        "市卫健委、",
        "〕",
        "】",
        "牵头单位：",
        "完成时限：",
        "2024年6月底前",
        "到2025年底、2026年底",
        "分别达到",
        "60%、80%",
        "上半年",
        "第三季度",
        "年内",
        "三年内",
        "十四五期间",
        "\t",
        "\n",
        "\n\n",
        "**",
        "<b>",
        "</p>",
        "|",
        "序号\t指标\t2025年\t指标性质",
        "其中",
        "*",
        "约束性",
        "9999年",
        "2099年13月",
        "0年",
        "牵头责任单位:",
        "协办单位 ",
        "主要协作单位：",
        "责任科室",
        "时间节点：",
        "进度安排 ",
        "(1)",
        "①",
        "（57）",
        "1000.",
        "2025、",
        "8.1+N",
        "主办，",
        "协办）",
        "下同）",
        "列第一位者为牵头单位，",
        "配合落实。",
        "11月底前",
        "6月建成",
        "二季度末",
        "2023—2025年每年",
        "分别于",
        "长期坚持",
        "常态化",
        "每季度",
        "自2020年起3年内",
        "成文日期：2021-03-08",
        "— 3 —",
        "2022年4月12日",
    ]
)
TODAY = date(2031, 3, 5)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str, **options: object) -> None:
    try:
        plan = parse_plan_text(text, source="random.txt", directory=DIRECTORY, **options)
    except PlanInputError as exc:
        assert str(exc).startswith("random.txt")
        return
    info = plan.info
    assert info.start <= info.end
    assert 1900 <= info.start.year and info.end.year <= 2100
    latest = date(info.end.year + 10, 12, 31)
    for item in plan.items():
        assert item.milestones, item.ref
        for milestone in item.milestones:
            assert info.start <= milestone.due <= latest, (item.ref, milestone)
    refs = [item.ref for item in plan.items()]
    assert len(refs) == len(set(refs))


@SETTINGS
@given(st.text(max_size=400))
def test_random_text_never_crashes(text: str) -> None:
    _check(text)


@SETTINGS
@given(st.lists(PIECES | st.text(max_size=8), max_size=80).map("".join))
def test_plan_like_noise_never_crashes(text: str) -> None:
    _check("九江市2024-2026年行动方案\n" + text)


@SETTINGS
@given(
    st.lists(PIECES | st.text(max_size=8), max_size=80).map("".join),
    st.none() | st.integers(1990, 2090),
)
def test_yearless_noise_with_the_clock_never_crashes(text: str, year: int | None) -> None:
    _check(text, today=TODAY, year=year)


NUMBERING = ["{}.", "{}、", "（{}）", "({})", "{})", "{}．"]
LEAD_LABELS = ["牵头单位", "牵头责任单位", "主办单位", "责任单位", "责任部门", "责任科室"]
CO_LABELS = ["配合单位", "协办单位", "参与单位", "主要协作单位", "协作单位"]
COLONS = ["：", ":", " ：", " : ", "  ", "："]
DUE_WORDS = [
    ("完成时限", "10月底前", "10-31"),
    ("时间节点", "第三季度", "09-30"),
    ("时限要求", "上半年", "06-30"),
    ("进度安排", "2024年11月底前", "11-30"),
]


@SETTINGS
@given(st.data())
def test_labelled_items_in_any_spelling_keep_their_units_and_dates(data) -> None:
    """Items numbered in one style, each followed by unit and date labels in any spelling,
    order and punctuation: every item comes in with its lead, co-unit and due date."""
    style = data.draw(st.sampled_from(NUMBERING))
    count = data.draw(st.integers(1, 6))
    first = data.draw(st.integers(1, 120))
    lines = ["某区2024年重点工作任务清单", "一、重点任务"]
    wanted = []
    for k in range(first, first + count):
        lead_label = data.draw(st.sampled_from(LEAD_LABELS))
        co_label = data.draw(st.sampled_from(CO_LABELS))
        colon = data.draw(st.sampled_from(COLONS))
        word, phrase, due = data.draw(st.sampled_from(DUE_WORDS))
        labels = [
            f"{lead_label}{colon}区第{k}局",
            f"{co_label}{colon}区协{k}局,区助{k}局",
            f"{word}{colon}{phrase}",
        ]
        if lead_label in ("牵头单位", "牵头责任单位", "主办单位"):
            labels = data.draw(st.permutations(labels))
        blank = data.draw(st.sampled_from(["", "\n"]))
        lines.append(f"{style.format(k)}推进第{k}项重点工作。{blank}")
        lines += labels
        wanted.append((f"区第{k}局", {f"区协{k}局", f"区助{k}局"}, f"2024-{due}"))
    plan = parse_plan_text("\n".join(lines), source="labels.txt", directory=DIRECTORY, today=TODAY)
    got = [
        (
            [u.as_written for u in t.units if u.role == "lead"],
            {u.as_written for u in t.units if u.role == "co"},
            [m.due.isoformat() for m in t.milestones],
        )
        for t in plan.tasks
    ]
    assert got == [([lead], co, [due]) for lead, co, due in wanted]


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(0, 30), st.booleans())
def test_mangled_plans_never_crash(rnd, edits: int, layouts: bool) -> None:
    lines = list(LAYOUT_LINES if layouts else SAMPLE_LINES)
    for _ in range(edits):
        action = rnd.randrange(6)
        k = rnd.randrange(len(lines))
        if action == 0:
            rnd.shuffle(lines)
        elif action == 1:
            lines.insert(k, lines[rnd.randrange(len(lines))])  # duplicated line
        elif action == 2 and lines[k]:
            cut = rnd.randrange(len(lines[k]))
            lines[k : k + 1] = [lines[k][:cut], "", "", lines[k][cut:]]  # page break
        elif action == 3:
            swap = {a: rnd.choice(BRACKETS) for a in BRACKETS}
            lines[k] = "".join(swap.get(c, c) for c in lines[k])  # bracket swaps
        elif action == 4:
            pos = rnd.randrange(len(lines[k]) + 1)
            junk = "".join(chr(rnd.randrange(0x20, 0x2FFFF)) for _ in range(rnd.randrange(5)))
            lines[k] = lines[k][:pos] + junk + lines[k][pos:]  # random unicode
        else:
            del lines[k]
            if not lines:
                lines = [""]
    _check("\n".join(lines), **({"today": TODAY} if layouts else {}))


def test_dates_of_the_sample_are_in_the_plan() -> None:
    plan = parse_plan_text(SAMPLE, source="a.md", directory=DIRECTORY)
    assert all(
        plan.info.start <= m.due <= plan.info.end + timedelta(days=1)
        for item in plan.items()
        for m in item.milestones
    )
