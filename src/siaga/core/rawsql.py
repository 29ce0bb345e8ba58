"""Many-row INSERT and UPDATE with executemany, for hot paths.

Django's bulk_create and bulk_update build a model instance per row and compile SQL (bulk_update a
CASE expression per field and row); on the CTI lane that cost more than the database work itself. These
helpers send one prepared statement for all rows, with every value adapted by the model field that owns
it (so datetimes, JSON and booleans are stored exactly as the ORM would store them). The SQL text is
made only from model metadata (table and column names, quoted), never from values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts of field name -> value, all with the same keys) into ``model``'s table."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)  # type: ignore[union-attr]
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
    values = [[f.get_db_prep_save(row[n], connection) for f, n in zip(fields, names, strict=True)]  # type: ignore[union-attr]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def update_rows(model: type[models.Model], objects: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """UPDATE ``field_names`` of each object, one prepared statement for all of them."""
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)  # type: ignore[union-attr]
    pk = quote(model._meta.pk.column)  # type: ignore[union-attr]
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    values = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]  # type: ignore[union-attr]
              for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
