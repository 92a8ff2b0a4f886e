"""run_sweep: results equal direct runs, resume, new points only, failures, bounded submission,
Ctrl-C, and identical results on every executor."""

import concurrent.futures as cf
import json
import threading

import pytest
from bench.bench_helpers import small_sweep

from qproto import Channel, InvalidParameter, InvalidType, get_protocol
from qproto.bench import RunProgress, Store, Sweep, SweepInterrupted, run_sweep


def _results(path):
    with Store(path) as st:
        return {r["id"]: (r["status"], json.dumps(r["result"], sort_keys=True)) for r in st.rows()}


def test_stored_results_equal_direct_protocol_runs(sweep, store_path):
    s = run_sweep(sweep, store_path)
    assert (s.total, s.unique, s.done, s.skipped, s.failed) == (6, 6, 6, 0, 0)
    with Store(store_path) as st:
        for task in sweep.tasks():
            loss = task.point["loss_db"]
            # built here, not from the task: the channel the sweep promises for this point
            direct = get_protocol(task.point["protocol"]).run(
                Channel(transmittance=10 ** (-loss / 10), depolarisation=0.02), rounds=2000, seed=7)
            assert st.result(task.id) == direct
            assert st.get(task.id)["result"] == json.loads(json.dumps(direct.to_dict()))


def test_rerun_skips_everything_and_adding_points_runs_only_new_ones(sweep, store_path):
    run_sweep(sweep, store_path)
    before = _results(store_path)
    again = run_sweep(sweep, store_path)
    assert (again.done, again.skipped, again.failed) == (0, 6, 0)
    bigger = small_sweep(losses=(0.0, 3.0, 6.0, 9.0))
    more = run_sweep(bigger, store_path)
    assert (more.total, more.done, more.skipped) == (8, 2, 6)
    after = _results(store_path)
    assert len(after) == 8 and all(after[k] == v for k, v in before.items())


def test_duplicate_points_run_once(store_path):
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 500, "seed": 1},
                         "sweep": [{"grid": {"loss_db": [0, 10]}}, {"grid": {"channel.transmittance": [1.0, 0.1]}}]})
    summary = run_sweep(s, store_path)
    assert (summary.total, summary.unique, summary.done, summary.skipped) == (4, 2, 2, 2)


def test_a_failing_task_is_recorded_and_the_sweep_goes_on(store_path):
    # The stabilizer engine path refuses a depolarising channel at run time (not at planning).
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 500, "seed": 1},
                         "sweep": [{"grid": {"channel.depolarisation": [0.0, 0.1, 0.0001],
                                             "engine.mode": ["stabilizer"]}},
                                   {"grid": {"loss_db": [1, 2]}}]})
    summary = run_sweep(s, store_path)
    assert (summary.done, summary.failed) == (3, 2)
    with Store(store_path) as st:
        failed = list(st.rows("failed"))
        assert len(failed) == 2
        assert all(r["error"].startswith("InvalidParameter: ") and "stabilizer" in r["error"] for r in failed)
        assert {r["point"]["channel.depolarisation"] for r in failed} == {0.1, 0.0001}
    # failed tasks are retried on a rerun (and fail again, deterministically), unless told not to
    again = run_sweep(s, store_path)
    assert (again.done, again.failed, again.skipped) == (0, 2, 3)
    assert run_sweep(s, store_path, retry_failed=False).skipped == 5


class _Counting(cf.ThreadPoolExecutor):
    """A thread pool that records the largest number of unfinished futures it ever held."""

    def __init__(self):
        super().__init__(2)
        self.lock = threading.Lock()
        self.outstanding = 0
        self.peak = 0
        self.submitted = 0

    def submit(self, fn, *args):
        with self.lock:
            self.outstanding += 1
            self.submitted += 1
            self.peak = max(self.peak, self.outstanding)
        f = super().submit(fn, *args)
        f.add_done_callback(self._done)
        return f

    def _done(self, _):
        with self.lock:
            self.outstanding -= 1


def test_submission_is_bounded(store_path):
    s = small_sweep(losses=tuple(range(12)), protocols=("bb84",), rounds=300)
    pool = _Counting()
    with pool:
        summary = run_sweep(s, store_path, executor=pool, max_in_flight=3)
    assert summary.done == 12 and pool.submitted == 12
    assert 1 <= pool.peak <= 3


def test_progress_reports_every_point(sweep, store_path):
    events = []
    run_sweep(small_sweep(losses=(0.0,)), store_path)
    run_sweep(sweep, store_path, progress=events.append)
    assert len(events) == 6 and all(isinstance(e, RunProgress) for e in events)
    assert [e.finished for e in events] == list(range(1, 7))
    assert (events[-1].done, events[-1].skipped, events[-1].failed) == (4, 2, 0)
    assert sorted(e.last_status for e in events) == ["done"] * 4 + ["skipped"] * 2


def test_interrupt_keeps_what_finished_and_resume_completes(sweep, store_path, tmp_path):
    def stop_after_two(p):
        if p.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        run_sweep(sweep, store_path, progress=stop_after_two)
    assert info.value.summary.done == 2
    assert isinstance(info.value, KeyboardInterrupt)
    with Store(store_path) as st:
        assert st.counts() == {"done": 2, "failed": 0}
    rest = run_sweep(sweep, store_path)
    assert (rest.done, rest.skipped) == (4, 2)
    clean = str(tmp_path / "clean.db")
    run_sweep(sweep, clean)
    assert _results(store_path) == _results(clean)


@pytest.mark.parametrize("kwargs, name", [
    ({"executor": "threads"}, "executor"), ({"workers": 0}, "workers"), ({"max_in_flight": 0}, "max_in_flight"),
    ({"scheduler": "tcp://localhost:1"}, "scheduler"),
])
def test_bad_arguments(sweep, store_path, kwargs, name):
    with pytest.raises(InvalidParameter) as info:
        run_sweep(sweep, store_path, **kwargs)
    assert info.value.name == name


def test_bad_argument_types(sweep, store_path):
    with pytest.raises(InvalidType):
        run_sweep([1, 2], store_path)
    with pytest.raises(InvalidType):
        run_sweep(sweep, store_path, progress=3)


def test_processes_and_dask_give_the_serial_results(tmp_path):
    """Identical stored results (byte for byte) whichever executor ran the tasks."""
    s = small_sweep(losses=(0.0, 5.0), protocols=("bb84", "ghz-cka"), rounds=1000)
    from distributed import LocalCluster

    paths = {name: str(tmp_path / f"{name}.db") for name in ("serial", "processes", "dask")}
    # Two processes check that results do not depend on which worker ran a task. Dask goes
    # through an existing scheduler (--scheduler; notebook 07 covers the LocalCluster that
    # --dask starts), with one worker process to keep the test short.
    for name in ("serial", "processes"):
        summary = run_sweep(s, paths[name], executor=name, workers=2)
        assert (summary.done, summary.failed) == (4, 0), name
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        summary = run_sweep(s, paths["dask"], executor="dask", scheduler=cluster.scheduler_address)
    assert (summary.done, summary.failed) == (4, 0)
    serial = _results(paths["serial"])
    assert len(serial) == 4
    assert _results(paths["processes"]) == serial
    assert _results(paths["dask"]) == serial


def test_a_bad_point_anywhere_fails_before_any_task_runs(store_path):
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 100, "seed": 1},
                         "sweep": [{"grid": {"loss_db": [0, 1, 2]}}, {"fixed": {"loss_db": -1}}]})
    with pytest.raises(InvalidParameter, match=r"sweep\[1\] point 3"):
        run_sweep(s, store_path)
    with Store(store_path) as st:
        assert len(st) == 0
