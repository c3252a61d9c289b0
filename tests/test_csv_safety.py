"""Every CSV the product writes is safe to open in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from livebot import make_bot, sqlite_url

from bot.csvwrite import safe_cell, write_csv
from bot.store import audit

AT = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_cells_a_spreadsheet_would_run_are_quoted(cell: str):
    assert safe_cell(cell) == "'" + cell
    written = write_csv(["a"], [{"a": cell}])
    assert next(iter(csv.DictReader(io.StringIO(written))))["a"] == "'" + cell


@pytest.mark.parametrize("value", ["By phone", "a=b", "", 5, -5, None, "'already"])
def test_other_cells_are_left_alone(value):
    assert safe_cell(value) == value


def test_a_formula_typed_as_a_reason_is_inert_in_the_audit_export(tmp_path: Path):
    bot = make_bot(sqlite_url(tmp_path), AT)
    with bot.app.session() as session:
        audit.record(
            session,
            action="briefing_not_needed",
            at=AT,
            actor_email="=cmd|' /C calc'!A0",
            reason='=HYPERLINK("http://evil","x")',
            details={"note": "@x"},
        )
    with bot.app.session() as session:
        exported = list(csv.DictReader(io.StringIO(audit.export_text(session, fmt="csv"))))
    last = exported[-1]
    assert last["reason"] == '\'=HYPERLINK("http://evil","x")'
    assert last["actor_email"].startswith("'=")
    assert not any(
        v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in exported for v in r.values()
    )
