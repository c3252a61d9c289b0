"""Reading with plain statements, from a session or from a bare connection.

The status code reads through Core statements only. Given an ORM session (the chat answers,
the digests) it flushes what the session holds unwritten first, as the session's own queries
would; `nosurprises status` hands it a bare connection instead (`ConnectionReads`), so that
command never imports SQLModel, pydantic or the ORM (issue 15).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection


class Reads(Protocol):
    """What a reader needs of a session: its connection, and a flush when it autoflushes."""

    autoflush: bool

    def flush(self) -> None: ...

    def connection(self) -> Connection: ...


class ConnectionReads:
    """A bare connection where a session is expected for reading: nothing is held unwritten."""

    autoflush = False

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def flush(self) -> None:
        """Nothing to write: only a session holds changes."""

    def connection(self) -> Connection:
        return self._connection


def connection(session: Reads) -> Connection:
    """The session's connection for plain statements, after flushing what the session holds
    unwritten, as its own queries would (autoflush)."""
    if session.autoflush:
        session.flush()
    return session.connection()
