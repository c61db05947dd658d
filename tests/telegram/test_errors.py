"""One error hierarchy and one catalog: every code a service or the status rules raise has
one text, translated in both languages, and only the text shown is translated."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.errors import CodedError, DubanError, InvalidInput
from bot.core.status import TransitionError
from bot.services.errors import ServiceError
from bot.telegram import errors
from bot.telegram.errors import MESSAGES, error_line, error_text

ROOT = Path(__file__).resolve().parents[2]
CODED = ("ServiceError", "TransitionError", "ParseRejected")
# raised, but never shown in a chat: the CLI's own messages (bot.people_cli), a code turned
# into another by the import review, guards against forged callback data
NOT_SHOWN = {"person_unknown", "nothing_to_remove", "plan_code_taken", "unknown_role"}
NOT_SHOWN |= {"unknown_action"}


def raised_codes() -> set[str]:
    """Codes given literally to a coded error anywhere in bot/, and the usage codes."""
    codes: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in CODED and node.args and isinstance(node.args[0], ast.Constant):
                    codes.add(node.args[0].value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"[a-z]+_usage", node.value):
                    codes.add(node.value)
    # f"nothing_pending_{action}" (bot.services.coordination)
    codes |= {f"nothing_pending_{a}" for a in ("confirm", "return", "approve", "deny", "remind")}
    return codes


def test_every_raised_code_has_a_text():
    missing = sorted(raised_codes() - set(MESSAGES) - NOT_SHOWN)
    assert not missing, f"add these codes to bot.telegram.errors.MESSAGES: {missing}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_text_is_translated(locale):
    path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    for code, msgid in [*MESSAGES.items(), ("unknown", errors.UNKNOWN)]:
        message = catalog.get(msgid)
        assert message is not None and message.string, f"{code}: {msgid!r} not in {locale}"
        assert not message.fuzzy, f"{code}: fuzzy in {locale}"


def test_each_code_is_rendered_in_each_language():
    for code in MESSAGES:
        zh = error_text(code, {}, locale="zh_CN")
        en = error_text(code, {}, locale="en")
        assert zh and en and "did not work" not in en, code
    assert error_text("unknown_ref", {}, locale="zh_CN") != error_text(
        "unknown_ref", {}, locale="en"
    )


def test_only_the_text_shown_is_translated(monkeypatch):
    calls: list[str] = []
    real = errors.gettext

    def counting(msgid: str, **kw):
        calls.append(msgid)
        return real(msgid, **kw)

    monkeypatch.setattr(errors, "gettext", counting)
    error_line(ServiceError("unknown_ref", ref="SR-99"), "zh_CN")
    assert calls == [MESSAGES["unknown_ref"]]


def test_parameters_are_quoted_back_safely():
    line = error_line(TransitionError("extension_date_past", date=date(2026, 3, 31)), "en")
    assert "2026" in line and "%(" not in line
    line = error_line(ServiceError("unknown_ref", ref="<b>" + "x" * 400), "en")
    assert "&lt;b&gt;" in line and "x" * 400 not in line
    line = error_line(ServiceError("ambiguous_unit", unit="市", candidates=["甲", "乙"]), "zh_CN")
    assert "甲、乙" in line
    assert "did not work" in error_text("no_such_code", {}, locale="en")


def test_one_hierarchy():
    from bot.app import StartupError, _is_input_error
    from bot.config import SettingsError
    from bot.core.units import UnitDirectoryError
    from bot.importer.errors import PlanInputError
    from bot.services.parse_runner import ParseFailed, ParseRejected, ParseTimeout
    from bot.storage.loader import LoadError
    from bot.storage.migrate import MigrationError
    from bot.webhook import WebhookError

    for cls in (ServiceError, TransitionError, ParseRejected):
        assert issubclass(cls, CodedError)
    for cls in (PlanInputError, LoadError, MigrationError, UnitDirectoryError):
        assert issubclass(cls, InvalidInput)
    for cls in (ParseTimeout, ParseFailed, SettingsError, StartupError, WebhookError):
        assert issubclass(cls, DubanError)
    assert issubclass(UnitDirectoryError, ValueError)  # callers that catch ValueError still do
    # start-up recognises the operator's input errors by class, not by name
    assert _is_input_error(PlanInputError("plan.yaml", "bad", line=3))
    assert not _is_input_error(ServiceError("unknown_ref"))
    # every coded error class renders through the one catalog
    for cls in CodedError.__subclasses__():
        exc = cls("unknown_ref", {"ref": "SR-1"}) if cls is ParseRejected else cls("unknown_ref")
        assert error_line(exc, "en").startswith("No item")
