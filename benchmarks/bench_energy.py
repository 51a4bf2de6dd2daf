"""Benchmark of the gate-level energy flow: prints vectors/s and the wall time of one MAC config.

    .venv/bin/python benchmarks/bench_energy.py [--format int8] [--acc kulisch] [--n 100000]

Cold = a fresh cache directory: Yosys synthesis, Verilator build of the netlist with the
Liberty-derived cell models, the calibration multiplier, and the simulation. Warm = the same
request again (answered from the content-hash cache), and a new stimulus on the built model
(simulation + SAIF parsing only), which is what each extra distribution costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", default="int8")
    ap.add_argument("--acc", default="kulisch")
    ap.add_argument("--n", type=int, default=100_000, help="MACs in the throughput run")
    args = ap.parse_args(argv)

    import numpy as np

    from rtl.config import MacConfig
    from rtl.mac import Mac
    from sim import energy

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_energy_") as tmp:
        cache = Path(tmp)
        t0 = time.perf_counter()
        r = energy.mac_energy(args.format, args.acc, "gaussian", n=4096, cache_dir=cache)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        energy.mac_energy(args.format, args.acc, "gaussian", n=4096, cache_dir=cache)
        warm = time.perf_counter() - t0
        print(f"one MAC config ({r['config']}, {r['cells']} cells, 4096 MACs, gaussian): "
              f"cold {cold:.1f} s (synthesis + 2 Verilator builds + calibration + simulation), "
              f"cached {warm * 1000:.0f} ms; {r['pj_per_mac']:.4f} pJ/MAC")

        cfg = MacConfig(args.format, args.acc)
        nl = energy.synthesize(Mac(cfg), cfg.name, "ge", cache)
        rng = np.random.default_rng(0)
        f = cfg.mul.fmt_a
        stim = {"a": energy.operand_codes(f, "uniform", args.n, rng),
                "b": energy.operand_codes(f, "uniform", args.n, rng),
                "valid_in": np.ones(args.n, np.uint64),
                "clear": (np.arange(args.n) % energy.DOT_LENGTH == 0).astype(np.uint64)}
        t0 = time.perf_counter()
        res = energy.simulate(nl, stim, cache)
        wall = time.perf_counter() - t0
        print(f"gate-level simulation: {args.n} vectors in {res.sim_time_s:.2f} s = "
              f"{args.n / res.sim_time_s:,.0f} vectors/s (Verilator + SAIF write/parse; "
              f"{wall:.2f} s with the model lookup)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
