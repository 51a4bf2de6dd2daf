"""Failures of the environment are evaluated again on the next run; failures of the design stay
cached until retry_failed; a killed sweep leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import engine, outcome
from analysis.design import SweepSpec
from hwmodel.errors import FormatError, ResultMismatch, ToolFailed, ToolNotFound, UnsupportedConfig
from tests.analysis.fakes import FakeEvaluator

ROOT = Path(__file__).resolve().parents[2]
SPEC = SweepSpec(formats=["int8", "int4", "e4m3"], accumulators=["fp32"])


def _count(d: Path) -> int:
    return len(list(d.iterdir())) if d.exists() else 0


@pytest.mark.parametrize("exc,kind", [
    (ToolNotFound("no verilator"), "environment"), (ToolFailed("yosys crashed"), "environment"),
    (OSError(28, "No space left on device"), "environment"), (MemoryError(), "environment"),
    (UnsupportedConfig("dot with kulisch"), "design"), (FormatError("bad"), "design"),
    (AttributeError("a bug"), "design"),
    (ResultMismatch("gate-level int8_mul disagrees with the golden result"), "design")])
def test_failure_kind(exc, kind):
    assert outcome.failure_kind(exc) == kind


def test_an_exception_may_say_it_is_the_designs():
    exc = ToolFailed("gate-level simulation disagrees with the golden model")
    exc.environment = False
    assert outcome.failure_kind(exc) == "design"


@pytest.mark.parametrize("reason,kind", [
    ("ToolNotFound: verilator is not on PATH", "environment"),
    ("synth: ToolFailed: Yosys did not finish within 600 s", "environment"),
    ("WorkerDied: worker process died: ...", "environment"),
    ("Dask task failed: KilledWorker: ...", "environment"),
    ("verify: the cocotb bench failed (mismatch)", "design"),
    ("UnsupportedConfig: a dot-product unit with a Kulisch accumulator is not built yet", "design")])
def test_reason_kind_of_results_stored_without_a_kind(reason, kind):
    assert outcome.reason_kind(reason) == kind
    assert outcome.is_environment_failure({"status": "failed", "reason": reason}) == (kind == "environment")


def test_environment_failure_is_evaluated_again_without_a_flag(tmp_path):
    counts = tmp_path / "n"
    df = engine.run_sweep(SPEC, FakeEvaluator(env_fail_formats=("int4",), count_dir=str(counts)),
                          cache_dir=tmp_path / "c", progress=False)
    bad = df[df.status == "failed"]
    assert list(bad.in_fmt) == ["int4"] and list(bad.failure_kind) == ["environment"]
    assert bad.reason.iloc[0] == "ToolNotFound: fake missing tool for int4"
    assert _count(counts) == 3
    # The tool is back (same evaluator identity, no failure): only the int4 point runs again.
    df2 = engine.run_sweep(SPEC, FakeEvaluator(count_dir=str(counts)), cache_dir=tmp_path / "c", progress=False)
    assert _count(counts) == 4
    assert (df2.status == "ok").all() and list(df2.cached) == [True, False, True]


def test_design_failure_stays_cached_until_retry_failed(tmp_path):
    counts = tmp_path / "n"
    engine.run_sweep(SPEC, FakeEvaluator(fail_formats=("int4",), count_dir=str(counts)),
                     cache_dir=tmp_path / "c", progress=False)
    df = engine.run_sweep(SPEC, FakeEvaluator(count_dir=str(counts)), cache_dir=tmp_path / "c", progress=False)
    assert _count(counts) == 3 and df.cached.all()
    bad = df[df.status == "failed"]
    assert list(bad.in_fmt) == ["int4"] and list(bad.failure_kind) == ["design"]
    df = engine.run_sweep(SPEC, FakeEvaluator(count_dir=str(counts)), cache_dir=tmp_path / "c", progress=False,
                          retry_failed=True)
    assert _count(counts) == 4 and (df.status == "ok").all()


def test_chain_marks_a_missing_tool_as_environment(monkeypatch):
    from analysis import stages
    from analysis.design import DesignPoint

    def no_tool(point, seed, quick, cache_dir=None):
        raise ToolNotFound("verilator is not on PATH")

    def mismatch(point, seed, quick, cache_dir=None):
        return {"verified": False, "verify_detail": "RTL 0x1 golden 0x2"}

    p = DesignPoint.make("int8", "fp32")
    monkeypatch.setattr(stages, "stage_verify", no_tool)
    r = stages.ChainEvaluator(["verify"])(p, 0, True)
    assert r["status"] == "failed" and r["failure_kind"] == "environment"
    monkeypatch.setattr(stages, "stage_verify", mismatch)
    r = stages.ChainEvaluator(["verify"])(p, 0, True)
    assert r["status"] == "failed" and r["failure_kind"] == "design"


def _children(pid: int) -> set[int]:
    """Every descendant of pid (from /proc/<pid>/task/*/children)."""
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
            for k in kids:
                if k not in out:
                    out.add(k)
                    todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _cmd(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("busy", ["delay_s", "child_sleep_s"])
def test_kill_9_of_a_sweep_leaves_no_process(tmp_path, busy):
    """Workers busy in Python (delay_s) or waiting on a process they started (child_sleep_s, as a
    simulator run would be): after `kill -9` of the sweep, no worker, no child of a worker and no
    resource tracker survives."""
    counts = tmp_path / "n"
    code = (f"from analysis.engine import run_sweep\n"
            f"from analysis.design import SweepSpec\n"
            f"from tests.analysis.fakes import FakeEvaluator\n"
            f"run_sweep(SweepSpec(['int8', 'int4', 'e4m3', 'e5m2'], ['fp32']),\n"
            f"          FakeEvaluator({busy}=120, count_dir={str(counts)!r}),\n"
            f"          cache_dir={str(tmp_path / 'c')!r}, jobs=2, progress=False)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            sleeps = [p for p in _children(proc.pid) if _cmd(p).startswith(b"sleep")]
            if _count(counts) == 2 and (busy == "delay_s" or len(sleeps) == 2):
                break
            time.sleep(0.2)
        assert _count(counts) == 2, "the two workers never started evaluating"
        workers = {int(f.name.split("-")[0]) for f in counts.iterdir()}
        descendants = _children(proc.pid)
        assert workers <= descendants and len(descendants) >= 3  # 2 workers + the resource tracker
        if busy == "child_sleep_s":
            assert len([p for p in descendants if _cmd(p).startswith(b"sleep")]) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in descendants) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [p for p in descendants if _alive(p)]
        assert survivors == [], [_cmd(p) for p in survivors]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
