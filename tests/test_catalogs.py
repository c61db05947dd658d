"""The catalogs are complete: every msgid of the code is in zh_CN and en, translated, not fuzzy."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    return _tool()


@pytest.fixture(scope="module")
def code_ids(tool):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in tool.template() if m.id}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_msgid_of_the_code_is_in_the_catalog(tool, code_ids, locale):
    catalog = tool.read(locale)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    missing = sorted(code_ids - known)
    assert not missing, f"run scripts/i18n.py extract; missing in {locale}: {missing[:10]}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_no_untranslated_or_fuzzy_entries(tool, locale):
    found = [p for p in tool.problems() if p.startswith(f"{locale}:")]
    assert not found, f"{len(found)} problems, first: {found[:10]}"


def test_placeholders_survive_translation(tool):
    """A zh_CN string keeps exactly the %(name)s placeholders of its msgid."""
    import re

    pattern = re.compile(r"%\(\w+\)s|\{\w+\}")
    bad = []
    for message in tool.read("zh_CN"):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(pattern.findall(ids[-1]))
        for string in strings:
            if string and set(pattern.findall(string)) != wanted:
                bad.append((ids[0], string))
    assert not bad, bad[:10]
