"""Babel catalogs at run time: load, translate with an explicit locale, format.

Handlers use aiogram's `_()` inside an update. Code outside an update (scheduler jobs, the
sender) must name the locale: `gettext(msg, locale="en")`. Catalogs live in `locales/`
(`messages` domain). The `.mo` files are built by `python scripts/i18n.py compile` (CI and the
README's install commands run it); the catalogs are loaded ONCE per process, at start or on the
first translation, one Translations object per locale: a call is a dict lookup, no file is
looked at. A `.mo` missing (a fresh checkout) or older than its `.po` at that moment is compiled
first, once, so `python -m bot` works without the build step.
"""

from __future__ import annotations

import gettext as _gettext
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent

if TYPE_CHECKING:  # aiogram loads with the dispatcher, not with every translated text
    from aiogram.utils.i18n import I18n

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


def load_catalogs(locales_dir: Path = LOCALES_DIR) -> dict[str, _gettext.NullTranslations]:
    """One Translations object per locale (an empty one where no catalog exists), after
    compiling any `.mo` that is missing or stale."""
    compile_catalogs(locales_dir)
    catalogs: dict[str, _gettext.NullTranslations] = {}
    for locale in LOCALES:
        mo_path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo_path.exists():
            with mo_path.open("rb") as fh:
                catalogs[locale] = _gettext.GNUTranslations(fh)
        else:
            catalogs[locale] = _gettext.NullTranslations()
    return catalogs


# The process's catalogs: filled once (make_i18n at start, or the first translation).
_CATALOGS: dict[str, _gettext.NullTranslations] = {}


def make_i18n(locales_dir: Path = LOCALES_DIR, default_locale: str = DEFAULT_LOCALE) -> I18n:
    """The aiogram I18n for the dispatcher's middleware; the catalogs are loaded here, once."""
    from aiogram.utils.i18n import I18n

    if not _CATALOGS:
        _CATALOGS.update(load_catalogs(locales_dir))
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


def translations(locale: str) -> _gettext.NullTranslations:
    """The loaded catalog of `locale` (a supported one: see `normalize_locale`)."""
    try:
        return _CATALOGS[locale]
    except KeyError:
        if not _CATALOGS:  # the first translation of a process that did not call make_i18n
            _CATALOGS.update(load_catalogs())
        return _CATALOGS.get(locale) or _gettext.NullTranslations()


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
