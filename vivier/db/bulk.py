"""Bulk loading of DataFrames: COPY on PostgreSQL, executemany in batches on SQLite, into temp tables.

Set-based upserts then run as ``INSERT ... SELECT ... ON CONFLICT`` from those tables, in SQL
both engines understand.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping

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


def _timestamp_text(series: pd.Series, layout: str) -> pd.Series:
    """UTC times formatted with ``layout`` (missing stays missing); each distinct time formatted once."""
    typed = _typed(series, "timestamp")
    codes, uniques = pd.factorize(typed, use_na_sentinel=True)
    text = pd.array(pd.DatetimeIndex(uniques).tz_convert("UTC").tz_localize(None).strftime(layout), dtype="string")
    return pd.Series(text.take(codes, allow_fill=True), index=series.index)


def _text(series: pd.Series) -> pd.Series:
    """Text values; a categorical stays one (so that its few strings are not copied once per row)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series
    return series.astype("string")


def _driver_column(series: pd.Series, kind: str) -> pd.Series:
    """The column in the form the SQLite driver is given (see ``_driver_values``), still compact."""
    if kind == "timestamp":
        return _timestamp_text(series, "%Y-%m-%d %H:%M:%S.%f")
    if kind == "text":
        return _text(series)
    return _typed(series, kind)


def _driver_values(series: pd.Series, kind: str) -> np.ndarray:
    """Python values for the SQLite driver; missing -> None; times in the layout SQLAlchemy reads back."""
    return _python_values(_driver_column(series, kind))


def _python_values(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        categories = column.cat.categories.astype("string").to_numpy(dtype=object, na_value=None)
        values = categories.take(codes)
        values[codes < 0] = None
        return values
    return column.to_numpy(dtype=object, na_value=None)


def _arrow_column(series: pd.Series, kind: str):
    """One column for the COPY CSV as an Arrow array: numbers as numbers, everything else as text."""
    import pyarrow as pa

    if kind == "int":
        return pa.array(_typed(series, kind).array, type=pa.int64())
    if kind == "timestamp":
        typed = _timestamp_text(series, "%Y-%m-%d %H:%M:%S.%f+00:00")
    elif kind == "text" and isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        categories = series.cat.categories.astype("string").to_numpy(dtype=object, na_value=None)
        dictionary = pa.array(categories, type=pa.string())
        indices = pa.array(codes, mask=codes < 0, type=pa.int32())
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    else:
        typed = _typed(series, kind).astype("string")
    # through Python objects: Arrow arrays taken straight from concatenated pandas string
    # columns were seen written with garbage (NUL) bytes by the CSV writer
    return pa.array(typed.to_numpy(dtype=object, na_value=None), type=pa.string())


def _copy_csv(frame: pd.DataFrame, columns: Mapping[str, str]) -> bytes:
    """The rows as CSV for PostgreSQL's COPY, written by Arrow's C++ writer.

    Every non-missing value is quoted and missing ones are left empty and unquoted, which is
    exactly how COPY's CSV format tells an empty string from NULL.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    arrays = {column: _arrow_column(frame[column], kind) for column, kind in columns.items()}
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(
        pa.table(arrays),
        sink,
        write_options=pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    return sink.getvalue().to_pybytes()


COPY_BATCH_ROWS = 200_000


def _csv_batches(frame: pd.DataFrame, columns: Mapping[str, str]) -> Iterator[bytes]:
    """The COPY CSV of ``frame`` in batches of ``COPY_BATCH_ROWS``, in order.

    With more than one batch, a thread writes the next batch while the caller sends the current
    one: the server parses and inserts on one core while this process prepares on the other
    (sending waits on the socket without holding the GIL). At most two batches wait in memory.
    """
    starts = range(0, len(frame), COPY_BATCH_ROWS)
    if len(starts) <= 1:
        yield from (_copy_csv(frame.iloc[start : start + COPY_BATCH_ROWS], columns) for start in starts)
        return
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item: bytes | BaseException) -> bool:
        """Put ``item`` in the queue unless the consumer stopped; whether it was put."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for start in starts:
                if not hand_over(_copy_csv(frame.iloc[start : start + COPY_BATCH_ROWS], columns)):
                    return
        except BaseException as error:  # raised in the consumer
            hand_over(error)

    worker = threading.Thread(target=produce, name="copy-csv", daemon=True)
    worker.start()
    try:
        for _ in starts:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


SQLITE_BATCH_ROWS = 100_000


def load_frame(connection: sa.Connection, table: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> int:
    """Append ``frame[columns]`` to ``table`` in bulk (COPY on PostgreSQL); returns the rows written.

    Large frames are written in batches (bounded memory), all in the caller's transaction.
    """
    if frame.empty:
        return 0
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            for data in _csv_batches(frame, columns):
                copy.write(data)
        return len(frame)
    prepared = [_driver_column(frame[column], kind) for column, kind in columns.items()]
    placeholders = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"

    for start in range(0, len(frame), SQLITE_BATCH_ROWS):
        values = [_python_values(column.iloc[start : start + SQLITE_BATCH_ROWS]) for column in prepared]
        connection.exec_driver_sql(statement, list(zip(*values, strict=True)))
    return len(frame)


def append_frame(connection: sa.Connection, table: str, frame: pd.DataFrame, columns: Mapping[str, str]) -> int:
    """Like ``load_frame``, for large appends to an indexed table: COPY on PostgreSQL; on SQLite
    into a temporary table first, then one ``INSERT ... SELECT`` in the frame's order (SQLite fills
    a table with several indexes faster that way than row by row). Returns the rows written."""
    if frame.empty or connection.dialect.name == "postgresql":
        return load_frame(connection, table, frame, columns)
    staging = f"append_{table}"
    create_temp_table(connection, staging, columns)
    load_frame(connection, staging, frame, columns)
    names = ", ".join(columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ORDER BY rowid")
    connection.exec_driver_sql(f"DROP TABLE {staging}")
    return len(frame)


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
