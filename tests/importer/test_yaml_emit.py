"""The plan-file writer (bot.importer.yaml_emit): whatever it writes, a YAML reader reads back
exactly (PyYAML's pure reader and libyaml's alike), and the plan reader (yaml_io) reads a
written plan back into the same Plan; the layout stays the block style people edit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.plan import (
    ImportWarning,
    Indicator,
    Item,
    Milestone,
    Plan,
    PlanInfo,
    UnitRef,
    plan_from_dict,
    plan_to_dict,
)
from bot.importer import yaml_emit
from bot.importer.yaml_io import read_plan_yaml, write_plan_yaml

LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])]

NASTY = [
    "",
    " ",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "null",
    "Null",
    "~",
    "1",
    "-1",
    "+1",
    "007",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1:30",
    "190:20:30",
    "1.5",
    "1e3",
    ".5",
    ".inf",
    "-.INF",
    ".NaN",
    "2024-01-01",
    "2024-1-1",
    "2024-01-01 10:00:00",
    "2024-01-01T10:00:00Z",
    "-",
    "- a",
    "--",
    "---",
    "...",
    "?",
    "? a",
    ":",
    "a:",
    "a: b",
    "a:b",
    "#",
    "a #b",
    "a#b",
    "'",
    "''",
    '"',
    "\\",
    "\\n",
    '"\ufeff',
    'say "\\x41"\t',
    "<<",
    "=",
    "%YAML 1.1",
    "@",
    "`",
    "!",
    "!!str",
    "&a",
    "*a",
    "|",
    "|-",
    ">",
    "[a, b]",
    "{a: b}",
    "a, b",
    " lead",
    "trail ",
    "\t",
    "a\tb",
    "\n",
    "a\nb",
    "a\n",
    "a\n\n",
    "\na",
    " a\nb",
    "a \nb",
    "a\n b\n  c",
    "a\n- b\n# c\n---\n...",
    "a\r\nb",
    "\r",
    "\x00",
    "\x07\x1b",
    "\x7f",
    "\x85",
    "\xa0",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\u3000全角空格",
    "😀",
    "𠀀非BMP",
    "市卫健委：牵头",
    "2024年底前\n完成",
    "x" * 1100,
]
ALPHABET = (
    " :#-?'\"\\\n\t\r0123456789.eE_+xoybnNulLtT~"
    "\x00\x85\xa0\u2028\u3000\ufeff\ufffe中文😀|>[]{},&*!%@`="
)
STRINGS = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=ALPHABET, max_size=12),
    st.text(max_size=12),
)
SCALARS = st.one_of(STRINGS, st.integers(), st.booleans(), st.none(), st.dates())
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(STRINGS, inner, max_size=4)
    ),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == True == 1.0 in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def read(text: str, loader: Any) -> Any:
    return yaml.load(text, Loader=loader)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text", NASTY)
def test_every_nasty_string_reads_back_as_itself(text: str, loader: Any) -> None:
    data = {text: [text, {"k": text}], "v": text}
    assert same(read(yaml_emit.dump(data), loader), data)
    assert same(read(yaml_emit.dump(text), loader), text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_whatever_is_written_reads_back_the_same(data: Any) -> None:
    text = yaml_emit.dump(data)
    for loader in LOADERS:
        assert same(read(text, loader), data), text


def test_the_layout_is_the_block_style_people_edit() -> None:
    data = {
        "plan": {"code": "SR", "issued": "2024-01-01", "period": {"start": "2024-01-01"}},
        "tasks": [
            {
                "ref": "SR-1",
                "title": "推进医共体建设",
                "text": "第一段\n第二段",
                "units": [{"name": "市卫健委", "role": "lead"}],
                "recurrence": [],
                "task_ref": None,
                "binding": False,
                "number": "1",
            }
        ],
        "key_projects": [],
    }
    assert yaml_emit.dump(data) == (
        "plan:\n"
        "  code: SR\n"
        "  issued: '2024-01-01'\n"
        "  period:\n"
        "    start: '2024-01-01'\n"
        "tasks:\n"
        "- ref: SR-1\n"
        "  title: 推进医共体建设\n"
        "  text: |-\n"
        "    第一段\n"
        "    第二段\n"
        "  units:\n"
        "  - name: 市卫健委\n"
        "    role: lead\n"
        "  recurrence: []\n"
        "  task_ref: null\n"
        "  binding: false\n"
        "  number: '1'\n"
        "key_projects: []\n"
    )


def test_what_yaml_cannot_hold_exactly_is_refused() -> None:
    from datetime import datetime

    for bad in (1.5, datetime(2024, 1, 1), {1: "a"}, object()):
        with pytest.raises(TypeError):
            yaml_emit.dump({"x": bad})


# --- plans ---------------------------------------------------------------------------------

TEXT = st.one_of(STRINGS, st.sampled_from(["", "市卫健委", "2025年底", "推进\n建设"]))
UNITS = st.lists(
    st.builds(
        UnitRef, name=STRINGS.filter(bool), as_written=TEXT, role=st.sampled_from(["lead", "co"])
    ),
    max_size=3,
)
MILESTONES = st.lists(
    st.builds(
        Milestone, due=st.dates(date(2000, 1, 1), date(2100, 12, 31)), phrase=TEXT, target=TEXT
    ),
    max_size=3,
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    refs = iter(range(1000))

    def item(kind: str) -> Item:
        return Item(
            ref=f"P-{next(refs)}",
            number=draw(TEXT),
            section=draw(TEXT),
            title=draw(TEXT),
            text=draw(TEXT),
            units=draw(UNITS),
            milestones=draw(MILESTONES),
            recurrence=draw(st.lists(STRINGS.filter(bool), max_size=2)),
            kind=kind,  # type: ignore[arg-type]
            task_ref=draw(st.none() | STRINGS) if kind == "project" else None,
        )

    def indicator() -> Indicator:
        return Indicator(
            ref=f"P-I{next(refs)}",
            number=draw(TEXT),
            domain=draw(TEXT),
            name=draw(TEXT),
            unit=draw(TEXT),
            baseline=draw(TEXT),
            target=draw(TEXT),
            nature=draw(st.sampled_from(["预期性", "约束性"])),
            binding=draw(st.booleans()),
            units=draw(UNITS),
            milestones=draw(MILESTONES),
            parent=draw(st.none() | STRINGS),
        )

    start = draw(st.dates(date(2000, 1, 1), date(2050, 1, 1)))
    info = PlanInfo(
        code=draw(st.sampled_from(["P", "SR", "ON", "NO", "Y", "123", "E1"])),
        title=draw(TEXT),
        issuer=draw(TEXT),
        issued=draw(st.none() | st.dates(date(2000, 1, 1), date(2100, 1, 1))),
        start=start,
        end=draw(st.dates(start, date(2100, 12, 31))),
        source=draw(TEXT),
    )
    return Plan(
        info=info,
        tasks=[item("task") for _ in range(draw(st.integers(0, 3)))],
        key_projects=[item("project") for _ in range(draw(st.integers(0, 2)))],
        indicators=[indicator() for _ in range(draw(st.integers(0, 2)))],
        warnings=[
            ImportWarning(line=draw(st.none() | st.integers(1, 10_000)), message=draw(TEXT))
            for _ in range(draw(st.integers(0, 2)))
        ],
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plans())
def test_a_written_plan_is_read_back_into_the_same_plan(tmp_path: Any, plan: Plan) -> None:
    path = tmp_path / "p.yaml"
    write_plan_yaml(plan, path)
    data = plan_to_dict(plan)
    assert read_plan_yaml(path) == plan_from_dict(data)
    text = path.read_text(encoding="utf-8")
    for loader in LOADERS:
        assert same(read(text, loader), data)
