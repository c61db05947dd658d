"""Acceptance corpus: published plans of every family of issue 11, against hand-written answers.

`tests/importer/corpus/*.expected.yaml` were written by reading each document as a 督办 office
would, not from the importer's output. A task is exact when its title starts with the answer's
title, its set of units (lead and co together) is the answer's and its set of due dates is the
answer's (`due: null`: not checked, the document names no year; `recur: true`: the item must
carry a recurrence). A standing duty (`due: []`, `recur: true`) has no deadline of its own: it
may carry no milestone or the plan's last day alone, which closes its reporting period (the
bot's assignments hang on milestones). Units compare as written or as the unit directory's
canonical name of the answer in the document's jurisdiction. `ambiguous` entries are items a
careful reader cannot settle: they must come in, but do not count. An imported item no answer
names counts as a miss.
The .xlsx / .docx documents are built at test time by `corpus/build_binaries.py`.

Run with `-s` to see the per-document and per-family figures.
"""

from __future__ import annotations

import importlib.util
import inspect
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from bot.core.plan import Item, Plan
from bot.core.units import UnitDirectory, load_unit_directory, normalize_unit_text
from bot.importer import import_plan

CORPUS = Path(__file__).resolve().parent / "corpus"
TODAY = date(2026, 3, 2)  # the bot's clock, as the CLI and the chat pass it
ANSWERS = sorted(CORPUS.glob("*.expected.yaml"))


def _builders() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_builders", CORPUS / "build_binaries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source(answer: dict, folder: Path) -> Path:
    name = answer["source"]
    builders = _builders()
    if name in builders.BUILDERS:
        return builders.build(name, folder)
    return CORPUS / name


def _text(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split())


@dataclass
class Outcome:
    """One document's figures."""

    name: str
    family: str
    right: int = 0
    total: int = 0
    skipped: int = 0
    misses: list[str] = field(default_factory=list)
    error: str = ""


class _Units:
    """Compares an item's units with an answer's: as written, or canonical in the jurisdiction."""

    def __init__(self, directory: UnitDirectory, jurisdiction: str) -> None:
        self.directory = directory
        self.jurisdiction = jurisdiction

    def key(self, written: str) -> str:
        entry = self.directory.resolve(written, self.jurisdiction)
        return entry.name if entry is not None else normalize_unit_text(written)

    def same(self, item: Item, wanted: list[str]) -> tuple[bool, list[str]]:
        want = {self.key(w): w for w in wanted}
        got: set[str] = set()
        for unit in item.units:
            match = next(
                (
                    k
                    for k, w in want.items()
                    if normalize_unit_text(unit.as_written) == normalize_unit_text(w)
                    or unit.name == k
                    or normalize_unit_text(unit.name) == normalize_unit_text(w)
                ),
                None,
            )
            got.add(match or f"?{unit.name}")
        return got == set(want), sorted(unit.name for unit in item.units)


def _dates(values: list) -> set[date]:
    return {v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values}


def _check(item: Item, want: dict, units: _Units, plan_end: date) -> list[str]:
    """What differs between an item and its answer (empty when exact)."""
    problems: list[str] = []
    ok, names = units.same(item, list(want.get("lead") or []) + list(want.get("co") or []))
    if not ok:
        problems.append(f"units {names} != {want.get('lead')}+{want.get('co')}")
    if want.get("due") is not None:
        got = {m.due for m in item.milestones}
        standing = want.get("recur") and not want["due"] and got == {plan_end}
        if got != _dates(want["due"]) and not standing:
            problems.append(f"due {sorted(map(str, got))} != {sorted(map(str, want['due']))}")
    if want.get("recur") and not item.recurrence:
        problems.append("no recurrence")
    return problems


def _find(items: list[Item], used: set[int], title: str) -> Item | None:
    prefix = _text(title)
    for item in items:
        if id(item) not in used and _text(item.title).startswith(prefix):
            used.add(id(item))
            return item
    return None


def score(plan: Plan, answer: dict, directory: UnitDirectory) -> Outcome:
    """One document's exactness against its answer."""
    out = Outcome(answer["source"], answer["family"])
    units = _Units(directory, answer.get("jurisdiction") or "")
    used: set[int] = set()
    lists = {"tasks": plan.tasks, "projects": plan.key_projects}
    for other in answer.get("ambiguous") or []:
        item = _find(plan.tasks + plan.key_projects, used, other["title"])
        out.skipped += 1
        if item is None:
            out.total += 1
            out.misses.append(f"ambiguous item missing: {other['title']}")
    for kind in ("tasks", "projects"):
        for want in answer.get(kind) or []:
            out.total += 1
            own, rest = lists[kind], lists["projects" if kind == "tasks" else "tasks"]
            item = _find(own, used, want["title"]) or _find(rest, used, want["title"])
            if item is None:
                out.misses.append(f"{kind} {want['n']} {want['title']}: not found")
                continue
            problems = _check(item, want, units, plan.info.end)
            if problems:
                out.misses.append(f"{kind} {want['n']} {want['title']}: " + "; ".join(problems))
            else:
                out.right += 1
    for item in plan.tasks + plan.key_projects:
        if id(item) not in used:
            out.total += 1
            out.misses.append(f"extra {item.kind} {item.number} {item.title[:30]!r}")
    return out


def run_corpus(folder: Path) -> list[Outcome]:
    """Imports every corpus document (binaries built into `folder`) and scores it."""
    directory = load_unit_directory()
    clock = {"today": TODAY} if "today" in inspect.signature(import_plan).parameters else {}
    outcomes: list[Outcome] = []
    for path in ANSWERS:
        answer = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            plan = import_plan(_source(answer, folder), **clock)
        except Exception as exc:  # a refusal or a crash is the finding
            counted = len(answer.get("tasks") or []) + len(answer.get("projects") or [])
            outcomes.append(
                Outcome(
                    answer["source"],
                    answer["family"],
                    total=counted,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        outcomes.append(score(plan, answer, directory))
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    """Per-document and per-family figures, misses listed."""
    lines: list[str] = []
    families: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in outcomes:
        families[o.family][0] += o.right
        families[o.family][1] += o.total
        status = f"REFUSED {o.error}" if o.error else f"{o.right}/{o.total}"
        lines.append(f"{o.name}: {status}" + (f" ({o.skipped} ambiguous)" if o.skipped else ""))
        lines += [f"    - {m}" for m in o.misses]
    lines.append("per family:")
    for family, (right, total) in sorted(families.items()):
        lines.append(f"    {family}: {right}/{total} ({right / max(total, 1):.1%})")
    right = sum(o.right for o in outcomes)
    total = sum(o.total for o in outcomes)
    lines.append(f"overall: {right}/{total} ({right / max(total, 1):.1%})")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    results = run_corpus(tmp_path_factory.mktemp("corpus"))
    print("\n" + report(results))
    return results


def test_corpus_is_big_enough() -> None:
    families = {yaml.safe_load(p.read_text(encoding="utf-8"))["family"] for p in ANSWERS}
    assert len(ANSWERS) >= 20
    assert {"labels", "inline", "numbering", "tables", "year", "dates", "xlsx"} <= families


def test_every_document_imports(outcomes: list[Outcome]) -> None:
    refused = [f"{o.name}: {o.error}" for o in outcomes if o.error]
    assert not refused, refused


def test_tasks_are_exact(outcomes: list[Outcome]) -> None:
    right = sum(o.right for o in outcomes)
    total = sum(o.total for o in outcomes)
    assert total >= 150
    assert right / total >= 0.95, report(outcomes)
