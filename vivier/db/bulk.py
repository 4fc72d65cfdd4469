"""Bulk loading of DataFrames: COPY on PostgreSQL, one executemany on SQLite, into temp tables.

Set-based upserts then run as ``INSERT ... SELECT ... ON CONFLICT`` from those tables, in SQL
both engines understand.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa

SQL_TYPES: Mapping[str, str] = {"text": "TEXT", "int": "BIGINT", "float": "DOUBLE PRECISION", "bool": "BOOLEAN"}


def _sql_type(kind: str, dialect: str) -> str:
    if kind == "timestamp":
        return "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "TIMESTAMP"
    if kind == "float" and dialect == "sqlite":
        return "REAL"
    return SQL_TYPES[kind]


def create_temp_table(connection: sa.Connection, name: str, columns: Mapping[str, str]) -> None:
    """A session-local table (dropped at the end of the transaction on PostgreSQL)."""
    dialect = connection.dialect.name
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    body = ", ".join(f"{column} {_sql_type(kind, dialect)}" for column, kind in columns.items())
    suffix = " ON COMMIT DROP" if dialect == "postgresql" else ""
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({body}){suffix}")


def _column_values(series: pd.Series, kind: str, dialect: str) -> np.ndarray:
    """Values ready for the driver: text, numbers, booleans and UTC times; missing -> None."""
    if kind == "timestamp":
        times = pd.to_datetime(series, utc=True)
        if dialect == "sqlite":  # the layout SQLAlchemy's SQLite DateTime reads back
            values = times.dt.tz_localize(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            values = times.dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        values = values.astype("string")
    elif kind == "int":
        values = pd.to_numeric(series, errors="coerce").astype("Int64")
    elif kind == "float":
        values = pd.to_numeric(series, errors="coerce").astype("Float64")
    elif kind == "bool":
        values = series.astype("boolean")
    else:
        values = series.astype("string")
    return values.to_numpy(dtype=object, na_value=None)


def load_frame(connection: sa.Connection, table: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> int:
    """Append ``frame[columns]`` to ``table`` in bulk; returns the number of rows written."""
    if frame.empty:
        return 0
    dialect = connection.dialect.name
    values = [_column_values(frame[column], kind, dialect) for column, kind in columns.items()]
    names = ", ".join(columns)
    if dialect == "postgresql":
        prepared = pd.DataFrame(dict(zip(columns, values, strict=True)))
        buffer = io.StringIO()
        prepared.to_csv(buffer, index=False, header=False, na_rep="\\N")
        raw = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy,
        ):
            copy.write(buffer.getvalue())
        return len(prepared)
    placeholders = ", ".join("?" for _ in columns)
    rows = list(zip(*values, strict=True))
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
    return len(rows)


def stage_frame(connection: sa.Connection, name: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> int:
    """Create temp table ``name`` with ``columns`` and bulk-load ``frame`` into it."""
    create_temp_table(connection, name, columns)
    return load_frame(connection, name, frame, columns)


def in_chunks(values: np.ndarray | list, size: int = 50_000):
    """Slices of ``values`` (for IN lists and bounded batches)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def db_timestamp(connection: sa.Connection, value: pd.Timestamp | object) -> object:
    """A bind value for a UTC time, in the layout the column uses on this engine."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if connection.dialect.name == "sqlite":
        return stamp.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return stamp.to_pydatetime()
