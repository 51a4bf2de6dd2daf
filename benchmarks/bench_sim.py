"""Simulation speed: vectors per second per simulator, and the wall time of the exhaustive suite.

    .venv/bin/python benchmarks/bench_sim.py [--jobs 2] [--sims verilator,icarus] [--suite exhaustive|all|none]

Prints (figures from real runs of sim/runner.py on this machine; the 1-minute load average is
printed with them because other work on the machine slows the simulators):
  1. per simulator: multiplier vectors/s (every e4m3 x e4m3 pair) and MAC products/s
     (float8_e4m3fn -> fp32, 100,000 random + 65,536 exhaustive + directed products), each from
     the bench's simulation wall time with a warm build;
  2. the suite's wall time with `--jobs` worker processes: first the cold pass (builds included),
     then the warm pass (cached builds, what CI sees once the build cache is restored).
     exhaustive = every multiplier and MAC config of sim/suite.py with inputs of <= 8 bits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _one(args):
    kind, config, sim = args
    from sim.runner import run_bench
    t0 = time.perf_counter()
    res = run_bench(config, "sim.bench_mul" if kind == "mul" else "sim.bench_mac", simulator=sim)
    return config.name, res.rebuilt, res.build_s, res.run_s, time.perf_counter() - t0


def suite_configs(which: str):
    from sim.suite import mac_configs, mul_configs
    muls = [("mul", c) for c in mul_configs()]
    macs = [("mac", c) for c in mac_configs()]
    if which == "exhaustive":
        muls = [(k, c) for k, c in muls if c.fmt_a.bits <= 8 and c.fmt_b.bits <= 8]
        macs = [(k, c) for k, c in macs if c.in_fmt.bits <= 8]
    return muls + macs


def run_suite(which: str, jobs: int, sim: str) -> tuple[float, list]:
    items = [(k, c, sim) for k, c in suite_configs(which)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        rows = list(ex.map(_one, items))
    return time.perf_counter() - t0, rows


def throughput(sim: str) -> tuple[float, float]:
    from rtl.config import MacConfig, MulConfig
    from sim.runner import run_bench
    mul = MulConfig("e4m3")
    run_bench(mul, "sim.bench_mul", simulator=sim)            # build (cached afterwards)
    r = run_bench(mul, "sim.bench_mul", simulator=sim)
    mul_rate = 65536 / r.run_s
    mac = MacConfig("e4m3", "fp32")
    run_bench(mac, "sim.bench_mac", simulator=sim)
    r = run_bench(mac, "sim.bench_mac", simulator=sim)
    import re
    n = int(re.search(r"/ (\d+) products", r.log).group(1))
    return mul_rate, n / r.run_s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sims", default="verilator,icarus")
    ap.add_argument("--suite", choices=("exhaustive", "all", "none"), default="exhaustive")
    args = ap.parse_args(argv)
    sims = [s for s in args.sims.split(",") if s == "verilator" or shutil.which("iverilog")]
    print(f"# bench_sim: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, jobs {args.jobs}")
    for sim in sims:
        mul_rate, mac_rate = throughput(sim)
        print(f"{sim:10s} multiplier {mul_rate:10.0f} vectors/s   MAC {mac_rate:10.0f} products/s")
    for s in set(args.sims.split(",")) - set(sims):
        print(f"{s:10s} not installed (iverilog not on PATH): skipped")
    if args.suite != "none":
        sim = sims[0]
        for label in ("cold", "warm"):
            wall, rows = run_suite(args.suite, args.jobs, sim)
            built = sum(r[1] for r in rows)
            print(f"{args.suite} suite ({len(rows)} configs, {sim}, {args.jobs} jobs, {label}: "
                  f"{built} built): wall {wall:.1f} s, build {sum(r[2] for r in rows):.1f} s, "
                  f"simulate {sum(r[3] for r in rows):.1f} s (summed over configs), "
                  f"load average now {os.getloadavg()[0]:.1f}")
        slow = sorted(rows, key=lambda r: -r[4])[:5]
        print("slowest warm configs: " + ", ".join(f"{n} {w:.1f} s" for n, _, _, _, w in slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
