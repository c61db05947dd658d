"""Telegram's HTML parse mode and automatic entity detection, as pure functions.

Follows TDLib's ``parse_html`` (which the Bot API uses): the same tags, the same error texts
with UTF-8 byte offsets, entity offsets and lengths in UTF-16 code units. Unknown ``&name;``
sequences stay literal text, as in Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "nbsp": "\xa0"}
_SPACES = frozenset(" \t\r\n\v\f\0")
_END = "\0"  # TDLib scans a NUL-terminated buffer; the sentinel keeps the loops identical


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(error)`` is TDLib's message."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int  # index into the output character list, to read an <a>'s own text


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...`` at ``pos``; return (character, next index) or None to keep it literal."""
    end = pos + 1
    if text[end] == "#":
        end += 1
        value = 0
        if text[end] == "x":
            end += 1
            while text[end] in "0123456789abcdefABCDEF" and text[end] != _END:
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if text[end] == ";":
        end += 1
    return char, end


def _check_link(url: str) -> str | None:
    """Normalise an ``<a href>`` the way Telegram does, or None if Telegram would drop it."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if match:
        scheme = match.group(1).lower()
        if scheme in {"tg", "ton"}:
            return url
        if scheme not in {"http", "https"} or not url[len(scheme) + 1 :].startswith("//"):
            return None
    elif "." in url:
        url = "http://" + url
    else:
        return None
    rest = url.split("://", 1)[1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not host or ("." not in host and host.split(":")[0] != "localhost"):
        return None
    if len(rest) == len(host):
        url += "/"
    return url


def _closing_entity(tag: _OpenTag, length: int, out: list[str], entities: list[Entity]) -> None:
    """Append the entity a closed tag produces (merging ``<pre><code>`` as Telegram does)."""
    offset = tag.utf16_offset
    name = tag.name
    if name in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[name], "offset": offset, "length": length})
    elif name == "tg-emoji":
        if not tag.argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": tag.argument,
            }
        )
    elif name == "a":
        url = _check_link(tag.argument or "".join(out[tag.text_index :]))
        if url is not None:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif name == "blockquote":
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    else:
        last = entities[-1] if entities else None
        # the entity just closed inside this one over the same text: <pre><code> or <code><pre>
        inner = (
            last
            if last is not None and last["offset"] == offset and last["length"] == length
            else None
        )
        if name == "pre" and inner is not None and inner["type"] == "code":
            inner["type"] = "pre"
        elif name == "code" and inner is not None and inner["type"] == "pre":
            if tag.argument:
                inner["language"] = tag.argument
        elif name == "pre":
            entities.append({"type": "pre", "offset": offset, "length": length})
        else:
            code: Entity = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                code["language"] = tag.argument
            entities.append(code)


def _finish_code_entities(entities: list[Entity]) -> list[Entity]:
    # A lone <code class="language-x"> is plain code; only <pre><code class> carries a language
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return entities


def _read_attributes(text: str, i: int, tag_name: str, begin: int, src: str) -> tuple[str, int]:
    """Parse attributes up to ``>``; return (the tag's argument, index of ``>``)."""
    argument = ""
    while text[i] != ">":
        while text[i] != _END and text[i] in _SPACES:
            i += 1
        if text[i] == ">":
            break
        name_begin = i
        while text[i] not in _SPACES and text[i] not in "=>":
            i += 1
        attribute = text[name_begin:i]
        if not attribute:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag_name}" at byte offset '
                f"{_byte_offset(src, begin)}"
            )
        while text[i] != _END and text[i] in _SPACES:
            i += 1
        if text[i] != "=":
            if tag_name == "blockquote" and attribute == "expandable":
                argument = "1"
                continue
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag_name}" '
                f"at byte offset {_byte_offset(src, begin)}"
            )
        i += 1
        while text[i] != _END and text[i] in _SPACES:
            i += 1
        if text[i] == _END:
            raise EntityParseError(
                f'Unclosed start tag "{tag_name}" at byte offset {_byte_offset(src, begin)}'
            )
        if text[i] not in "'\"":
            token_begin = i
            while text[i].isascii() and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_begin:i].lower()
            if text[i] not in _SPACES and text[i] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(src, token_begin)}"
                )
        else:
            quote = text[i]
            i += 1
            chars: list[str] = []
            while text[i] != quote and text[i] != _END:
                decoded = _decode_entity(text, i) if text[i] == "&" else None
                if decoded is not None:
                    chars.append(decoded[0])
                    i = decoded[1]
                    continue
                chars.append(text[i])
                i += 1
            if text[i] == quote:
                i += 1
            value = "".join(chars)
        if text[i] == _END:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        if tag_name == "a" and attribute == "href":
            argument = value
        elif tag_name == "code" and attribute == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag_name == "span" and attribute == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag_name == "tg-emoji" and attribute == "emoji-id":
            argument = value
        elif tag_name == "blockquote" and attribute == "expandable":
            argument = "1"
    return argument, i


def parse_html(src: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, entities).

    Raises :class:`EntityParseError` with TDLib's wording, e.g.
    ``Unsupported start tag "div" at byte offset 0``.
    """
    text = src + _END
    out: list[str] = []
    out_utf16 = 0
    entities: list[Entity] = []
    stack: list[_OpenTag] = []
    i = 0
    while i < len(src):
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                out_utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if c != "<":
            out.append(c)
            out_utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if text[i] != "/":
            name_begin = i
            while text[i] not in _SPACES and text[i] != ">":
                i += 1
            if text[i] == _END:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                )
            tag_name = text[name_begin:i].lower()
            if tag_name not in _SUPPORTED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag_name}" at byte offset {_byte_offset(src, begin)}'
                )
            argument, i = _read_attributes(text, i, tag_name, begin, src)
            if tag_name == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(src, begin)}"
                )
            stack.append(_OpenTag(tag_name, argument, out_utf16, len(out)))
        else:
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(src, begin)}"
                )
            while text[i] not in _SPACES and text[i] != ">":
                i += 1
            end_name = text[begin + 2 : i].lower()
            while text[i] != _END and text[i] in _SPACES:
                i += 1
            if text[i] != ">":
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(src, begin)}"
                )
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                    f'expected "</{tag.name}>", found "</{end_name}>"'
                )
            if out_utf16 > tag.utf16_offset:
                _closing_entity(tag, out_utf16 - tag.utf16_offset, out, entities)
        i += 1  # skip '>'
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities = _finish_code_entities(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_AUTO_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
)
_NO_AUTODETECT_INSIDE = frozenset({"code", "pre", "text_link", "url", "email"})


def _to_utf16_index(text: str, index: int) -> int:
    return utf16_len(text[:index])


def detect_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Add the entities Telegram finds by itself (commands, mentions, hashtags, URLs, e-mails).

    Spans inside code, pre and links, or overlapping an earlier detection, are skipped.
    """
    taken = [
        (e["offset"], e["offset"] + e["length"])
        for e in entities
        if e["type"] in _NO_AUTODETECT_INSIDE
    ]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = _to_utf16_index(text, match.start())
            end = start + utf16_len(match.group(0))
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    merged = entities + found
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return merged


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace as Telegram does, shifting and clipping entities."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


def entity_text(text: str, entity: Entity) -> str:
    """The substring an entity covers (offsets are UTF-16)."""
    encoded = text.encode("utf-16-le")
    start = entity["offset"] * 2
    return encoded[start : start + entity["length"] * 2].decode("utf-16-le")
