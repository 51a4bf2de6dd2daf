"""`hwdse paper`: the FP8-vs-INT8 paper's Fig. 3, its analytical model and our synthesis."""

from __future__ import annotations

import sys

from hwmodel.errors import UnsupportedConfig

HELP = "reproduce the FP8-vs-INT8 paper's Fig. 3: paper vs analytical model vs our synthesis"
DESCRIPTION = """\
van Baalen et al., "FP8 versus INT8 for efficient deep learning inference" (arXiv:2303.17951),
Fig. 3: equivalent-gate counts of one MAC for INT8 and FP8-E2..E5 inputs into a fixed-point
(Kulisch, V guard bits), FP16 or FP32 accumulator. For each of the 15 configurations this prints
the paper's total, our implementation of the paper's analytical model (Appendix B costs on the
Fig. 2 datapaths, hwmodel.papermodel) and our Yosys synthesis of the verified RTL MAC mapped to
paper.lib (cells priced at the same Appendix-B costs), each with the mpy / alignadd / normacc
split.

  hwdse paper                  the table (synthesis cached after the first run)
  hwdse paper --csv            the same as CSV, with provenance columns
  hwdse paper --guard-bits 16  Kulisch rows with V = 16 (the paper's column stays at V = 12)
  hwdse paper --no-synth       paper and analytical model only (no Yosys, instant)
  hwdse paper --extended       add INT4, OCP FP8, FP6, FP4, BF16 and FP16 inputs
"""

# The range every Kulisch accumulator takes (hwmodel.accum.AccSpec checks the same), so that
# `paper --guard-bits` accepts what `rtl --acc kulisch:V` and `synth --acc kulisch:V` accept.
MIN_GUARD_BITS, MAX_GUARD_BITS = 0, 64

EXTENDED_INPUTS = ("int4", "float8_e4m3fn", "float8_e5m2", "float6_e2m3fn", "float6_e3m2fn",
                   "float4_e2m1fn", "bfloat16", "float16")


def extended_points(guard_bits: int = 12) -> list[tuple[str, str]]:
    return [(f, a) for f in EXTENDED_INPUTS for a in (f"kulisch:{guard_bits}", "fp16", "fp32")]


def add_arguments(parser) -> None:
    parser.add_argument("--guard-bits", type=int, default=12, metavar="V",
                        help=f"Kulisch guard bits for our model and synthesis, {MIN_GUARD_BITS}.."
                             f"{MAX_GUARD_BITS} as for rtl/synth (default 12)")
    parser.add_argument("--csv", action="store_true", help="print CSV")
    parser.add_argument("--no-synth", action="store_true", help="skip Yosys: paper and model only")
    parser.add_argument("--extended", action="store_true",
                        help="add INT4, OCP FP8, FP6, FP4, BF16 and FP16 inputs")
    parser.add_argument("--jobs", type=int, default=2, metavar="J", help="synthesis processes")
    parser.add_argument("--booth", action="store_true",
                        help="synthesise with radix-4 Booth multipliers (Yosys synth -booth)")


def table(guard_bits: int = 12, synth: bool = True, extended: bool = False, jobs: int = 2,
          cache_dir=None, booth: bool = False):
    """The reproduction as a DataFrame (see rtl.paperrepro.paper_reproduction for the columns)."""
    if not isinstance(guard_bits, int) or not MIN_GUARD_BITS <= guard_bits <= MAX_GUARD_BITS:
        raise UnsupportedConfig(f"--guard-bits must be an int in {MIN_GUARD_BITS}..{MAX_GUARD_BITS}, "
                                f"not {guard_bits!r}")
    extra = extended_points(guard_bits) if extended else ()
    if synth:
        from rtl.paperrepro import paper_reproduction
        return paper_reproduction(guard_bits, jobs=jobs, cache_dir=cache_dir, extra=extra, booth=booth)
    import pandas as pd
    from hwmodel.papermodel import mac_cost, paper_fig3
    rows = []
    pts = [(r.in_fmt, f"kulisch:{guard_bits}" if r.acc.startswith("kulisch") else r.acc, r)
           for r in paper_fig3().itertuples(index=False)] + [(f, a, None) for f, a in extra]
    for f, a, p in pts:
        m = mac_cost(f, a)
        row = {"in_fmt": f, "acc": a}
        for comp in ("mpy", "alignadd", "normacc", "total"):
            row[f"paper_{comp}_gates"] = None if p is None else getattr(p, f"{comp}_gates")
        for comp in ("mpy", "alignadd", "normacc"):
            row[f"model_{comp}_gates"] = m.component(comp)
        row["model_total_gates"] = m.total_gates
        rows.append(row)
    df = pd.DataFrame(rows)
    df["model_vs_paper"] = df["model_total_gates"] / df["paper_total_gates"]
    return df


def _fmt(x, nd=0):
    import math
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{nd}f}"


def run(args) -> int:
    if args.jobs < 1:
        raise UnsupportedConfig(f"--jobs must be >= 1, not {args.jobs!r}")
    df = table(args.guard_bits, synth=not args.no_synth, extended=args.extended, jobs=args.jobs,
               booth=args.booth)
    if args.csv:
        df.to_csv(sys.stdout, index=False, float_format="%.4g")
        return 0
    synth = "synth_total_gates" in df
    head = f"{'input':15s} {'acc':11s} {'paper':>6s} {'model':>6s}"
    if synth:
        head += f" {'synth':>6s}  {'synth split mpy/alignadd/normacc':>32s}  synth/paper"
    print("Equivalent gates per MAC (Appendix-B units). paper: van Baalen et al. 2023 Fig. 3; "
          "model: hwmodel.papermodel;")
    if synth:
        print("synth: Yosys + ABC on our RTL MAC, paper.lib (" + str(df["yosys"].dropna().iloc[0]
                                                            if df["yosys"].notna().any() else "")
              + (", Booth multipliers" if args.booth else ", Yosys' default array multipliers") + ")")
    print(head)
    for r in df.itertuples(index=False):
        line = (f"{r.in_fmt:15s} {r.acc:11s} {_fmt(r.paper_total_gates):>6s} "
                f"{_fmt(r.model_total_gates):>6s}")
        if synth:
            split = "/".join(_fmt(getattr(r, f"synth_{c}_gates")) for c in ("mpy", "alignadd", "normacc"))
            line += (f" {_fmt(r.synth_total_gates):>6s}  {split:>32s}  "
                     f"{_fmt(r.synth_vs_paper, 2):>11s}")
            if r.error:
                line += f"  ({r.error})"
        print(line)
    base = df[(df.in_fmt == "int8") & df.acc.str.startswith("kulisch")].iloc[0]
    for fmt in ("paper_e4",):
        for acc, claim in (("fp16", "53%"), ("fp32", "183%")):
            row = df[(df.in_fmt == fmt) & (df.acc == acc)].iloc[0]
            msg = (f"FP8-E4->{acc.upper()} vs INT8->FX: paper {claim} more; model "
                   f"{100 * (row.model_total_gates / base.model_total_gates - 1):+.0f}%")
            if synth and row.synth_total_gates == row.synth_total_gates and base.synth_total_gates:
                msg += f"; synthesis {100 * (row.synth_total_gates / base.synth_total_gates - 1):+.0f}%"
            print(msg)
    return 0
