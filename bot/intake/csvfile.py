"""Reading council spreadsheets saved as CSV: BOM or not, any column order, line numbers kept."""

from __future__ import annotations

import csv
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.intake.problems import ImportRejected, Problem

EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
# The csv module's own default limit: longer cells are refused with their line and column.
MAX_CELL = 131072
# Dates outside this range are typing mistakes, and a year-1 date breaks date arithmetic later.
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
# csv.field_size_limit is process-wide: raise it only while one reader runs.
_LIMIT = threading.Lock()


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
    hundred thousand items is never held as text and rows at once (issue 15); a bad cell then
    raises ImportRejected, naming every bad cell, once the last row has been read."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportRejected([Problem(str(path), 0, "", "file not found")]) from None
    except OSError as exc:  # a folder, no permission, a device error
        reason = f"cannot be read ({exc.strerror or type(exc).__name__}); check the path"
        raise ImportRejected([Problem(str(path), 0, "", reason)]) from None
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [Problem(name, 0, "", f"not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8")]
        ) from None
    if not stream:
        sheet = _open(name, iter(text.splitlines(keepends=True)), required, known)
        sheet.rows = list(sheet.rows)
        return sheet
    # The whole text was decoded once above, so a bad byte is found (and its offset named)
    # before anything is read; the rows then come from the file line by line.
    del text
    # Universal newlines, as read_text gives the whole read: a cell's line breaks read the same.
    handle = path.open(encoding="utf-8-sig")
    try:
        return _open(name, handle, required, known, handle)
    except BaseException:
        handle.close()
        raise


def _open(
    name: str,
    lines: Iterator[str],
    required: Iterable[str],
    known: Iterable[str],
    handle: TextIO | None = None,
) -> Sheet:
    """Read the header now, and return the sheet with its rows still to be read."""
    with _field_size_unlimited():
        reader = csv.reader(lines)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportRejected(
                [Problem(name, 1, "", "the file is empty; a header row is required")]
            ) from None
        except csv.Error as exc:
            raise ImportRejected([Problem(name, 1, "", f"cannot be read as CSV ({exc})")]) from None
    columns = [c.strip().lower() for c in header]
    problems = _cell_problems(name, 1, columns, header)
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportRejected(
            problems
            + [Problem(name, 1, c, "required column is missing from the header") for c in missing]
        )
    known_set = set(known) | set(required)
    sheet = Sheet(name=name, columns=columns, rows=_rows(name, reader, columns, problems, handle))
    extra = [c for c in columns if c and c not in known_set]
    if extra:
        sheet.warnings.append(f"{name}: ignoring unknown column(s): {', '.join(extra)}")
    return sheet


def _rows(
    name: str,
    reader: Any,
    columns: list[str],
    problems: list[Problem],
    handle: TextIO | None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank row with its line; bad cells are collected and raised at the end."""
    start = reader.line_num + 1
    try:
        while True:
            # The limit is raised for each row read, not across a yield, so a reader left
            # half-read never holds the lock.
            with _field_size_unlimited():
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    problems.append(Problem(name, start, "", f"cannot be read as CSV ({exc})"))
                    break
            line = start
            start = reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            problems += _cell_problems(name, line, columns, values)
            if len(values) < len(columns):
                values = values + [""] * (len(columns) - len(values))
            # Cells beyond the header are not kept (zip stops at the last column).
            yield line, dict(zip(columns, map(str.strip, values), strict=False))
    finally:
        if handle is not None:
            handle.close()
    if problems:
        raise ImportRejected(problems)


@contextmanager
def _field_size_unlimited() -> Iterator[None]:
    """Long cells are read (and then refused by name, line and column), not a csv.Error."""
    with _LIMIT:
        previous = csv.field_size_limit(sys.maxsize)
        try:
            yield
        finally:
            csv.field_size_limit(previous)


def _cell_problems(name: str, line: int, columns: list[str], values: list[str]) -> list[Problem]:
    """Cells no database should store: NUL bytes, or longer than MAX_CELL."""
    # Nearly every row is clean: one look at the whole row before going cell by cell.
    if "\x00" not in "".join(values) and max(map(len, values), default=0) <= MAX_CELL:
        return []
    found = []
    for index, value in enumerate(values):
        column = columns[index] if index < len(columns) and columns[index] else f"#{index + 1}"
        if "\x00" in value:
            found.append(Problem(name, line, column, "contains a NUL byte; re-save the file"))
        if len(value) > MAX_CELL:
            found.append(Problem(name, line, column, f"is longer than {MAX_CELL} characters"))
    return found


def parse_date(text: str) -> date:
    """ISO YYYY-MM-DD, or UK DD/MM/YYYY, in 1990-2100."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        # The common case, without strptime (a third of parsing a large plan).
        try:
            return sane_date(date.fromisoformat(text), text)
        except ValueError:
            pass
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return sane_date(parsed, text)
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def sane_date(value: date, text: str) -> date:
    """The date itself, or ValueError if its year is outside EARLIEST_YEAR-LATEST_YEAR."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"{text!r} is outside {EARLIEST_YEAR}-{LATEST_YEAR}; check the year")
    return value


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
