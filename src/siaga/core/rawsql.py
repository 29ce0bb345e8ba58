"""Many-row INSERT, UPDATE and locking SELECT for hot paths.

Django's bulk_create and bulk_update build a model instance per row and compile SQL (bulk_update a
CASE expression per field and row); on the CTI lane that cost more than the database work itself. These
helpers send few statements, with every value adapted by the model field that owns it (so datetimes, JSON
and booleans are stored exactly as the ORM would store them):

* on PostgreSQL, one statement for all the rows, one array parameter per column (``unnest``), so its text
  is the same whatever the number of rows: psycopg prepares it once, and neither side parses or binds
  anything per row (a pipelined statement per row, and then a multi-row ``VALUES``, spent most of the
  batch's time in psycopg itself, by the profiles in docs/benchmarks.md);
* on SQLite (in-process, no round trips), one prepared statement executed per row;
* :func:`locked_rows` (model instances, ``FOR UPDATE`` on PostgreSQL) and :func:`matching` (columns):
  the rows with given keys, in id order, without compiling a queryset (on PostgreSQL the keys are one
  array parameter, so the statement's text is fixed too).

The SQL text is made only from model metadata (table and column names, quoted, and column types), never
from values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models

M = TypeVar("M", bound=models.Model)


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """INSERT ``rows`` (dicts of field name -> value, all with the same keys) into ``model``'s table; with
    ``ignore_conflicts`` a row that breaks a unique constraint is skipped (``ON CONFLICT DO NOTHING``)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)  # type: ignore[union-attr]
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    prepared = [[f.get_db_prep_save(row[n], connection) for f, n in zip(fields, names, strict=True)]  # type: ignore[union-attr]
                for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
                           f"SELECT * FROM {_unnest(fields, connection)}{suffix}", _columns(prepared, len(fields)))
        else:
            cursor.executemany(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
                               f"VALUES ({', '.join(['%s'] * len(fields))}){suffix}", prepared)


def update_rows(model: type[models.Model], objects: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """UPDATE ``field_names`` of each object (by primary key)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk_field = model._meta.pk
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(pk_field.column)  # type: ignore[union-attr]
    prepared = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]  # type: ignore[union-attr]
                for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [f"c{i}" for i in range(len(fields))]
            assignments = ", ".join(f"{quote(f.column)} = v.{n}" for f, n in zip(fields, names, strict=True))  # type: ignore[union-attr]
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {_unnest([*fields, pk_field], connection)} "  # noqa: S608
                           f"AS v({', '.join(names)}, pk) WHERE {table}.{pk} = v.pk",
                           _columns(prepared, len(fields) + 1))
        else:
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)  # type: ignore[union-attr]
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", prepared)  # noqa: S608


def pipelined() -> AbstractContextManager[Any]:
    """Statements whose results nobody reads (INSERT, UPDATE) sent together, in one round trip to the
    database, on PostgreSQL (psycopg's pipeline mode; an error is raised when the block ends, inside the
    transaction); elsewhere nothing changes."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return nullcontext()
    connection.ensure_connection()
    return connection.connection.pipeline()  # type: ignore[no-any-return]


def _unnest(fields: Sequence[Any], connection: Any) -> str:
    """``unnest(%s::type[], ...)``: one array parameter per column, so the statement's text is the same for
    any number of rows (psycopg prepares it once; no per-row parsing or binding)."""
    return f"unnest({', '.join(f'%b::{f.db_type(connection)}[]' for f in fields)})"


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


def new_row(model: type[models.Model], **values: Any) -> dict[str, Any]:
    """The row :func:`insert_rows` needs for a new object: every concrete field but an automatic primary
    key, with the model's defaults for those not given."""
    obj = model(**values)
    return {f.name: getattr(obj, f.attname) for f in model._meta.concrete_fields if not f.primary_key}


def locked_rows(model: type[M], key_field: str, keys: Sequence[Any], **equal: Any) -> list[M]:
    """The rows of ``model`` whose ``key_field`` is one of ``keys`` (and whose fields equal ``equal``),
    as model instances in id order, locked ``FOR UPDATE`` on PostgreSQL (SQLite's write transaction
    already excludes every other writer). One statement, so the row locks are taken in id order."""
    connection = connections[DEFAULT_DB_ALIAS]
    fields = list(model._meta.concrete_fields)
    raw = _select(model, fields, key_field, keys, equal, lock=True)
    names = [f.attname for f in fields]
    return [model.from_db(connection.alias, names, list(row)) for row in raw]


def matching(model: type[models.Model], columns: Sequence[str], key_field: str, keys: Iterable[Any],
             **equal: Any) -> list[tuple[Any, ...]]:
    """The ``columns`` (field names) of the rows whose ``key_field`` is one of ``keys`` and whose fields
    equal ``equal`` (None: IS NULL), as the ORM's ``values_list`` would give them, in id order."""
    return _select(model, [model._meta.get_field(c) for c in columns], key_field, list(keys), equal, lock=False)


def _select(model: type[models.Model], fields: list[Any], key_field: str, keys: Sequence[Any],
            equal: dict[str, Any], *, lock: bool) -> list[tuple[Any, ...]]:
    connection = connections[DEFAULT_DB_ALIAS]
    if not keys:
        return []
    if connection.vendor != "postgresql" and len(keys) + len(equal) > (connection.features.max_query_params or 999):
        raise ValueError(f"{len(keys)} keys are more than one statement takes")
    meta = model._meta
    quote = connection.ops.quote_name
    key = meta.get_field(key_field)
    conditions, values = [], []
    for name, value in equal.items():
        field = meta.get_field(name)
        if value is None:
            conditions.append(f"{quote(field.column)} IS NULL")  # type: ignore[union-attr]
        else:
            conditions.append(f"{quote(field.column)} = %s")  # type: ignore[union-attr]
            values.append(field.get_db_prep_value(value, connection))  # type: ignore[union-attr]
    prepared = [key.get_db_prep_value(k, connection) for k in keys]  # type: ignore[union-attr]
    if connection.vendor == "postgresql":  # one statement text for any number of keys (prepared once)
        conditions.append(f"{quote(key.column)} = ANY(%b::{key.db_type(connection)}[])")  # type: ignore[union-attr]
        values.append(prepared)
    else:
        conditions.append(f"{quote(key.column)} IN ({', '.join(['%s'] * len(keys))})")  # type: ignore[union-attr]
        values.extend(prepared)
    suffix = " FOR UPDATE" if lock and connection.vendor == "postgresql" else ""
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {' AND '.join(conditions)} "  # noqa: S608
                       f"ORDER BY {quote(meta.pk.column)}{suffix}", values)  # type: ignore[union-attr]
        raw = cursor.fetchall()
    converters = _converters(model, fields)
    if not converters:
        return raw
    rows = []
    for row in raw:
        converted = list(row)
        for index, expression, functions in converters:
            for function in functions:
                converted[index] = function(converted[index], expression, connection)
        rows.append(tuple(converted))
    return rows


def _converters(model: type[models.Model], fields: list[Any]) -> list[tuple[int, Any, list[Any]]]:
    """What the ORM's compiler would apply to each column read back (backend and field converters)."""
    connection = connections[DEFAULT_DB_ALIAS]
    found = []
    for index, field in enumerate(fields):
        expression = field.get_col(model._meta.db_table)
        functions = [*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)]
        if functions:
            found.append((index, expression, functions))
    return found
