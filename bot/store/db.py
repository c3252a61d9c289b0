"""Sessions and migrations. SQLite by default; PostgreSQL by URL. Engines and the schema's
revision are in bot/store/engine.py (no ORM there), and are named here as before."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session

from bot.store.engine import MIGRATIONS as MIGRATIONS
from bot.store.engine import SQLITE_CACHED_STATEMENTS as SQLITE_CACHED_STATEMENTS
from bot.store.engine import SUPPORTED_BACKENDS as SUPPORTED_BACKENDS
from bot.store.engine import UnsupportedDatabase as UnsupportedDatabase
from bot.store.engine import current_revision as current_revision
from bot.store.engine import database_reachable as database_reachable
from bot.store.engine import head_revision as head_revision
from bot.store.engine import is_current as is_current
from bot.store.engine import is_sqlite as is_sqlite
from bot.store.engine import make_engine as make_engine
from bot.store.engine import normalise_url as normalise_url

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config treats "%" as interpolation: escape it (socket paths, passwords).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema up to the newest migration."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# SQLite's page cache while a sweep or an import writes a whole council in one transaction:
# with the default 2 MB, index pages are evicted, read back and spilled again and again.
LARGE_PAGE_CACHE_KB = 65_536


@contextmanager
def large_page_cache(session: Session, kilobytes: int = LARGE_PAGE_CACHE_KB) -> Iterator[None]:
    """On SQLite, a larger page cache for this session's connection while the block runs,
    restored afterwards (a pooled connection keeps its setting). PostgreSQL: nothing to do."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    # The driver's own connection: the block may end the session's transaction (a dry run
    # rolls back), and the setting belongs to this connection wherever the pool keeps it.
    driver = connection.connection.dbapi_connection
    assert driver is not None
    (before,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = -{int(kilobytes)}")
    try:
        yield
    finally:
        # If the connection is gone, its setting went with it.
        with suppress(sqlite3.Error):
            driver.execute(f"PRAGMA cache_size = {int(before)}")
