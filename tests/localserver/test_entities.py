"""Telegram HTML parsing and automatic entities, as pure functions."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.localserver.entities import (
    EntityParseError,
    detect_entities,
    entity_text,
    parse_html,
    trim,
    utf16_len,
)


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>a</b><strong>b</strong>", "ab", [("bold", 0, 1), ("bold", 1, 1)]),
        (
            "<i>x</i><em>y</em><u>z</u><ins>w</ins>",
            "xyzw",
            [("italic", 0, 1), ("italic", 1, 1), ("underline", 2, 1), ("underline", 3, 1)],
        ),
        (
            "<s>a</s><strike>b</strike><del>c</del>",
            "abc",
            [("strikethrough", 0, 1), ("strikethrough", 1, 1), ("strikethrough", 2, 1)],
        ),
        (
            '<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span>',
            "ab",
            [("spoiler", 0, 1), ("spoiler", 1, 1)],
        ),
        (
            "<blockquote>q</blockquote><blockquote expandable>e</blockquote>",
            "qe",
            [("blockquote", 0, 1), ("expandable_blockquote", 1, 1)],
        ),
        ("<b>😀<i>x</i></b>", "😀x", [("bold", 0, 3), ("italic", 2, 1)]),
        ("&lt;&gt;&amp;&quot;&#20013;&#x6587;", '<>&"中文', []),
        ("&unknown; & x", "&unknown; & x", []),
        ("<b></b>x", "x", []),
    ],
)
def test_tags_become_entities(source: str, text: str, entities: list[tuple]) -> None:
    parsed_text, parsed = parse_html(source)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


def test_pre_with_language_and_links() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre> <a href="t.me/x">here</a>'
    )
    assert text == "x = 1 here"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "text_link", "offset": 6, "length": 4, "url": "http://t.me/x"},
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("中<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("中</b>", "Unexpected end tag at byte offset 3"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        (
            "<b x>y</b>",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
        ),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_malformed_html_is_rejected(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value) == error


def test_automatic_entities() -> None:
    text = "/start@duban_bot 请 @liaison_1 看 #督办 https://gov.cn/a. mail a.b@c.org"
    found = detect_entities(text, [])
    assert [(e["type"], entity_text(text, e)) for e in found] == [
        ("bot_command", "/start@duban_bot"),
        ("mention", "@liaison_1"),
        ("hashtag", "#督办"),
        ("url", "https://gov.cn/a"),
        ("email", "a.b@c.org"),
    ]


def test_no_automatic_entities_inside_code() -> None:
    text, entities = parse_html("<code>/start</code> /help")
    assert [e["type"] for e in detect_entities(text, entities)] == ["code", "bot_command"]


def test_trim_shifts_entities() -> None:
    assert trim("  ab \n", [{"type": "bold", "offset": 1, "length": 4}]) == (
        "ab",
        [{"type": "bold", "offset": 0, "length": 2}],
    )


@given(st.text())
def test_escaped_text_round_trips_without_entities(text: str) -> None:
    assert parse_html(html.escape(text, quote=False)) == (text, [])


@given(st.lists(st.tuples(st.sampled_from(["b", "i", "u", "s", "code"]), st.text(min_size=1))))
def test_entities_stay_inside_the_text(parts: list[tuple[str, str]]) -> None:
    source = "".join(f"<{tag}>{html.escape(body)}</{tag}>" for tag, body in parts)
    text, entities = parse_html(source)
    assert text == "".join(body for _, body in parts)
    for entity in entities:
        assert 0 <= entity["offset"] < entity["offset"] + entity["length"] <= utf16_len(text)
