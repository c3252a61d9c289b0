"""Tables a status never reads are defined on first use (issue 15: start-up), and nothing of
the schema is lost by it: every table and column the migrations make is still defined."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.store import db, models
from bot.store.models import LATER, define_every_table


def test_the_later_tables_are_not_defined_until_asked_for() -> None:
    probe = (
        "import json, sys\n"
        "from sqlmodel import SQLModel\n"
        "import bot.store.models as m\n"
        "before = sorted(SQLModel.metadata.tables)\n"
        "loaded = sorted(set(m.LATER.values()) & set(sys.modules))\n"
        "from bot.store.models import Nudge\n"
        "print(json.dumps([before, loaded, Nudge.__tablename__, sorted(SQLModel.metadata.tables)]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, loaded, nudge, after = json.loads(done.stdout)
    assert loaded == []
    assert "nudge" not in before and "auditevent" not in before and "person" in before
    assert nudge == "nudge" and "nudge" in after and "deliveryattempt" in after


@pytest.mark.parametrize("name", sorted(LATER))
def test_each_later_table_is_handed_out_by_name(name: str) -> None:
    table = getattr(models, name)
    assert table.__name__ == name and table.__module__ == LATER[name]
    assert table.__tablename__ in SQLModel.metadata.tables


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchTable"):
        _ = models.NoSuchTable  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        from bot.store.models import NoSuchTable  # type: ignore[attr-defined]  # noqa: F401


def test_every_migrated_table_and_column_is_defined(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    db.upgrade(engine)
    define_every_table()
    inspector = inspect(engine)
    migrated = {
        name: sorted(column["name"] for column in inspector.get_columns(name))
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }
    defined = {
        name: sorted(column.name for column in table.columns)
        for name, table in SQLModel.metadata.tables.items()
    }
    assert defined == migrated
    engine.dispose()
