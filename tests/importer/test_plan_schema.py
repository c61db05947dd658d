"""The plan file's schema (pydantic models): each problem named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.importer.errors import PlanInputError
from bot.importer.yaml_io import read_plan_yaml

HEAD = "plan:\n  code: X\n  period: {start: '2024-01-01', end: '2024-12-31'}\n"


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("tasks: 12\n", 1, None, "missing field 'plan'"),
        (HEAD + "tasks: 12\n", 4, "tasks", "expected a list"),
        ("plan: 3\n", 1, "plan", "expected a mapping"),
        ("plan:\n  code: X\n", 2, "plan", "missing field 'period'"),
        (HEAD + "tasks:\n- ref: X-1\n", 5, "tasks[0]", "missing field 'title'"),
        (
            HEAD + "tasks:\n- ref: ''\n  title: t\n",
            5,
            "tasks[0].ref",
            "expected a non-empty string",
        ),
        (
            HEAD + "tasks:\n- ref: X-1\n  title: t\n  milestones:\n  - due: 2024-02-30\n",
            8,
            "tasks[0].milestones[0].due",
            "expected a date YYYY-MM-DD, got '2024-02-30'",
        ),
        (
            HEAD + "tasks:\n- {ref: X-1, title: a}\nkey_projects:\n- {ref: X-1, title: b}\n",
            7,
            "key_projects[0].ref",
            "duplicate ref 'X-1' (also tasks[0])",
        ),
        (
            "plan:\n  code: X\n  period: {start: '2025-01-01', end: '2024-12-31'}\n",
            3,
            "plan.period",
            "start is after end",
        ),
        (
            HEAD + "indicators:\n- {ref: I-1, name: n, nature: 其他}\n",
            5,
            "indicators[0].nature",
            "expected one of 预期性, 约束性",
        ),
        (
            HEAD + "indicators:\n- {ref: I-1, name: n, binding: maybe}\n",
            5,
            "indicators[0].binding",
            "expected true or false",
        ),
        (
            HEAD + "warnings:\n- {message: m, line: first}\n",
            5,
            "warnings[0].line",
            "expected a line number or null",
        ),
    ],
)
def test_a_problem_names_file_line_and_field(tmp_path: Path, text, line, field, message):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanInputError) as caught:
        read_plan_yaml(path)
    assert (caught.value.line, caught.value.field, caught.value.message) == (line, field, message)


def test_unknown_keys_are_ignored_and_nulls_are_empty_lists(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + "tasks:\nnotes: anything\n", encoding="utf-8")
    assert read_plan_yaml(path).tasks == []
