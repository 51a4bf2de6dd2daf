"""Report section: area and delay of one MAC per format (paper gates and NAND2 equivalents).

Numbers come from Yosys runs (rtl.synth, cached by content hash) of the verified RTL MAC with one
product register, mapped to paper.lib (the FP8-vs-INT8 paper's Appendix-B gate costs) and to
ge.lib (NAND2 equivalents with Nangate 45 nm cell-area ratios, Logical-Effort delays in FO4), with
the paper's analytical count (hwmodel.papermodel) beside them.
"""

from __future__ import annotations

from analysis.section import ReportContext, Section, Table

# (input format, accumulator): integers into int32 and a Kulisch register, low-precision floats
# into FP32 (and FP16 / Kulisch where the paper compares them), 16-bit floats into FP32
DEFAULT_CONFIGS = (
    ("int4", "int32"), ("int4", "kulisch:12"), ("int8", "int32"), ("int8", "kulisch:12"),
    ("float8_e4m3fn", "fp32"), ("float8_e4m3fn", "fp16"), ("float8_e4m3fn", "kulisch:12"),
    ("float8_e5m2", "fp32"), ("float8_e5m2", "fp16"), ("float8_e5m2", "kulisch:12"),
    ("float6_e2m3fn", "fp32"), ("float6_e2m3fn", "kulisch:12"),
    ("float6_e3m2fn", "fp32"), ("float6_e3m2fn", "kulisch:12"),
    ("float4_e2m1fn", "fp32"), ("float4_e2m1fn", "kulisch:12"),
    ("bfloat16", "fp32"), ("float16", "fp32"),
)
QUICK_CONFIGS = (("int8", "int32"), ("float8_e4m3fn", "fp32"))


def area_table(configs=DEFAULT_CONFIGS, *, jobs: int = 2, cache_dir=None):
    """One row per (format, accumulator): area in paper gates and GE, flip-flops, depth, delay."""
    import pandas as pd
    from hwmodel.errors import HwdseError
    from hwmodel.papermodel import mac_cost
    from rtl.paperrepro import synth_many
    paper = synth_many(configs, "paper", jobs=jobs, cache_dir=cache_dir, pipeline=1)
    ge = synth_many(configs, "ge", jobs=jobs, cache_dir=cache_dir, pipeline=1)
    rows = []
    for (f, a, sp, ep), (_, _, sg, eg) in zip(paper, ge):
        try:
            model = mac_cost(f, a).total_gates
        except HwdseError:
            model = None
        rows.append({
            "format": f, "accumulator": a,
            "area_gates": None if sp is None else round(sp.area),
            "model_gates": model,
            "area_ge": None if sg is None else round(sg.area, 1),
            "flip_flops": None if sg is None else sg.cells_by_type.get("DFF", 0),
            "depth_cells": None if sg is None else sg.logic_depth,
            "delay_fo4": None if sg is None or sg.delay_fo4 is None else round(sg.delay_fo4, 1),
            "netlist_sha256_ge": None if sg is None else sg.netlist_sha256[:12],
            "yosys": (sg or sp).yosys_version if (sg or sp) else None,
            "error": ep or eg})
    df = pd.DataFrame(rows)
    ref = df[(df.format == "int8") & (df.accumulator == "int32")]
    if len(ref) and ref.area_ge.notna().all():
        df.insert(5, "area_vs_int8_int32", (df.area_ge / float(ref.area_ge.iloc[0])).round(2))
    return df


def build(ctx: ReportContext) -> Section:
    configs = QUICK_CONFIGS if ctx.quick else DEFAULT_CONFIGS
    df = area_table(configs, jobs=ctx.jobs, cache_dir=ctx.cache_dir)
    yosys = df["yosys"].dropna().iloc[0] if df["yosys"].notna().any() else "Yosys"
    src = (f"our synthesis ({yosys} + ABC; rtl/lib/paper.lib = Appendix-B gate costs of "
           f"arXiv:2303.17951; rtl/lib/ge.lib = Nangate 45nm Open Cell Library area ratios, "
           f"delays from Logical Effort at fan-out 4); model_gates: hwmodel.papermodel")
    ok = df.area_ge.notna()
    notes = []
    if ok.any():
        small = df[ok].loc[df[ok].area_ge.idxmin()]
        big = df[ok].loc[df[ok].area_ge.idxmax()]
        notes.append(f"Smallest MAC here: {small.format} into {small.accumulator}, {small.area_ge:.0f} GE; "
                     f"largest: {big.format} into {big.accumulator}, {big.area_ge:.0f} GE "
                     f"({big.area_ge / small.area_ge:.1f}x).")
        g = df[ok & df.area_gates.notna()]
        if len(g) >= 4:
            import numpy as np
            r = np.corrcoef(g.area_gates.astype(float), g.area_ge.astype(float))[0, 1]
            notes.append(f"Paper-unit and NAND2-equivalent areas correlate at {r:.3f} over "
                         f"{len(g)} designs" + (": the two libraries differ in cell prices, not in "
                                                "what dominates." if r > 0.95 else
                                                "; the cell prices change the ranking."))
    failed = df[df.error.notna()]
    if len(failed):
        notes.append("Not synthesised: " + "; ".join(f"{r.format}/{r.accumulator}: {r.error}"
                                                      for r in failed.itertuples()))
    if ctx.quick:
        notes.append("_Quick mode: two configurations only._")
    return Section(
        key="area", title="Area and delay of one MAC per format",
        intro=("Each row is our verified RTL MAC (one product register, the accumulator register, "
               "valid/clear control) synthesised with Yosys and ABC. `area_gates` prices cells at "
               "the FP8-vs-INT8 paper's Appendix-B gate costs; `area_ge` in NAND2 equivalents with "
               "Nangate 45 nm cell-area ratios; `delay_fo4` is the longest path between registers "
               "and ports in fan-out-of-4 inverter delays (Logical Effort per cell, no wires), an "
               "estimate for ranking, not sign-off timing. ABC maps for minimum area (the paper "
               "counts gates), which lengthens paths: the delay is that of the smallest netlist, "
               "not of a timing-driven one."),
        tables=[Table("Area per MAC by input format and accumulator", df.drop(columns=["yosys"]), src)],
        notes="\n\n".join(notes))
