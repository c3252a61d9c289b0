"""The migrated schema's indexes are the models' indexes, on both backends; migration 0014
drops the briefing table's redundant single-column indexes and puts them back on downgrade, and
0016 replaces the member and briefer indexes with wider ones and puts the old back on downgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from livebot import make_bot
from sqlalchemy import Index, UniqueConstraint, inspect
from sqlmodel import SQLModel

from bot.store.db import alembic_config
from bot.store.models import define_every_table

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
DROPPED_BY_0014 = frozenset(
    {
        ("ix_briefing_decision_id", ("decision_id",)),
        ("ix_briefing_state", ("state",)),
        ("ix_briefing_due_at", ("due_at",)),
        ("ix_briefing_next_step_at", ("next_step_at",)),
    }
)

# (name, columns) before and after 0016.
BEFORE_0016 = frozenset(
    {
        ("ix_briefing_member_email", ("member_email",)),
        ("ix_briefing_briefer_email", ("briefer_email",)),
    }
)
AFTER_0016 = frozenset(
    {
        (
            "ix_briefing_member_decision_state_due",
            ("member_email", "decision_id", "state", "due_at"),
        ),
        (
            "ix_briefing_briefer_decision_state_due",
            ("briefer_email", "decision_id", "state", "due_at"),
        ),
    }
)


def _declared(table_name: str) -> set[tuple[tuple[str, ...], bool]]:
    """(columns, unique) of every index and unique constraint the model declares."""
    table = SQLModel.metadata.tables[table_name]
    found: set[tuple[tuple[str, ...], bool]] = set()
    for index in table.indexes:
        assert isinstance(index, Index)
        found.add((tuple(c.name for c in index.columns), bool(index.unique)))
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            found.add((tuple(c.name for c in constraint.columns), True))
    # A single-column unique=True field becomes a unique index on one backend and a unique
    # constraint on the other: either way, one unique entry.
    return found


def _migrated(inspector: Any, table_name: str) -> set[tuple[tuple[str, ...], bool]]:
    found: set[tuple[tuple[str, ...], bool]] = set()
    for index in inspector.get_indexes(table_name):
        found.add((tuple(index["column_names"]), bool(index["unique"])))
    for constraint in inspector.get_unique_constraints(table_name):
        found.add((tuple(constraint["column_names"]), True))
    return found


def _named_indexes(inspector: Any, table_name: str) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (index["name"], tuple(index["column_names"])) for index in inspector.get_indexes(table_name)
    }


def test_every_table_has_the_indexes_its_model_declares(database_url: str):
    define_every_table()  # the tables left for first use too
    bot = make_bot(database_url, NOW, migrate=True, seed=False)
    try:
        inspector = inspect(bot.app.engine)
        migrated = set(inspector.get_table_names()) - {"alembic_version"}
        assert migrated == set(SQLModel.metadata.tables)
        for name in SQLModel.metadata.tables:
            assert _migrated(inspector, name) == _declared(name), name
    finally:
        bot.app.engine.dispose()


@pytest.mark.parametrize(
    ("migration", "previous", "before", "after"),
    [
        ("0014", "0013", DROPPED_BY_0014, frozenset()),  # drops four redundant indexes
        ("0016", "0014", BEFORE_0016, AFTER_0016),  # widens the member and briefer indexes
    ],
)
def test_a_migration_changes_the_briefing_indexes_and_its_downgrade_restores_them(
    database_url: str,
    migration: str,
    previous: str,
    before: frozenset[tuple[str, tuple[str, ...]]],
    after: frozenset[tuple[str, tuple[str, ...]]],
):
    from alembic import command

    bot = make_bot(database_url, NOW, migrate=True, seed=False)
    try:
        config = alembic_config(bot.app.engine)
        at_head = _named_indexes(inspect(bot.app.engine), "briefing")
        assert at_head >= after and not before & at_head, migration
        command.downgrade(config, previous)
        downgraded = _named_indexes(inspect(bot.app.engine), "briefing")
        assert downgraded >= before and not after & downgraded, migration
        command.upgrade(config, "head")
        assert _named_indexes(inspect(bot.app.engine), "briefing") == at_head
    finally:
        bot.app.engine.dispose()
