"""Catalog tool for developers: extract messages, update the zh_CN and en catalogs, set
translations, check completeness. Holds a file lock so several people can run it at once.

    python scripts/i18n.py extract             # scan bot/ and schedules/, update both .po files
    python scripts/i18n.py set zh_CN MSGID MSGSTR   # plural forms separated by "||"
    python scripts/i18n.py set-tsv FILE.tsv    # lines: msgid<TAB>zh_CN[<TAB>en]
    python scripts/i18n.py check               # untranslated or fuzzy entries: exit 1
    python scripts/i18n.py compile             # .po → .mo: the build step (CI, install)

`extract`, `set` and `set-tsv` compile the catalogs they change too. The bot loads the .mo
files once at start (compiling, once, any that is missing or stale).
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
SOURCES = ("bot", "schedules")
KEYWORDS = {
    "_": None,
    "__": None,
    "N_": None,  # bot.telegram.errors: marked here, translated where shown
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
CATALOG_LOCALES = ("zh_CN", "en")


def po_path(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


@contextmanager
def locked() -> Iterator[None]:
    LOCALES.mkdir(parents=True, exist_ok=True)
    with (LOCALES / ".catalog.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="duban-bot", domain="messages")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def write(locale: str, catalog: Catalog) -> None:
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".po.tmp")
    with tmp.open("wb") as fh:
        write_po(fh, catalog, width=99, omit_header=False, sort_output=True)
    tmp.replace(path)


def template() -> Catalog:
    catalog = Catalog(project="duban-bot", domain="messages")
    for source in SOURCES:
        directory = ROOT / source
        for filename, lineno, message, comments, context in extract_from_dir(
            directory, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            catalog.add(
                message,
                locations=[(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return catalog


def fill_english(catalog: Catalog) -> None:
    """The English catalog translates each English msgid to itself unless edited."""
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string or ()):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")


def extract() -> None:
    tmpl = template()
    for locale in CATALOG_LOCALES:
        catalog = read(locale)
        catalog.update(tmpl, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":
            fill_english(catalog)
        write(locale, catalog)
    print(f"{len(tmpl)} messages")


def _assign(catalog: Catalog, msgid: str, msgstr: str) -> bool:
    """Set one translation; a plural entry takes its forms separated by "||" (the last form
    repeats to fill the locale's number of plural forms)."""
    message = catalog.get(msgid)
    if message is None:
        catalog.add(msgid, msgstr)
        return False
    if message.pluralizable:
        forms = [form.strip() for form in msgstr.split("||")]
        forms += [forms[-1]] * (catalog.num_plurals - len(forms))
        message.string = tuple(forms[: catalog.num_plurals])
    else:
        message.string = msgstr
    message.flags.discard("fuzzy")
    return True


def set_translation(locale: str, msgid: str, msgstr: str) -> bool:
    catalog = read(locale)
    found = _assign(catalog, msgid, msgstr)
    write(locale, catalog)
    return found


def set_tsv(path: Path) -> None:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    for locale_index, locale in ((1, "zh_CN"), (2, "en")):
        catalog = read(locale)
        for row in rows:
            if len(row) <= locale_index or not row[locale_index]:
                continue
            msgid = row[0].replace("\\n", "\n")
            _assign(catalog, msgid, row[locale_index].replace("\\n", "\n"))
        write(locale, catalog)


def problems() -> list[str]:
    found: list[str] = []
    for locale in CATALOG_LOCALES:
        for message in read(locale):
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(f"{locale}: untranslated: {message.id!r}")
            elif message.fuzzy:
                found.append(f"{locale}: fuzzy: {message.id!r}")
    return found


def compile_all() -> list[Path]:
    """.po → .mo for every catalog whose .mo is missing or older; the files written."""
    sys.path.insert(0, str(ROOT))
    from bot.i18n import compile_catalogs

    return compile_catalogs(LOCALES)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, *rest = argv
    with locked():
        if command == "extract":
            extract()
            compile_all()
        elif command == "set" and len(rest) == 3:
            set_translation(rest[0], rest[1].replace("\\n", "\n"), rest[2].replace("\\n", "\n"))
            compile_all()
        elif command == "set-tsv" and len(rest) == 1:
            set_tsv(Path(rest[0]))
            compile_all()
        elif command == "check":
            found = problems()
            for line in found:
                print(line)
            return 1 if found else 0
        elif command == "compile":
            for path in compile_all():
                print(path.relative_to(ROOT))
        else:
            print(__doc__)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
