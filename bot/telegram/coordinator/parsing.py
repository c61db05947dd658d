"""Parsing of the coordinator's command arguments (pure). Errors are ServiceErrors with a code
that the handler turns into one line (bot.telegram.coordinator.texts)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.errors import ServiceError
from bot.telegram.parsing import normalize


@dataclass(frozen=True)
class RefArgs:
    """`REF [UNIT] [reason…]` split into the ref and the words after it. Whether the first
    word names a unit is decided against the item's units (bot.services.coordination).
    `text` is everything after the ref exactly as typed (full-width punctuation, line
    breaks): a reason reaches the liaison as the coordinator wrote it."""

    ref: str
    rest: tuple[str, ...] = ()
    text: str = ""


def parse_ref_args(args: str | None, usage: str) -> RefArgs:
    """`/confirm SR-12 市卫健委` → RefArgs("SR-12", ("市卫健委",), "市卫健委"). Only the ref is
    normalised (full-width letters and digits). Code: `usage` when empty."""
    head = (args or "").strip().split(maxsplit=1)
    if not head:
        raise ServiceError(usage)
    text = head[1].strip() if len(head) > 1 else ""
    return RefArgs(normalize(head[0]), tuple(text.split()), text)


def parse_optional(args: str | None) -> str | None:
    """`/status`, `/status SR`, `/status 市卫健委`: the one optional argument, trimmed."""
    text = normalize(args or "")
    return text or None


def parse_required(args: str | None, usage: str) -> str:
    text = parse_optional(args)
    if text is None:
        raise ServiceError(usage)
    return text


SCOPE_ALL = "a"


def scope_token(plan_id: int | None = None, unit_id: int | None = None) -> str:
    """A scope on the wire (callback data): `a`, `p12`, `u5`."""
    if plan_id is not None:
        return f"p{plan_id}"
    if unit_id is not None:
        return f"u{unit_id}"
    return SCOPE_ALL


def parse_scope_token(token: str) -> tuple[int | None, int | None]:
    """(plan_id, unit_id) of a scope token; (None, None) for all (and anything malformed)."""
    if len(token) > 1 and token[0] in "pu" and token[1:].isdigit():
        value = int(token[1:])
        return (value, None) if token[0] == "p" else (None, value)
    return None, None
