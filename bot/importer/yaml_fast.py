"""A fast reader for the YAML that bot.importer.yaml_emit writes: the plan files.

`read(text)` gives what `yaml.compose` followed by bot.importer.yaml_io's conversion gives (plain
null → None, true/false/yes/no/on/off → bool, decimal integers → int, every other scalar its
text: dates stay ISO strings), or None when the text is not in the small block-style subset
the emitter writes (a mapping of mappings, sequences and scalars: plain, quoted, `|` literal
blocks, `[]`, `{}`; full-line comments). None means "ask PyYAML": anything else a person may
write (flow collections, anchors, tags, comments after a value, multi-line plain or quoted
scalars, tabs, other indentation of sequences, documents markers…) and every invalid file
go the slow way, which also locates errors by line. Whether a plain scalar is a number, a date
or a boolean is decided by PyYAML's own implicit resolvers, as in the writer.

libyaml takes 1.5 s to compose a plan of 10,000 items (2.7 MB) and holds the GIL for up to
0.25 s at a time in a thread; this reader takes ~0.3 s in Python, which lets the event loop's
thread run every few milliseconds. tests/importer/test_yaml_fast.py holds it to PyYAML's
result on what the writer writes and on random edits of it (accepted only when PyYAML reads
the same).
"""

from __future__ import annotations

import re
from typing import Any

from bot.importer.yaml_emit import _PLAIN, _RESOLVERS

# Outside the subset wherever they appear: tabs, line breaks other than \n, a BOM, and what
# YAML's reader refuses (so PyYAML reports it).
_REFUSED = re.compile(
    "[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE = re.compile(
    r'"((?:[^"\\]|\\[\\"ntr0]|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)"'
)
_ESCAPES = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_SHORT = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_INT = re.compile(r"^[-+]?\d+$")
_NEGATIVE = re.compile(r"-[0-9]+")  # the writer's negative integers (strings "-…" are quoted)
_MAX_KEY = 1000  # a longer implicit key is an error for YAML


class _Outside(Exception):
    """The text is not in the subset (or not valid YAML): PyYAML reads it."""


def scalar_value(tag: str, value: str) -> Any:
    """A scalar of tag `tag` (`null`, `bool`, `int`, … the last part) as yaml_io keeps it."""
    if tag == "null":
        return None
    if tag == "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == "int" and _INT.match(value):
        return int(value)
    return value


def _plain_tag(value: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (its last part)."""
    for tag, pattern in _RESOLVERS.get(value[0] if value else "", ()):
        if pattern.match(value):
            return str(tag).rsplit(":", 1)[-1]
    for tag, pattern in _RESOLVERS.get(None, ()):
        if pattern.match(value):
            return str(tag).rsplit(":", 1)[-1]
    return "str"


def _plain_ok(text: str) -> bool:
    """Whether `text` is one whole plain scalar on a line (the writer's rule)."""
    return (
        _PLAIN.fullmatch(text) is not None
        and ": " not in text
        and " #" not in text
        and text[-1] not in ": "
    )


def _unescape(match: re.Match[str]) -> str:
    hex2, hex4, hex8, short = match.groups()
    if short is not None:
        return _SHORT[short]
    code = int(hex2 or hex4 or hex8, 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _Outside()
    return chr(code)


class _Reader:
    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        lines.pop()  # after the final line break
        # in Python, not one long regular-expression call: a thread lets the loop run meanwhile
        self.cont = [line.lstrip(" ") for line in lines]  # each line without its indentation
        self.ind = [
            len(line) - len(content) for line, content in zip(lines, self.cont, strict=True)
        ]
        self.n = len(lines)
        self.i = 0
        self.plain: dict[str, Any] = {}  # plain scalars met before
        self.keys: dict[str, bool] = {}  # plain keys met before: valid?

    def skip(self) -> None:
        """Past empty and comment lines."""
        cont, i, n = self.cont, self.i, self.n
        while i < n:
            content = cont[i]
            if content and content[0] != "#":
                break
            i += 1
        self.i = i

    def mapping(self, indent: int, first: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        content = first
        ind, cont, n, keys = self.ind, self.cont, self.n, self.keys
        while True:
            if content is None:
                i = self.i
                while i < n:
                    content = cont[i]
                    if content and content[0] != "#":
                        break
                    i += 1
                self.i = i
                if i >= n:
                    break
                at = ind[i]
                if at < indent:
                    break
                if at > indent:
                    raise _Outside()
                content = cont[i]
            head = content[0]
            if head == "'" or head == '"':
                key, rest = self.entry(content)
            else:  # a plain key, inline: most lines are `key: value`
                end = content.find(": ")
                if end < 0:
                    if content[-1] != ":":
                        raise _Outside()
                    end = len(content) - 1
                key = content[:end]
                valid = keys.get(key)
                if valid is None:
                    valid = keys[key] = _plain_ok(key) and end <= _MAX_KEY
                if not valid:
                    raise _Outside()
                rest = content[end + 1 :]
            self.i += 1
            out[key] = self.value(indent, rest)
            content = None
        return out

    def entry(self, content: str) -> tuple[str, str]:
        """`key: rest` → (key, rest after the colon); _Outside when it is not an entry."""
        head = content[0]
        if head == "'" or head == '"':
            match = (_SINGLE if head == "'" else _DOUBLE).match(content)
            if match is None:
                raise _Outside()
            end = match.end()
            key = self.quoted(head, match)
        else:
            end = content.find(": ")
            if end < 0:
                if content[-1] != ":":
                    raise _Outside()
                end = len(content) - 1
            key = content[:end]
            valid = self.keys.get(key)
            if valid is None:
                valid = self.keys[key] = bool(key) and _plain_ok(key)
            if not valid:
                raise _Outside()
        if end > _MAX_KEY or content[end : end + 1] != ":":
            raise _Outside()
        return key, content[end + 1 :]

    @staticmethod
    def quoted(head: str, match: re.Match[str]) -> str:
        inner = match.group(1)
        if head == "'":
            return inner.replace("''", "'")
        return _ESCAPES.sub(_unescape, inner) if "\\" in inner else inner

    def value(self, indent: int, rest: str) -> Any:
        """The value after `key:` of a mapping at `indent` (its line consumed)."""
        if not rest:
            self.skip()
            if self.i >= self.n:
                return None
            content = self.cont[self.i]
            at = self.ind[self.i]
            is_entry = content[:2] == "- " or content == "-"
            if at > indent:
                return self.sequence(at, None) if is_entry else self.mapping(at, None)
            if at == indent and is_entry:
                return self.sequence(at, None)
            return None
        if rest[0] != " " or len(rest) < 2 or rest[1] == " ":
            raise _Outside()
        return self.scalar(rest[1:], indent)

    def sequence(self, indent: int, first: str | None) -> list[Any]:
        out: list[Any] = []
        content = first
        while True:
            if content is None:
                self.skip()
                if self.i >= self.n:
                    break
                content = self.cont[self.i]
                at = self.ind[self.i]
                if at < indent:
                    break
                if at > indent:
                    raise _Outside()
                if content[:2] != "- ":
                    if content == "-":
                        raise _Outside()
                    break  # the next key of the mapping this sequence is a value of
            rest = content[2:]
            if not rest or rest[0] == " ":
                raise _Outside()
            out.append(self.item(indent + 2, rest, indent))
            content = None
        return out

    def item(self, column: int, rest: str, indent: int) -> Any:
        """A sequence entry's node, `rest` starting at `column` of the current line."""
        if rest[:2] == "- " or rest == "-":
            if rest == "-":
                raise _Outside()
            return self.sequence(column, rest)
        head = rest[0]
        if head == "'" or head == '"':
            match = (_SINGLE if head == "'" else _DOUBLE).match(rest)
            is_entry = match is not None and rest[match.end() : match.end() + 1] == ":"
        else:
            is_entry = ": " in rest or rest[-1] == ":"
        if is_entry:
            return self.mapping(column, rest)
        self.i += 1
        return self.scalar(rest, indent)

    def scalar(self, text: str, indent: int) -> Any:
        """A scalar written on one line (or a literal block's head) in a node at `indent`."""
        found = self.plain.get(text, self)
        if found is not self:
            return found
        head = text[0]
        if head == "'" or head == '"':
            match = (_SINGLE if head == "'" else _DOUBLE).fullmatch(text)
            if match is None:
                raise _Outside()
            return self.quoted(head, match)
        if head == "|":
            return self.literal(text, indent)
        if text == "[]":
            return []
        if text == "{}":
            return {}
        if not _plain_ok(text) and _NEGATIVE.fullmatch(text) is None:
            raise _Outside()
        found = self.plain[text] = scalar_value(_plain_tag(text), text)
        return found

    def literal(self, head: str, indent: int) -> str:
        """A `|-`, `|` or `|+` block whose lines follow, indented more than `indent`."""
        if head not in ("|-", "|", "|+") or self.i >= self.n:
            raise _Outside()
        ind, cont = self.ind, self.cont
        at = ind[self.i]
        if at <= indent or not cont[self.i]:
            raise _Outside()
        body: list[str] = []
        i, n = self.i, self.n
        while i < n:
            content = cont[i]
            if not content:
                if ind[i]:
                    raise _Outside()  # a line of spaces only
                body.append("")
            elif ind[i] >= at:
                body.append(" " * (ind[i] - at) + content)
            else:
                break  # a less indented line: the block is over
            i += 1
        self.i = i
        trailing = 0
        while body and not body[-1]:
            body.pop()
            trailing += 1
        text = "\n".join(body)
        if head == "|-":
            return text
        if head == "|":
            return text + "\n"
        return text + "\n" * (trailing + 1)


def read(text: str) -> dict[str, Any] | None:
    """The mapping a plan file holds (module docstring), or None: PyYAML must read it."""
    if not text.endswith("\n") or _REFUSED.search(text) is not None:
        return None
    reader = _Reader(text)
    try:
        reader.skip()
        if reader.i >= reader.n:
            return None
        first = reader.cont[reader.i]
        if reader.ind[reader.i] or first[:2] == "- " or first == "-":
            return None
        data = reader.mapping(0, None)
        reader.skip()
        if reader.i < reader.n:
            return None
        return data
    except _Outside:
        return None
