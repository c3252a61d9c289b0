"""A streamed sheet (the forward plan's) yields the same rows and problems as a whole read,
one row at a time (issue 15: a 100k-item plan is never held as text and rows at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.intake.csvfile import read_sheet
from bot.intake.problems import ImportRejected

TEXT = (
    "\ufeffref,Title,decision_due\r\n"
    "A-1,First,2027-01-04\r\n"
    "\r\n"
    'A-2,"Second, with a comma\r\nand a line break",04/01/2027\r\n'
    ",,\r\n"
    "A-3,Third\r\n"
)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_streamed_rows_equal_a_whole_read(tmp_path: Path) -> None:
    path = _file(tmp_path, TEXT)
    whole = read_sheet(path, required=("ref",), known=("title", "decision_due"))
    streamed = read_sheet(path, required=("ref",), known=("title", "decision_due"), stream=True)
    assert isinstance(whole.rows, list) and not isinstance(streamed.rows, list)
    rows = list(streamed.rows)
    assert rows == whole.rows
    assert [line for line, _ in rows] == [2, 4, 7]
    assert rows[1][1]["title"] == "Second, with a comma\nand a line break"
    assert rows[2][1] == {"ref": "A-3", "title": "Third", "decision_due": ""}


def test_a_bad_cell_is_named_once_every_row_is_read(tmp_path: Path) -> None:
    path = _file(tmp_path, "ref,title\nA-1,ok\nA-2,bad\x00cell\nA-3," + "x" * 200_000 + "\n")
    streamed = read_sheet(path, required=("ref",), known=("title",), stream=True)
    seen: list[int] = []
    with pytest.raises(ImportRejected) as rejected:
        for line, _ in streamed.rows:
            seen.append(line)
    assert seen == [2, 3, 4]  # every row read before the whole list of problems
    text = str(rejected.value)
    assert "line 3" in text and "NUL byte" in text and "line 4" in text and "longer than" in text
    # The file is closed and the field-size lock released: it can be read again at once.
    with pytest.raises(ImportRejected):
        list(read_sheet(path, required=("ref",), known=("title",), stream=True).rows)


def test_a_short_row_is_padded_and_a_long_one_cut_at_the_header(tmp_path: Path) -> None:
    path = _file(tmp_path, "ref,title,decision_due\nA-1, Short \nA-2,Long,2027-01-04,extra,more\n")
    for stream in (False, True):
        sheet = read_sheet(path, required=["ref"], known=["title", "decision_due"], stream=stream)
        assert [row for _, row in sheet.rows] == [
            {"ref": "A-1", "title": "Short", "decision_due": ""},
            {"ref": "A-2", "title": "Long", "decision_due": "2027-01-04"},
        ]
