"""Writing bot/store/tables_core.py: the tables `nosurprises status` reads, as plain Core tables.

`python -m bot.store.write_core_tables` rewrites that file from the table models
(`SQLModel.metadata`), so the schema is written by hand once, in bot/store/models.py;
tests/test_tables_core.py fails when the file differs from what this would write now.
The status command reads through those tables without importing SQLModel, pydantic or the
ORM (issue 15: `nosurprises status` start-up).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import Column, Table
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (defines the tables on SQLModel.metadata)

TARGET = Path(__file__).resolve().parent / "tables_core.py"
# The tables the status command reads: its rows, the directory, the people's reachability
# and the sources' health. Every column of each, so any read of them works on either path.
STATUS_TABLES = (
    "briefing",
    "chatidentity",
    "decision",
    "directorystate",
    "person",
    "portfolio",
    "sourcestate",
)
# Each model column type, as the Core table writes it. SQLModel's AutoString is a plain String
# on SQLite and PostgreSQL; its UTCDateTime is restated in bot/store/core_types.py.
CORE_TYPES = {
    "AutoString": "String",
    "Boolean": "Boolean",
    "Date": "Date",
    "Float": "Float",
    "Integer": "Integer",
    "JSON": "JSON",
    "UTCDateTime": "UTCDateTime",
}
HEADER = '''"""The tables `nosurprises status` reads, as plain SQLAlchemy Core tables (issue 15).

Written by `python -m bot.store.write_core_tables` from the table models in
bot/store/models.py: do not edit by hand (tests/test_tables_core.py fails when they differ).
Importing this costs no SQLModel, pydantic or ORM.
"""
'''


class UnknownColumnType(TypeError):
    """A model column has a type the Core tables do not yet know how to write."""


def _column(column: Column[object]) -> str:
    kind = type(column.type).__name__
    core = CORE_TYPES.get(kind)
    if core is None:
        raise UnknownColumnType(
            f"{column.table.name}.{column.name} is {kind}: add it to CORE_TYPES "
            "in bot/store/write_core_tables.py"
        )
    options = ", primary_key=True" if column.primary_key else ""
    if not column.primary_key and not column.nullable:
        options += ", nullable=False"
    return f'    Column("{column.name}", {core}(){options}),'


def _table(table: Table) -> list[str]:
    return [
        f"{table.name} = Table(",
        f'    "{table.name}",',
        "    metadata,",
        *(_column(column) for column in table.columns),
        ")",
    ]


def core_tables_source() -> str:
    """The text of bot/store/tables_core.py for the models as they are now."""
    tables = [SQLModel.metadata.tables[name] for name in STATUS_TABLES]
    used = {CORE_TYPES[type(c.type).__name__] for t in tables for c in t.columns}
    # The order ruff's isort keeps: constants, then classes, each alphabetically.
    names = sorted(used - {"UTCDateTime"} | {"Column", "MetaData", "Table"})
    names = [n for n in names if n.isupper()] + [n for n in names if not n.isupper()]
    lines = [HEADER, f"from sqlalchemy import {', '.join(names)}", ""]
    if "UTCDateTime" in used:
        lines += ["from bot.store.core_types import UTCDateTime", ""]
    lines += ["metadata = MetaData()"]
    for table in tables:
        lines += ["", *_table(table)]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Rewrite bot/store/tables_core.py; say whether it changed."""
    text = core_tables_source()
    if TARGET.exists() and TARGET.read_text(encoding="utf-8") == text:
        print(f"{TARGET.name} is up to date.")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"Wrote {TARGET.name}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
