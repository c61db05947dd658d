"""Which font draws the pictures: a CJK font of the system, found by name.

Matplotlib draws Chinese as empty boxes ("tofu") unless a font with the glyphs is chosen, so
a font is accepted only when its character map (read with fontTools, which comes with
matplotlib) has every character of `SAMPLE`. Looked for, in order:
1. `CHART_FONT`: a family name ("Noto Sans CJK SC") or the path of a font file;
2. well-known CJK families (Debian's fonts-noto-cjk first) in matplotlib's font list;
3. any family of that list whose name says CJK / SC / Hei / Han;
4. fontconfig (`fc-match :lang=zh-cn`), for a font installed after matplotlib's font cache
   was built.
None found: the caller sends text only (never a picture of empty boxes) and says so once.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Characters every picture uses (headings, units, digits): a font without one of them is not a
# CJK font for us. Unit names are checked one by one when drawn (`missing`).
SAMPLE = "督办通报单位排名按时办结率及时签收率逾期数据截至第周月年计划全部趋势累计0123456789%"

KNOWN_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)
_HINTS = ("CJK", " SC", "Hei", "Han", "Ming", "Song", "Kai")

NO_FONT_WARNING = (
    "no CJK font found for the pictures (install fonts-noto-cjk or set CHART_FONT): "
    "scorecards and the digest go out as text only"
)


@dataclass(frozen=True)
class ChartFont:
    """A font matplotlib can draw with: its family name, file and face in the file."""

    family: str
    path: str
    index: int = 0

    def properties(self, size: float, *, bold: bool = False) -> Any:
        from matplotlib.font_manager import FontProperties

        return FontProperties(family=self.family, size=size, weight="bold" if bold else "normal")

    def missing(self, text: str) -> set[str]:
        """Characters of `text` this font has no glyph for (white space aside)."""
        cmap = _cmap(self.path, self.index)
        return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}


@cache
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith((".ttc", ".otc")):
        font = TTCollection(path, lazy=True).fonts[index]
    else:
        font = TTFont(path, lazy=True)
    table = font.getBestCmap() or {}
    return frozenset(table)


def _entries() -> list[Any]:
    """matplotlib's list of installed fonts (built once, cached on disk)."""
    from matplotlib import font_manager

    return list(font_manager.fontManager.ttflist)


def _usable(entry: Any) -> ChartFont | None:
    font = ChartFont(entry.name, entry.fname, int(getattr(entry, "index", 0) or 0))
    try:
        return None if font.missing(SAMPLE) else font
    except Exception:  # an unreadable file is not a font for us
        return None


def _regular(entries: list[Any]) -> list[Any]:
    """Regular faces first: the family name resolves to them."""
    return sorted(entries, key=lambda e: (e.weight != 400 and e.weight != "normal", e.style))


def _by_family(entries: list[Any], family: str) -> ChartFont | None:
    wanted = family.casefold()
    for entry in _regular([e for e in entries if e.name.casefold() == wanted]):
        font = _usable(entry)
        if font is not None:
            return font
    return None


def _from_file(path: str) -> ChartFont | None:
    """A font file named by CHART_FONT: registered with matplotlib under its family name."""
    if not Path(path).is_file():
        return None
    from matplotlib import font_manager

    try:
        font_manager.fontManager.addfont(path)
    except Exception:
        return None
    entries = [e for e in _entries() if e.fname == str(Path(path))]
    entries.sort(key=lambda e: " SC" not in e.name)  # a collection's Simplified Chinese face
    for entry in entries:
        font = _usable(entry)
        if font is not None:
            return font
    return None


def _fontconfig_match() -> str | None:
    """The file fontconfig picks for Simplified Chinese, if fontconfig is installed."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        done = subprocess.run(
            [fc_match, "-f", "%{file}", ":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def find_font(preferred: str | None = None) -> ChartFont | None:
    """The CJK font to draw with (see the module docstring), or None."""
    entries = _entries()
    if preferred:
        font = _from_file(preferred) if ("/" in preferred or "\\" in preferred) else None
        font = font or _by_family(entries, preferred)
        if font is not None:
            return font
        log.warning("CHART_FONT %r is not an installed CJK font; looking for another", preferred)
    for family in KNOWN_FAMILIES:
        font = _by_family(entries, family)
        if font is not None:
            return font
    for entry in _regular([e for e in entries if any(h in e.name for h in _HINTS)]):
        font = _usable(entry)
        if font is not None:
            return font
    path = _fontconfig_match()
    return _from_file(path) if path else None
