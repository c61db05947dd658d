"""Babel catalogs at run time: compile, load, translate with an explicit locale, format.

Handlers use aiogram's `_()` inside an update. Code outside an update (scheduler jobs, the
sender) must name the locale: `gettext(msg, locale="en")`. Catalogs live in `locales/`
(`messages` domain); `.mo` files are compiled from the `.po` files when missing or stale.
"""

from __future__ import annotations

import gettext as _gettext
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def normalize_locale(code: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Map a Telegram language_code or a user's choice ("zh", "zh-hans", "en-US") to a catalog."""
    if not code:
        return default
    code = code.replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return default


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; return the files written."""
    written: list[Path] = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parts[-3])
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        tmp.replace(mo_path)  # atomic: a running bot never reads half a file
        written.append(mo_path)
    return written


def make_i18n(locales_dir: Path = LOCALES_DIR, default_locale: str = DEFAULT_LOCALE) -> I18n:
    """The aiogram I18n for the dispatcher's middleware, catalogs compiled first."""
    compile_catalogs(locales_dir)
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


@lru_cache(maxsize=8)
def _translations(locales_dir: str, locale: str, _stamp: float) -> _gettext.NullTranslations:
    mo_path = Path(locales_dir) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo_path.exists():
        return _gettext.NullTranslations()
    with mo_path.open("rb") as fh:
        return _gettext.GNUTranslations(fh)


def translations(locale: str, locales_dir: Path = LOCALES_DIR) -> _gettext.NullTranslations:
    """The compiled catalog of `locale`, reloaded when its `.mo` file changes."""
    mo_path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    po_path = mo_path.with_suffix(".po")
    if po_path.exists() and (
        not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime
    ):
        compile_catalogs(locales_dir)
    stamp = mo_path.stat().st_mtime if mo_path.exists() else 0.0
    return _translations(str(locales_dir), locale, stamp)


def gettext(message: str, *, locale: str) -> str:
    """Translate `message` into `locale` outside an update's context."""
    return translations(normalize_locale(locale)).gettext(message)


def ngettext(singular: str, plural: str, n: int, *, locale: str) -> str:
    return translations(normalize_locale(locale)).ngettext(singular, plural, n)


def _babel_locale(locale: str) -> str:
    return "zh_Hans_CN" if normalize_locale(locale) == "zh_CN" else "en"


def format_date(value: date, *, locale: str, style: str = "medium") -> str:
    """`2025年12月31日` in zh_CN, `Dec 31, 2025` in en."""
    return _babel_date(value, format=style, locale=_babel_locale(locale))


def format_datetime(value: datetime, *, locale: str, zone: tzinfo, style: str = "short") -> str:
    """A UTC instant shown in the plan's time zone."""
    return _babel_datetime(value, format=style, tzinfo=zone, locale=_babel_locale(locale))


def format_number(value: float | int, *, locale: str) -> str:
    return format_decimal(value, locale=_babel_locale(locale))


def format_percent(ratio: float | None, *, locale: str) -> str:
    """A ratio 0..1 as a percentage with one decimal at most; None → "—"."""
    if ratio is None:
        return "—"
    return _babel_percent(ratio, format="#,##0.#%", locale=_babel_locale(locale))
