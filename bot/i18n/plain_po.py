"""Compiling the catalogues as `bot.i18n.maintain` writes them, without Babel (issue 15).

Reading a `.po` file with Babel costs about 25 ms and importing it as much again, on every
start of every command that draws a word. The files `maintain` writes are plain: comments,
`msgid`, `msgid_plural`, `msgstr` and `msgstr[N]`, every message translated. This reads that
form and nothing else; anything more (a fuzzy or obsolete entry, a context, an untranslated
message, an unknown escape) returns None, and the caller reads the file with Babel instead.
`tests/test_plain_po.py` checks both catalogues compile here exactly as through Babel.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

_KEYWORD = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[(\d+)\])?) "(.*)"$')
_CONTINUED = re.compile(r'^"(.*)"$')
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_PLURAL_FORMS = re.compile(r"^Plural-Forms:", re.MULTILINE | re.IGNORECASE)
_UTF8 = re.compile(r"^Content-Type:.*charset=utf-8\s*$", re.MULTILINE | re.IGNORECASE)
_MO_MAGIC = 0x950412DE


class _NotPlain(Exception):
    """The file holds something only Babel should read."""


def compile_plain_po(path: Path) -> bytes | None:
    """The GNU `.mo` bytes of a plain catalogue, or None if it is not plain (read it with
    Babel then)."""
    try:
        entries = _entries(path.read_text(encoding="utf-8"))
        return _mo_bytes(entries)
    except _NotPlain:
        return None


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match[1] not in _ESCAPES:
            raise _NotPlain
        return _ESCAPES[match[1]]

    return _ESCAPE.sub(one, text)


def _entries(text: str) -> dict[str, str]:
    """msgid (singular and plural joined by NUL) → msgstr (forms joined by NUL)."""
    entries: dict[str, str] = {}
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None

    def finish() -> None:
        nonlocal current
        if not fields:
            return
        if "msgid" not in fields:
            raise _NotPlain
        msgid = "".join(fields.pop("msgid"))
        plural = fields.pop("msgid_plural", None)
        if plural is None:
            forms = [fields.pop("msgstr", None)]
        else:
            msgid = f"{msgid}\0{''.join(plural)}"
            forms = [fields.pop(f"msgstr[{n}]", None) for n in range(len(fields))]
        if fields or not forms or None in forms or msgid in entries:
            raise _NotPlain
        strings = ["".join(form or ()) for form in forms]
        if not all(strings):
            raise _NotPlain  # untranslated: Babel decides what stands in for it
        entries[msgid] = "\0".join(strings)
        current = None

    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            # A flag line may mark the next entry fuzzy; obsolete entries start "#~".
            if line.startswith("#~") or (line.startswith("#,") and "fuzzy" in line):
                raise _NotPlain
            if "msgstr" in fields or any(key.startswith("msgstr[") for key in fields):
                finish()
            continue
        keyword = _KEYWORD.match(line)
        if keyword:
            name = keyword[1]
            if name == "msgid" and fields:
                finish()
            if name in fields:
                raise _NotPlain
            current = fields[name] = [_unescape(keyword[3])]
            continue
        continued = _CONTINUED.match(line)
        if continued is None or current is None:
            raise _NotPlain  # msgctxt, or anything else this reader does not know
        current.append(_unescape(continued[1]))
    finish()
    header = entries.get("")
    if header is None or not _PLURAL_FORMS.search(header) or not _UTF8.search(header):
        raise _NotPlain
    return entries


def _mo_bytes(entries: dict[str, str]) -> bytes:
    """The GNU `.mo` layout: a header, the key and value tables, then the strings."""
    keys = sorted(entries)
    ids = [key.encode("utf-8") for key in keys]
    strs = [entries[key].encode("utf-8") for key in keys]
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + sum(len(msgid) + 1 for msgid in ids)
    table: list[int] = []
    for strings, start in ((ids, key_start), (strs, value_start)):
        for string in strings:
            table += [len(string), start]
            start += len(string) + 1
    header = struct.pack("Iiiiiii", _MO_MAGIC, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    body = b"".join(string + b"\0" for string in (*ids, *strs))
    return header + struct.pack(f"{len(table)}i", *table) + body
