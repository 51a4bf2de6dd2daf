"""Build and run time of the gate-level model (sim.gatelevel.GateSim) per design and build option.

    python benchmarks/bench_gatesim.py [--designs mac,bdot,array4] [--options reference,fast]
                                       [--cycles 2000] [--jobs 2]

Designs: mac (INT8 MAC into Kulisch), bdot (the mxfp4 block dot unit, bdot:8, into FP32), array2 /
array4 / array8 (INT8 into Kulisch, R x R). Options:
  reference  every net traced, Verilator -O3, all C++ at -O1, runtime objects compiled each time
             (the build before the speed-up)
  fast       sim.gatelevel's defaults: only cell output pins traced, once-run C++ at -O0, and
             Verilator's runtime objects compiled once and reused (this run stores them first,
             so the first design pays for them once: see 'fast_warm')
  fast_warm  the same with the runtime objects already stored
Prints, per design and option: the build's wall time and CPU time (Verilator + compiler), the
generated C++ size, the run time of `--cycles` random cycles, and whether the toggles per cell
output pin and the outputs equal the reference build's. Netlists come from the synthesis cache
($HWDSE_CACHE_DIR or --cache-dir); models are built in a fresh temporary folder every time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DESIGNS = {"mac": ("int8", "kulisch", "mac"), "bdot": ("mxfp4", "fp32", "bdot:8"),
           "array2": ("int8", "kulisch", "array:2x2"), "array4": ("int8", "kulisch", "array:4x4"),
           "array8": ("int8", "kulisch", "array:8x8")}


def _netlist(key: str, cache_dir):
    from rtl.unit import unit_config
    from sim.netlist import synthesize
    fmt, acc, unit = DESIGNS[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = unit_config(fmt, acc, unit)
        return synthesize(cfg.create(), cfg.name, "ge", cache_dir)


def _stimulus(gs, cycles: int):
    import numpy as np
    rng = np.random.default_rng(1)
    cols = []
    for p, w in gs.inputs:
        for _ in range(max(1, -(-w // 64))):
            v = rng.integers(0, 2 ** min(w, 63), cycles, dtype=np.uint64)
            if p == "valid_in":
                v = np.ones(cycles, np.uint64)
            if p in ("clear", "drain"):
                v = (np.arange(cycles) % 64 == 0).astype(np.uint64)
            cols.append(v)
    return np.stack(cols, 1)


def main(argv=None) -> int:
    from sim.gatelevel import REFERENCE, GateSim
    from sim.toggles import _clock_reset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", default="mac,bdot,array4")
    ap.add_argument("--options", default="reference,fast,fast_warm")
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache-dir", default=None)
    a = ap.parse_args(argv)
    from hwmodel.cache import default_cache_dir
    cache = Path(a.cache_dir) if a.cache_dir else default_cache_dir()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'design':8s} {'option':10s} {'build_s':>8s} {'cpu_s':>7s} {'C++ MB':>7s} {'run_s':>6s} "
          f"{'cells':>6s}  toggles vs reference", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_gatesim_") as tmp:
        rt = Path(tmp) / "runtime"
        for key in a.designs.split(","):
            nl = _netlist(key, cache)
            clock, reset = _clock_reset(nl)
            ref_hash = None
            for opt in a.options.split(","):
                kw = {"reference": dict(REFERENCE),
                      "fast": dict(runtime_dir=rt), "fast_warm": dict(runtime_dir=rt)}[opt]
                if opt == "fast" and rt.exists():
                    import shutil
                    shutil.rmtree(rt)
                d = Path(tmp) / f"{key}_{opt}"
                t0, c0 = time.perf_counter(), os.times()
                gs = GateSim(nl.sim_verilog, nl.name, nl.cells, nl.inputs, nl.outputs, clock, reset,
                             d, jobs=a.jobs, **kw)
                c1 = os.times()
                build = time.perf_counter() - t0
                cpu = c1.children_user + c1.children_system - c0.children_user - c0.children_system
                cpp = sum(f.stat().st_size for f in (d / "obj").glob("*.cpp")) / 1e6
                stim = _stimulus(gs, a.cycles)
                t0 = time.perf_counter()
                out, tog = gs.run(stim)
                run = time.perf_counter() - t0
                per = {i: [tog.get(i, {}).get(p, 0) for p, _ in nl.cells[t].outputs]
                       for i, t in gs._instances.items()}
                h = hashlib.sha256(json.dumps(per, sort_keys=True).encode() + out.tobytes()).hexdigest()
                if opt == "reference":
                    ref_hash = h
                same = "(reference)" if opt == "reference" else (
                    "identical" if h == ref_hash else ("DIFFERENT" if ref_hash else "no reference run"))
                print(f"{key:8s} {opt:10s} {build:8.1f} {cpu:7.1f} {cpp:7.2f} {run:6.2f} "
                      f"{len(gs._instances):6d}  {same}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
