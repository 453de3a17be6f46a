"""Hashing of files: the SHA-256 that custody records and manifests are built on."""

from __future__ import annotations

import hashlib
import os

HASH_BLOCK_BYTES = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Return the SHA-256 hex digest of a file, streamed in 1 MiB blocks.

    Parameters
    ----------
    path : path-like
        File to hash. It is opened read-only.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(HASH_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
