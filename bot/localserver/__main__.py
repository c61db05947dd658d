"""Run the local Bot API server standalone: ``python -m bot.localserver --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .guard import KEY_HEADER
from .server import LocalBotApiServer


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.localserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback default)")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", help="accept only this bot token (default: first seen)")
    parser.add_argument("--bot-username", default="local_test_bot")
    parser.add_argument("--bot-first-name", default="Local Test Bot")
    parser.add_argument("--rate-limits", action="store_true", help="enforce flood limits")
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        dest="cors_origins",
        help="origin allowed to use /control/ from a browser (repeatable)",
    )
    parser.add_argument("--static-dir", help="directory served under /web/")
    parser.add_argument(
        "--control-key",
        help="key the control API requires in the X-Control-Key header (default: random, "
        "printed at start)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the server, print its URL, run until cancelled."""
    server = LocalBotApiServer(
        args.host,
        args.port,
        token=args.token,
        bot_username=args.bot_username,
        bot_first_name=args.bot_first_name,
        rate_limits=args.rate_limits,
        cors_origins=args.cors_origins,
        static_dir=args.static_dir,
        control_key=args.control_key,
    )
    async with server:
        print(f"Local Bot API server at {server.base_url}", flush=True)
        print(f"Control API key (header {KEY_HEADER}): {server.control_key}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
