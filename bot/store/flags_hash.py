"""A short hash of a decision's stored flags, so the sweep rewrites only flags that changed."""

from __future__ import annotations

import hashlib
import json

# An item with no flags (what an import stores) hashes to the column's default; a row whose
# flags were stored before the hash existed carries UNKNOWN, which no flags hash to.
UNKNOWN = "-"
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def flags_hash(flags: list[dict[str, str]]) -> str:
    """The empty string for no flags, else a digest of their canonical JSON (in their order)."""
    if not flags:
        return ""
    return hashlib.blake2b(_ENCODE(flags).encode(), digest_size=12).hexdigest()
