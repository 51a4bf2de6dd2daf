"""The sweep engine with a cheap fake evaluator: caching, resume, failed points, parallel = serial."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from analysis import sweep
from analysis.design import acc_spec
from analysis.sweep import DesignPoint, SweepSpec
from hwmodel.accum import parse_acc
from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import parse_format
from rtl.unit import parse_unit
from tests.analysis.fakes import FakeEvaluator


def pid(fmt: str, acc: str, unit: str = "mac") -> str:
    """The point id of a MAC design, the accumulator in its canonical spelling."""
    return f"{fmt}/{acc_spec(parse_acc(acc))}/{unit}/p1/ge"

SPEC = SweepSpec(formats=["int8", "e4m3", "int4"], accumulators=["kulisch", "fp32"], units=["mac", "dot4"])


def _count(d: Path) -> int:
    return len(list(d.iterdir())) if d.exists() else 0


def test_points_are_the_product_normalised():
    pts = SPEC.points()
    assert len(pts) == 3 * 2 * 2
    assert pts[0] == DesignPoint(parse_format("int8"), parse_acc("kulisch"), parse_unit("mac"), 1, "ge")
    assert {p.in_fmt.name for p in pts} == {"int8", "float8_e4m3fn", "int4"}
    # Two spellings of one format collapse to one point.
    assert len(SweepSpec(["e4m3", "float8_e4m3fn"], ["fp32"]).points()) == 1


@pytest.mark.parametrize("spec,unit", [("MAC", "mac"), ("dot:8", "dot:8"), ("dot8", "dot:8"),
                                       ("array2x4", "array:2x4"), ("array:3x3", "array:3x3")])
def test_point_unit_is_a_unit_spec(spec, unit):
    p = DesignPoint.make("int8", "fp32", spec)
    assert p.unit.spec == unit and p.point_id.split("/")[2] == unit
    assert p == DesignPoint.make("int8", "fp32", unit)  # one design, one point


@pytest.mark.parametrize("bad", ["mul", "array0x2", "systolic", ""])
def test_sweep_unit_rejects(bad):
    with pytest.raises(UnsupportedConfig, match="must be"):
        sweep.sweep_unit(bad)


def test_unit_macs():
    assert [sweep.unit_macs(u) for u in ("mac", "dot:4", "array:2x3")] == [1, 4, 6]


def test_cache_resume_and_failed_points(tmp_path):
    counts = tmp_path / "count"
    ev = FakeEvaluator(fail_formats=("int4",), count_dir=str(counts))
    df = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "c", progress=False)
    assert len(df) == 12 and _count(counts) == 12
    failed = df[df.status == "failed"]
    # Failed points are kept, with their one-line reason, never dropped.
    assert set(failed.in_fmt) == {"int4"} and len(failed) == 4
    assert (failed.reason == "UnsupportedConfig: fake design failure for int4").all()
    assert (failed.failure_kind == "design").all()
    ok = df[df.status == "ok"]
    # area from the fake's formula bits^2*10 + acc term (Kulisch: 100 + 12 guard bits)
    assert ok.set_index("point_id").loc[pid("int8", "kulisch"), "area_ge"] == 8 * 8 * 10 + 112
    assert not df.cached.any()
    # Second run: everything comes from the cache, nothing is evaluated.
    df2 = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "c", progress=False)
    assert _count(counts) == 12 and df2.cached.all()
    pd.testing.assert_frame_equal(df.drop(columns=["cached", "eval_time_s"]),
                                  df2.drop(columns=["cached", "eval_time_s"]))
    # retry_failed evaluates the failed ones again only.
    sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "c", progress=False, retry_failed=True)
    assert _count(counts) == 16


def test_interrupted_sweep_resumes(tmp_path):
    counts = tmp_path / "count"
    pts = SPEC.points()

    class Interrupting(FakeEvaluator):
        def __call__(self, point, seed, quick):
            if point == pts[5]:
                raise KeyboardInterrupt
            return super().__call__(point, seed, quick)

    ev = Interrupting(count_dir=str(counts))
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(pts, ev, cache_dir=tmp_path / "c", progress=False)
    assert _count(counts) == 5  # points 0..4 finished and stored; 5 interrupted before counting
    df = sweep.run_sweep(pts, FakeEvaluator(count_dir=str(counts)), cache_dir=tmp_path / "c", progress=False)
    # Same cache_id: the five finished points are reused, the other seven evaluated.
    assert _count(counts) == 5 + 7
    assert df.cached.sum() == 5 and (df.status == "ok").all()


def test_seed_and_quick_are_part_of_the_key(tmp_path):
    ev = FakeEvaluator()
    p = DesignPoint.make("int8", "kulisch")
    assert sweep.point_key(p, ev, 0, False) != sweep.point_key(p, ev, 1, False)
    assert sweep.point_key(p, ev, 0, False) != sweep.point_key(p, ev, 0, True)
    assert sweep.point_key(p, ev, 0, False) == sweep.point_key(DesignPoint.make("int8", "KULISCH"), ev, 0, False)
    # Equal designs, however spelled, have one key.
    assert sweep.point_key(DesignPoint.make("e4m3", "fp32"), ev, 0, False) == \
        sweep.point_key(DesignPoint.make("float8_e4m3fn", "float32"), ev, 0, False)


def test_process_pool_equals_serial(tmp_path):
    ev = FakeEvaluator(fail_formats=("int4",))
    serial = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "a", progress=False, jobs=1)
    pooled = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "b", progress=False, jobs=2)
    cols = [c for c in serial.columns if c not in ("eval_time_s",)]
    pd.testing.assert_frame_equal(serial[cols], pooled[cols])


def test_two_sweeps_at_once_share_the_cache(tmp_path):
    ev = FakeEvaluator(delay_s=0.01)
    out = {}

    def go(name):
        out[name] = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "c", progress=False)

    threads = [threading.Thread(target=go, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cols = ["point_id", "status", "area_ge"]
    pd.testing.assert_frame_equal(out["a"][cols], out["b"][cols])
    files = list((tmp_path / "c" / "sweep").rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]  # no torn temporaries left behind
    assert len([f for f in files if f.suffix == ".json"]) == 12


def test_torn_cache_file_is_recomputed(tmp_path):
    ev = FakeEvaluator()
    p = DesignPoint.make("int8", "fp32")
    key = sweep.point_key(p, ev, 0, False)
    path = tmp_path / "sweep" / key[:2] / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"status": "ok", "area_')  # a half-written file from some other writer
    df = sweep.run_sweep([p], ev, cache_dir=tmp_path, progress=False)
    assert df.status[0] == "ok" and not df.cached[0]
    assert json.loads(path.read_text())["area_ge"] == 8 * 8 * 10 + 32


def test_save_sweep_writes_parquet_csv_metadata(tmp_path):
    df = sweep.run_sweep(SPEC, FakeEvaluator(fail_formats=("int4",)), cache_dir=tmp_path / "c", progress=False)
    paths = sweep.save_sweep(df, tmp_path / "out", metadata={"seed": 0})
    back = sweep.load_sweep(paths["parquet"])
    assert list(back.point_id) == list(df.point_id)
    assert pd.read_csv(paths["csv"]).shape == df.shape
    md = json.loads(paths["metadata"].read_text())
    assert md["n_points"] == 12 and md["n_failed"] == 4 and md["seed"] == 0


def test_bad_jobs(tmp_path):
    with pytest.raises(UnsupportedConfig, match="jobs must be a positive integer, not 0"):
        sweep.run_sweep(SPEC, FakeEvaluator(), cache_dir=tmp_path, jobs=0)


def test_design_point_rejects_bad_pipeline():
    with pytest.raises(UnsupportedConfig, match="pipeline_stages must be an integer >= 0, not -1"):
        DesignPoint.make("int8", "kulisch", pipeline_stages=-1)


def test_killed_local_worker_costs_no_result(tmp_path):
    marker = tmp_path / "killed"
    ev = FakeEvaluator(kill_marker=str(marker), kill_format="float8_e4m3fn")
    df = sweep.run_sweep(SPEC, ev, cache_dir=tmp_path / "c", progress=False, jobs=2)
    assert marker.exists(), "no worker was killed: the test proved nothing"
    assert len(df) == 12 and (df.status == "ok").all(), df[["point_id", "status", "reason"]]


def test_chain_cache_id_follows_the_code(tmp_path, monkeypatch):
    """A change to the code behind the numbers (rtl/, sim/, hwmodel/) must change the cache key."""
    a = sweep.ChainEvaluator(["quality"]).cache_id
    monkeypatch.setattr(sweep.code_fingerprint, "_value", "0" * 16)
    b = sweep.ChainEvaluator(["quality"]).cache_id
    assert a != b and b.endswith(":" + "0" * 16)
    p = DesignPoint.make("int8", "fp32")
    assert sweep.point_key(p, sweep.ChainEvaluator(["quality"]), 0, False) != \
        sweep.point_key(p, sweep.ChainEvaluator(["quality", "synth"]), 0, False)


def test_saved_booleans_stay_booleans(tmp_path):
    df = pd.DataFrame({"point_id": ["a", "b", "c"], "verified": [True, False, None],
                       "detail": [{"x": 1}, "text", None]})
    paths = sweep.save_sweep(df, tmp_path)
    back = sweep.load_sweep(paths["parquet"])
    assert back["verified"].tolist()[:2] == [True, False] and back["verified"].isna().tolist()[2]
    assert back["detail"].tolist()[:2] == ['{"x": 1}', "text"]
