"""Unit directory, date phrases, unit annotations and YAML validation, one rule at a time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core.units import load_unit_directory
from bot.importer.dates import DateContext, milestones, recurrence
from bot.importer.errors import PlanInputError
from bot.importer.unitparse import extract_units
from bot.importer.yaml_io import read_plan_yaml

DIRECTORY = load_unit_directory()
CTX = DateContext.for_period(date(2023, 1, 1), date(2025, 12, 31), date(2023, 5, 8))


@pytest.mark.parametrize(
    "text",
    [
        "市卫健委",
        "市卫生健康委",
        "市卫生健康委员会",
        "上饶市卫生健康委员会",
        " **市卫健委** ",
        "上饶市卫健委",
    ],
)
def test_health_commission_aliases(text: str) -> None:
    assert DIRECTORY.resolve(text, "上饶市").name == "上饶市卫生健康委员会"


def test_units_are_scoped_by_jurisdiction() -> None:
    assert DIRECTORY.resolve("市卫健委", "龙南市").name == "龙南市卫生健康委员会"
    assert DIRECTORY.resolve("市发展改革委", "上饶市") == DIRECTORY.resolve("市发改委", "上饶市")
    assert DIRECTORY.resolve("市人社局", "上饶市").name == "上饶市人力资源和社会保障局"
    assert DIRECTORY.resolve("卫生健康部门", "南昌市").name == "南昌市卫生健康委员会"
    assert DIRECTORY.resolve("不存在的单位", "上饶市") is None


def test_groups_expand_to_members() -> None:
    group = DIRECTORY.resolve('"12+3"人民政府(管委会)', "上饶市")
    assert group.is_group and group.short_name == "“12+3”人民政府（管委会）"
    members = [m.name for m in DIRECTORY.members(group)]
    assert len(members) == 15 and "德兴市人民政府" in members
    assert "上饶高铁经济试验区管委会" in members
    counties = DIRECTORY.resolve("各县（市、区）人民政府", "上饶市")
    assert len(DIRECTORY.members(counties)) == 12
    assert DIRECTORY.members(DIRECTORY.resolve("市财政局", "上饶市"))[0].name == "上饶市财政局"


def test_find_for_chat_lookups() -> None:
    assert DIRECTORY.find("市卫健委", "上饶市")[0].name == "上饶市卫生健康委员会"
    assert "上饶市卫生健康委员会" in [e.name for e in DIRECTORY.find("卫健委", "上饶市")]


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("到2024年底完成", date(2024, 12, 31)),
        ("2024年底前完成", date(2024, 12, 31)),
        ("到2025年完成", date(2025, 12, 31)),
        ("2024年初完成", date(2024, 1, 31)),
        ("2024年9月完成", date(2024, 9, 30)),
        ("2024年6月底前完成", date(2024, 6, 30)),
        ("2024年2月底完成", date(2024, 2, 29)),
        ("上半年完成", date(2023, 6, 30)),
        ("第三季度完成", date(2023, 9, 30)),
        ("年内完成", date(2023, 12, 31)),
        ("三年内完成", date(2025, 12, 31)),
        ("“十四五”期间完成", date(2025, 12, 31)),
        ("2024年上半年完成", date(2024, 6, 30)),
    ],
)
def test_date_phrases(phrase: str, due: date) -> None:
    assert [m.due for m in milestones(phrase, CTX)] == [due]


def test_baselines_and_words_are_not_dates() -> None:
    assert milestones("2020年全市达到90%，培养青年中医人才", CTX) == []


def test_respectively_with_a_year_range() -> None:
    got = milestones("2023-2025年分别完成40、40、30个特色科室的建设目标。", CTX)
    assert [m.target for m in got] == [
        "完成40个特色科室的建设目标",
        "完成40个特色科室的建设目标",
        "完成30个特色科室的建设目标",
    ]


def test_recurrence_words() -> None:
    assert recurrence("每年培训，每学期调查，每两年评估，每季度通报，定期督导") == [
        "每年",
        "每学期",
        "每两年",
        "每季度",
        "定期",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "任务。〔牵头单位：市卫健委；配合单位：市财政局、市教育局〕",
        "任务。（市卫健委牵头，市财政局、市教育局配合）",
        "任务。【责任单位:市卫健委、市财政局、市教育局]",
        "任务。\n牵头单位：市卫健委\n配合单位：市财政局、市教育局\n完成时限：2024年6月底前",
    ],
)
def test_unit_annotation_variants(text: str) -> None:
    found = extract_units(text)
    assert found.units[0].role in ("lead", None)
    assert [u.text for u in found.units] == ["市卫健委", "市财政局", "市教育局"]
    assert found.text == "任务。"


def test_yaml_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "plan:\n  code: X\n  period: {start: '2024-01-01', end: '2024-12-31'}\n"
        "tasks:\n- ref: X-1\n  title: t\n  units:\n  - name: A\n    role: boss\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanInputError) as caught:
        read_plan_yaml(path)
    assert caught.value.line == 9 and caught.value.field == "tasks[0].units[0].role"
    assert str(caught.value).startswith(f"{path}:9: tasks[0].units[0].role:")
