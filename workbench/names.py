"""File-system-safe names derived from untrusted clip names."""

from __future__ import annotations

import unicodedata


def safe_name(text: str, *, fallback: str = "clip", max_chars: int = 80) -> str:
    """A file-system-safe folder name from an untrusted clip name: ASCII letters, digits, ``._-``."""
    normal = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in normal).strip("._")
    return cleaned[:max_chars] or fallback
