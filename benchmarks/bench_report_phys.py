"""Benchmark of the two physical report sections ("FPGA cost per format", "Timing and power from a
characterised library"): wall time cold (an empty cache directory) and warm (the same cache again).

    .venv/bin/python benchmarks/bench_report_phys.py [--full] [--cache DIR] [--jobs 2]

Quick mode (default) times the quick designs; --full times the default report's designs. The
report's budget is 15 minutes cold on 2 cores for all sections together; the warm run shows what a
rerun costs once every tool result is cached by content hash. Without --cache, a fresh temporary
cache is used for the cold run (so the GE-toggle energy model, which the energy section would
normally have cached, is counted here too).
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
    ap.add_argument("--full", action="store_true", help="the default report's designs")
    ap.add_argument("--cache", default=None, help="cache directory (default: a fresh temporary one)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    from analysis.report import run_section
    from analysis.section import ReportContext

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; mode {'full' if args.full else 'quick'}, "
          f"jobs {args.jobs}")
    with tempfile.TemporaryDirectory(prefix="bench_report_phys_") as tmp:
        cache = Path(args.cache) if args.cache else Path(tmp) / "cache"
        for run in ("cold", "warm"):
            ctx = ReportContext(outdir=Path(tmp) / run, cache_dir=cache, quick=not args.full,
                                jobs=args.jobs)
            total = 0.0
            for name in ("fpga", "physical"):
                t0 = time.perf_counter()
                sec, _ = run_section(ctx, name)
                dt = time.perf_counter() - t0
                total += dt
                print(f"{run}: section {name}: {dt:.1f} s"
                      + (f" (failed: {sec.failed})" if sec.failed else ""), flush=True)
            print(f"{run}: both sections {total:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
