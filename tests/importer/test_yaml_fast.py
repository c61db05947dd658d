"""The fast plan-file reader (bot.importer.yaml_fast) reads what the writer writes exactly as
PyYAML does, and hands everything else to PyYAML: on random edits of a written file it either
declines or agrees with PyYAML (never accepts a file PyYAML refuses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.importer import yaml_emit, yaml_fast
from bot.importer.yaml_io import _Loader, _plain, read_plan_yaml
from tests.importer.test_yaml_emit import DATA, STRINGS, same

ROOT = Path(__file__).resolve().parents[2]


def slow(text: str) -> Any:
    """What yaml_io makes of `text` through PyYAML; YAMLError when PyYAML refuses it."""
    node = yaml.compose(text, Loader=_Loader)
    return None if node is None else _plain(node, "", {})


def agrees(text: str) -> Any:
    """The fast reader's answer, checked against PyYAML's."""
    fast = yaml_fast.read(text)
    if fast is not None:
        assert same(fast, slow(text)), text
    return fast


MAPPINGS = st.dictionaries(STRINGS, DATA, min_size=1, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MAPPINGS)
def test_what_the_writer_writes_is_read_fast_and_the_same(data: dict[str, Any]) -> None:
    text = yaml_emit.dump(data)
    fast = agrees(text)
    assert fast is not None or "? " in text  # only keys too long for `key:` go the slow way


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "dup_line", "indent", "dedent"]),
        st.integers(0, 10_000),
        st.sampled_from(list(" :#-?'\"\\\n|>[]{},&*!%@`0aé中\t\r")),
    ),
    min_size=1,
    max_size=3,
)


def edit(text: str, edits: list[tuple[str, int, str]]) -> str:
    for kind, at, ch in edits:
        lines = text.split("\n")
        pos = at % (len(text) + 1)
        line = at % max(len(lines), 1)
        if kind == "insert":
            text = text[:pos] + ch + text[pos:]
        elif kind == "delete" and text:
            text = text[:pos] + text[pos + 1 :]
        elif kind == "dup_line":
            text = "\n".join([*lines[: line + 1], *lines[line:]])
        elif kind == "indent":
            lines[line] = " " + lines[line]
            text = "\n".join(lines)
        elif lines[line].startswith(" "):
            lines[line] = lines[line][1:]
            text = "\n".join(lines)
    return text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MAPPINGS, EDITS)
def test_an_edited_file_is_read_as_pyyaml_reads_it_or_left_to_pyyaml(
    data: dict[str, Any], edits: list[tuple[str, int, str]]
) -> None:
    text = edit(yaml_emit.dump(data), edits)
    fast = yaml_fast.read(text)
    if fast is None:
        return
    try:
        expected = slow(text)
    except yaml.YAMLError:
        pytest.fail(f"accepted what PyYAML refuses:\n{text}")
    assert same(fast, expected), text


@pytest.mark.parametrize(
    "text",
    [
        "a: 1 # a comment\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: b\n  c\n",
        "a: 'b\n  c'\n",
        "a: |2\n   b\n",
        "a: >\n  b\n",
        "a:\n\t- b\n",
        "---\na: 1\n",
        "a: 1\n...\n",
        "a: 1",  # no final line break
        "- a\n",
        "a\n",
        "? a\n: b\n",
        "a: b: c\n",
        "a:  b\n",
        "a: b \n",
        "a: -\n",
        "a: ~\n",
        "a: 'b' c\n",
        'a: "\\q"\n',
        "a: |\n\n  b\n",
        "a: |\n  b\n   \n  c\n",
        "\ufeffa: 1\n",
        "a: 1\r\n",
        "",
        "# only a comment\n",
    ],
)
def test_what_is_not_the_writers_is_left_to_pyyaml(text: str) -> None:
    assert yaml_fast.read(text) is None


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("# head\na: 1\n\n# mid\nb:\n  - x\n  -  'y'\n", None),
        ("# head\na: 1\n\n# mid\nb:\n  - x\n  - 'y'\n", {"a": 1, "b": ["x", "y"]}),
        ("a:\n    b: yes\n    c: null\n", {"a": {"b": True, "c": None}}),
        (
            "a: 0o17\nb: 1.5\nc: 2024-01-01\nd: -3\n",
            {"a": "0o17", "b": "1.5", "c": "2024-01-01", "d": -3},
        ),
        ("a: |\n  x\n  # not a comment\nb: ''\n", {"a": "x\n# not a comment\n", "b": ""}),
        ("a:\nb: []\n", {"a": None, "b": []}),
        ("a: 1\na: 2\n", {"a": 2}),
    ],
)
def test_hand_written_files_in_the_subset(text: str, data: Any) -> None:
    assert same(agrees(text), data)


def test_the_seed_plans_are_read_fast() -> None:
    for path in sorted((ROOT / "tasks_data" / "plans").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert agrees(text) is not None, path.name
        assert read_plan_yaml(path).info.code


def test_a_plan_with_a_problem_is_located_by_pyyaml(tmp_path: Path) -> None:
    from bot.importer.errors import PlanInputError

    path = tmp_path / "p.yaml"
    path.write_text(
        "plan:\n  code: X\n  period:\n    start: '2024-01-01'\n    end: '2024-12-31'\n"
        "tasks:\n- ref: X-1\n  title: t\n  milestones:\n  - due: '2024-02-30'\n",
        encoding="utf-8",
    )
    assert yaml_fast.read(path.read_text(encoding="utf-8")) is not None
    with pytest.raises(PlanInputError) as info:
        read_plan_yaml(path)
    assert info.value.line == 10 and info.value.field == "tasks[0].milestones[0].due"


def _many(n: int) -> dict[str, Any]:
    return {
        "plan": {"code": "X", "period": {"start": "2024-01-01", "end": "2024-12-31"}},
        "tasks": [{"ref": f"X-{i}", "title": f"t{i}"} for i in range(n)],
    }


def test_problems_past_the_first_slice_are_found_and_located(tmp_path: Path) -> None:
    """Validation goes a slice of entries at a time: a duplicate ref across slices, or a bad
    date in a later slice, is still an error, located by PyYAML."""
    from bot.importer.errors import PlanInputError

    path = tmp_path / "p.yaml"
    data = _many(1200)
    data["tasks"][1100]["ref"] = "X-3"
    path.write_text(yaml_emit.dump(data), encoding="utf-8")
    with pytest.raises(PlanInputError, match="duplicate ref 'X-3'") as info:
        read_plan_yaml(path)
    assert info.value.field == "tasks[1100].ref"

    data = _many(1200)
    data["tasks"][900]["milestones"] = [{"due": "2024-13-01"}]
    path.write_text(yaml_emit.dump(data), encoding="utf-8")
    with pytest.raises(PlanInputError) as info:
        read_plan_yaml(path)
    assert info.value.field == "tasks[900].milestones[0].due"


def test_a_long_file_only_pyyaml_reads_is_refused_under_a_limit(tmp_path: Path) -> None:
    from bot.importer.yaml_io import NeedsPyYAML

    path = tmp_path / "p.yaml"
    text = yaml_emit.dump(_many(50)).replace("title: t7\n", "title: t7  # hand-edited\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NeedsPyYAML):
        read_plan_yaml(path, slow_limit=len(text) - 1)
    assert len(read_plan_yaml(path, slow_limit=len(text)).tasks) == 50
    assert len(read_plan_yaml(path).tasks) == 50
