"""Reading council spreadsheets saved as CSV: BOM or not, any column order, line numbers kept."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.intake.problems import ImportRejected, Problem

EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


@dataclass
class Sheet:
    """A parsed CSV: rows as {column: text} with the line each row starts on. A streamed sheet's
    rows can be read once, as the file is read."""

    name: str
    columns: list[str]
    rows: Iterable[tuple[int, dict[str, str]]]
    warnings: list[str] = field(default_factory=list)


def read_sheet(
    path: Path | str, *, required: Iterable[str], known: Iterable[str], stream: bool = False
) -> Sheet:
    """Read a CSV, checking the header; unknown columns are ignored with a warning.

    With `stream`, rows are read from the file as they are asked for, so a forward plan of a
    hundred thousand items is never held as text and rows at once (issue 15)."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportRejected([Problem(str(path), 0, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [Problem(name, 0, "", f"not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8")]
        ) from None
    handle: TextIO | None = None
    lines: Iterable[str]
    if stream:
        # The whole text was decoded once above, so a bad byte is found (and its offset named)
        # before anything is read; the rows then come from the file line by line.
        del text
        handle = path.open(encoding="utf-8-sig", newline="")
        lines = handle
    else:
        lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        if handle is not None:
            handle.close()
        raise ImportRejected(
            [Problem(name, 1, "", "the file is empty; a header row is required")]
        ) from None
    columns = [c.strip().lower() for c in header]
    missing = [c for c in required if c not in columns]
    if missing:
        if handle is not None:
            handle.close()
        raise ImportRejected(
            [Problem(name, 1, c, "required column is missing from the header") for c in missing]
        )
    known_set = set(known) | set(required)
    rows = _rows(reader, columns, handle)
    sheet = Sheet(name=name, columns=columns, rows=rows if stream else list(rows))
    extra = [c for c in columns if c and c not in known_set]
    if extra:
        sheet.warnings.append(f"{name}: ignoring unknown column(s): {', '.join(extra)}")
    return sheet


def _rows(
    reader: Any, columns: list[str], handle: TextIO | None
) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        start = reader.line_num + 1
        for values in reader:
            line = start
            start = reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            width = len(values)
            yield line, {c: (values[i].strip() if i < width else "") for i, c in enumerate(columns)}
    finally:
        if handle is not None:
            handle.close()


def parse_date(text: str) -> date:
    """ISO YYYY-MM-DD, or UK DD/MM/YYYY."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        # The common case, without strptime (a third of parsing a large plan).
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def parse_yes_no(text: str) -> tuple[bool, str]:
    """'Y', 'N', 'Yes', 'No (reason)' → (flag, the whole text kept as a note)."""
    word = re.split(r"[\s(,;:-]", text.strip(), maxsplit=1)[0].lower()
    if word in ("y", "yes", "true"):
        return True, text.strip()
    if word in ("n", "no", "false"):
        return False, text.strip()
    raise ValueError(f"{text!r} is not Y or N")


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def is_email(text: str) -> bool:
    return bool(EMAIL.match(text))
