"""Drafts of tasks and projects → `Item`s: units resolved, milestones dated, warnings noted.

A draft is what the outline walker or a table row found: number, section, title and the raw
text (unit annotations still in it). `ItemBuilder.build` turns one draft into an `Item`:
- units from the annotations (see `unitparse`), else from table unit columns, else from
  department phrases of the text (卫生健康部门 …), else the default unit, else the plan's lead
  department of its 部门职责 section, else none and a warning;
- milestones from the date phrases (see `dates`) and 完成时限 texts; an item with no date
  gets one milestone at the plan's last day with an empty phrase;
- recurrence from 每年 / 每学期 / 定期 …; a deadline text that is a standing duty (长期坚持,
  持续推进, 常态化, 每季度 …) is a periodic report request (a policy recurrence word), its one
  milestone the plan's end with the duty as its phrase;
- an item with no date of its own: the plan's end, and a warning saying so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from bot.core.plan import ImportWarning, Item, ItemKind, Milestone, UnitRef
from bot.core.units import UnitDirectory, UnitEntry
from bot.importer import dates
from bot.importer.unitparse import (
    WrittenUnit,
    extract_units,
    resolve_units,
    trailing_role_clause,
    trailing_unit_list,
)

_STANDING_TAIL = re.compile(
    r"(?:^|[，,。；;：:])\s*[（(]?\s*(长期坚持|长期推进|长期开展|持续推进|持续开展|常态化推进|常态化开展"
    r"|常态化|长期)\s*[）)]?\s*[。；;]?\s*$"
)


# a clause of an undated item that opens with a standing duty: 长期坚持“双随机、一公开”监管
_STANDING_CLAUSE = re.compile(
    r"(?:^|[，,。；;：:\n])\s*(长期坚持|长期推进|长期开展|持续推进|持续开展|常态化推进|常态化开展)"
)


@dataclass
class Draft:
    """An item as found in the document, before resolution."""

    kind: ItemKind
    number: str
    section: str
    title: str
    body: str  # the full text, unit annotations included; paragraphs joined by "\n"
    line: int | None
    units: list[WrittenUnit] = field(default_factory=list)  # from table columns
    deadline: str = ""  # from a table's 完成时限 column
    carry_note: str = ""  # a heading before this item whose unit note says 下同


@dataclass
class ItemBuilder:
    """Shared context for building the items of one plan."""

    ctx: dates.DateContext
    directory: UnitDirectory | None
    jurisdiction: str
    default_unit: UnitRef | None = None
    duty_lead: UnitRef | None = None  # the first department of a 部门职责 section
    warnings: list[ImportWarning] = field(default_factory=list)
    unknown: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    duty_used: int = 0
    resolved: dict[str, UnitEntry | None] = field(default_factory=dict)  # shared lookups
    carried: list[WrittenUnit] | None = None  # the units of the last note that said 下同

    def build(self, draft: Draft, ref: str) -> Item:
        if draft.carry_note:
            self.carry_from(draft.carry_note)
        annotations = extract_units(draft.body, draft.line)
        text = annotations.text
        written = annotations.units + draft.units
        tail, text = trailing_role_clause(text, self._known, draft.line)
        written += tail
        if not written and self.directory is not None:
            written, text = trailing_unit_list(text, self._known, draft.line)
        if annotations.units or tail:  # a unit note: 下同 carries it on, any other ends a carry
            self.carried = list(annotations.units + tail) if annotations.carries else None
        elif not written and self.carried:
            written = list(self.carried)
        refs, unknown = resolve_units(written, self.directory, self.jurisdiction, self.resolved)
        for unit in unknown:
            first, count = self.unknown.get(unit.text, (unit.line, 0))
            self.unknown[unit.text] = (first, count + 1)
        if not refs:
            refs = self.phrase_units(text)
        found = dates.milestones(text, self.ctx)
        for deadline in [*annotations.deadlines, draft.deadline]:
            found = self._add_deadline(found, deadline, draft.title)
        recurrence = dates.recurrence(text)
        standing = ""
        if "常态化开展" in recurrence:  # a standing duty named in the text
            recurrence.remove("常态化开展")
            if dates.STANDING_REPORTS not in recurrence:
                recurrence.append(dates.STANDING_REPORTS)
            standing = "常态化开展"
        standing_tail = _STANDING_TAIL.search(text[-40:])  # "…，长期坚持。" / "（常态化推进）"
        said = standing_tail.group(1) if standing_tail else ""
        for deadline in [*annotations.deadlines, draft.deadline, said]:
            if deadline and not dates.find_phrases(deadline, self.ctx):
                word = dates.standing_duty(deadline)  # 长期坚持 / 每季度: reports, no deadline
                if word is not None:
                    standing = standing or deadline.strip("。；; ")[:20]
                    if word not in recurrence:
                        recurrence.append(word)
        if not found and not standing and draft.kind == "task":
            duty = _STANDING_CLAUSE.search(text)  # an undated task "…，持续推进…" / "长期坚持…"
            if duty is not None:
                standing = duty.group(1)
                if dates.STANDING_REPORTS not in recurrence:
                    recurrence.append(dates.STANDING_REPORTS)
        if not found and standing:
            # the plan's end closes the duty's reporting period; not a guessed deadline
            found = [Milestone(due=self.ctx.end, phrase=standing, target=draft.title)]
        if not found:
            found = [Milestone(due=self.ctx.end, phrase="", target=draft.title)]
            self.warnings.append(
                ImportWarning(
                    draft.line, f"{ref}: no deadline of its own: plan end {self.ctx.end} used"
                )
            )
        return Item(
            ref=ref,
            number=draft.number,
            section=draft.section,
            title=draft.title,
            text=text,
            units=refs,
            milestones=found,
            recurrence=recurrence,
            kind=draft.kind,
            line=draft.line,
        )

    def _known(self, text: str) -> bool:
        if self.directory is None:
            return False
        if text not in self.resolved:
            self.resolved[text] = self.directory.resolve(text, self.jurisdiction)
        return self.resolved[text] is not None

    def carry_from(self, note: str) -> None:
        """A heading's unit note that says 下同 holds for the items after it."""
        annotations = extract_units(note)
        if annotations.units and annotations.carries:
            self.carried = list(annotations.units)

    def _add_deadline(self, found: list[Milestone], deadline: str, title: str) -> list[Milestone]:
        phrases = dates.find_phrases(deadline, self.ctx) if deadline else []
        if not phrases:
            return found
        extra = [(d, w, title) for p in phrases for d, w in zip(p.dues, p.words, strict=True)]
        current = [(m.due, m.phrase, m.target) for m in found]
        return dates.merge(current + extra)

    def phrase_units(self, text: str) -> list[UnitRef]:
        """Units named by department phrases in prose (卫生健康部门 → 市卫健委), first leads."""
        if self.directory is None:
            return []
        found: list[tuple[int, UnitRef]] = []
        seen: set[str] = set()
        for phrase in self.directory.department_phrases():  # longest first
            position = text.find(phrase)
            if position < 0:
                continue
            entry = self.directory.resolve(phrase, self.jurisdiction)
            if entry is not None and entry.name not in seen:
                seen.add(entry.name)
                found.append((position, UnitRef(entry.name, phrase, "co")))
        out = [ref for _, ref in sorted(found, key=lambda pair: pair[0])]
        if out:
            out[0] = UnitRef(out[0].name, out[0].as_written, "lead")
        return out

    def fill_missing(self, items: list[Item]) -> None:
        """Default unit / duty-section lead for items without units; warn for the rest."""
        for item in items:
            if item.units:
                continue
            if self.default_unit is not None:
                item.units = [self.default_unit]
            elif self.duty_lead is not None:
                item.units = [self.duty_lead]
                self.duty_used += 1
            else:
                self.warnings.append(
                    ImportWarning(
                        item.line, f"{item.ref}: no responsible unit (use --default-unit)"
                    )
                )

    def unknown_warnings(self) -> list[ImportWarning]:
        out = []
        for name, (line, count) in self.unknown.items():
            times = f" ({count} times)" if count > 1 else ""
            out.append(ImportWarning(line, f"unknown unit {name!r} kept as written{times}"))
        return out


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s\d%，,。；;、：:“”\"（）()《》]", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _weighted_overlap(small: set[str], big: set[str], weight: dict[str, float]) -> float:
    total = sum(weight.get(g, 1.0) for g in small)
    return sum(weight.get(g, 1.0) for g in small & big) / total if total else 0.0


def link_projects(projects: list[Item], tasks: list[Item], threshold: float = 0.35) -> None:
    """Sets `task_ref` of each project to the most similar task, when the similarity reaches
    `threshold`; a project without units takes that task's units.

    Similarity: shared character bigrams of the project's title (60 %) and text (40 %) with
    the task's title and text, each bigram weighted by rarity among the tasks (IDF), so
    words every task uses (建设, 能力) count little.
    """
    if not tasks:
        return
    task_grams = [(task, _bigrams(task.title + task.text)) for task in tasks]
    count = len(tasks)
    frequency: dict[str, int] = {}
    for _, grams in task_grams:
        for gram in grams:
            frequency[gram] = frequency.get(gram, 0) + 1
    weight = {g: math.log((count + 1) / (f + 0.5)) for g, f in frequency.items()}
    for project in projects:
        title, text = _bigrams(project.title), _bigrams(project.text)
        best: tuple[float, Item | None] = (0.0, None)
        for task, grams in task_grams:
            score = 0.6 * _weighted_overlap(title, grams, weight)
            score += 0.4 * _weighted_overlap(text, grams, weight)
            if score > best[0]:
                best = (score, task)
        if best[1] is not None and best[0] >= threshold:
            project.task_ref = best[1].ref
            if not project.units:
                project.units = list(best[1].units)
