"""Publishing a full recompute as a diff against the rows already stored, by row hash.

A full run recomputes every row of a portfolio, but from one run to the next almost all of them
come out the same (a nightly run after a day of changes alters a few thousand of millions). So a
full run does not delete and re-insert everything, and it does not read every stored value back
either: every derived row is stored with ``row_hash``, a 64-bit hash of all its published values
(:func:`row_hashes`, computed from the frame that is written, by every run, full or incremental).
Inside the publishing transaction a full run reads only the stored (primary key, row_hash) pairs
— two binary strings aggregated by PostgreSQL, no per-row round trip — keeps the stored rows whose
hash it computed again, deletes the others and inserts the computed rows whose hash is not stored.

The published result is the same as a delete + insert of every row: values are hashed exactly as
they are stored (datetimes as integer microseconds, floats by their bits with one NaN, NULL as
its own value), so equal hashes mean equal rows unless two different rows collide in 64 bits
(about one chance in 10^19 per changed row). A row without a hash (written before hashes existed)
never matches and is rewritten.

Writing a diff (:func:`apply`): a changed row is updated in place, keeping its primary key (an
upsert on the table's natural key from a staged copy of the rows), rows whose key is new are
inserted and rows whose key is gone deleted. Most rows that change do so every day (the open
windows' load and time in status of every scope) and change no indexed column, so with room on
their page (the metric tables keep half of each page free) PostgreSQL stores the new version
beside the old one and touches no index — about three times cheaper than a delete and an
insert, whose index entries cost most of a row's write. A rewrite of many rows at once (a
first run, a mapping change) is written as deletes and one COPY.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from django.db import connection, models
from psycopg import sql

from valuestreams import pgcopy
from valuestreams.selectors.frames import id_array

NULL_INT = -(2**62)  # stands for NULL in integer and datetime columns while hashing
_VERSION = b"row-hash-1"  # change when the hashed form changes: every row is rewritten once
_NAN_BITS = np.float64(np.nan).view(np.uint64)
COPY_ROWS = 10_000  # rows encoded at once: bounds the bytes and index arrays held in memory
_STAGED = itertools.count()  # numbers the staging tables of a process
IN_PLACE_MAX_ROWS = 50_000  # above this many changed rows, delete + COPY beats staging them


@dataclass
class Diff:
    """What to write: the primary keys of stored rows to delete, and the computed rows to insert."""

    delete_pks: np.ndarray
    insert: pd.DataFrame
    delete_all: bool = False  # every stored row the run covers goes


def _kind(model, name: str) -> str:
    kind = model._meta.get_field(name).get_internal_type()
    if kind == "DateTimeField":
        return "time"
    if kind == "FloatField":
        return "float"
    if kind == "BooleanField":
        return "bool"
    if kind in {"CharField", "TextField"}:
        return "text"
    return "int"


def _text_hashes(names) -> np.ndarray:
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(str(n).encode(), digest_size=8, key=_VERSION).digest())
            for n in names
        ],
        dtype=np.uint64,
    )


def _column_words(column: pd.Series, kind: str) -> np.ndarray:
    """A column as uint64 words, in the form the value is stored in."""
    if kind == "time":
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        micro = column.to_numpy().astype("M8[us]")
        return np.where(np.isnat(micro), NULL_INT, micro.view(np.int64)).view(np.uint64)
    if kind == "float":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.isnan(values), _NAN_BITS, values.view(np.uint64))
    if kind == "bool":
        return column.to_numpy(dtype=np.int8).astype(np.uint64)
    if kind == "int":
        return column.to_numpy(dtype=np.int64, na_value=NULL_INT).view(np.uint64)
    codes, names = pd.factorize(column.astype(str), sort=False)
    return _text_hashes(names)[codes] if len(names) else np.zeros(len(column), dtype=np.uint64)


def row_hashes(model, frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash (int64, never 0) of each row of ``frame`` (columns = field names of
    ``model``), over every column in the frame's order."""
    h = np.full(len(frame), np.uint64(0x243F6A8885A308D3), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, name in enumerate(frame.columns):
            words = _column_words(frame[name], _kind(model, name))
            h ^= words + np.uint64(0x9E3779B97F4A7C15) * np.uint64(position + 1)
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    out = h.view(np.int64)
    out[out == 0] = 1  # 0 stands for "no hash stored"
    return out


def with_row_hash(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``row_hash`` column (what is written to the table)."""
    return frame.assign(row_hash=row_hashes(model, frame))


def _read_stored_hashes(model, where: sql.Composable) -> tuple[np.ndarray, np.ndarray]:
    """Primary keys and row hashes (0 where none) of the stored rows ``where`` selects, as two
    big-endian int64 strings built by PostgreSQL (one result row, no per-row round trip)."""
    query = sql.SQL(
        "SELECT string_agg(int8send({pk}), ''), string_agg(int8send(coalesce(row_hash, 0)), '')"
        " FROM {table} WHERE {where}"
    ).format(
        pk=sql.Identifier(model._meta.pk.column),
        table=sql.Identifier(model._meta.db_table),
        where=where,
    )
    connection.ensure_connection()
    # a server-side-binding cursor: Django's default client-side one cannot ask for binary results
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, binary=True)
        pks, hashes = cursor.fetchone()
    if pks is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return (
        np.frombuffer(pks, dtype=">i8").astype(np.int64),
        np.frombuffer(hashes, dtype=">i8").astype(np.int64),
    )


def _isin(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Membership by hash table (numpy's isin sorts; this is ~15x faster on random int64)."""
    return pd.Series(values, copy=False).isin(among).to_numpy()


def diff_rows(
    model,
    frame: pd.DataFrame,
    *,
    where: sql.Composable,
    stored: tuple[np.ndarray, np.ndarray] | None = None,
) -> Diff:
    """The rows of ``frame`` (columns = field names, with ``row_hash``) that are not stored
    as they are among the rows ``where`` selects, and those of them to delete (changed or
    gone). ``stored``: those rows' (primary keys, row hashes, 0 for none) when the caller has
    read them already."""
    stored_pk, stored_hash = stored if stored is not None else _read_stored_hashes(model, where)
    new_hash = frame["row_hash"].to_numpy(dtype=np.int64)
    kept = _isin(stored_hash, new_hash) & (stored_hash != 0)
    if not kept.any():
        return Diff(stored_pk, frame, delete_all=len(stored_pk) > 0)
    inserted = ~_isin(new_hash, stored_hash[kept])
    return Diff(delete_pks=stored_pk[~kept], insert=frame[inserted])


def apply_deletes(model, diff: Diff, *, where: sql.Composable) -> None:
    """Delete the stored rows ``diff`` names (in the caller's transaction); ``where`` selects
    them all when every one goes."""
    table, pk = sql.Identifier(model._meta.db_table), sql.Identifier(model._meta.pk.column)
    with connection.connection.cursor() as cursor:
        if diff.delete_all:
            cursor.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, where))
        elif len(diff.delete_pks):
            cursor.execute(
                sql.SQL("DELETE FROM {} WHERE {} = ANY({})").format(
                    table, pk, id_array(diff.delete_pks.tolist())
                )
            )


def copy_rows(model, frame: pd.DataFrame, *, portfolio_id: int, table: str | None = None) -> None:
    """COPY ``frame`` (columns = field names) with ``portfolio_id`` into the model's table (or
    ``table``, with the same columns), in PostgreSQL's binary format (:mod:`valuestreams.pgcopy`),
    COPY_ROWS rows at a time."""
    if frame.empty:
        return
    fields = {f.column: f for f in model._meta.concrete_fields}
    frame = frame.assign(portfolio_id=portfolio_id)[["portfolio_id", *frame.columns]]
    kinds = [pgcopy.column_kind(fields[name].db_type(connection)) for name in frame.columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table or model._meta.db_table),
        sql.SQL(", ").join(map(sql.Identifier, frame.columns)),
    )
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in pgcopy.binary_copy_chunks(frame, kinds, rows_per_chunk=COPY_ROWS):
            copy.write(chunk)


def natural_key(model) -> list[str]:
    """The columns of the model's unique key: its (unconditional) unique constraint, or its
    primary key."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            return [model._meta.get_field(name).column for name in constraint.fields]
    return [model._meta.pk.column]


def apply(model, diff: Diff, *, where: sql.Composable, portfolio_id: int) -> None:
    """Write ``diff`` (in the caller's transaction): rows of a stored key updated in place, new
    keys inserted, gone keys deleted (see the module's docstring); ``where`` selects every row
    the diff covers."""
    rows = diff.insert
    if diff.delete_all or not len(diff.delete_pks) or rows.empty or len(rows) > IN_PLACE_MAX_ROWS:
        apply_deletes(model, diff, where=where)
        copy_rows(model, rows, portfolio_id=portfolio_id)
        return
    written = _upsert(model, rows, portfolio_id=portfolio_id)
    gone = diff.delete_pks[~_isin(diff.delete_pks, written)]
    apply_deletes(model, Diff(delete_pks=gone, insert=rows.iloc[:0]), where=where)


def _upsert(model, frame: pd.DataFrame, *, portfolio_id: int) -> np.ndarray:
    """Insert ``frame``'s rows, updating the stored row of the same natural key in place; the
    primary keys of every row written."""
    table = model._meta.db_table
    staged = f"{table}_staged_{next(_STAGED)}"  # unique in the session: no DROP round trip
    columns = ["portfolio_id", *frame.columns]
    key = natural_key(model)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    with connection.connection.cursor() as cursor:
        # dropped at the end of the transaction, whatever happens
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(staged), names, sql.Identifier(table)
            )
        )
    copy_rows(model, frame, portfolio_id=portfolio_id, table=staged)
    updated = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns if c not in key
    )
    with connection.connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({names}) SELECT {names} FROM {staged}"
                " ON CONFLICT ({key}) DO UPDATE SET {updated} RETURNING {pk}"
            ).format(
                table=sql.Identifier(table),
                names=names,
                staged=sql.Identifier(staged),
                key=sql.SQL(", ").join(map(sql.Identifier, key)),
                updated=updated,
                pk=sql.Identifier(model._meta.pk.column),
            )
        )
        return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
