"""The result store: one SQLite database (WAL mode) with one row per task id.

Why SQLite: it is in the standard library, a row is written in one transaction, and in
WAL mode a committed transaction survives the writer being killed at any moment (the
log is replayed or ignored as a whole on the next open), so ``kill -9`` loses at most the
tasks that were running and never leaves half a row. The task id is the primary key, so
a task can never be stored twice; a ``done`` row is never overwritten (a ``failed`` row is,
when the task is retried and succeeds).

Each row holds the task's status (``done`` or ``failed``), its sweep point, the task
description (what the id hashes), the result as ``to_dict()`` JSON (done) or the error
text (failed), the run time in seconds and when it finished.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

from qproto._errors import InvalidParameter, InvalidType

from ._task import Task

__all__ = ["Store", "StoredRow", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    protocol    TEXT NOT NULL,
    point       TEXT NOT NULL,
    task        TEXT NOT NULL,
    result      TEXT,
    error       TEXT,
    seconds     REAL,
    finished_at REAL NOT NULL,
    host        TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoredRow(dict):
    """One stored task as a dict: ``id``, ``status``, ``protocol``, ``point`` (dict),
    ``task`` (dict), ``result`` (dict or None), ``error`` (str or None), ``seconds``,
    ``finished_at`` (Unix time) and ``host``."""


class Store:
    """A resumable result store in one SQLite file (WAL mode).

    Args:
        path: the database file (created with its tables if missing); ``":memory:"`` for
            a throw-away store.
        timeout: seconds to wait for another writer's lock, > 0.

    Use as a context manager or call :meth:`close`.

    Raises:
        InvalidParameter: the file exists but is not a qproto sweep store.
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 30.0):
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidType("path", path, "a file path")
        if not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidParameter("timeout", timeout, "a number of seconds > 0")
        self.path = os.fspath(path)
        try:
            # Autocommit mode: every write below opens its own explicit transaction.
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit reaches the WAL file before returning, which survives a killed
            # process (not necessarily a power cut, which would lose the last commits but
            # still never corrupt the database).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise InvalidParameter("path", self.path, f"a store of schema version {SCHEMA_VERSION}",
                                       f"{self.path!r} has store schema version {row[0]}; this qproto reads "
                                       f"version {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise InvalidParameter("path", self.path, "a qproto sweep store (SQLite)",
                                   f"{self.path!r} is not a usable sweep store: {exc}") from None
        self._host = socket.gethostname()

    # ---- context manager ---------------------------------------------------------------
    def close(self) -> None:
        """Close the database (every recorded row is already committed)."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])

    def __contains__(self, task_id: object) -> bool:
        return self._db.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone() is not None

    def counts(self) -> dict[str, int]:
        """``{"done": n, "failed": m}``."""
        out = {"done": 0, "failed": 0}
        for status, n in self._db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status"):
            out[status] = int(n)
        return out

    def ids(self, status: str | None = "done") -> set[str]:
        """The ids with ``status`` (``"done"``, ``"failed"`` or None for all)."""
        if status is None:
            return {r[0] for r in self._db.execute("SELECT id FROM tasks")}
        _check_status(status)
        return {r[0] for r in self._db.execute("SELECT id FROM tasks WHERE status = ?", (status,))}

    def get(self, task_id: str) -> StoredRow | None:
        """The stored row of one task id, or None."""
        cur = self._db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,))
        row = cur.fetchone()
        return None if row is None else _row(cur.description, row)

    def result(self, task_id: str):
        """The stored result of a done task, rebuilt with :func:`qproto.result_from_dict`.

        Raises:
            InvalidParameter: no done row with this id.
        """
        from qproto import result_from_dict

        row = self.get(task_id)
        if row is None or row["status"] != "done":
            raise InvalidParameter("task_id", task_id, "the id of a done task in this store")
        return result_from_dict(row["result"])

    def rows(self, status: str | None = None, *, batch: int = 500) -> Iterator[StoredRow]:
        """Every row (of ``status``, if given) in id order, streamed in batches (bounded memory)."""
        if status is not None:
            _check_status(status)
        last = ""
        while True:
            if status is None:
                cur = self._db.execute("SELECT * FROM tasks WHERE id > ? ORDER BY id LIMIT ?", (last, batch))
            else:
                cur = self._db.execute("SELECT * FROM tasks WHERE id > ? AND status = ? ORDER BY id LIMIT ?",
                                       (last, status, batch))
            rows = cur.fetchall()
            if not rows:
                return
            for r in rows:
                yield _row(cur.description, r)
            last = rows[-1][0]

    # ---- writing -----------------------------------------------------------------------
    def record(self, task: Task, *, status: str, result: dict[str, Any] | str | None = None,
               error: str | None = None, seconds: float | None = None) -> bool:
        """Store one finished task in its own transaction.

        Args:
            task: the task.
            status: ``"done"`` (with ``result``) or ``"failed"`` (with ``error``).
            result: the result's ``to_dict()`` (or its JSON text).
            error: the error text of a failed task.
            seconds: the task's run time.

        Returns:
            Whether the row was written (False when a done row with this id already exists:
            done rows are never overwritten).
        """
        _check_status(status)
        if status == "done" and result is None:
            raise InvalidParameter("result", None, "the result of a done task")
        text = result if isinstance(result, str) or result is None else json.dumps(result)
        cur = self._db.execute(
            "INSERT INTO tasks (id, status, protocol, point, task, result, error, seconds, finished_at, host) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET status = excluded.status, point = excluded.point, "
            "result = excluded.result, error = excluded.error, seconds = excluded.seconds, "
            "finished_at = excluded.finished_at, host = excluded.host WHERE tasks.status != 'done'",
            (task.id, status, task.protocol, json.dumps(task.point), json.dumps(task.id_payload()), text,
             error, seconds, time.time(), self._host))
        return cur.rowcount > 0

    def delete(self, ids: Iterable[str]) -> int:
        """Delete rows by id (one transaction); returns how many were deleted."""
        with self._transaction():
            n = 0
            for i in ids:
                n += self._db.execute("DELETE FROM tasks WHERE id = ?", (i,)).rowcount
        return n

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind, *_):
                db.execute("COMMIT" if kind is None else "ROLLBACK")

        return _Tx()


def _check_status(status: Any) -> None:
    if status not in ("done", "failed"):
        raise InvalidParameter("status", status, "'done' or 'failed'")


def _row(description, row) -> StoredRow:
    out = StoredRow(zip((d[0] for d in description), row))
    for key in ("point", "task", "result"):
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    return out
