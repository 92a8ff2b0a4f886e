"""The SQLite store: one row per id, done rows never overwritten, streaming, bad files."""

import sqlite3

import pytest

from qproto import InvalidParameter, InvalidType, result_from_dict
from qproto.bench import Store, Sweep


def _tasks(n=3):
    return list(Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 200, "seed": 1},
                                 "sweep": [{"grid": {"loss_db": list(range(n))}}]}).tasks())


def test_wal_mode_and_schema(store_path):
    with Store(store_path):
        pass
    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = [r[1] for r in db.execute("PRAGMA table_info(tasks)")]
    assert cols[:3] == ["id", "status", "protocol"]


def test_record_get_and_done_rows_are_never_overwritten(store_path):
    t = _tasks(1)[0]
    r = t.run()
    with Store(store_path) as st:
        assert st.record(t, status="failed", error="boom") is True
        assert st.get(t.id)["error"] == "boom" and st.ids("done") == set()
        assert st.record(t, status="done", result=r.to_dict(), seconds=0.1) is True  # a retry succeeds
        assert st.record(t, status="failed", error="late") is False  # a done row stays done
        assert st.record(t, status="done", result={"type": "x"}) is False
        row = st.get(t.id)
        assert row["status"] == "done" and row["error"] is None and row["point"] == t.point
        assert row["task"]["seed"] == 1 and row["task"]["rounds"] == 200
        assert st.result(t.id) == r == result_from_dict(row["result"])
        assert len(st) == 1 and st.counts() == {"done": 1, "failed": 0} and t.id in st


def test_rows_stream_in_batches_and_filter_by_status(store_path):
    tasks = _tasks(7)
    with Store(store_path) as st:
        for i, t in enumerate(tasks):
            if i % 3 == 0:
                st.record(t, status="failed", error=f"e{i}")
            else:
                st.record(t, status="done", result={"type": "stub", "i": i})
        assert [r["id"] for r in st.rows(batch=2)] == sorted(t.id for t in tasks)
        assert {r["error"] for r in st.rows("failed", batch=1)} == {"e0", "e3", "e6"}
        assert st.ids("failed") == {tasks[i].id for i in (0, 3, 6)}
        assert st.ids(None) == {t.id for t in tasks}
        assert st.delete([tasks[0].id, "nope"]) == 1 and len(st) == 6


def test_two_connections_see_each_others_commits(store_path):
    t1, t2 = _tasks(2)
    with Store(store_path) as a, Store(store_path) as b:
        a.record(t1, status="done", result={"type": "stub"})
        b.record(t2, status="failed", error="x")
        assert a.ids(None) == b.ids(None) == {t1.id, t2.id}


def test_bad_files_and_arguments(tmp_path, store_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InvalidParameter, match="not a usable sweep store"):
        Store(junk)
    with Store(store_path) as st:
        with pytest.raises(InvalidParameter) as info:
            st.record(_tasks(1)[0], status="ok")
        assert info.value.name == "status"
        with pytest.raises(InvalidParameter):
            st.record(_tasks(1)[0], status="done")  # no result
        with pytest.raises(InvalidParameter):
            st.result("0" * 64)
    with pytest.raises(InvalidType):
        Store(3)
    with pytest.raises(InvalidParameter):
        Store(store_path, timeout=0)
    db = sqlite3.connect(store_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(InvalidParameter, match="schema version 99"):
        Store(store_path)
