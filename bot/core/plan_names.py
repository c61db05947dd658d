"""How a message names a plan: its code and a short name, never the full title.

Plan titles are long ("上饶市关于落实《江西省…三年行动计划（2023-2025年）》的实施意见", 60
characters); a reminder that repeats one fills a phone screen. `plan_label(code,
title)` gives "SR 上饶市实施意见": the code (the prefix of every ref, what /task and /my show)
and `short_plan_name(title)`: the title without bracketed asides (years, 征求意见稿), without the
cited document of a "关于落实《…》的" wrapper, and cut in the middle beyond `limit` characters
keeping its head (the issuer) and tail (规划 / 行动计划 / 实施意见). Pure.
"""

from __future__ import annotations

import re

_ASIDE = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_CITED = re.compile(r"关于(?:认真)?(?:贯彻)?(?:落实|印发|执行|推进|实施)?《[^》]*》的?")
_BOOK = re.compile(r"[《》]")
_SPACE = re.compile(r"\s+")


def short_plan_name(title: str, limit: int = 14) -> str:
    """A plan's title in at most `limit` (+1 for the "…") characters; see the module doc."""
    text = _ASIDE.sub("", title or "")
    text = _CITED.sub("", text)
    text = _BOOK.sub("", _SPACE.sub("", text)).strip("，,、 ")
    if not text:
        text = (title or "").strip()
    if len(text) <= limit:
        return text
    tail = 4 if limit >= 10 else 0
    return text[: limit - tail] + "…" + (text[-tail:] if tail else "")


def plan_label(code: str, title: str, limit: int = 14) -> str:
    """ "SR 上饶市实施意见": the plan's code and short name (either alone when the other is
    missing)."""
    name = short_plan_name(title, limit) if title else ""
    if code and name:
        return f"{code} {name}"
    return code or name
