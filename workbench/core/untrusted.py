"""Untrusted text: every string read from evidence, a model file or a log passes through here."""

from __future__ import annotations

import re
from typing import Any

MAX_TAG_CHARS = 4096
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(value: Any) -> str:
    """Make an untrusted value into valid UTF-8 text, at most ``MAX_TAG_CHARS`` long.

    Undecodable bytes, lone surrogates, control characters and bidirectional-override characters
    become backslash escapes (``\\x1b``, ``\\u202e``), so nothing is hidden or lost silently.
    """
    if isinstance(value, bytes):
        text = value.decode("utf-8", "backslashreplace")
    else:
        text = str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    # Control characters and bidirectional overrides would hide or reorder what a reader sees.
    text = _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if len(text) > MAX_TAG_CHARS:
        text = text[:MAX_TAG_CHARS] + f"... [{len(text) - MAX_TAG_CHARS} more characters]"
    return text
