"""Run untrusted decoding in a child process with a time and an address-space limit.

A file that makes a decoder hang, crash or allocate without end costs that one clip an
:class:`EvidenceError`, not the whole run. What a decoder library prints on its own (libmpg123's
``Note: Illegal Audio-MPEG-Header ...``) never reaches the user's terminal: the child's file
descriptor 2 goes to a temporary file, handed back to the caller as the decoder's messages.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import tempfile
import traceback
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from workbench.core.errors import EvidenceError, WorkbenchError

DEFAULT_MEMORY_BYTES = 8 << 30
"""Address space a decoder may add to what the process already maps."""
MAX_MESSAGE_BYTES = 4096
"""Of a decoder's own messages, this much is kept."""


@contextmanager
def silenced_stderr(*, keep: bool = True) -> Iterator[list[str]]:
    """Send file descriptor 2 (where C libraries print) to a temporary file for the block; the
    yielded list receives what was written there (at most ``MAX_MESSAGE_BYTES``) afterwards.
    With ``keep`` False (a read whose messages the probe already recorded), or when no temporary
    file can be made, fd 2 goes to the null device and nothing is kept."""
    sys.stderr.flush()
    saved = os.dup(2)
    said: list[str] = []
    try:
        sink = tempfile.TemporaryFile() if keep else open(os.devnull, "w+b")
    except OSError:  # no writable TMPDIR: the messages are dropped, never shown
        sink = open(os.devnull, "w+b")
    with sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield said
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said.extend(sink.read(MAX_MESSAGE_BYTES).decode("utf-8", "replace").splitlines())


def _mapped_bytes() -> int:
    """Virtual memory the current process maps (VmSize), in bytes; 0 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(conn, func: Callable, args: tuple, memory_bytes: int) -> None:
    with silenced_stderr() as said:
        try:
            limit = _mapped_bytes() + memory_bytes
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or limit < hard:
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            message = ("ok", func(*args))
        except WorkbenchError as exc:
            message = ("error", type(exc).__name__, str(exc))
        except MemoryError:
            message = ("error", "EvidenceError", "decoding needed more memory than allowed")
        except BaseException as exc:  # anything else a hostile file provokes inside a decoder
            where = traceback.extract_tb(exc.__traceback__)[-1]
            message = ("error", "EvidenceError",
                       f"the decoder failed ({type(exc).__name__}: {exc} at {os.path.basename(where.filename)})")
    try:
        conn.send((*message, said))
    finally:
        conn.close()


def run_limited(func: Callable[..., Any], *args: Any, timeout_s: float,
                memory_bytes: int | None = None, messages: list[str] | None = None) -> Any:
    """Call ``func(*args)`` in a forked child limited to ``timeout_s`` seconds and
    ``memory_bytes`` (default ``DEFAULT_MEMORY_BYTES``) of extra address space; return its
    (picklable) result. What the child printed on file descriptor 2 is appended to ``messages``.

    Raises
    ------
    EvidenceError
        When the child times out, dies, runs out of memory or raises anything but a
        :class:`WorkbenchError` (which is re-raised as it was).
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    memory = DEFAULT_MEMORY_BYTES if memory_bytes is None else memory_bytes
    process = context.Process(target=_child, args=(send, func, args, memory), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise EvidenceError(f"decoding did not finish within {timeout_s:.0f} s")
        try:
            message = receive.recv()
        except EOFError:
            raise EvidenceError(f"the decoder crashed (exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receive.close()
    if messages is not None:
        messages.extend(message[-1])
    if message[0] == "ok":
        return message[1]
    from workbench.core import errors

    raise getattr(errors, message[1], EvidenceError)(message[2])
