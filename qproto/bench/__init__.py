"""qproto.bench: declared, resumable, distributed sweeps of protocol runs.

A :class:`Sweep` (a TOML file or the same as Python objects) expands into
:class:`Task` s with content ids; :func:`run_sweep` runs the ones a :class:`Store`
(SQLite, WAL mode) does not hold yet, serially, in processes or on Dask distributed;
:func:`collect_rows`, :func:`write_table` and :func:`plot_rows` turn the store into
tables and figures; :func:`export_csv` / :func:`export_parquet` export it. The
``qproto bench`` command line drives all of it (docs/bench.md).

Example::

    from qproto.bench import Sweep, run_sweep
    sweep = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 20000, "seed": 1},
                             "sweep": [{"grid": {"loss_db": [0, 10, 20]}}]})
    summary = run_sweep(sweep, "bb84.db", executor="processes")
"""

from qproto.bench._export import (
    collect_rows,
    export_csv,
    export_parquet,
    flatten_estimates,
    pivot_rows,
    write_table,
)
from qproto.bench._plot import plot_rows
from qproto.bench._runner import EXECUTORS, RunProgress, RunSummary, SweepInterrupted, execute_payload, run_sweep
from qproto.bench._spec import AXIS_KEYS, AXIS_PREFIXES, Block, Sweep
from qproto.bench._store import Store, StoredRow
from qproto.bench._suites import available_suites, load_suite, run_suite
from qproto.bench._task import Task, canonical_json, engine_versions, task_id

__all__ = [
    "AXIS_KEYS", "AXIS_PREFIXES", "Block", "EXECUTORS", "RunProgress", "RunSummary", "Store", "StoredRow", "Sweep",
    "SweepInterrupted", "Task", "available_suites", "canonical_json", "collect_rows", "engine_versions",
    "execute_payload", "export_csv", "export_parquet", "flatten_estimates", "load_suite", "pivot_rows", "plot_rows",
    "run_suite", "run_sweep", "task_id", "write_table",
]
