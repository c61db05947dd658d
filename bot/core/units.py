"""The unit directory: who a plan's "市卫健委" is, in which city, and what a group unit expands to.

Pure Python (no I/O except `load_unit_directory`, which reads `tasks_data/units.yaml`).

Units are scoped by jurisdiction: 龙南's 市卫健委 is not 上饶's. A canonical name is qualified
(`上饶市卫生健康委员会`); `short_name` is how plans write it (`市卫健委`). Department
*templates* (市卫健委, 市财政局, 市委编办 …) are instantiated for every jurisdiction on first use,
so a plan from a city the file does not list still resolves `市财政局` to `<城市>财政局`.
Explicit entries (hospitals, companies, county governments, groups) win over templates.

`members(entry)` expands a group into its member entries (empty when the file names none); a
unit that is not a group expands to itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.errors import InvalidInput

DEFAULT_UNITS_PATH = Path(__file__).resolve().parents[2] / "tasks_data" / "units.yaml"
LEVELS = ("市直", "县直", "县级", "乡镇", "企业", "群团", "其他")

_TAGS = re.compile(r"<[^>]{0,40}>")
_QUOTES = re.compile(r"[“”\"‘’'「」『』]")
_SPACE = re.compile(r"[\s\u3000\u00a0*#]+")
_OPEN = "（〔【［[｛{〈"
_CLOSE = "）〕】］]｝}〉"
_BRACKETS = str.maketrans({**dict.fromkeys(_OPEN, "("), **dict.fromkeys(_CLOSE, ")")})
_EDGE_PUNCT = "。；;，,、:：.!！?？ "
_PLACE = re.compile(
    r"^(?:中共)?((?![市县区省])[\u4e00-\u9fff]{2,6}?(?:自治州|自治县|市|县|区|旗))"
)


def normalize_unit_text(text: str) -> str:
    """The lookup key of a unit phrase: no markup, quotes or spaces, half-width brackets/digits."""
    text = unicodedata.normalize("NFKC", _TAGS.sub("", text))
    text = _SPACE.sub("", _QUOTES.sub("", text)).translate(_BRACKETS)
    return text.strip(_EDGE_PUNCT)


def place_prefix(jurisdiction: str) -> str:
    """The one-character prefix plans use for their own jurisdiction: 上饶市 → 市, 玉山县 → 县."""
    for suffix in ("市", "县", "区", "旗"):
        if jurisdiction.endswith(suffix):
            return suffix
    return ""


def jurisdiction_of(text: str) -> str:
    """The leading place name of an issuer or title ("上饶市人民政府" → "上饶市"), or ""."""
    match = _PLACE.match(re.sub(r"\s+", "", text))
    return match.group(1) if match else ""


@dataclass(frozen=True)
class UnitEntry:
    """One unit (or group of units) of one jurisdiction. `members` are canonical names."""

    name: str
    short_name: str
    jurisdiction: str
    level: str
    aliases: tuple[str, ...] = ()
    is_group: bool = False
    members: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # department phrases of prose plans: 卫生健康部门 …


@dataclass(frozen=True)
class UnitTemplate:
    """A department every government has; `{P}` is the jurisdiction's prefix (市/县/区)."""

    name: str  # e.g. "{P}卫生健康委员会"; canonical = with {P} replaced by the jurisdiction
    short_name: str
    level: str = "市直"
    aliases: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    is_group: bool = False


@dataclass
class UnitDirectory:
    """Alias-aware lookups of units per jurisdiction. Build with `load_unit_directory`."""

    explicit: list[UnitEntry] = field(default_factory=list)
    templates: list[UnitTemplate] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)  # jurisdiction → plan code (SR)
    _index: dict[tuple[str, str], UnitEntry] = field(default_factory=dict, repr=False)
    _by_name: dict[str, UnitEntry] = field(default_factory=dict, repr=False)
    _instantiated: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        # templates of other places are instantiated on first use: keeps loading fast
        for jurisdiction in sorted({e.jurisdiction for e in self.explicit}):
            self._instantiate(jurisdiction)

    # --- building ------------------------------------------------------------------------

    def _add(self, entry: UnitEntry, *, override: bool) -> None:
        if not override and entry.name in self._by_name:
            return
        self._by_name[entry.name] = entry
        keys = {entry.name, entry.short_name, *entry.aliases, *entry.phrases}
        for key in {normalize_unit_text(k) for k in keys if k}:
            slot = (entry.jurisdiction, key)
            if override or slot not in self._index:
                self._index[slot] = entry

    def _instantiate(self, jurisdiction: str) -> None:
        """Adds the template departments of `jurisdiction` (once), then its explicit entries."""
        if jurisdiction in self._instantiated or not jurisdiction:
            return
        self._instantiated.add(jurisdiction)
        prefix = place_prefix(jurisdiction)
        for template in self.templates:
            self._add(_from_template(template, jurisdiction, prefix), override=False)
        for entry in self.explicit:
            if entry.jurisdiction == jurisdiction:
                self._add(entry, override=True)

    # --- queries -------------------------------------------------------------------------

    @property
    def entries(self) -> list[UnitEntry]:
        """Every entry known so far (explicit ones and instantiated templates)."""
        return list(self._by_name.values())

    def resolve(self, text: str, jurisdiction: str | None) -> UnitEntry | None:
        """The entry `text` names in `jurisdiction` (alias-aware, markup/quote/bracket tolerant).

        A canonical name of any jurisdiction also resolves. None when nothing matches.
        """
        key = normalize_unit_text(text)
        if not key:
            return None
        if jurisdiction:
            self._instantiate(jurisdiction)
            hit = self._index.get((jurisdiction, key))
            if hit is not None:
                return hit
            stripped = _strip_place(key, jurisdiction)
            if stripped != key:
                hit = self._index.get((jurisdiction, stripped))
                if hit is not None:
                    return hit
        by_name = self._by_name.get(key) or self._by_name.get(text.strip())
        if by_name is not None:
            return by_name
        place = jurisdiction_of(key)
        if place and place != jurisdiction:
            # "九江市卫健委" inside any plan: the text names its own jurisdiction
            self._instantiate(place)
            hit = self._index.get((place, key))
            if hit is not None:
                return hit
        if not jurisdiction:
            matches = {e.name: e for (_, k), e in self._index.items() if k == key}
            if len(matches) == 1:
                return next(iter(matches.values()))
        return None

    def members(self, entry: UnitEntry) -> list[UnitEntry]:
        """A group's member entries (may be empty); any other unit expands to itself."""
        if not entry.is_group:
            return [entry]
        out: list[UnitEntry] = []
        for name in entry.members:
            member = self._by_name.get(name) or self.resolve(name, entry.jurisdiction)
            if member is not None:
                out.append(member)
        return out

    def find(self, query: str, jurisdiction: str | None = None) -> list[UnitEntry]:
        """Chat lookup: entries whose alias equals `query` first, then those containing it."""
        key = normalize_unit_text(query)
        if not key:
            return []
        if jurisdiction:
            self._instantiate(jurisdiction)
        exact: dict[str, UnitEntry] = {}
        partial: dict[str, UnitEntry] = {}
        for (place, alias), entry in self._index.items():
            if jurisdiction and place != jurisdiction:
                continue
            if alias == key:
                exact.setdefault(entry.name, entry)
            elif key in alias:
                partial.setdefault(entry.name, entry)
        ranked = list(exact.values())
        ranked += sorted(
            (e for n, e in partial.items() if n not in exact), key=lambda e: (len(e.name), e.name)
        )
        return ranked

    def department_phrases(self) -> list[str]:
        """All department phrases of prose plans (卫生健康部门 …), longest first."""
        phrases = {p for t in self.templates for p in t.phrases}
        phrases |= {p for e in self.explicit for p in e.phrases}
        return sorted(phrases, key=lambda p: (-len(p), p))

    def code_for(self, jurisdiction: str) -> str | None:
        """The plan code of a jurisdiction (上饶市 → SR), when the file lists one."""
        return self.codes.get(jurisdiction)


def _strip_place(key: str, jurisdiction: str) -> str:
    """'上饶市卫健委' → '市卫健委' so qualified spellings of short names resolve too."""
    if jurisdiction and key.startswith(jurisdiction):
        return place_prefix(jurisdiction) + key[len(jurisdiction) :]
    return key


def _from_template(template: UnitTemplate, jurisdiction: str, prefix: str) -> UnitEntry:
    def fill(text: str, value: str) -> str:
        return text.replace("{P}", value).replace("{J}", jurisdiction)

    aliases: list[str] = []
    for alias in (template.name, template.short_name, *template.aliases):
        aliases += [fill(alias, prefix), fill(alias, jurisdiction)]
    level = template.level
    if level == "市直" and prefix in ("县", "区"):
        level = "县直"
    return UnitEntry(
        name=fill(template.name, jurisdiction),
        short_name=fill(template.short_name, prefix),
        jurisdiction=jurisdiction,
        level=level,
        aliases=tuple(dict.fromkeys(a for a in aliases if a)),
        is_group=template.is_group,
        phrases=template.phrases,
    )


# --- loading ---------------------------------------------------------------------------------


class UnitDirectoryError(InvalidInput, ValueError):
    """units.yaml breaks its schema; the message names the entry and field."""


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise UnitDirectoryError(f"{where}: expected a list of strings")
    return tuple(str(v) for v in value)


def directory_from_dict(data: dict[str, Any]) -> UnitDirectory:
    """Builds a directory from the parsed units.yaml (see that file for the schema)."""
    if not isinstance(data, dict):
        raise UnitDirectoryError("units.yaml: expected a mapping at the top")
    codes: dict[str, str] = {}
    for i, row in enumerate(data.get("jurisdictions") or []):
        if not isinstance(row, dict) or "name" not in row or "code" not in row:
            raise UnitDirectoryError(f"jurisdictions[{i}]: needs name and code")
        codes[str(row["name"])] = str(row["code"])
    templates: list[UnitTemplate] = []
    for i, row in enumerate(data.get("templates") or []):
        where = f"templates[{i}]"
        if not isinstance(row, dict) or "name" not in row:
            raise UnitDirectoryError(f"{where}: needs name")
        templates.append(
            UnitTemplate(
                name=str(row["name"]),
                short_name=str(row.get("short_name") or row["name"]),
                level=str(row.get("level") or "市直"),
                aliases=_strs(row.get("aliases"), f"{where}.aliases"),
                phrases=_strs(row.get("phrases"), f"{where}.phrases"),
                is_group=bool(row.get("group", False)),
            )
        )
    explicit: list[UnitEntry] = []
    for block in data.get("units") or []:
        if not isinstance(block, dict) or "jurisdiction" not in block:
            raise UnitDirectoryError("units: each block needs a jurisdiction")
        place = str(block["jurisdiction"])
        for i, row in enumerate(block.get("entries") or []):
            where = f"units[{place}].entries[{i}]"
            if not isinstance(row, dict) or "name" not in row:
                raise UnitDirectoryError(f"{where}: needs name")
            level = str(row.get("level") or "其他")
            if level not in LEVELS:
                raise UnitDirectoryError(f"{where}.level: {level!r} is not one of {LEVELS}")
            members = _strs(row.get("members"), f"{where}.members")
            explicit.append(
                UnitEntry(
                    name=str(row["name"]),
                    short_name=str(row.get("short_name") or row["name"]),
                    jurisdiction=place,
                    level=level,
                    aliases=_strs(row.get("aliases"), f"{where}.aliases"),
                    is_group=bool(row.get("group", False) or members),
                    members=members,
                    phrases=_strs(row.get("phrases"), f"{where}.phrases"),
                )
            )
    return UnitDirectory(explicit=explicit, templates=templates, codes=codes)


_CACHE: dict[Path, tuple[float, dict[str, Any]]] = {}


def load_unit_directory(path: Path | None = None) -> UnitDirectory:
    """Reads units.yaml (default `tasks_data/units.yaml`); a missing file gives an empty
    directory. Raises `UnitDirectoryError` when the file breaks the schema."""
    import yaml  # local import: only this loader needs it

    path = Path(path or DEFAULT_UNITS_PATH)
    if not path.exists():
        return UnitDirectory()
    stamp = path.stat().st_mtime
    cached = _CACHE.get(path)
    if cached is None or cached[0] != stamp:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with path.open(encoding="utf-8") as fh:
            cached = (stamp, yaml.load(fh, Loader=loader))
        _CACHE[path] = cached
    return directory_from_dict(cached[1])
