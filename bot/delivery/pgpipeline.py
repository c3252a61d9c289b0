"""Recording a hop's results on PostgreSQL in one round trip, through libpq's pipeline mode.

Each result is a transaction of its own: its statements, then a Sync, at which the server
commits them (an error rolls back that one result only; the next begins afresh). The commands
go through psycopg's low-level connection (`pgconn`, psycopg.pq), the statements prepared
once per connection and their values sent as text: a psycopg cursor's work for each of a
record's commands cost several times the server's (issue 15).
"""

from __future__ import annotations

import re
import select
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from psycopg import OperationalError, errors, pq

OK = frozenset({pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK})
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


class Statement:
    """One statement of a record, in the server's own form ($1, $2 …), prepared by name."""

    def __init__(
        self, name: str, pyformat_sql: str, processors: dict[str, Callable[[Any], Any]]
    ) -> None:
        self.name = name.encode()
        self.names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(0) == "%%":
                return "%"
            if match.group(1) not in self.names:
                self.names.append(match.group(1))
            return f"${self.names.index(match.group(1)) + 1}"

        self.sql = _PLACEHOLDER.sub(number, pyformat_sql).encode()
        self.processors = processors

    def values(self, params: dict[str, Any]) -> list[bytes | None]:
        """This statement's parameters, in order, as text."""
        processors = self.processors
        return [
            encode(processors[name](params[name]) if name in processors else params[name])
            for name in self.names
        ]


def encode(value: Any) -> bytes | None:
    """A value as PostgreSQL reads it in text form (its type comes from the statement)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, int | float):
        return repr(value).encode()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp to record must be timezone-aware")
        return value.isoformat().encode()
    if isinstance(value, date | str):
        return str(value).encode()
    raise TypeError(f"cannot send a {type(value).__name__} as a record's value")


Transaction = Sequence[tuple[Statement, list[bytes | None]]]


def run_each(
    pgconn: pq.abc.PGconn, prepared: set[bytes], transactions: Sequence[Transaction]
) -> list[BaseException | None]:
    """Run each transaction in its own commit, all in one round trip, in order. Returns, for
    each, None once the server has committed it, else why not (its error; or, when the
    connection was lost, that error for it and every one after). `prepared`: the statements
    taken to be prepared on this connection (kept up to date)."""
    outcomes = _run(pgconn, prepared, transactions)
    missing = [i for i, o in enumerate(outcomes) if isinstance(o, errors.InvalidSqlStatementName)]
    if missing:
        # The connection's statements were let go while it was used elsewhere (psycopg
        # deallocates all of them after a rollback): prepared again, those run again.
        prepared.clear()
        again = _run(pgconn, prepared, [transactions[i] for i in missing])
        for index, outcome in zip(missing, again, strict=True):
            outcomes[index] = outcome
    return outcomes


def _run(
    pgconn: pq.abc.PGconn, prepared: set[bytes], transactions: Sequence[Transaction]
) -> list[BaseException | None]:
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise OperationalError("the connection is not idle: recording waits for a fresh one")
    fresh: list[Statement] = []
    for transaction in transactions:
        for statement, _ in transaction:
            if statement.name not in prepared and statement not in fresh:
                fresh.append(statement)
    outcomes: list[BaseException | None] = []
    pgconn.enter_pipeline_mode()
    try:
        for statement in fresh:
            # Each on its own, so one already there (from this connection's last use) does
            # not stop the others.
            pgconn.send_prepare(statement.name, statement.sql)
            pgconn.pipeline_sync()
        for transaction in transactions:
            for statement, values in transaction:
                pgconn.send_query_prepared(statement.name, values)
            pgconn.pipeline_sync()
        _flush(pgconn)
        for statement in fresh:
            failed = _read_transaction(pgconn, 1)
            if failed is not None and not isinstance(failed, errors.DuplicatePreparedStatement):
                raise failed
            prepared.add(statement.name)
        for transaction in transactions:
            outcomes.append(_read_transaction(pgconn, len(transaction)))
    except OperationalError as lost:
        # Those not heard of (not committed as far as anyone here knows) wait with the rest.
        outcomes += [lost] * (len(transactions) - len(outcomes))
        return outcomes
    pgconn.exit_pipeline_mode()
    return outcomes


def _read_transaction(pgconn: pq.abc.PGconn, commands: int) -> BaseException | None:
    """One transaction's answers: each command's result (and its end), then its Sync's."""
    failure: BaseException | None = None
    for _ in range(commands):
        result = _next(pgconn)
        if result is None:
            raise OperationalError("the server's answers ended early")
        if result.status == pq.ExecStatus.FATAL_ERROR and failure is None:
            failure = _error(result)
        elif result.status not in OK and failure is None:
            # Aborted (a command before it failed) or something no record sends.
            failure = OperationalError(f"unexpected answer: {pq.ExecStatus(result.status).name}")
        if _next(pgconn) is not None:
            raise OperationalError("a command had more than one answer")
    sync = _next(pgconn)
    if sync is None or sync.status != pq.ExecStatus.PIPELINE_SYNC:
        raise OperationalError("the server's answers lost their place")
    return failure


def _error(result: pq.abc.PGresult) -> BaseException:
    """The error psycopg would raise for a failed command (by its SQLSTATE)."""
    sqlstate = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
    message = (result.error_message or b"").decode(errors="replace").strip()
    try:
        kind: type[BaseException] = errors.lookup(sqlstate)
    except KeyError:
        kind = errors.DatabaseError
    return kind(message)


def _next(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()


def _flush(pgconn: pq.abc.PGconn) -> None:
    # A non-blocking connection may not take everything at once; answers are read meanwhile
    # so that neither side waits on the other.
    while pgconn.flush():
        readable, _, _ = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:
            pgconn.consume_input()
