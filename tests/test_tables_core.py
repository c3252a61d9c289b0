"""The Core tables `nosurprises status` reads are the table models' tables, written out.

bot/store/tables_core.py is generated from `SQLModel.metadata` by
`python -m bot.store.write_core_tables`: a model changed without regenerating it fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, types
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import Dialect
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime as ModelUTCDateTime

from bot.store import tables_core, write_core_tables
from bot.store.core_types import UTCDateTime


def _storage(kind: types.TypeEngine[object], dialect: Dialect) -> tuple[type, object]:
    """The type a column is stored as on this database, under any decorator, and its zone."""
    if isinstance(kind, types.TypeDecorator):
        kind = kind.load_dialect_impl(dialect)
    stored = kind.dialect_impl(dialect)
    return type(stored), getattr(stored, "timezone", None)


def test_the_committed_core_tables_are_what_the_models_write_now() -> None:
    committed = write_core_tables.TARGET.read_text(encoding="utf-8")
    assert committed == write_core_tables.core_tables_source(), (
        "bot/store/tables_core.py is out of date: run `python -m bot.store.write_core_tables`"
    )


def test_every_status_table_has_every_model_column_with_its_type_and_keys() -> None:
    assert set(tables_core.metadata.tables) == set(write_core_tables.STATUS_TABLES)
    for name, core in tables_core.metadata.tables.items():
        model = SQLModel.metadata.tables[name]
        assert [c.name for c in core.columns] == [c.name for c in model.columns]
        for ours, theirs in zip(core.columns, model.columns, strict=True):
            where = f"{name}.{ours.name}"
            assert ours.primary_key == theirs.primary_key, where
            assert ours.nullable == theirs.nullable, where
            # Stored the same way on both databases (what each reads back is compared below).
            for dialect in (sqlite.dialect(), postgresql.dialect()):
                assert _storage(ours.type, dialect) == _storage(theirs.type, dialect), where
            assert isinstance(ours.type, UTCDateTime) == isinstance(theirs.type, ModelUTCDateTime)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        datetime(2027, 1, 26, 9, 30),  # SQLite: UTC without an offset
        datetime(2027, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))),
        datetime(2027, 1, 26, 9, 30, tzinfo=UTC),
    ],
)
def test_utc_timestamps_read_and_bind_as_sqlmodels_do(stored: datetime | None) -> None:
    ours, theirs = UTCDateTime(), ModelUTCDateTime()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        read = ours.process_result_value(stored, dialect)
        assert read == theirs.process_result_value(stored, dialect)
        assert read is None or read.tzinfo is UTC
        if stored is not None and stored.tzinfo is None:
            for kind in (ours, theirs):
                with pytest.raises(ValueError):
                    kind.process_bind_param(stored, dialect)
        else:
            assert ours.process_bind_param(stored, dialect) == theirs.process_bind_param(
                stored, dialect
            )
    # Compared with an interval, as SQLModel's is.
    assert isinstance(ours.coerce_compared_value(None, timedelta(days=1)), types.Interval)
    assert ours.coerce_compared_value(None, datetime.now(UTC)) is ours


def test_a_column_type_it_cannot_write_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = Table("odd", MetaData(), Column("id", Integer, primary_key=True))
    odd.append_column(Column("blob", types.LargeBinary(), nullable=False))
    with pytest.raises(write_core_tables.UnknownColumnType, match=r"odd\.blob is LargeBinary"):
        write_core_tables._column(odd.c.blob)


def test_the_command_rewrites_the_file_only_when_it_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "tables_core.py"
    target.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(write_core_tables, "TARGET", target)
    assert write_core_tables.main() == 0
    assert target.read_text(encoding="utf-8") == write_core_tables.core_tables_source()
    assert "Wrote" in capsys.readouterr().out
    assert write_core_tables.main() == 0
    assert "up to date" in capsys.readouterr().out
