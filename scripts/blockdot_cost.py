"""Cost per element product of block-scaled dot units beside scalar MACs (analysis.blockcost).

    python scripts/blockdot_cost.py [--block-sizes 16 32 64] [--energy-block-sizes 32]
                                    [--lanes 8] [--library ge] [--jobs 2] [--csv FILE] [--plot FILE.png]

Synthesises (Yosys) every catalogue block format's block dot unit at each block size and the scalar
INT8 / FP8-E4M3 / INT4 MACs, measures energy per element product by gate-level simulation at the
--energy-block-sizes (none: area and delay only), and prints area per element product by part,
the scale path in GE per element product and its share of the unit, delay (FO4) and energy, with
the wall time of the run. Results are cached by content hash (HWDSE_CACHE_DIR). --csv writes the
table with its provenance on every row (date, exact command, commit, tool versions, and per unit the
netlist sha256 and the hashes that decide it); the report's block-scaled section reads the committed
copy, hwmodel/data/blockcost/blockcost.csv, and checks each row against the checkout.
"""

from __future__ import annotations

import argparse
import sys
import time


def stamp(df, argv):
    """The table with its provenance on every row: date (UTC), the exact command, the commit, the
    tool versions of this run and where the numbers come from."""
    import datetime
    import shlex

    from hwmodel import provenance as P
    tools = P.tool_versions()
    return df.assign(
        measured_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        command="python scripts/blockdot_cost.py " + " ".join(shlex.quote(a) for a in argv),
        git_sha=P.git_sha(), amaranth_version=tools["amaranth"], verilator_version=tools["verilator"],
        numpy_version=P.package_version("numpy"),
        source=("our synthesis (Yosys, rtl.synth) and gate-level simulation (Verilator, sim.energy) "
                "of rtl.blockdot / rtl.mac units: scripts/blockdot_cost.py"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--library", default="ge")
    ap.add_argument("--block-sizes", nargs="*", type=int, default=[16, 32, 64])
    ap.add_argument("--energy-block-sizes", nargs="*", type=int, default=[])
    ap.add_argument("--only", nargs="*", default=None, help="block format specs to run (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--csv", default=None)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args(argv)
    if args.csv:
        from pathlib import Path
        parent = Path(args.csv).resolve().parent
        if not parent.is_dir():
            print(f"error: --csv folder must exist, not missing: {parent}", file=sys.stderr)
            return 2
    from analysis.blockcost import BLOCK_FORMATS, PARTS, block_cost_table
    formats = [f for f in BLOCK_FORMATS if not args.only or f[0] in args.only]
    t0 = time.perf_counter()
    df = block_cost_table(formats, tuple(args.block_sizes), lanes=args.lanes, library=args.library,
                          energy_block_sizes=tuple(args.energy_block_sizes), jobs=args.jobs)
    wall = time.perf_counter() - t0
    u = next(c for c in df.columns if c.startswith("area_per_product_")).removeprefix("area_per_product_")
    head = f"{'format':<30}{'acc':<12}{'k':>4}{'area':>8}" + "".join(f"{p[:6]:>8}" for p in PARTS) + \
        f"{'scale%':>8}{'FO4':>7}{'pJ':>8}{'pJscl':>7}"
    print(f"# per element product: area in {u}, energy in pJ; wall time {wall:.0f} s")
    print(head)
    for _, r in df.iterrows():
        e = r.get("energy_pj_per_product")
        es = r.get("energy_scale_path_pj_per_product")
        bs = "" if r["kind"] == "scalar" else int(r["block_size"])
        print(f"{r['family']:<30}{r['acc']:<12}{bs:>4}{r[f'area_per_product_{u}']:>8.1f}"
              + "".join(f"{r[f'area_{p}_per_product_{u}']:>8.1f}" for p in PARTS)
              + f"{100 * r['scale_path_share']:>7.1f}%{r['delay_fo4']:>7.0f}"
              + (f"{e:>8.3f}{es:>7.3f}" if e == e and e is not None else f"{'-':>8}{'-':>7}"))
    if args.csv:
        stamp(df, argv if argv is not None else sys.argv[1:]).to_csv(args.csv, index=False)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from analysis.blockcost import plot_block_cost, plot_scale_share
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(14, 6))
        plot_block_cost(a1, df, 32 if 32 in args.block_sizes else args.block_sizes[0])
        plot_scale_share(a2, df)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    print(f"# {len(df)} units in {wall:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
