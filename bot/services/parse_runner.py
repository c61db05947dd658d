"""Run the importer out of process, so a pathological upload cannot starve the bot.

A parse in the bot's process would hold the event loop (or a thread of the default pool that
/export shares) for as long as the document takes, and its memory would be the bot's. A
`ProcessParser` is created once at start-up and injected into the dispatcher; each call runs a
function in a fresh child process (forked from a forkserver that already imported the
importer, so no interpreter start-up per upload), waits for its answer on a pipe through the
event loop (no thread is blocked), and kills the child when `timeout` passes (ParseTimeout).
The child's address space is capped (`memory_limit`): a decompression bomb ends in a
MemoryError there (ParseFailed), never in the bot. At most `max_workers` children run at once;
waiting for a free slot does not count towards the timeout. As with any start method but
fork, the program's main module must be safe to import (`if __name__ == "__main__":`);
`python -m bot` is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from bot.core.errors import CodedError, DubanError

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds a chat upload may take to parse
MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space of one parse
PRELOAD = ("bot.services.plan_upload",)


class ParseTimeout(DubanError):
    """The parse did not finish within the timeout; the child was killed."""


class ParseFailed(DubanError):
    """The child ended without an answer (killed, out of memory, crashed)."""


class ParseRejected(CodedError):
    """The parse function raised a ServiceError: `code` and `params` as it gave them."""

    def __init__(self, code: str, params: dict[str, Any]) -> None:
        super().__init__(code, **params)


def _child(
    conn: Connection, func: Callable[..., Any], args: tuple[Any, ...], memory_limit: int | None
) -> None:
    """The child's body: cap memory, run, send one answer, exit."""
    if memory_limit:
        with contextlib.suppress(ImportError, ValueError, OSError):
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        answer: tuple[Any, ...] = ("ok", func(*args))
    except MemoryError:
        answer = ("failed", "out of memory")
    except Exception as exc:
        code = getattr(exc, "code", None)
        params = getattr(exc, "params", None)
        if isinstance(code, str) and isinstance(params, dict):  # a ServiceError
            answer = ("rejected", code, {k: str(v) for k, v in params.items()})
        else:
            answer = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(answer)
    except Exception as exc:  # e.g. an unpicklable result
        conn.send(("failed", f"cannot return the result: {type(exc).__name__}"))
    finally:
        conn.close()


def _settle(future: asyncio.Future[None]) -> None:
    """Mark `future` done (a reader callback: the fd may signal more than once)."""
    if not future.done():
        future.set_result(None)


class ProcessParser:
    """`await parser.run(func, *args)`: `func(*args)` in a child process (module docstring).
    `func` and its arguments must be picklable (a module-level function)."""

    def __init__(
        self,
        *,
        timeout: float | None = TIMEOUT,
        memory_limit: int | None = MEMORY_LIMIT,
        max_workers: int = 1,
        context: Any = None,
    ) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.max_workers = max_workers
        if context is None and "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(PRELOAD))
        elif context is None:  # no forkserver (Windows): a fresh interpreter per parse
            context = multiprocessing.get_context("spawn")
        self._context = context
        self._slots: asyncio.Semaphore | None = None

    def warm_up(self) -> None:
        """Start the forkserver now: it imports the importer once, in the background, so the
        first upload does not wait for it (about a second)."""
        if self._context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """The function's result. Raises ParseTimeout, ParseFailed or ParseRejected."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_workers)
        async with self._slots:
            return await self._run(func, args)

    async def _run(self, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        loop = asyncio.get_running_loop()
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_child, args=(sender, func, args, self.memory_limit), daemon=True
        )
        try:
            # in a thread: the forkserver's answer (the child's pid) waits for the server to
            # have imported PRELOAD, about a second at its first use
            await asyncio.to_thread(process.start)
        finally:
            sender.close()
        readable = loop.create_future()
        fd = receiver.fileno()
        loop.add_reader(fd, _settle, readable)
        try:
            try:
                await asyncio.wait_for(readable, self.timeout)
            except TimeoutError:
                log.warning("parse in process %s took over %ss: killed", process.pid, self.timeout)
                raise ParseTimeout() from None
            try:
                answer = receiver.recv()
            except (EOFError, OSError):
                raise ParseFailed(f"the parse process ended ({process.exitcode})") from None
        finally:
            loop.remove_reader(fd)
            receiver.close()
            await self._reap(process)
        if answer[0] == "ok":
            return answer[1]
        if answer[0] == "rejected":
            raise ParseRejected(answer[1], answer[2])
        raise ParseFailed(answer[1])

    @staticmethod
    async def _reap(process: Any) -> None:
        """Kill the child if it still runs and collect it without blocking the loop."""
        if process.is_alive():
            process.kill()
        loop = asyncio.get_running_loop()
        ended = loop.create_future()
        try:
            loop.add_reader(process.sentinel, _settle, ended)
        except (OSError, ValueError):
            process.join(1)
            return
        try:
            await asyncio.wait_for(ended, 5)
        except TimeoutError:  # pragma: no cover - a killed process always ends
            log.warning("parse process %s did not end after kill", process.pid)
        finally:
            loop.remove_reader(process.sentinel)
        process.join(0)
        with contextlib.suppress(ValueError):
            process.close()
