"""A YAML writer for plain data: the plan files of `tasks_data/plans` (bot.importer.yaml_io).

`dump(data)` writes str, int, bool, None, date, list and dict (str keys) as one block-style YAML
document, laid out as PyYAML lays it out (`default_flow_style=False, sort_keys=False,
allow_unicode=True`: a sequence under a key is not indented, CJK text as is), so a person can
read and edit it; `yaml.safe_load(dump(x)) == x` for every such value (tests/importer/
test_yaml_emit.py checks it, with PyYAML's and libyaml's readers alike).

A string is written plain when the YAML 1.1 reader takes it back as the same string; else, when
it has several lines, as a literal block (`|-`, the lines as they are) if that reads back
exactly; else in single quotes when it has only printable characters on one line; else in
double quotes with escapes (`\\t`, `\\x85`, `\\u2028`, …). Whether a plain string would be read
as something else (a number, a date, a boolean, null) is asked of the reader's own implicit
resolvers, so the writer and the reader cannot disagree. Lines are never wrapped. Apart from
the literal blocks (`yaml.dump` folds such lines into one quoted string) the seed plans come out
byte for byte as `yaml.dump` wrote them.

It is ~12× faster than `yaml.dump` (whose representer is Python even with libyaml's emitter):
0.11 s against 1.34 s for a plan of 10,000 items; building libyaml's events in Python for its
C emitter takes 0.72 s. Being Python, it also lets other threads run now and then, where
libyaml's C code holds the GIL for the whole document.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from yaml.resolver import Resolver

# A plain scalar in block context: not empty, no indicator or space first, only printable
# characters (no tab, no line break, no BOM), and none of ": ", " #" or a trailing ":" / " ".
_PLAIN = re.compile(
    r"(?![\s!\"#%&'*,:<=>?@\[\]`{|}~\-.])"
    r"[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]+"
)
# What a single-quoted scalar cannot hold as is (YAML's non-printables, line breaks, tab, BOM).
_ESCAPE = re.compile(
    r"[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_BLOCK = re.compile(_ESCAPE.pattern[:-1] + r"\n]")  # the same, but a line break is fine
_DOUBLE = re.compile(_ESCAPE.pattern + r'|["\\]')  # and what a double quote escapes
_SHORT = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
_RESOLVERS = Resolver.yaml_implicit_resolvers
_STR = "tag:yaml.org,2002:str"
_MAX_SIMPLE_KEY = 1000  # a simple key is at most 1024 characters long (YAML 1.1)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def _resolves_to_str(text: str) -> bool:
    """Whether the reader takes `text`, written plain, as a string (not 1, 1.5, 2024-01-01,
    yes, null, …): the implicit resolvers of PyYAML's Resolver, which both readers use."""
    for tag, pattern in _RESOLVERS.get(text[0], ()):
        if tag != _STR and pattern.match(text):
            return False
    return True


def string(text: str) -> str:
    """`text` as a YAML scalar that reads back as exactly `text`."""
    if (
        text
        and _PLAIN.fullmatch(text)
        and ": " not in text
        and " #" not in text
        and text[-1] not in ": "
        and _resolves_to_str(text)
    ):
        return text
    if _ESCAPE.search(text) is None:
        return "'" + text.replace("'", "''") + "'"
    return '"' + _DOUBLE.sub(_escape, text) + '"'


def _literal_ok(text: str) -> bool:
    """Whether a multi-line `text` reads back exactly from a literal block (`|`), and stays
    so when edited: printable, no line break but \\n, its first line neither empty nor
    indented, no line ending in a space."""
    return (
        "\n" in text
        and text[0] not in "\n "
        and _BLOCK.search(text) is None
        and " \n" not in text  # trailing spaces: an editor would drop them unseen
        and text[-1] != " "
    )


def _literal(text: str, indent: str) -> str:
    """` |-` (no final line break), ` |` (one) or ` |+` (more) and the lines at `indent`;
    empty lines stay empty."""
    body = text.rstrip("\n")
    ends = len(text) - len(body)
    lines = [f"{indent}{line}" if line else "" for line in body.split("\n")]
    lines += [""] * max(ends - 1, 0)
    return " |" + ("-", "", "+")[min(ends, 2)] + "\n" + "\n".join(lines)


def scalar(value: Any) -> str:
    """A scalar value (or an empty list / dict) as YAML text."""
    if isinstance(value, str):
        return string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)) and not value:
        return "[]" if isinstance(value, list) else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as YAML: {value!r}")


class _Writer:
    """One document's lines; strings met before are not analysed again."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.keys: dict[str, str] = {}
        self.values: dict[str, str | None] = {}  # None: a literal block

    def key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"cannot write a {type(key).__name__} key as YAML: {key!r}")
        found = self.keys.get(key)
        if found is None:
            found = self.keys[key] = string(key)
        return found

    def text(self, value: Any, indent: str) -> str:
        """A value after `key:` or `-`, with its leading space; a literal block's lines go
        at `indent`."""
        if type(value) is not str:
            return " " + scalar(value)
        if value in self.values:
            found = self.values[value]
        else:
            found = self.values[value] = None if _literal_ok(value) else " " + string(value)
        return _literal(value, indent) if found is None else found

    def mapping(self, data: dict[Any, Any], indent: str, first: str) -> None:
        out, prefix = self.out, first
        deeper = indent + "  "
        for key, value in data.items():
            written = self.key(key)
            if len(written) > _MAX_SIMPLE_KEY:  # too long for `key:`: `? key` then `: value`
                out.append(f"{prefix}? {written}\n{indent}:")
                self._value(value, deeper, deeper)
            else:
                out.append(f"{prefix}{written}:")
                self._value(value, deeper, indent)
            prefix = indent

    def _value(self, value: Any, deeper: str, sequence_indent: str) -> None:
        """A mapping's value after `key:`; a sequence goes at `sequence_indent`."""
        if isinstance(value, dict) and value:
            self.out.append("\n")
            self.mapping(value, deeper, deeper)
        elif isinstance(value, list) and value:
            self.out.append("\n")
            self.sequence(value, sequence_indent, sequence_indent)
        else:
            self.out.append(self.text(value, deeper) + "\n")

    def sequence(self, items: list[Any], indent: str, first: str) -> None:
        out, prefix = self.out, first
        deeper = indent + "  "
        for value in items:
            if isinstance(value, dict) and value:
                self.mapping(value, deeper, prefix + "- ")
            elif isinstance(value, list) and value:
                self.sequence(value, deeper, prefix + "- ")
            else:
                out.append(f"{prefix}-{self.text(value, deeper)}\n")
            prefix = indent


def dump(data: Any) -> str:
    """`data` (str, int, bool, None, date, list, dict with str keys) as a YAML document.
    Raises TypeError for anything else (floats, datetimes, other keys)."""
    writer = _Writer()
    if isinstance(data, dict) and data:
        writer.mapping(data, "", "")
    elif isinstance(data, list) and data:
        writer.sequence(data, "", "")
    else:
        writer.out.append(writer.text(data, "  ")[1:] + "\n")
    return "".join(writer.out)
