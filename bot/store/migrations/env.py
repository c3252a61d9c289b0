"""Alembic environment: runs against the engine the application hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine
from sqlmodel import SQLModel

from bot.store.models import define_every_table

define_every_table()  # registers every table on SQLModel.metadata, those left for first use too
config = context.config
target_metadata = SQLModel.metadata


def _engine_from_config() -> Engine:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("No engine handed over and no sqlalchemy.url configured")
    return create_engine(url)


def run_migrations() -> None:
    engine = config.attributes.get("engine") or _engine_from_config()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
