"""Catalogs are compiled by the build step and loaded once: a translation reads no file."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot import i18n

SORRY = "Sorry, something went wrong. Please try again later."


def test_a_translation_looks_at_no_file(monkeypatch):
    i18n.gettext(SORRY, locale="zh_CN")  # the catalogs are loaded by now
    looked: list[object] = []
    real_stat = Path.stat

    def stat(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        looked.append(self)
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    monkeypatch.setattr(Path, "exists", lambda self: looked.append(self) or True)
    for _ in range(100):
        assert i18n.gettext(SORRY, locale="zh_CN") != SORRY
        assert i18n.gettext(SORRY, locale="en") == SORRY
        assert i18n.ngettext("{n} item", "{n} items", 2, locale="en") == "{n} items"
    assert looked == []


def test_a_missing_mo_is_compiled_once_when_loading(tmp_path):
    for locale in i18n.LOCALES:
        source = i18n.LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
        target = tmp_path / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(source, target / "messages.po")  # a fresh checkout: no .mo
    catalogs = i18n.load_catalogs(tmp_path)
    assert sorted(p.parent.parent.name for p in tmp_path.glob("*/LC_MESSAGES/*.mo")) == [
        "en",
        "zh_CN",
    ]
    assert catalogs["zh_CN"].gettext(SORRY) != SORRY
    assert i18n.compile_catalogs(tmp_path) == []  # up to date: nothing written again
