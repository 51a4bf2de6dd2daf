"""Shared helpers of the simulator tests: every test here runs a cocotb bench through
sim.runner.run_bench (Verilator by default, HWDSE_SIM=icarus for Icarus) and is marked `sim`.

Wall times of each bench run are appended to build/sim/timings.jsonl so that
benchmarks/bench_sim.py and the closing notes can report them."""

import json
import time
from pathlib import Path

import pytest

from sim.runner import DEFAULT_BUILD_ROOT, run_bench


@pytest.fixture
def bench():
    """bench(config, module, **kw) -> BenchResult; records the wall time."""
    def _run(config, module, **kw):
        t0 = time.perf_counter()
        res = run_bench(config, module, **kw)
        rec = {"config": config.name, "bench": module, "simulator": res.simulator,
               "build_s": round(res.build_s, 3), "run_s": round(res.run_s, 3),
               "wall_s": round(time.perf_counter() - t0, 3), "rebuilt": res.rebuilt}
        path = Path(DEFAULT_BUILD_ROOT) / "timings.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        return res
    return _run
