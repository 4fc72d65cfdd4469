"""Bulk loading of DataFrames: COPY on PostgreSQL, one executemany on SQLite, into temp tables.

Set-based upserts then run as ``INSERT ... SELECT ... ON CONFLICT`` from those tables, in SQL
both engines understand.
"""

from __future__ import annotations

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


def _typed(series: pd.Series, kind: str) -> pd.Series:
    """The column with the nullable dtype of its SQL kind (times in UTC)."""
    if kind == "timestamp":
        return pd.to_datetime(series, utc=True)
    if kind == "int":
        return pd.to_numeric(series, errors="coerce").astype("Int64")
    if kind == "float":
        return pd.to_numeric(series, errors="coerce").astype("Float64")
    if kind == "bool":
        return series.astype("boolean")
    return series.astype("string")


def _driver_values(series: pd.Series, kind: str) -> np.ndarray:
    """Python values for the SQLite driver; missing -> None; times in the layout SQLAlchemy reads back."""
    typed = _typed(series, kind)
    if kind == "timestamp":
        typed = typed.dt.tz_localize(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f").astype("string")
    return typed.to_numpy(dtype=object, na_value=None)


def _copy_csv(frame: pd.DataFrame, columns: Mapping[str, str]) -> bytes:
    """The rows as CSV for PostgreSQL's COPY, written by Arrow's C++ writer.

    Every non-missing value is quoted and missing ones are left empty and unquoted, which is
    exactly how COPY's CSV format tells an empty string from NULL.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    arrays = {}
    for column, kind in columns.items():
        typed = _typed(frame[column], kind)
        if kind == "timestamp":
            typed = typed.dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        typed = typed.astype("string")
        # through Python objects: Arrow arrays taken straight from concatenated pandas string
        # columns were seen written with garbage (NUL) bytes by the CSV writer
        arrays[column] = pa.array(typed.to_numpy(dtype=object, na_value=None), type=pa.string())
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(
        pa.table(arrays),
        sink,
        write_options=pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    return sink.getvalue().to_pybytes()


def load_frame(connection: sa.Connection, table: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> int:
    """Append ``frame[columns]`` to ``table`` in bulk (COPY on PostgreSQL); returns the rows written."""
    if frame.empty:
        return 0
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(_copy_csv(frame, columns))
        return len(frame)
    values = [_driver_values(frame[column], kind) for column, kind in columns.items()]
    placeholders = ", ".join("?" for _ in columns)
    rows = list(zip(*values, strict=True))
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
    return len(rows)


def stage_frame(connection: sa.Connection, name: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> int:
    """Create temp table ``name`` with ``columns`` and bulk-load ``frame`` into it."""
    create_temp_table(connection, name, columns)
    written = load_frame(connection, name, frame, columns)
    if connection.dialect.name == "postgresql":
        # autovacuum never analyzes temporary tables: without statistics the planner guesses
        # a handful of rows and picks nested loops for million-row joins
        connection.exec_driver_sql(f"ANALYZE {name}")
    return written


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
