"""Synthesis and gate-level simulation time per array size, with area and energy per MAC.

    python benchmarks/bench_arrays.py [--sizes 1,2,4,8,16] [--energy-sizes 1,2,4] [--designs int8:kulisch,...]
                                      [--synth-mode auto|inline|hier|flat] [--compare 2,4,8]
                                      [--csv build/arrays.csv] [--cache-dir DIR]

Prints one line per (design, size): the synthesis flow (synth_mode), Yosys time, the whole
array_area call's wall time, Verilator build and simulation time, area per MAC (GE) against the
single MAC, delay (FO4), energy per MAC (pJ) against the single MAC; then the fitted area law per
design (held out: the largest size) with its extrapolation to 64x64 and 128x128. --compare S,...
synthesises those sizes in every mode (inline, hier, flat) and prints their areas side by side.
Times are wall-clock on this machine (2 shared cores); cached points print their original
synthesis time (and `cached`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    from analysis import arrays
    from analysis.export import parse_designs

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1,2,4,8,16")
    p.add_argument("--energy-sizes", default="1,2,4")
    p.add_argument("--designs", default=",".join(f"{f}:{a}" for f, a in arrays.DESIGNS))
    p.add_argument("--csv", default="build/arrays.csv")
    p.add_argument("--k", type=int, default=64)
    p.add_argument("--tiles", type=int, default=8)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--synth-mode", default="auto", choices=arrays.SYNTH_MODES)
    p.add_argument("--compare", default="", help="sizes to synthesise in every mode, e.g. 2,4,8")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s]
    esizes = {int(s) for s in a.energy_sizes.split(",") if s}
    designs = parse_designs(a.designs)
    rows = []
    import pandas as pd
    print(f"{'design':28s} {'size':>6s} {'mode':>6s} {'synth_s':>8s} {'wall_s':>7s} {'build_s':>8s} "
          f"{'sim_s':>7s} {'GE/MAC':>9s} {'vs MAC':>7s} {'FO4':>6s} {'pJ/MAC':>8s} {'vs MAC':>7s}", flush=True)
    for f, acc in designs:
        for s in sizes:
            t0 = time.perf_counter()
            one = arrays.array_table([(f, acc)], [s], cache_dir=a.cache_dir,
                                     energy_sizes=esizes & {s} | ({1} if s in esizes else set()),
                                     k=a.k, tiles=a.tiles, synth_mode=a.synth_mode)
            r = one[one["rows"] == s].iloc[0].to_dict()
            r["bench_wall_s"] = time.perf_counter() - t0
            rows.append(r)
            e = r.get("pj_per_mac")
            print(f"{f + ':' + acc:28s} {f'{s}x{s}':>6s} {r['synth_mode']:>6s} {r['synth_time_s']:8.1f} "
                  f"{r['wall_time_s']:7.1f} "
                  f"{r.get('sim_build_time_s', float('nan')):8.1f} {r.get('sim_time_s', float('nan')):7.2f} "
                  f"{r['area_per_mac_ge']:9.1f} {r['area_per_mac_vs_mac']:7.3f} {r['delay_fo4']:6.1f} "
                  f"{(e if e == e and e is not None else float('nan')):8.4f} "
                  f"{r.get('energy_per_mac_vs_mac', float('nan')):7.3f}"
                  + ("  cached" if r["from_cache"] else ""), flush=True)
            df = pd.DataFrame(rows)
            Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(a.csv, index=False)       # after every point: an interrupted run keeps the rest
    df = pd.DataFrame(rows)
    csizes = [int(s) for s in a.compare.split(",") if s]
    if csizes:
        print("\nthe same arrays in every flow (GE per MAC; difference against inline)")
        print(f"{'design':28s} {'size':>6s} {'inline':>9s} {'hier':>9s} {'flat':>9s} {'hier %':>7s} "
              f"{'flat %':>7s} {'t_inline':>8s} {'t_hier':>7s} {'t_flat':>7s}  FO4 inline/hier/flat")
        comp = []
        for f, acc in designs:
            for s in csizes:
                m = {mode: arrays.array_area(f, acc, s, s, cache_dir=a.cache_dir, synth_mode=mode)
                     for mode in ("inline", "hier", "flat")}
                g = {k: v["area_per_mac_ge"] for k, v in m.items()}
                print(f"{f + ':' + acc:28s} {f'{s}x{s}':>6s} {g['inline']:9.1f} {g['hier']:9.1f} {g['flat']:9.1f} "
                      f"{100 * (g['hier'] / g['inline'] - 1):+7.2f} {100 * (g['flat'] / g['inline'] - 1):+7.2f} "
                      f"{m['inline']['synth_time_s']:8.1f} {m['hier']['synth_time_s']:7.1f} "
                      f"{m['flat']['synth_time_s']:7.1f}  "
                      + "/".join(f"{m[k]['delay_fo4']:.1f}" for k in ("inline", "hier", "flat")), flush=True)
                comp += list(m.values())
        pd.DataFrame(comp).to_csv(Path(a.csv).with_name(Path(a.csv).stem + "_modes.csv"), index=False)
    if df["rows"].nunique() >= 4:
        laws = arrays.law_table(df, extrapolate=(16, 64, 128))
        print("\nlaw fitted on the smaller sizes; the largest measured size is held out")
        print()
        for r in laws.itertuples(index=False):
            print(f"{r.in_fmt}:{r.acc}: area = {r.a_per_pe:.1f}*R*C + {r.b_per_skew_stage:.1f}*(R(R-1)+C(C-1))/2 "
                  f"+ {r.c_fixed:.1f} GE; held-out {r.holdout} error {100 * r.holdout_error:+.2f}%; per MAC "
                  f"64x64 {r.per_mac_64x64_ge:.1f} GE ({r.per_mac_64x64_vs_mac:.3f}x MAC), 128x128 "
                  f"{r.per_mac_128x128_ge:.1f} GE ({r.per_mac_128x128_vs_mac:.3f}x MAC)")
        laws.to_csv(Path(a.csv).with_name(Path(a.csv).stem + "_law.csv"), index=False)
    if "pj_per_mac" in df:
        for (f, acc), g in df.groupby(["in_fmt", "acc"], sort=False):
            g = g[g["pj_per_mac"] > 0]
            if len(g) >= 4:
                big = int(g["rows"].max())
                law = arrays.fit_energy_law(g, (big, big))
                print(f"{f}:{acc}: energy per cycle = {law.a:.4f}*R*C + {law.b:.4f}*(R(R-1)+C(C-1))/2 "
                      f"+ {law.c:.4f} pJ; held-out {big}x{big} error {100 * law.holdout_error:+.2f}%; "
                      f"per MAC 64x64 {float(law.per_mac(64, 64)):.4f} pJ, 128x128 "
                      f"{float(law.per_mac(128, 128)):.4f} pJ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
