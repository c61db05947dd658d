"""The 督办汇总 and 逾期事项清单 already keyed today (`bot.services.batching` numbers the next
one of a recipient's day as a follow-up)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.outbox.raw import fetch


async def batches_keyed(
    conn: AsyncConnection, kinds_plans: Iterable[tuple[str, str]], day: str
) -> dict[tuple[str, str, int], int]:
    """(kind, plan, chat) → how many summaries or lists of that kind and plan the chat has
    for `day`, keyed f"{kind}:{plan}:{day}|{chat}" or "…:{day}#n|{chat}"."""
    taken: dict[tuple[str, str, int], int] = defaultdict(int)
    for kind, plan in set(kinds_plans):
        prefix = f"{kind}:{plan}:{day}"
        for (key,) in await fetch(
            conn, "SELECT key FROM outbox WHERE key > ? AND key < ?", (prefix, prefix + "}")
        ):
            base, _, chat = key.rpartition("|")
            if base == prefix or base.startswith(prefix + "#"):
                taken[(kind, plan, int(chat))] += 1
    return taken
