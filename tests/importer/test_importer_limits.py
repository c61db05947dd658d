"""Input size: parsing stays linear, item numbers of any length, and clear limits.

The pathological plans run in a subprocess with a generous timeout: the assertion is that the
parse completes (refused or parsed) rather than any timing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.core.units import load_unit_directory
from bot.importer import parse_plan_text
from bot.importer.errors import PlanInputError
from bot.importer.pipeline import MAX_ITEM_CHARS, MAX_LINE_CHARS, MAX_PLAN_CHARS

REPO = Path(__file__).resolve().parents[2]
DIRECTORY = load_unit_directory()


def _plan_of_items(count: int) -> str:
    lines = ["某市2024年重点工作任务分解方案", "一、重点任务"]
    for k in range(1, count + 1):
        lines.append(f"{k}.推进第{k}项工作。2024年6月底前完成。〔责任单位：市卫健委、市财政局〕")
    return "\n".join(lines)


def test_item_numbers_of_any_length_are_items() -> None:
    plan = parse_plan_text(_plan_of_items(10_000), source="many.txt", directory=DIRECTORY)
    assert len(plan.tasks) == 10_000
    assert [t.number for t in plan.tasks[998:1002]] == ["999", "1000", "1001", "1002"]
    assert plan.tasks[-1].ref.endswith("-10000")
    assert plan.tasks[1500].title == "推进第1501项工作"


def test_a_year_at_a_line_start_is_not_an_item() -> None:
    text = (
        "某市2024-2026年行动方案\n一、重点任务\n1.推进医共体建设。\n"
        "2025、2026年分别完成40%、100%。〔责任单位：市卫健委〕\n"
    )
    plan = parse_plan_text(text, source="y.txt", directory=DIRECTORY)
    assert [t.number for t in plan.tasks] == ["1"]


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("size", "separator"),
    [(5_000_000, "\n"), (1_900_000, ""), (1_900_000, "\n"), (1_900_000, "。\n")],
)
def test_a_giant_item_is_refused_naming_it(size: int, separator: str) -> None:
    result = _run(f"""
        from bot.importer import parse_plan_text
        from bot.importer.errors import PlanInputError
        piece = "推进医疗卫生服务体系建设，到2025年底完成改造（市卫健委牵头，市财政局配合）"
        piece += {separator!r}
        body = piece * ({size} // len(piece))
        text = "某市2024-2025年行动方案\\n一、重点任务\\n1.完善体系。" + body + "\\n2.下一项。\\n"
        try:
            parse_plan_text(text, source="big.txt")
        except PlanInputError as exc:
            print(exc)
    """)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith("big.txt:"), message
    if size > MAX_PLAN_CHARS:
        assert f"at most {MAX_PLAN_CHARS:,}" in message and "split it" in message
    elif separator:
        assert message.startswith("big.txt:3:") and "item 1 is" in message
        assert f"{MAX_ITEM_CHARS:,}" in message
    else:
        assert message.startswith("big.txt:3:") and "line 3 is" in message
        assert f"{MAX_LINE_CHARS:,}" in message


def test_a_long_line_is_refused_with_what_to_do() -> None:
    text = "某市2024年工作方案\n1." + "加强" * (MAX_LINE_CHARS // 2 + 1) + "\n"
    with pytest.raises(PlanInputError) as caught:
        parse_plan_text(text, source="long.txt", directory=DIRECTORY)
    assert caught.value.line == 2 and "one paragraph per line" in str(caught.value)


def test_an_item_just_under_the_limit_is_parsed() -> None:
    piece = "到2024年6月底前完成，二季度末，（市卫健委牵头，市财政局配合）"
    body = piece * ((MAX_ITEM_CHARS - 100) // len(piece))
    text = f"某市2024年工作方案\n一、重点任务\n1.完善体系。{body}\n"
    plan = parse_plan_text(text, source="ok.txt", directory=DIRECTORY)
    assert len(plan.tasks) == 1
    assert {u.role for u in plan.tasks[0].units} == {"lead", "co"}
