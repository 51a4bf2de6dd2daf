"""Synthesis time and area per element product of block dot arrays (broadcast and systolic skew).

    python benchmarks/bench_block_arrays.py [--formats mxfp4,mxfp8_e4m3] [--acc fp32]
                                            [--sizes 1,2,4] [--lanes 8] [--csv build/block_arrays.csv]

Prints one line per (format, size, broadcast|skew): Yosys time, area (GE), area per element
product against the single unit's (analysis.arrays.block_array_area). Times are wall-clock on
this machine (2 shared cores); cached points print their original synthesis time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    import pandas as pd

    from analysis import arrays

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--formats", default="mxfp4,mxfp8_e4m3")
    p.add_argument("--acc", default="fp32")
    p.add_argument("--sizes", default="1,2,4")
    p.add_argument("--lanes", type=int, default=8)
    p.add_argument("--csv", default="build/block_arrays.csv")
    p.add_argument("--cache-dir", default=None)
    a = p.parse_args(argv)
    rows = []
    print(f"{'format':14s} {'size':>5s} {'mode':>9s} {'synth_s':>8s} {'wall_s':>7s} {'GE':>9s} "
          f"{'GE/prod':>8s} {'unit GE/prod':>12s} {'vs unit':>7s}", flush=True)
    for f in [x for x in a.formats.split(",") if x]:
        for s in [int(x) for x in a.sizes.split(",") if x]:
            for skew in ((False,) if s == 1 else (False, True)):
                t0 = time.perf_counter()
                r = arrays.block_array_area(f, a.acc, s, s, lanes=a.lanes, skew=skew,
                                            cache_dir=a.cache_dir)
                r["bench_wall_s"] = time.perf_counter() - t0
                rows.append(r)
                print(f"{f:14s} {f'{s}x{s}':>5s} {'skew' if skew else 'broadcast':>9s} "
                      f"{r['synth_time_s']:8.1f} {r['bench_wall_s']:7.1f} {r['area_ge']:9.0f} "
                      f"{r['area_per_mac_ge']:8.1f} {r['mac_area_ge']:12.1f} "
                      f"{r['area_per_mac_vs_mac']:7.3f}", flush=True)
                Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(a.csv, index=False)   # an interrupted run keeps the rest
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
