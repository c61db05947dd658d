"""The four seed plans: counts, and units and milestones task by task for 000 and 001.

The expected data below was written by reading the seed texts, not from importer output.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.plan import plan_to_dict
from bot.importer.seeds import load_manifest
from bot.importer.yaml_io import read_plan_yaml
from tests.importer.seedcache import seed_plan

# --- canonical names used below ---------------------------------------------------------------
SR = "上饶市"
WJW, FGW, CZ, GROUP = (
    f"{SR}卫生健康委员会",
    f"{SR}发展和改革委员会",
    f"{SR}财政局",
    f"{SR}“12+3”人民政府（管委会）",
)
GA, ZJ, RS, JY, KJ = (
    f"{SR}公安局",
    f"{SR}住房和城乡建设局",
    f"{SR}人力资源和社会保障局",
    f"{SR}教育局",
    f"{SR}科学技术局",
)
ZFW, BB = f"中共{SR}委政法委员会", f"中共{SR}委机构编制委员会办公室"
GK, WNX, RMYY, YZ = (
    f"{SR}国有控股集团有限公司",
    "万年县人民政府",
    f"{SR}人民医院",
    "江西医学高等专科学校",
)
NY, LY, WG, GZW = (
    f"{SR}农业农村局",
    f"{SR}林业局",
    f"{SR}文化广电新闻出版旅游局",
    f"{SR}国有资产监督管理委员会",
)
JSX, ZGH = f"{SR}计划生育协会", f"{SR}总工会"
ZW, DSJ = f"{SR}政务服务管理局", f"{SR}大数据发展管理局"

Y23, Y24, Y25 = date(2023, 12, 31), date(2024, 12, 31), date(2025, 12, 31)

# number: (units in order, the first leads; due dates)
SR_TASKS: dict[str, tuple[list[str], list[date]]] = {
    "1": ([WJW, FGW, CZ, GROUP], [Y24, Y25]),
    "2": ([WJW, FGW, CZ, GA, ZJ, GROUP], [Y23]),
    "3": ([WJW, FGW, CZ, GROUP], [Y25]),  # no date: the plan's last day
    "4": ([GK, WNX, WJW, FGW], [Y23, Y24]),
    "5": ([WJW, FGW, CZ, RMYY], [Y25]),
    "6": ([WJW, CZ, GROUP], [Y23, Y24, Y25]),
    "7": ([WJW, CZ, GROUP], [Y25]),
    "8": ([WJW, CZ, GROUP], [Y25]),
    "9": ([WJW, ZFW, JY, BB, GROUP], [Y23, Y24, Y25]),
    "10": ([WJW, CZ, FGW, RS, GROUP], [Y25]),
    "11": ([WJW, GROUP], [Y25]),
    "12": ([WJW, CZ, FGW, GROUP], [Y25]),
    "13": ([WJW, GROUP], [Y23, Y24, Y25]),
    "14": ([WJW, GROUP], [Y25]),
    "15": ([WJW, NY, LY, WG, GZW], [Y25]),
    "16": ([WJW, JSX, GROUP], [Y25]),
    "17": ([WJW, GROUP], [Y25]),
    "18": ([WJW, JY, FGW, CZ, ZGH, GROUP], [Y25]),
    "19": ([WJW, FGW, CZ, GROUP], [Y23, Y25]),
    "20": ([WJW, RS, GROUP], [Y25]),  # the bracket opens with 〔 and closes with ]
    "21": ([WJW, JSX, GROUP], [Y23, Y25]),
    "22": ([WJW, JY, KJ, RS], [Y25]),
    "23": ([WJW, BB, JY, RS, GROUP], [Y23, Y24, Y25]),
    "24": ([WJW, CZ, JY, RS, GROUP], [Y25]),
    "25": ([JY, WJW, RS, CZ, YZ, RMYY], [date(2024, 9, 30), Y25]),
    "26": ([KJ, CZ, WJW, FGW, YZ, RMYY, GROUP], [Y25]),
    "27": ([WJW, CZ], [Y25]),
    "28": ([WJW, ZW, DSJ, GROUP], [Y24]),
    "29": ([WJW, ZW, DSJ, GROUP], [Y24, Y25]),
}
SR_RECURRENCE = {
    "9": ["每学期"],
    "17": ["定期", "每两年"],
    "22": ["每年", "定期"],
    "24": ["每年"],
    "25": ["每年"],
    "26": ["每年"],
}
SR_UNDATED = {"3", "5"}

LN = "龙南市"
L_WJW, L_FGW, L_CZ, L_RS = (
    f"{LN}卫生健康委员会",
    f"{LN}发展和改革委员会",
    f"{LN}财政局",
    f"{LN}人力资源和社会保障局",
)
L_XC, L_RM, L_ZFW, L_BB = (
    f"中共{LN}委宣传部",
    f"{LN}融媒体中心",
    f"中共{LN}委政法委员会",
    f"中共{LN}委机构编制委员会办公室",
)
L_JKT, L_FL, L_ZGH, L_JSX = (
    f"{LN}教育科技体育局",
    f"{LN}妇女联合会",
    f"{LN}总工会",
    f"{LN}计划生育协会",
)
L_MZ, L_YB, L_ZZB, L_SP = f"{LN}民政局", f"{LN}医疗保障局", f"中共{LN}委组织部", f"{LN}行政审批局"
L_SC, L_NY, L_SW, L_WX = (
    f"{LN}市场监督管理局",
    f"{LN}农业农村局",
    f"{LN}商务局",
    f"中共{LN}委网络安全和信息化委员会办公室",
)
L_KC, L_WG, L_JG = f"{LN}科技创新中心", f"{LN}文化广电新闻出版旅游局", f"{LN}机关事务管理中心"
L_JK, L_LF = "龙南市建设控股集团", "龙南市旅游发展集团"

LN_TASKS: dict[str, tuple[list[str], list[date]]] = {
    "1": ([L_WJW, L_FGW, L_CZ], [Y25]),
    "2": ([L_WJW, L_CZ], [Y23]),
    "3": ([L_WJW, L_CZ, L_FGW], [Y25]),
    "4": ([L_WJW, L_XC, L_RM], [Y25]),
    "5": ([L_WJW, L_CZ, L_FGW, L_JK, L_LF], [Y24, Y25]),
    "6": ([L_WJW, L_CZ], [Y25]),
    "7": ([L_WJW, L_CZ], [Y25]),
    "8": ([L_WJW, L_ZFW, L_BB, L_JKT, L_FL, L_ZGH], [Y24]),
    "9": ([L_WJW, L_CZ, L_RS], [Y23, Y25]),
    "10": ([L_WJW, L_CZ, L_FGW], [Y25]),
    "11": ([L_WJW, L_CZ, L_FGW], [Y25]),
    "12": ([L_WJW], [Y24, Y25]),
    "13": ([L_WJW], [Y25]),
    "14": ([L_WJW, L_JSX], [Y24, Y25]),
    "15": ([L_WJW, L_FGW, L_CZ, L_ZGH], [Y25]),
    "16": ([L_WJW, L_FL], [Y24, Y25]),
    "17": ([L_WJW, L_FGW, L_CZ, L_MZ], [Y25]),
    "18": ([L_WJW, L_RS, L_YB], [Y25]),
    "19": ([L_WJW, L_JSX, L_FL], [Y25]),
    "20": ([L_WJW, L_ZZB], [Y25]),
    "21": ([L_WJW, L_BB, L_RS], [Y25]),
    "22": ([L_WJW, L_BB, L_CZ, L_RS], [Y25]),
    "23": ([L_WJW, L_CZ], [Y25]),
    "24": ([L_WJW, L_YB, L_SP], [Y24, Y25]),
    "25": ([L_WJW, L_YB, L_SP], [Y25]),
    "26": ([L_WJW, L_SC, L_NY], [Y25]),
    "27": ([L_NY, L_SC, L_WJW, L_SW, L_WX, L_KC, L_JKT, L_MZ, L_WG], [Y25]),
    "28": ([L_WJW, L_RS, L_JKT, L_SC, L_JG], [Y25]),
}
LN_UNDATED = {"1", "3", "17", "18", "20", "22", "26", "27"}


def _check_tasks(
    code: str, expected: dict[str, tuple[list[str], list[date]]], undated: set[str]
) -> None:
    plan = seed_plan(code)
    tasks = {t.number: t for t in plan.tasks}
    assert sorted(tasks, key=int) == sorted(expected, key=int)
    for number, (units, dues) in expected.items():
        task = tasks[number]
        assert [u.name for u in task.units] == units, f"{code} task {number} units"
        assert [u.role for u in task.units] == ["lead"] + ["co"] * (len(units) - 1), number
        assert [m.due for m in task.milestones] == dues, f"{code} task {number} dues"
        if number in undated:
            assert [m.phrase for m in task.milestones] == [""], number
        else:
            assert all(m.phrase for m in task.milestones), number


def test_shangrao_counts() -> None:
    plan = seed_plan("SR")
    assert (len(plan.tasks), len(plan.key_projects)) == (29, 48)
    assert [t.ref for t in plan.tasks] == [f"SR-{n}" for n in range(1, 30)]
    assert [p.ref for p in plan.key_projects] == [f"SR-P{n}" for n in range(1, 49)]
    assert plan.info.issued == date(2023, 5, 8)
    assert (plan.info.start, plan.info.end) == (date(2023, 1, 1), Y25)
    assert plan.info.issuer == "上饶市人民政府"


def test_shangrao_units_and_milestones_task_by_task() -> None:
    _check_tasks("SR", SR_TASKS, SR_UNDATED)
    tasks = {t.number: t for t in seed_plan("SR").tasks}
    for number, words in SR_RECURRENCE.items():
        assert tasks[number].recurrence == words, number


def test_shangrao_broken_bracket_of_task_20() -> None:
    task = seed_plan("SR").tasks[19]
    assert task.units[1].as_written == "市人力资源和社会保障局"  # page break inside the list
    assert task.units[2].as_written == "“12+3”人民政府（管委会）"
    assert "责任单位" not in task.text and "]" not in task.text


def _targets(code: str, number: str) -> dict[int, str]:
    task = next(t for t in seed_plan(code).tasks if t.number == number)
    return {m.due.year: m.target for m in task.milestones}


def test_shangrao_respectively_milestones() -> None:
    six = _targets("SR", "6")  # two 分别 lists: each year gets both targets
    for year, prov, city in ((2023, 2, 4), (2024, 4, 8), (2025, 6, 12)):
        assert f"省级临床重点专科建成{prov}个以上" in six[year]
        assert f"市级临床重点专科建成{city}个以上" in six[year]
    nine = _targets("SR", "9")
    for year, share in ((2023, "60%"), (2024, "80%"), (2025, "100%")):
        assert f"门诊设置完成率达到总任务量的{share}" in nine[year]
    assert "80%" not in nine[2023] and "60%" not in nine[2024]
    thirteen = _targets("SR", "13")
    for year, share in ((2023, "50%"), (2024, "80%"), (2025, "100%")):
        assert f"中医医院达到{share}康复（医学）科（中心）" in thirteen[year]
    twenty_three = _targets("SR", "23")
    for year, share in ((2023, "65%"), (2024, "75%"), (2025, "85%")):
        assert f"执法人员不低于编制总额的{share}" in twenty_three[year]
    assert "70%" in twenty_three[2025]  # the other 2025 target of the task joins it


def test_shangrao_key_projects() -> None:
    projects = {p.number: p for p in seed_plan("SR").key_projects}
    assert projects["1"].title == "持续提升核酸检测质效"
    assert projects["1"].task_ref == "SR-2"
    assert projects["12"].milestones[0].target.startswith("完成40个")
    assert [m.due.year for m in projects["12"].milestones] == [2023, 2024, 2025]
    assert "青春健康" in projects["35"].text  # the continuation row of 35
    assert [m.due for m in projects["34"].milestones] == [date(2023, 4, 30), Y25]
    assert projects["46"].milestones[0].phrase == "三年内"
    assert projects["40"].recurrence[:1] == ["每年"]


def test_longnan_counts_and_tasks() -> None:
    plan = seed_plan("LN")
    assert (len(plan.tasks), len(plan.key_projects)) == (28, 24)
    assert plan.info.title.startswith("龙南市卫生健康服务能力全面提升三年行动计划")
    _check_tasks("LN", LN_TASKS, LN_UNDATED)
    assert {t.number: t.recurrence for t in plan.tasks}["20"] == ["每年", "定期"]
    projects = {p.number: p for p in plan.key_projects}
    assert "紧密型医共体" in projects["4"].text  # continuation rows of 附件1
    assert "两癌" in projects["19"].text
    assert projects["5"].task_ref == "LN-6"


def test_nanchang_indicators_and_boxes() -> None:
    plan = seed_plan("NC")
    numbered = [i for i in plan.indicators if i.parent is None]
    subs = [i for i in plan.indicators if i.parent is not None]
    assert len(numbered) == 23 and [i.ref for i in subs] == ["NC-I11a"]
    assert subs[0].parent == "NC-I11" and subs[0].name == "每千人口中医执业（助理）医师数"
    binding = {i.ref for i in plan.indicators if i.binding}
    assert binding == {"NC-I14", "NC-I17", "NC-I22"}
    first = plan.indicators[0]
    assert (first.domain, first.name, first.unit, first.baseline, first.target) == (
        "健康水平",
        "人均期望寿命",
        "岁",
        "80.16",
        "80.66",
    )
    assert plan.indicators[18].domain == "健康服务"  # row 19: domain cell empty after a break
    boxes = {p.section.split()[0] for p in plan.key_projects}
    assert boxes == {f"专栏{n}" for n in range(1, 12)}
    assert len(plan.key_projects) == 44
    assert plan.info.issued == date(2022, 5, 11)
    assert (plan.info.start, plan.info.end) == (date(2021, 1, 1), Y25)
    assert all(i.units and i.units[0].name == "南昌市卫生健康委员会" for i in plan.items())


def test_ganzhou_indicators() -> None:
    plan = seed_plan("GZ")
    assert [i.number for i in plan.indicators] == [str(n) for n in range(1, 21)]
    assert {i.ref for i in plan.indicators if i.binding} == {"GZ-I14"}
    assert plan.indicators[1].domain == "疾病预防控制体系"
    assert plan.indicators[3].baseline == "—" and plan.indicators[3].target == "≥0.2"
    assert all(i.milestones[0].due == Y25 for i in plan.indicators)


@pytest.mark.parametrize("seed", load_manifest(), ids=lambda s: s.code)
def test_reviewed_yaml_matches_a_fresh_import(seed) -> None:
    """tasks_data/plans/<code>.yaml is what the importer makes of the seed, with the manifest's
    options. Regenerate with `python -m bot.importer.cli regenerate-seeds` after a change."""
    fresh = plan_to_dict(seed_plan(seed.code))
    stored = plan_to_dict(read_plan_yaml(seed.yaml_path))
    assert stored == fresh


# 003 赣州经开区: read from the document. Its appendix 重点项目清单 is flattened one cell per line,
# each cell ending in " |"; project 16 and 26 go on over unnumbered rows.
JK_TASK_UNITS: dict[str, list[str]] = {
    "1": ["区疾控中心", "区社管局", "区财政局"],
    "2": ["区疾控中心", "区社管局", "区财政局"],
    "3": ["区经发局", "区财政局", "区社管局"],
    "5": ["区社管局", "区企工局", "区市监分局"],
    "6": ["区社管局", "区财政局", "区自然资源分局", "区经发局", "赣州建控集团"],
    "10": ["区社管局", "区党政办", "区党群部", "区妇联", "区总工会"],
    "21": ["区社管局", "区党群部", "区疾控中心", "区综合执法大队", "市医保经开分中心"],
    "31": ["区农办", "区市监分局", "区商务局", "区社管局", "区企工局", "区经发局"],
    "32": ["区社管局", "区市监分局"],
}
JK_TASK_DUES = {
    "1": [date(2024, 12, 31)],
    "2": [date(2024, 1, 31)],
    "10": [Y24, Y25],
    "30": [Y23, Y25],
}
# key projects: every one is due at the plan's end except these
JK_PROJECT_DUES = {"4": [Y24], "23": [Y24], "43": [Y24], "26": [Y23, Y24, Y25], "45": [Y23, Y25]}
JK_PROJECTS_UNDATED = {
    "2",
    "5",
    "6",
    "11",
    "17",
    "18",
    "19",
    "28",
    "31",
    "38",
    "40",
    "41",
    "42",
    "46",
}


def test_jingkai_tasks() -> None:
    plan = seed_plan("JK")
    assert [t.ref for t in plan.tasks] == [f"JK-{n}" for n in range(1, 33)]
    assert (plan.info.start, plan.info.end) == (date(2023, 1, 1), Y25)
    tasks = {t.number: t for t in plan.tasks}
    for number, units in JK_TASK_UNITS.items():
        assert [u.as_written for u in tasks[number].units] == units, number
    for number, dues in JK_TASK_DUES.items():
        assert [m.due for m in tasks[number].milestones] == dues, number


def test_jingkai_appendix_gives_47_key_projects_with_their_dates() -> None:
    projects = seed_plan("JK").key_projects
    assert [p.number for p in projects] == [str(n) for n in range(1, 48)]
    for project in projects:
        want = JK_PROJECT_DUES.get(project.number, [Y25])
        assert [m.due for m in project.milestones] == want, project.number
        undated = [m.phrase for m in project.milestones] == [""]
        assert undated == (project.number in JK_PROJECTS_UNDATED), project.number
        assert project.section.endswith("重点项目清单")
    by_number = {p.number: p for p in projects}
    assert by_number["1"].title == "推进区域医疗中心建设"
    assert by_number["47"].title == "培育营养健康惠民体系"
    assert "“暖心家园”" in by_number["16"].text  # a row continued over four unnumbered rows
    assert "心理咨询室" in by_number["26"].text
    assert "相关文章" not in by_number["47"].text  # web page debris after the table
    assert by_number["19"].task_ref == "JK-2" and by_number["19"].units
