"""Local mode: the bot, the local Bot API server, the scheduler and a web chat in one process.

`run_local(settings)` is what `python -m bot` runs when no BOT_TOKEN is set.
"""

from bot.localmode.runner import DEFAULT_CLOCK_START, LocalMode, local_bot_token, run_local

__all__ = ["DEFAULT_CLOCK_START", "LocalMode", "local_bot_token", "run_local"]
