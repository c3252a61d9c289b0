"""Many rows in one executemany, each distinct value bound once (issue 15).

SQLAlchemy binds an executemany row by row: a dict of parameters per row, then each column's
bind processor (JSON encoding, datetime formatting) on every value. A sweep or an import
writes tens of thousands of rows that share most of their values (one ladder, one timestamp,
a few due times), so here each column's processor runs once per distinct value object, and the
rows go to the driver as they are bound, without SQLAlchemy's per-row work.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, Insert, Update, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session, SQLModel

from bot.store.models import table_of

_UNSET = object()


def execute_many(
    session: Session,
    statement: Insert | Update,
    rows: Sequence[dict[str, Any]],
    *,
    encoded: Collection[str] = (),
) -> None:
    """Run `statement` once per row (every row has the same keys), in the session's
    transaction: the same rows, values and defaults as `session.execute(statement, rows)`.
    `encoded`: columns whose values the caller has already put in stored form (a JSON
    column's text), handed to the driver as they are."""
    if not rows:
        return
    # A column at a time, taken out of the rows by C code (itemgetter), not a Python loop.
    columns = {name: list(map(itemgetter(name), rows)) for name in rows[0]}
    execute_columns(session, statement, columns, encoded=encoded)


def execute_columns(
    session: Session,
    statement: Insert | Update,
    columns: Mapping[str, Sequence[Any]],
    *,
    encoded: Collection[str] = (),
) -> None:
    """`execute_many` for rows given a column at a time (each the same length): a writer of
    tens of thousands of rows builds no dict per row."""
    keys = list(columns)
    count = len(columns[keys[0]]) if keys else 0
    if not count:
        return
    if encoded and not set(encoded) <= set(keys):
        raise ValueError(f"encoded columns missing from the rows: {sorted(encoded)}")
    connection = session.connection()
    dialect = connection.dialect
    compiled, names, defaults = _compiled(statement, dialect, tuple(keys))
    if names is None or defaults is None:
        # Something this shortcut does not handle (a computed default, an escaped name):
        # SQLAlchemy's own path, row by row.
        if encoded:
            raise ValueError("encoded values need the plain executemany path")
        rows = [
            dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]
        session.execute(statement, rows)
        return
    bound_columns: list[list[Any]] = []
    for name in names:
        processor = (
            None
            if name in encoded
            else compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        )
        default = defaults.get(name, _UNSET)
        values = list(columns[name]) if default is _UNSET else [default] * count
        if processor is not None:
            values = _bound_once_each(values, processor)
        bound_columns.append(values)
    if compiled.positional:
        parameters: list[Any] = list(zip(*bound_columns, strict=True))
    else:
        parameters = [
            dict(zip(names, bound, strict=True)) for bound in zip(*bound_columns, strict=True)
        ]
    connection.exec_driver_sql(compiled.string, parameters)


def update_by_id(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], columns: dict[str, str]
) -> None:
    """Set `columns` (column name → its key in each row) on each row whose id is `row["row"]`,
    in one executemany. Objects of `model` the session already holds take the values too,
    without being marked as changed, so the session and the database agree."""
    if not rows:
        return
    update_columns_by_id(
        session,
        model,
        [row["row"] for row in rows],
        {name: list(map(itemgetter(key), rows)) for name, key in columns.items()},
    )


def update_columns_by_id(
    session: Session, model: type[SQLModel], ids: Sequence[int], values: dict[str, Sequence[Any]]
) -> None:
    """`update_by_id` with the values a column at a time: `values` maps a column's name to
    each row's value, in the order of `ids`."""
    if not ids:
        return
    # Keys other than the columns' names: SQLAlchemy keeps those for its own SET parameters.
    keys = {name: f"{name}_" for name in values}
    execute_columns(
        session,
        _update_by_id(model, tuple(keys.items())),
        {"row": ids, **{keys[name]: column for name, column in values.items()}},
    )
    loaded = {
        getattr(obj, "id", None): obj
        for obj in session.identity_map.values()
        if isinstance(obj, model)
    }
    if not loaded:
        return
    for position, row_id in enumerate(ids):
        held = loaded.get(row_id)
        if held is not None:
            for name, column in values.items():
                set_committed_value(held, name, column[position])


# A writer that reuses one statement object (a sweep writes chunk after chunk) compiles it
# once: compiling cost more than the Python work of writing a chunk of rows.
@lru_cache(maxsize=64)
def _compiled(
    statement: Insert | Update, dialect: Dialect, keys: tuple[str, ...]
) -> tuple[Any, list[str] | None, dict[str, Any] | None]:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = _parameter_names(compiled)
    return compiled, names, _scalar_defaults(statement, names, list(keys))


@lru_cache(maxsize=32)
def _update_by_id(model: type[SQLModel], columns: tuple[tuple[str, str], ...]) -> Update:
    """One statement object per model and columns, so its compiled form is reused."""
    table = table_of(model)
    values: dict[str, Any] = {name: bindparam(key) for name, key in columns}
    return update(table).where(table.c.id == bindparam("row")).values(values)


def _bound_once_each(values: list[Any], processor: Any) -> list[Any]:
    # Keyed by identity: every value stays referenced by `values` meanwhile, so no id is
    # reused, and a processor is a function of its value alone. Only the distinct values are
    # visited in Python; the per-row work (map, zip, dict) runs in C.
    ids = list(map(id, values))
    distinct = dict(zip(ids, values, strict=True))
    bound = {key: processor(value) for key, value in distinct.items()}
    return list(map(bound.__getitem__, ids))


def _parameter_names(compiled: Any) -> list[str] | None:
    """The statement's parameters in the order the driver takes them (None: not handled)."""
    if not isinstance(compiled, SQLCompiler) or compiled.escaped_bind_names:
        return None
    if compiled.positional:
        return list(compiled.positiontup or ())
    return list(compiled.binds)


def _scalar_defaults(
    statement: Insert | Update, names: list[str] | None, keys: list[str]
) -> dict[str, Any] | None:
    """The constant defaults of the columns the rows leave out (None: one is not constant)."""
    if names is None:
        return None
    defaults: dict[str, Any] = {}
    given = set(keys)
    for name in names:
        if name in given:
            continue
        if isinstance(statement, Update):
            return None  # an on-update default: not handled here
        column = statement.table.c.get(name)  # type: ignore[union-attr]
        default = getattr(column, "default", None) if column is not None else None
        if default is None or not default.is_scalar:
            return None
        defaults[name] = default.arg
    return defaults
