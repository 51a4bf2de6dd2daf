"""Throughput of the golden numerics: encode and decode of 10^7 values per format, one core.

Goal (issue 2, "Speed"): 8-bit formats above 20 million values per second each way. Decode of
formats of <= 16 bits is a table lookup; encode of formats of <= 8 bits uses a table indexed by the
float64's sign, exponent, top mantissa bits and a sticky bit (built once per format and mode, its
build time printed separately). Wider formats use the vectorised integer path.

    .venv/bin/python benchmarks/bench_numerics.py [--n 10000000] [--repeat 3] [--formats e4m3,int8]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # one core
    os.environ.setdefault(_var, "1")

import argparse
import platform
import time

import numpy as np

from hwmodel import numerics as N
from hwmodel.formats import BlockFormat, catalogue_formats, parse_format
from hwmodel.quality import format_max

GOAL_VALUES_PER_S = 20e6


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000, help="values per format (default 1e7)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; best is kept")
    ap.add_argument("--formats", default="", help="comma-separated formats (default: every scalar "
                    "catalogue format)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fmts = ([parse_format(s) for s in args.formats.split(",") if s] if args.formats else
            [f for f in catalogue_formats() if not isinstance(f, BlockFormat)])
    rng = np.random.default_rng(args.seed)
    base = rng.standard_normal(args.n)
    try:
        cpu = os.sched_getaffinity(0)
    except AttributeError:
        cpu = "?"
    print(f"# bench_numerics: n={args.n:.0e} values, best of {args.repeat}, numpy {np.__version__}, "
          f"python {platform.python_version()}, {platform.processor() or platform.machine()}, "
          f"{len(cpu) if cpu != '?' else '?'} CPUs visible, single-threaded numpy ops")
    print(f"{'format':<16} {'bits':>4} {'encode_Mvalues_per_s':>21} {'decode_Mvalues_per_s':>21} "
          f"{'table_build_s':>13}  goal(8-bit, >{GOAL_VALUES_PER_S / 1e6:.0f}M/s)")
    failed = 0
    for f in fmts:
        # Values spread over the format's range: Gaussian scaled so about 1 in 10^4 saturates.
        x = base * (format_max(f) / 4.0) if f.kind != "float" or f.signed else np.abs(base) + 1e-30
        t0 = time.perf_counter()
        N.encode(f, x[: 1 << 17])          # builds and caches the encode table where one is used
        build = time.perf_counter() - t0
        codes = N.encode(f, x)
        t_enc = best_time(lambda: N.encode(f, x), args.repeat)
        t_dec = best_time(lambda: N.decode(f, codes), args.repeat)
        enc, dec = args.n / t_enc, args.n / t_dec
        verdict = ""
        if f.bits <= 8:
            ok = enc > GOAL_VALUES_PER_S and dec > GOAL_VALUES_PER_S
            failed += not ok
            verdict = "ok" if ok else "BELOW GOAL"
        print(f"{f.name:<16} {f.bits:>4} {enc / 1e6:>21.1f} {dec / 1e6:>21.1f} {build:>13.3f}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
