"""Word search over item texts (pure): case- and width-insensitive matching and the spans to
highlight.

Text is folded character by character (NFKC, then casefold), so full-width ＡＢＣ１２３ and
half-width abc123 are the same, and every folded character remembers the original character it
came from: a match found in the folded text maps back to a span of the original text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MIN_QUERY = 2  # folded characters a query needs in all (one CJK character matches too much)
MAX_QUERY = 60  # characters of a query


def fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def fold(text: str) -> str:
    """The whole text at once (fast); the same as folding each character for the texts of a
    plan (CJK, Latin and their full-width forms)."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class Folded:
    """A text folded, with, for each folded character, the index of its original character."""

    text: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Folded:
        out: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            folded = fold_char(ch)
            out.append(folded)
            origin.extend([i] * len(folded))
        return cls("".join(out), tuple(origin))


def query_words(query: str | None) -> list[str]:
    """The folded words of a query (whitespace of any width separates them), duplicates
    dropped; [] when the query is missing, too short or too long."""
    text = (query or "").strip()
    if len(text) > MAX_QUERY:
        return []
    words: list[str] = []
    for word in fold(text).split():
        if word not in words:
            words.append(word)
    return words if sum(len(w) for w in words) >= MIN_QUERY else []


def matches(words: Sequence[str], *texts: str) -> bool:
    """Every word occurs in at least one of the texts (each text folded)."""
    folded = [fold(t) for t in texts]
    return bool(words) and all(any(w in f for f in folded) for w in words)


def spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """The merged [start, end) spans of the original `text` where any word occurs."""
    folded = Folded.of(text)
    raw: list[tuple[int, int]] = []
    for word in words:
        start = folded.text.find(word)
        while start >= 0:
            end = start + len(word)
            raw.append((folded.origin[start], folded.origin[end - 1] + 1))
            start = folded.text.find(word, start + 1)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(raw):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def snippet(text: str, words: Sequence[str], width: int) -> tuple[str, bool, bool] | None:
    """About `width` characters of `text` around the first match: (piece, cut before, cut
    after); None when no word occurs."""
    found = spans(text, words)
    if not found:
        return None
    s, e = found[0]
    start = max(0, min(s - width // 3, len(text) - width))
    end = min(len(text), max(start + width, e))
    return text[start:end], start > 0, end < len(text)
