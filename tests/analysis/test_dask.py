"""Scale-out on Dask distributed: a LocalCluster run equals the local run; a killed worker costs
no result; a scheduler that does not answer is a one-line error."""

from __future__ import annotations

import os
import socket

import pandas as pd
import pytest

from analysis import sweep
from analysis.cli import main
from analysis.sweep import SweepSpec
from tests.analysis.fakes import FakeEvaluator
from hwmodel.errors import ToolNotFound, UnsupportedConfig

distributed = pytest.importorskip("distributed")

SPEC = SweepSpec(formats=["int8", "e4m3", "e5m2", "int4"], accumulators=["kulisch", "fp16", "fp32"])
COLS = ["point_id", "in_fmt", "acc", "unit", "pipeline_stages", "library", "status", "reason",
        "area_ge", "delay_ns", "seed_echo"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as lc, Client(lc) as client:
        yield lc, client


@pytest.mark.slow
def test_dask_equals_local(cluster, tmp_path):
    _, client = cluster
    ev = FakeEvaluator(fail_formats=("int4",), delay_s=0.02)
    local = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "local", progress=False, jobs=1)
    on_dask = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "dask", progress=False, client=client)
    assert len(on_dask) == 12 and (on_dask.status == "failed").sum() == 3
    pd.testing.assert_frame_equal(local[COLS], on_dask[COLS])
    # The scheduler spread the work: results came from more than one process is not observable
    # here, but every worker is alive and the cluster still has its three workers.
    assert len(client.scheduler_info()["workers"]) == 3


@pytest.mark.slow
def test_dask_by_address_equals_local(cluster, tmp_path):
    lc, _ = cluster
    ev = FakeEvaluator()
    local = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "local", progress=False)
    on_dask = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "dask", progress=False,
                              scheduler=lc.scheduler_address)
    pd.testing.assert_frame_equal(local[COLS], on_dask[COLS])


@pytest.mark.slow
def test_killed_worker_costs_no_result(cluster, tmp_path):
    _, client = cluster
    marker = tmp_path / "killed"
    # The first evaluation of an e5m2 point kills its worker process (os._exit); the scheduler
    # must re-run the lost task elsewhere, so the sweep still returns every point, all ok.
    ev = FakeEvaluator(kill_marker=str(marker), kill_format="float8_e5m2", delay_s=0.05)
    df = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "c", progress=False, client=client)
    assert marker.exists(), "the fake evaluator never killed a worker: the test proved nothing"
    assert len(df) == 12
    assert (df[df.in_fmt != "int4"].status == "ok").all(), df[["point_id", "status", "reason"]]
    local = sweep.run_sweep(SPEC, FakeEvaluator(), cache_dir=tmp_path / "l", progress=False)
    pd.testing.assert_frame_equal(local[COLS], df[COLS])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scheduler_that_does_not_answer(tmp_path):
    addr = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(ToolNotFound, match="does not answer"):
        sweep.check_scheduler(addr, timeout_s=1)


def test_scheduler_address_malformed():
    with pytest.raises(UnsupportedConfig, match="must be an address like tcp://HOST:PORT, not 'localhost'"):
        sweep.check_scheduler("localhost")


def test_cli_scheduler_error_exit_2(tmp_path, capsys):
    rc = main(["report", "--out", str(tmp_path), "--scheduler", "nonsense"])
    assert rc == 2
    assert "tcp://HOST:PORT" in capsys.readouterr().err
