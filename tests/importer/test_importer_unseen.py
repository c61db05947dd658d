"""Plans the importer has never seen (tests/fixtures/plans), against hand-written answers.

Each `*.expected.yaml` was written by reading its document; a task counts as right when its
lead unit, its co-operating units and its due dates all match. The suite needs >= 95 %.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import yaml

from bot.core.plan import Item, Plan
from bot.importer import import_plan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"


def build_docx(source: Path, target: Path) -> Path:
    """A .docx of a text fixture: one paragraph per line, tab lines become table rows."""
    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, cells in enumerate(rows):
                for c, text in enumerate(cells):
                    table.cell(r, c).text = text.strip()
            rows.clear()

    for line in source.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        flush()
        document.add_paragraph(line)
    flush()
    document.save(str(target))
    return target


def _load(expected: Path, tmp: Path) -> tuple[Plan, dict]:
    answer = yaml.safe_load(expected.read_text(encoding="utf-8"))
    source = FIXTURES / answer["source"]
    if source.suffix == ".docx":
        source = build_docx(FIXTURES / (source.name + ".txt"), tmp / source.name)
    return import_plan(source), answer


def _right(item: Item, want: dict) -> bool:
    lead = [u.name for u in item.units if u.role == "lead"]
    co = sorted(u.name for u in item.units if u.role == "co")
    dues = [m.due for m in item.milestones]
    want_dues = [d if isinstance(d, date) else date.fromisoformat(d) for d in want["due"]]
    ok = lead == [want["lead"]] and co == sorted(want.get("co") or []) and dues == want_dues
    ok = ok and set(want.get("recurrence") or []) <= set(item.recurrence)
    return ok and (not want.get("text_has") or want["text_has"] in item.text)


def test_unseen_plans_accuracy(tmp_path: Path) -> None:
    total = right = 0
    misses: list[str] = []
    for expected in sorted(FIXTURES.glob("*.expected.yaml")):
        plan, answer = _load(expected, tmp_path)
        for kind, items in (("tasks", plan.tasks), ("projects", plan.key_projects)):
            by_number = {i.number: i for i in items}
            for number, want in (answer.get(kind) or {}).items():
                total += 1
                item = by_number.get(str(number))
                if item is not None and _right(item, want):
                    right += 1
                else:
                    misses.append(f"{expected.name} {kind} {number}")
            assert len(items) == len(answer.get(kind) or {}), f"{expected.name} {kind} count"
    share = right / total
    print(f"unseen plans: {right}/{total} items right ({share:.1%}); misses: {misses}")
    assert total >= 30
    assert share >= 0.95, misses


def test_docx_reads_tables_and_paragraphs(tmp_path: Path) -> None:
    path = build_docx(FIXTURES / "plan_e_xinfeng.docx.txt", tmp_path / "xinfeng.docx")
    plan = import_plan(path)
    assert plan.info.code == "XF" and plan.info.issued == date(2024, 5, 6)
    assert len(plan.tasks) == 4 and len(plan.key_projects) == 2
    assert "人员培训" in plan.key_projects[1].text  # continuation row of the Word table


def test_unknown_unit_is_kept_and_reported() -> None:
    plan = import_plan(FIXTURES / "plan_d_pingxiang.txt")
    six = plan.tasks[5]
    assert six.units[2].name == six.units[2].as_written == "萍乡经济技术开发区管委会"
    assert any("萍乡经济技术开发区管委会" in w.message for w in plan.warnings)
