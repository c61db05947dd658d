"""Describe aiogram's models as a fresh interpreter builds them, for test_lazy_aiogram.

    python -m tests.telegram.aiogram_models lazy|eager

Prints one JSON object: whether the import deferred the type builds, how many of the types
were complete right after the import, and a digest of the JSON schema of every Telegram type
and Bot API method (all generated in one pass, so the digest covers each field of each).
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from typing import Any


def describe(lazy: bool) -> dict[str, Any]:
    deferred = False
    if lazy:
        from bot.lazy_aiogram import import_aiogram

        deferred = import_aiogram()
    import aiogram.methods
    import aiogram.types
    from pydantic import BaseModel
    from pydantic.json_schema import GenerateJsonSchema, models_json_schema

    models = [
        getattr(module, name)
        for module in (aiogram.methods, aiogram.types)
        for name in sorted(module.__all__)
    ]
    models = [m for m in models if isinstance(m, type) and issubclass(m, BaseModel)]
    types = [m for m in models if m.__module__.startswith("aiogram.types.")]
    complete_after_import = sum(bool(t.__pydantic_complete__) for t in types)

    class Schemas(GenerateJsonSchema):
        def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> Any:
            return {"not representable": error_info}  # e.g. InputFile: compared as such

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, schema = models_json_schema(
            [(m, "validation") for m in models], schema_generator=Schemas
        )
    text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    return {
        "deferred": deferred,
        "models": len(models),
        "types": len(types),
        "complete_after_import": complete_after_import,
        "complete_after_use": sum(bool(t.__pydantic_complete__) for t in types),
        "schema_sha1": hashlib.sha1(text.encode()).hexdigest(),
    }


if __name__ == "__main__":
    print(json.dumps(describe(sys.argv[1] == "lazy")))
