"""The ingest hot path on the DB-API cursor (SQLite), with SQLAlchemy's own type conversions.

Measured on the ingest path (2 cores): three Core INSERTs and a commit cost ~320 µs,
the same on the raw sqlite3 cursor ~160 µs, and a Core SELECT ~70 µs of Python
around a query that takes a few. Here the statements are plain SQL written once
per table and column list; values still pass through each column type's own bind
and result processors, so what is stored and read back is exactly what the ORM
stores and reads. Server databases keep the Core path (`supported` is False).
`POST /events` on SQLite runs on one pooled connection without an ORM session at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None


def supported(dialect: Dialect) -> bool:
    return dialect.name == "sqlite"


class RawConnection:
    """A pooled DB-API connection and its dialect: what the raw statements run on."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self.dbapi = dbapi_connection
        self.dialect = dialect

    def cursor(self) -> Any:
        return self.dbapi.cursor()

    @classmethod
    def of(cls, source: Session | RawConnection) -> RawConnection | None:
        """The raw connection under a session's transaction, when the fast path applies."""
        if isinstance(source, RawConnection):
            return source
        conn: Connection = source.connection()
        return cls(conn.connection, conn.dialect) if supported(conn.dialect) else None


class RawInsert:
    """INSERT of rows (dicts with the same keys) into one table; optionally RETURNING one column."""

    def __init__(self, table: Table, returning: str | None = None) -> None:
        self.table = table
        self.returning = returning
        self._prepared: dict[tuple[str, ...], tuple[str, list[Processor]]] = {}

    def _prepare(self, conn: RawConnection, keys: tuple[str, ...]) -> tuple[str, list[Processor]]:
        if keys not in self._prepared:
            quote = conn.dialect.identifier_preparer.quote
            sql = (
                f"INSERT INTO {quote(self.table.name)} ({', '.join(quote(k) for k in keys)}) "
                f"VALUES ({', '.join('?' for _ in keys)})"
            )
            if self.returning:
                sql += f" RETURNING {quote(self.returning)}"
            processors = [self.table.c[k].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for k in keys]
            self._prepared[keys] = (sql, processors)
        return self._prepared[keys]

    def execute(self, conn: RawConnection, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Insert the rows in the connection's transaction; the RETURNING values, in order."""
        if not rows:
            return []
        keys = tuple(rows[0])
        sql, processors = self._prepare(conn, keys)
        params = [tuple(p(row[k]) if p else row[k] for k, p in zip(keys, processors, strict=True)) for row in rows]
        cursor = conn.cursor()
        try:
            if not self.returning:
                cursor.executemany(sql, params)
                return []
            returned = []
            for values in params:  # sqlite3 runs no RETURNING under executemany
                cursor.execute(sql, values)
                returned.append(cursor.fetchall()[0][0])
            return returned
        finally:
            cursor.close()


def column_list(columns: Sequence[Any]) -> str:
    """`table."column", ...` for a SELECT written by hand."""
    return ", ".join(f'{c.table.name}."{c.name}"' for c in columns)


class _InList:
    """SQL written once with `?` placeholders, optionally ending in `IN ({ids})` for a list of ids."""

    def __init__(self, sql: str, columns: Sequence[Any]) -> None:
        self.sql = sql
        self.columns = columns
        self._processors: list[Processor] | None = None
        self._by_count: dict[int, str] = {}

    def _sql(self, ids: Sequence[Any]) -> str:
        if "{ids}" not in self.sql:
            return self.sql
        sql = self._by_count.get(len(ids))
        if sql is None:
            sql = self._by_count[len(ids)] = self.sql.format(ids=", ".join("?" for _ in ids))
        return sql


class RawQuery(_InList):
    """A SELECT; its columns read through the given columns' types."""

    def execute(self, conn: RawConnection, params: Sequence[Any], ids: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._processors is None:
            self._processors = [c.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None) for c in self.columns]
        cursor = conn.cursor()
        try:
            cursor.execute(self._sql(ids), (*params, *ids))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        processors = self._processors
        if not any(processors):
            return rows
        return [tuple(p(v) if p else v for v, p in zip(row, processors, strict=True)) for row in rows]


class RawUpdate(_InList):
    """An UPDATE; the leading parameters pass through the given columns' types, the ids fill
    the IN list. Returns the number of rows changed."""

    def execute(self, conn: RawConnection, params: Sequence[Any], ids: Sequence[Any]) -> int:
        if self._processors is None:
            self._processors = [c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in self.columns]
        values = [p(v) if p else v for v, p in zip(params, self._processors, strict=True)]
        cursor = conn.cursor()
        try:
            cursor.execute(self._sql(ids), (*values, *ids))
            return cursor.rowcount
        finally:
            cursor.close()
