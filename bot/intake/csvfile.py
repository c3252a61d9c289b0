"""Reading council spreadsheets saved as CSV: BOM or not, any column order, line numbers kept."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bot.intake.problems import ImportRejected, Problem

EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


@dataclass
class Sheet:
    """A parsed CSV: rows as {column: text} with the line each row starts on."""

    name: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    warnings: list[str] = field(default_factory=list)


def read_sheet(path: Path | str, *, required: Iterable[str], known: Iterable[str]) -> Sheet:
    """Read a CSV, checking the header; unknown columns are ignored with a warning."""
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
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected(
            [Problem(name, 1, "", "the file is empty; a header row is required")]
        ) from None
    columns = [c.strip().lower() for c in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportRejected(
            [Problem(name, 1, c, "required column is missing from the header") for c in missing]
        )
    known_set = set(known) | set(required)
    sheet = Sheet(name=name, columns=columns, rows=[])
    extra = [c for c in columns if c and c not in known_set]
    if extra:
        sheet.warnings.append(f"{name}: ignoring unknown column(s): {', '.join(extra)}")
    start = reader.line_num + 1
    for values in reader:
        line = start
        start = reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        row = {col: (values[i].strip() if i < len(values) else "") for i, col in enumerate(columns)}
        sheet.rows.append((line, row))
    return sheet


def parse_date(text: str) -> date:
    """ISO YYYY-MM-DD, or UK DD/MM/YYYY."""
    text = text.strip()
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
