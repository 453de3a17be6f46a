"""Output folders claimed before anything is decoded: made, locked to one run at a time, and
shown to be writable, each failure one line (exit 6) rather than a traceback mid-run.

The lock is ``flock`` on an open descriptor of the folder (no lock file is left in the folder for
``verify`` to find), released when the descriptor closes, so a run that is killed releases it too.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from workbench.core.errors import OutputError


@contextmanager
def claimed(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the body, making the folder (and its parents) first and
    checking that a file can be written in it; a folder made here and left empty is removed.

    Raises
    ------
    OutputError
        When the folder cannot be made, opened or written, or another process holds its lock.
    """
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise OutputError(f"{folder}: the output folder cannot be made ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"{folder}: another workbench run is writing here; wait for it to finish") from None
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise OutputError(f"{folder}: the output folder cannot be written ({exc.strerror or exc})") from None
        yield
    finally:
        os.close(handle)
        if made and not any(folder.iterdir()):
            folder.rmdir()  # a run that wrote nothing leaves nothing, not even its folder
