"""Sweep throughput: design points per minute with 1 and 2 local workers, cold and warm.

    .venv/bin/python benchmarks/bench_sweep.py                       # quality + synth stages
    .venv/bin/python benchmarks/bench_sweep.py --stages quality,synth,verify,energy --quick

Cold runs use a fresh cache directory for the sweep and for synthesis/energy results (the
Verilator build cache under build/sim is shared, as in real use). The warm run reads every point
back from the cache. Also prints the engine's own overhead with a zero-cost fake evaluator.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test double lives under tests/

from analysis.sweep import ChainEvaluator, SweepSpec, run_sweep  # noqa: E402
from tests.analysis.fakes import FakeEvaluator  # noqa: E402

FORMATS = ["int4", "int8", "float8_e4m3fn", "float8_e5m2", "float8_e3m4", "float6_e2m3fn",
           "float6_e3m2fn", "float4_e2m1fn"]


def _rate(n: int, dt: float) -> str:
    return f"{n / dt * 60:8.1f} points/min ({n} points in {dt:6.1f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stages", default="quality,synth")
    ap.add_argument("--acc", default="fp32,kulisch")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    spec = SweepSpec(formats=FORMATS, accumulators=args.acc.split(","))
    points = spec.points()
    stages = args.stages.split(",")
    print(f"{len(points)} design points, stages {stages}, quick={args.quick}, {os.cpu_count()} CPUs")
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as d:
            ev = ChainEvaluator(stages, cache_dir=d)
            t0 = time.perf_counter()
            df = run_sweep(points, ev, cache_dir=d, jobs=jobs, quick=args.quick, progress=False)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            df2 = run_sweep(points, ev, cache_dir=d, jobs=jobs, quick=args.quick, progress=False)
            warm = time.perf_counter() - t0
            assert df2["cached"].all()
            print(f"jobs={jobs} cold: {_rate(len(points), cold)}; failed points {int((df.status == 'failed').sum())}")
            print(f"jobs={jobs} warm: {_rate(len(points), warm)}")
    with tempfile.TemporaryDirectory() as d:
        many = SweepSpec(formats=FORMATS, accumulators=["kulisch", "fp16", "fp32", "bf16"],
                         units=["mac", "dot2", "dot4", "dot8"], pipeline_stages=[1, 2]).points()
        t0 = time.perf_counter()
        run_sweep(many, FakeEvaluator(), cache_dir=d, jobs=1, progress=False)
        print(f"engine overhead (fake evaluator, jobs=1): {_rate(len(many), time.perf_counter() - t0)}")


if __name__ == "__main__":
    main()
