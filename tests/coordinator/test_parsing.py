"""Argument parsing of every coordinator command (pure)."""

from __future__ import annotations

import pytest

from bot.services.errors import ServiceError
from bot.telegram.coordinator.parsing import (
    RefArgs,
    parse_optional,
    parse_ref_args,
    parse_required,
    parse_scope_token,
    scope_token,
)
from bot.telegram.coordinator.upload import import_code


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("SR-12", RefArgs("SR-12")),
        ("  sr-12   市卫健委 ", RefArgs("sr-12", ("市卫健委",), "市卫健委")),
        (
            "SR-12 市卫健委 材料 不全",
            RefArgs("SR-12", ("市卫健委", "材料", "不全"), "市卫健委 材料 不全"),
        ),
        ("ＳＲ－１２　理由", RefArgs("SR-12", ("理由",), "理由")),  # full-width, ideographic space
        # what follows the ref is kept as typed: full-width punctuation, line breaks
        (
            "SR-12 材料不全，请补充：（盖章）！\n第二行",
            RefArgs(
                "SR-12",
                ("材料不全，请补充：（盖章）！", "第二行"),
                "材料不全，请补充：（盖章）！\n第二行",
            ),
        ),
    ],
)
def test_ref_args(args, expected):
    assert parse_ref_args(args, "confirm_usage") == expected


@pytest.mark.parametrize("args", [None, "", "   ", "\u3000"])
def test_ref_args_missing(args):
    for command in ("confirm", "return", "approve", "deny", "remind"):
        with pytest.raises(ServiceError) as exc:
            parse_ref_args(args, f"{command}_usage")
        assert exc.value.code == f"{command}_usage"


def test_optional_and_required():
    assert parse_optional(None) is None and parse_optional("  ") is None
    assert parse_optional(" SR ") == "SR"
    assert parse_optional("市卫健委") == "市卫健委"
    assert parse_required("市财政局", "unit_usage") == "市财政局"
    with pytest.raises(ServiceError) as exc:
        parse_required("", "unit_usage")
    assert exc.value.code == "unit_usage"


@pytest.mark.parametrize(
    ("plan_id", "unit_id", "token"), [(None, None, "a"), (12, None, "p12"), (None, 5, "u5")]
)
def test_scope_tokens_round_trip(plan_id, unit_id, token):
    assert scope_token(plan_id, unit_id) == token
    assert parse_scope_token(token) == (plan_id, unit_id)


@pytest.mark.parametrize("token", ["", "x", "p", "pX", "u-1", "q3"])
def test_malformed_scope_tokens_mean_all(token):
    assert parse_scope_token(token) == (None, None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, None),
        ("", None),
        ("/import", None),
        ("/import sr", "SR"),
        ("/import@duban_bot LN-2", "LN-2"),
        ("SR2", "SR2"),
        ("/import 上饶", None),  # codes are ASCII
        ("/import S R", "S"),
    ],
)
def test_import_code(text, code):
    assert import_code(text) == code


def test_callback_data_fits_64_bytes():
    from bot.telegram.coordinator.callbacks import CoordAct, ImportAct, StatusView, UnitsPage
    from bot.telegram.limits import MAX_CALLBACK

    packed = [
        StatusView(view="o", scope="p123456789", page=99999).pack(),
        CoordAct(action="approve", assignment_id=10**12).pack(),
        ImportAct(token="A" * 8, act="c", v=10**9).pack(),
        UnitsPage(page=10**6).pack(),
    ]
    assert all(len(p.encode()) <= MAX_CALLBACK for p in packed)
