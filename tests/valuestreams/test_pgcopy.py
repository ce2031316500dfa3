"""Binary COPY built with numpy: every kind of column arrives in PostgreSQL as it was."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from valuestreams.recompute import publish


def _copied(frame: pd.DataFrame, columns: dict[str, str], *, rows_per_chunk: int = 3) -> list:
    kinds = [publish.column_kind(sql_type) for sql_type in columns.values()]
    table = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE copied (n serial, {table})")
    names = ", ".join(columns)
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY copied ({names}) FROM STDIN (FORMAT binary)") as copy:
            for chunk in publish.binary_copy_chunks(frame, kinds, rows_per_chunk=rows_per_chunk):
                copy.write(chunk)
        cursor.execute(f"SELECT {names} FROM copied ORDER BY n")
        return cursor.fetchall()


@pytest.mark.django_db
def test_every_column_kind_with_nulls_arrives_exactly():
    frame = pd.DataFrame(
        {
            "label": ["2026-W23", "Zürich ✓", None, ""],
            "small": [1, -2, 3, 32000],
            "count": [0, 2**31 - 1, -(2**31), 7],
            "big": pd.array([2**62, None, -5, 0], dtype="Int64"),
            "ratio": [0.1 + 0.2, np.nan, -1e-300, 1e308],
            "flag": [True, False, True, False],
            "at": pd.to_datetime(
                [
                    "2026-05-31T22:00:00.123456Z",
                    None,
                    "1999-12-31T23:59:59Z",
                    "2000-01-01T00:00:00Z",
                ],
                utc=True,
                format="ISO8601",
            ),
        }
    )
    columns = {
        "label": "varchar(20)",
        "small": "smallint",
        "count": "integer",
        "big": "bigint",
        "ratio": "double precision",
        "flag": "boolean",
        "at": "timestamp with time zone",
    }

    rows = _copied(frame, columns)

    utc = dt.UTC
    assert rows == [
        ("2026-W23", 1, 0, 2**62, 0.1 + 0.2, True, dt.datetime(2026, 5, 31, 22, 0, 0, 123456, utc)),
        ("Zürich ✓", -2, 2**31 - 1, None, None, False, None),
        ("", 3, -(2**31), -5, -1e-300, True, dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=utc)),
        ("", 32000, 7, 0, 1e308, False, dt.datetime(2000, 1, 1, tzinfo=utc)),
    ]


@pytest.mark.django_db
def test_a_text_column_with_many_distinct_values_and_an_empty_frame():
    texts = [f"status {n}" for n in range(publish._MANY_TEXTS + 5)]
    rows = _copied(pd.DataFrame({"status": texts}), {"status": "text"}, rows_per_chunk=100)
    assert [r[0] for r in rows] == texts
    chunks = list(publish.binary_copy_chunks(pd.DataFrame({"a": []}), ["int8"], rows_per_chunk=10))
    assert chunks == [publish.SIGNATURE, publish.TRAILER]


def test_an_unknown_sql_type_is_refused():
    with pytest.raises(ValueError, match="jsonb"):
        publish.column_kind("jsonb")
