from __future__ import annotations

from bot.core.textsearch import matches, query_words, snippet, spans


def test_words_are_folded_and_deduplicated():
    assert query_words("ＡＢＣ　abc 医院") == ["abc", "医院"]  # full-width space separates too


def test_spans_map_back_to_the_original_text():
    text = "建设ＡＢＣ医院和abc中心"
    assert [text[s:e] for s, e in spans(text, ["abc"])] == ["ＡＢＣ", "abc"]
    assert spans("甲乙丙", ["甲乙", "乙丙"]) == [(0, 3)]  # overlapping matches merge


def test_matches_needs_every_word():
    assert matches(["a", "b"], "xa", "yb") and not matches(["a", "c"], "xa", "yb")
    assert not matches([], "anything")


def test_snippet_around_the_first_match():
    text = "一" * 50 + "关键" + "二" * 50
    piece, before, after = snippet(text, ["关键"], 20)
    assert "关键" in piece and before and after and len(piece) == 20
    assert snippet("abc", ["x"], 10) is None
