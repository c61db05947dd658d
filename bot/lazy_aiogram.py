"""Import aiogram with its Telegram types built on first use instead of at import.

aiogram declares its ~440 Telegram types with pydantic's `defer_build`, then the body of
`aiogram.types` rebuilds every one of them (`model_rebuild(_types_namespace=...)`), and each
rebuild generates again the schemas of all the types it contains. On the 2-core machine this
project is measured on that is ~4 of the ~5.5 seconds `import aiogram` costs, most of local
mode's start-up and of every restart of the real bot.

`import_aiogram()` imports aiogram with exactly those calls skipped. Each skipped type keeps
the namespace aiogram passed (pydantic's `__pydantic_parent_namespace__`), and so does every
Bot API method, so pydantic builds a type the first time it is validated or serialised,
resolving the same names to the same types: the models are the same as aiogram's own (a test
compares the JSON schema of every type and method with an eager import), only the moment the
work is done changes, and most of it is never needed (a bot uses a few dozen of the types).

Nothing is skipped when aiogram is already imported, or when `aiogram.types` stops making
these calls; aiogram then behaves exactly as it does without this module.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

_TYPES_MODULE = "aiogram.types"
_lock = threading.Lock()


def import_aiogram() -> bool:
    """Import aiogram with its type models built lazily; True when this call did so, False
    when aiogram was imported already (then it is left as it is)."""
    with _lock:
        if _TYPES_MODULE in sys.modules:
            return False
        namespace = _import_deferring_type_rebuilds()
        if namespace is None:
            return False
        _give_methods_the_types_namespace(namespace)
        return True


def _import_deferring_type_rebuilds() -> Mapping[str, Any] | None:
    """Import aiogram while `BaseModel.model_rebuild` skips the calls made by the body of
    `aiogram.types`; returns the namespace those calls passed (None if there were none).

    The patch is in place only during this import and only skips calls whose caller is that
    module: the rebuilds pydantic itself makes meanwhile (parametrising `TelegramMethod[...]`,
    other threads' models) go through unchanged."""
    original = BaseModel.__dict__["model_rebuild"]
    seen: dict[str, Mapping[str, Any]] = {}

    def model_rebuild(
        cls: type[BaseModel],
        *args: Any,
        _types_namespace: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> bool | None:
        caller = sys._getframe(1).f_globals.get("__name__")
        if _types_namespace is not None and caller == _TYPES_MODULE:
            # pydantic merges this namespace in whenever it builds the class later
            cls.__pydantic_parent_namespace__ = _types_namespace  # type: ignore[assignment]
            seen["namespace"] = _types_namespace
            return None
        return original.__func__(cls, *args, _types_namespace=_types_namespace, **kwargs)

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.methods  # noqa: F401  (brings aiogram and aiogram.types)
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    return seen.get("namespace")


def _give_methods_the_types_namespace(namespace: Mapping[str, Any]) -> None:
    """pydantic resolves the names inside a nested type with the namespace of the model being
    built, and the modules of aiogram's types import many of the names they use only for type
    checking: a method built before the types it contains are complete (never the case after
    aiogram's eager import) must resolve those names as the types themselves do."""
    import aiogram.methods

    for name in aiogram.methods.__all__:
        method = getattr(aiogram.methods, name)
        if isinstance(method, type) and issubclass(method, BaseModel):
            method.__pydantic_parent_namespace__ = namespace  # type: ignore[assignment]


__all__ = ["import_aiogram"]
