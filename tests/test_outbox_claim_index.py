"""The outbox's due index is in the claim's order (migration 0015): a claim on PostgreSQL reads
only the rows it takes, never sorting every due message, and the migration's downgrade puts
back the index as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livebot import make_bot, postgres_url
from sqlalchemy import insert, inspect

from bot.delivery.outbox import _claim_statement
from bot.store.db import alembic_config
from bot.store.models import Nudge, table_of

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
DUE = 3000


def _due_messages(count: int) -> list[dict[str, object]]:
    # Many due at one moment: only the id orders them, as after a sweep queues a tick's messages.
    return [
        {
            "recipient_email": f"officer{i % 50}@example.gov.uk",
            "kind": "notice",
            "card": {},
            "send_at": NOW - timedelta(minutes=i % 3),
            "dedupe_key": f"k{i}",
            "status": "pending",
            "attempts": 0,
            "claimed_by": "",
            "platform": "",
            "last_error": "",
            "created_at": NOW,
        }
        for i in range(count)
    ]


def _nudge_indexes(engine) -> dict[str, tuple[str, ...]]:
    return {i["name"]: tuple(i["column_names"]) for i in inspect(engine).get_indexes("nudge")}


def test_a_claim_on_postgresql_reads_the_due_index_in_order_and_sorts_nothing(request):
    bot = make_bot(postgres_url(request), NOW, seed=False, migrate=True)
    try:
        with bot.app.engine.begin() as connection:
            connection.execute(insert(table_of(Nudge)), _due_messages(DUE))
            connection.exec_driver_sql("ANALYZE nudge")
        claim_sql = _claim_statement("postgresql").compile(dialect=bot.app.engine.dialect)
        with bot.app.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            plan = "\n".join(
                row[0]
                for row in driver.execute(
                    "EXPLAIN (ANALYZE, COSTS OFF) " + claim_sql.string,
                    {"token": "t", "now": NOW, "limit": 32},
                )
            )
            connection.rollback()
        assert "Index Scan using ix_nudge_due" in plan, plan
        assert "Sort" not in plan, plan
        # It read the 32 it took, not the 3,000 due.
        assert "rows=32 loops=1" in plan.split("Index Scan using ix_nudge_due")[1], plan
    finally:
        bot.app.engine.dispose()


def test_0015_puts_the_id_in_the_due_index_and_its_downgrade_restores_it(request):
    from alembic import command

    bot = make_bot(postgres_url(request), NOW, seed=False, migrate=True)
    try:
        config = alembic_config(bot.app.engine)
        assert _nudge_indexes(bot.app.engine)["ix_nudge_due"] == ("status", "send_at", "id")
        command.downgrade(config, "0014")
        assert _nudge_indexes(bot.app.engine)["ix_nudge_due"] == ("status", "send_at")
        command.upgrade(config, "head")
        assert _nudge_indexes(bot.app.engine)["ix_nudge_due"] == ("status", "send_at", "id")
    finally:
        bot.app.engine.dispose()
