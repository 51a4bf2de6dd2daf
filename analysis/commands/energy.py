"""`hwdse energy`: data-dependent energy per MAC from gate-level simulation."""

from __future__ import annotations

from pathlib import Path

from hwmodel.errors import UnsupportedConfig

HELP = "energy per MAC (pJ) from gate-level simulation under an operand distribution"
DESCRIPTION = """\
Synthesise the MAC unit for FORMAT x --acc with Yosys onto a Liberty library, simulate the
mapped netlist with Verilator (cell models generated from the library's functions) on a stream of
--n multiply-accumulates whose operands are drawn from --dist and quantised to FORMAT (per-tensor
absmax scaling, RNE), count every cell output's toggles, weight each toggle by the cell's area
(gate equivalents), and convert to pJ with ONE constant calibrated so that our 8-bit multiplier
costs Horowitz's 0.2 pJ (ISSCC 2014, 45 nm).

Distributions: gaussian, laplace, student_t (nu=3, heavy tails), relu (max(0, N(0,1)), about half
zeros), uniform. The accumulator is cleared every 256 products.
Zero-delay simulation: glitches, clock tree and wires are not counted (see hwmodel/energy.py).

  hwdse energy int8 --acc kulisch --dist gaussian
  hwdse energy e4m3 --acc fp16 --dist relu --n 8192 --csv
  hwdse energy --horowitz            our 8/32-bit int and FP16/FP32 add/multiply beside Horowitz
"""


def add_arguments(p):
    p.add_argument("format", nargs="?", help="input format (int8, e4m3, fp16, ...)")
    p.add_argument("--acc", default="kulisch", help="accumulator: kulisch[:V], int32[:sat], fp16, "
                                                     "bf16, fp32 (default kulisch)")
    p.add_argument("--dist", default="gaussian", help="gaussian|laplace|student_t|relu|uniform, or "
                                                       "a comma list, or 'all' (default gaussian)")
    p.add_argument("--n", type=int, default=4096, help="MACs simulated (default 4096)")
    p.add_argument("--library", default="ge", help="paper | ge | PATH to a Liberty file (default ge)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--horowitz", action="store_true",
                   help="print the Horowitz 2014 comparison instead of a MAC's energy")
    p.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    p.add_argument("--cache-dir", type=Path, default=None, help="result cache (default ~/.cache/hwdse)")


def _dists(text: str) -> list[str]:
    from hwmodel.energy import DISTRIBUTIONS, check_distribution
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if items == ["all"]:
        return list(DISTRIBUTIONS)
    if not items:
        raise UnsupportedConfig(f"--dist must be one of {', '.join(DISTRIBUTIONS)} (or 'all'), "
                                f"not {text!r}")
    return [check_distribution(t) for t in items]


def run(args) -> int:
    import pandas as pd

    from hwmodel.cache import default_cache_dir
    from sim.energy import mac_energy
    from sim.horowitz import horowitz_comparison

    cache = args.cache_dir or default_cache_dir()
    if args.horowitz:
        df = horowitz_comparison(args.library, cache, seed=args.seed)
        df = df.rename(columns={"area": f"area_{df['area_unit'].iloc[0]}"})
        cols = ["operation", "horowitz_pj", "model_pj", "model_over_horowitz", "calibrated",
                f"area_{df['area_unit'].iloc[0]}"]
        _emit(df[cols], args.csv, "Horowitz 2014, 45 nm vs our gate-level simulation, calibrated "
              f"once on the 8-bit multiply (library {args.library}, k = "
              f"{df['k_pj_per_toggle'].iloc[0]:.4g} pJ per toggle per {df['weight_unit'].iloc[0]} of "
              "cell area)")
        return 0
    if not args.format:
        raise UnsupportedConfig("FORMAT must be given (e.g. `hwdse energy int8 --acc kulisch`), "
                                "or use --horowitz")
    if args.n < 16:
        raise UnsupportedConfig(f"--n must be an integer >= 16, not {args.n!r}")
    dists = _dists(args.dist)
    rows = [mac_energy(args.format, args.acc, d, n=args.n, library=args.library,
                       seed=args.seed, cache_dir=cache) for d in dists]
    df = pd.DataFrame(rows)
    area_col = f"area_{rows[0]['area_unit']}"
    df = df.rename(columns={"area": area_col})
    cols = ["config", "dist", "n", "pj_per_mac", "toggles_per_mac", "zero_operand_fraction", area_col,
            "library"]
    _emit(df[cols], args.csv, rows[0]["source"] + f"; netlist sha256 {rows[0]['netlist_sha256']}")
    return 0


def _emit(df, as_csv: bool, source: str) -> None:
    if as_csv:
        print(df.to_csv(index=False), end="")
        return
    print(df.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"source: {source}")
