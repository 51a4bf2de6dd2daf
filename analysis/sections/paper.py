"""Report section: the FP8-vs-INT8 paper's Fig. 3 reproduced (paper vs analytical model vs Yosys).

Every number is computed here: the paper's figures come from hwmodel/data/paper_fig3.csv (with
its source), the model from hwmodel.papermodel, the synthesis from rtl.synth (Yosys runs, cached
by content hash). The paragraphs quote those numbers; none is typed in.
"""

from __future__ import annotations

import math

from analysis.section import Figure, ReportContext, Section, Table

PAPER_SRC = "van Baalen et al. 2023 (arXiv:2303.17951) Fig. 3, via hwmodel/data/paper_fig3.csv"
QUICK_POINTS = (("int8", "kulisch:12"), ("paper_e4", "fp16"), ("paper_e4", "fp32"))


def _blocks():
    """Tiny amaranth designs whose Appendix-B cost is a single formula."""
    from amaranth.hdl import Module, Signal, signed
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class Adder(wiring.Component):
        def __init__(self, n):
            self.n = n
            super().__init__({"a": In(n), "b": In(n), "s": Out(n)})

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.s.eq(self.a + self.b)      # N-bit adder, carry out dropped
            return m

    class Mult(wiring.Component):
        def __init__(self, n, is_signed=True):
            t = signed if is_signed else (lambda w: w)
            super().__init__({"a": In(t(n)), "b": In(t(n)), "p": Out(t(2 * n))})

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.p.eq(self.a * self.b)
            return m

    class Reg(wiring.Component):
        def __init__(self, n, enable_reset):
            self.enable_reset = enable_reset
            super().__init__({"d": In(n), "en": In(1), "q": Out(n)})

        def elaborate(self, platform):
            m = Module()
            if self.enable_reset:
                r = Signal.like(self.q)                   # synchronous reset, load enable
                with m.If(self.en):
                    m.d.sync += r.eq(self.d)
            else:
                r = Signal.like(self.q, reset_less=True)  # the paper's bare flip-flop
                m.d.sync += r.eq(self.d)
            m.d.comb += self.q.eq(r)
            return m

    from hwmodel import papermodel as pm
    mul = "N^2 AND2 + (N-1)^2 FA + (N-1) HA"
    # (name, design, Appendix-B gates, formula, Booth multipliers)
    return [
        ("16-bit adder", Adder(16), pm.adder_gates(16), "(N-1)*FA + HA", False),
        ("8x8 signed multiplier", Mult(8), pm.multiplier_gates(8), mul, False),
        ("8x8 signed multiplier, Booth", Mult(8), pm.multiplier_gates(8), mul, True),
        ("4x4 unsigned multiplier", Mult(4, False), pm.multiplier_gates(4), mul, False),
        ("4x4 unsigned multiplier, Booth", Mult(4, False), pm.multiplier_gates(4), mul, True),
        ("16-bit register", Reg(16, False), 16 * pm.FF, "N * 6", False),
        ("16-bit register, reset + enable", Reg(16, True), 16 * pm.FF,
         "N * 6 (paper has no reset/enable)", False),
    ]


def building_blocks(cache_dir=None):
    """Appendix-B formula vs synthesis (paper.lib) for the blocks every MAC is made of."""
    import pandas as pd
    from rtl.synth import synthesize
    rows = []
    for i, (name, design, paper, formula, booth) in enumerate(_blocks()):
        r = synthesize(design, "paper", top=f"block{i}", cache_dir=cache_dir, booth=booth)
        rows.append({"block": name, "appendix_b_formula": formula, "appendix_b_gates": paper,
                     "synth_gates": r.area, "synth_vs_appendix_b": r.area / paper,
                     "cells": ", ".join(f"{n} {c}" for c, n in sorted(r.cells_by_type.items()))})
    return pd.DataFrame(rows), r


# The paper's reference configurations: its INT8 baseline and the FP8-E4 design it compares.
PAPER_REFS = {("int8", "kulisch"): "INT8/FX (paper baseline, ref)",
              ("paper_e4", "fp16"): "FP8-E4/FP16 (paper, ref)",
              ("paper_e4", "fp32"): "FP8-E4/FP32 (paper, ref)"}
FIGURE_MARKS = ("Bars outlined in black and hatched: the paper's reference configurations "
                "(INT8 into the 27-bit fixed-point register, FP8-E4 into FP16 and into FP32); "
                "starred and named: for each input format, the cheapest accumulator (fewest "
                "gates by our synthesis; by our model when one of its designs was not "
                "synthesised), the non-dominated choice on that single cost.")


def _short(f, a) -> str:
    return f"{f.replace('paper_', 'FP8-').upper()}/{a.split(':')[0].upper()}"


def cheapest_per_input(df):
    """Per input format, True on the row of its cheapest accumulator: by synthesised gates when
    all of the input's rows were synthesised, else by the model's."""
    import pandas as pd
    best = pd.Series(False, index=df.index)
    for _, g in df.groupby("in_fmt", sort=False):
        col = "synth_total_gates" if g["synth_total_gates"].notna().all() else "model_total_gates"
        v = g[col].astype(float)
        best[v.index[v == v.min()]] = True
    return best


def _bar_chart(df, path):
    import numpy as np

    from analysis import plots
    labels = [f"{f.replace('paper_', 'FP8-').upper()}\n{a.split(':')[0].upper()}" for f, a in zip(df.in_fmt, df.acc)]
    x = np.arange(len(df))
    fig, ax = plots.new_figure(max(6, 0.75 * len(df) + 2), 4.6)
    w = 0.27
    series = [("paper_total_gates", "paper Fig. 3", "#888888"),
              ("model_total_gates", "our analytical model (Appendix B)", "#4c72b0"),
              ("synth_total_gates", "our synthesis (Yosys, paper.lib)", "#dd8452")]
    for k, (col, label, color) in enumerate(series):
        vals = df[col].astype(float).to_numpy()
        ax.bar(x + (k - 1) * w, np.nan_to_num(vals), w, label=label, color=color)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("equivalent gates per MAC (Appendix-B units)")
    ax.set_xlabel("input format / accumulator")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    refs = [PAPER_REFS.get((f, a.split(":")[0])) for f, a in zip(df.in_fmt, df.acc)]
    plots.mark_bars(ax, plots.bar_groups(ax), [_short(f, a) for f, a in zip(df.in_fmt, df.acc)],
                    refs, list(cheapest_per_input(df)),
                    best_what="cheapest accumulator for its input",
                    ref_what="paper's reference: INT8/FX, FP8-E4/FP16, FP8-E4/FP32")
    plots.savefig(fig, path)


def _pct(a, b):
    return f"{100 * (a / b - 1):+.0f}%"


def build(ctx: ReportContext) -> Section:
    import pandas as pd
    from rtl.paperrepro import paper_reproduction, synth_many
    from hwmodel.papermodel import mac_cost

    cache = ctx.cache_dir
    from analysis.commands.paper import extended_points
    ext = None
    if not ctx.quick:
        both = paper_reproduction(12, jobs=ctx.jobs, cache_dir=cache, extra=extended_points(12))
        df, ext = both.iloc[:15].reset_index(drop=True), both.iloc[15:].reset_index(drop=True)
    else:   # tests: the three configurations the headline needs, model for the rest
        from hwmodel.papermodel import paper_fig3
        fig3 = paper_fig3()
        res = {(f, a): (s, e) for f, a, s, e in synth_many(QUICK_POINTS, "paper", jobs=ctx.jobs,
                                                            cache_dir=cache)}
        rows = []
        for r in fig3.itertuples(index=False):
            m = mac_cost(r.in_fmt, r.acc)
            s, e = res.get((r.in_fmt, r.acc), (None, "not synthesised in quick mode"))
            rows.append({"in_fmt": r.in_fmt, "acc": r.acc, "paper_total_gates": r.total_gates,
                         "model_total_gates": m.total_gates,
                         "synth_total_gates": math.nan if s is None else s.area,
                         **{f"synth_{c}_gates": (math.nan if s is None else s.area_by_part.get(c))
                            for c in ("mpy", "alignadd", "normacc")},
                         "synth_dff_count": None if s is None else s.cells_by_type.get("DFF", 0),
                         "synth_depth_cells": None if s is None else s.logic_depth,
                         "yosys": None if s is None else s.yosys_version,
                         "netlist_sha256": None if s is None else s.netlist_sha256, "error": e})
        df = pd.DataFrame(rows)
        df["model_vs_paper"] = df.model_total_gates / df.paper_total_gates
        df["synth_vs_paper"] = df.synth_total_gates / df.paper_total_gates

    yosys = df["yosys"].dropna().iloc[0] if df["yosys"].notna().any() else "Yosys"
    synth_src = f"our synthesis ({yosys}, ABC, rtl/lib/paper.lib; netlist hashes in the CSV)"
    show = pd.DataFrame({
        "input": df.in_fmt, "accumulator": df.acc,
        "paper_gates": df.paper_total_gates, "model_gates": df.model_total_gates,
        "synth_gates": df.synth_total_gates.round(0),
        "model_vs_paper": df.model_vs_paper.round(3), "synth_vs_paper": df.synth_vs_paper.round(2),
        "synth_mpy_gates": df.synth_mpy_gates, "synth_alignadd_gates": df.synth_alignadd_gates,
        "synth_normacc_gates": df.synth_normacc_gates, "synth_flip_flops": df.synth_dff_count,
        "synth_depth_cells": df.synth_depth_cells})
    fig_path = ctx.figure_dir / "paper_fig3_reproduction.png"
    _bar_chart(df, fig_path)

    # -- numbers for the paragraphs --------------------------------------------------------
    def row(f, a):
        return df[(df.in_fmt == f) & (df.acc.str.split(":").str[0] == a.split(":")[0])].iloc[0]
    base, e4_16, e4_32 = row("int8", "kulisch"), row("paper_e4", "fp16"), row("paper_e4", "fp32")
    max_model = (df.model_vs_paper - 1).abs().max()
    ok = df.synth_total_gates.notna()
    blocks, _ = building_blocks(cache)
    booth_pts = {(f, a): r for f, a, r, e in synth_many(QUICK_POINTS, "paper", jobs=ctx.jobs,
                                                        cache_dir=cache, booth=True) if r is not None}
    b = blocks.set_index("block")

    notes = []
    notes.append(
        f"**Analytical model.** Appendix B's costs applied to our reading of Fig. 2 land within "
        f"{100 * max_model:.1f}% of every Fig. 3 total (the test requires 3%). The paper's own "
        f"headline, FP8-E4 into FP16/FP32 against INT8 into a 27-bit fixed-point register, comes "
        f"out {_pct(e4_16.model_total_gates, base.model_total_gates)} / "
        f"{_pct(e4_32.model_total_gates, base.model_total_gates)} (paper: +53% / +183%).")
    if ok.any():
        lo, hi = df.synth_vs_paper[ok].min(), df.synth_vs_paper[ok].max()
        notes.append(
            f"**Real synthesis departs from the count by {lo:.2f}x to {hi:.2f}x.** The building "
            f"blocks show why (table 2). With the same cell prices, a 16-bit adder maps to "
            f"{b.loc['16-bit adder', 'synth_gates']:.0f} gates against Appendix B's "
            f"{b.loc['16-bit adder', 'appendix_b_gates']:.0f} "
            f"({_pct(b.loc['16-bit adder', 'synth_gates'], b.loc['16-bit adder', 'appendix_b_gates'])}) "
            f"and an 8x8 signed multiplier to {b.loc['8x8 signed multiplier', 'synth_gates']:.0f} "
            f"against {b.loc['8x8 signed multiplier', 'appendix_b_gates']:.0f} "
            f"({_pct(b.loc['8x8 signed multiplier', 'synth_gates'], b.loc['8x8 signed multiplier', 'appendix_b_gates'])}). "
            f"The multiplier's architecture matters most: against Yosys' default multiplier "
            f"lowering, radix-4 Booth (`synth -booth`) "
            f"brings the 8x8 product to {b.loc['8x8 signed multiplier, Booth', 'synth_gates']:.0f} "
            f"but makes the 4x4 unsigned significand product of FP8-E4 larger "
            f"({b.loc['4x4 unsigned multiplier', 'synth_gates']:.0f} -> "
            f"{b.loc['4x4 unsigned multiplier, Booth', 'synth_gates']:.0f}; Appendix B: "
            f"{b.loc['4x4 unsigned multiplier', 'appendix_b_gates']:.0f}). A register with the "
            f"synchronous reset and load enable our MAC needs (valid/clear) costs "
            f"{b.loc['16-bit register, reset + enable', 'synth_gates']:.0f} against the paper's bare "
            f"{b.loc['16-bit register', 'appendix_b_gates']:.0f}. Our RTL also does what the paper "
            f"leaves out: NaN/inf/zero flags, subnormal decoding, the Kulisch overflow and special-value "
            f"flags, and an exact round-to-nearest-even FP adder with every corner case verified. "
            f"The split differs by construction for float accumulators: our `alignadd` holds the whole "
            f"add-and-round core (normalisation and rounding included) and `normacc` only the "
            f"register, so compare FP rows by total.")
    if ok[[base.name, e4_16.name, e4_32.name]].all():
        s16 = e4_16.synth_total_gates / base.synth_total_gates
        s32 = e4_32.synth_total_gates / base.synth_total_gates
        notes.append(
            f"**Does \"FP8-E4 costs 53% / 183% more than INT8\" survive?** In direction, "
            f"{'yes' if s16 > 1 and s32 > 1 else 'no'}: "
            f"synthesised, FP8-E4 into FP16 costs {_pct(e4_16.synth_total_gates, base.synth_total_gates)} "
            f"and into FP32 {_pct(e4_32.synth_total_gates, base.synth_total_gates)} more than INT8 "
            f"into its 27-bit register (paper +53% / +183%). ")
        same = abs(s16 - 1.53) < 0.1 and abs(s32 - 2.83) < 0.2
        ib = base.synth_total_gates / base.paper_total_gates
        ie = e4_32.synth_total_gates / e4_32.paper_total_gates
        notes[-1] += (f"In size {'it holds as well' if same else 'it does not'}: the ratios go from "
                      f"1.53 / 2.83 to {s16:.2f} / {s32:.2f}. Synthesis inflates INT8->FX by "
                      f"{ib:.2f}x (its mpy alone {base.synth_mpy_gates:.0f} vs the paper's 421) and "
                      f"FP8-E4->FP32 by {ie:.2f}x, so the more multiplier-dominated design "
                      f"{'loses more of its advantage' if ib > ie else 'keeps its advantage'} under "
                      f"real mapping.")
        if booth_pts:
            bb, b16, b32 = (booth_pts.get(k) for k in QUICK_POINTS)
            if bb and b16 and b32:
                notes[-1] += (
                    f" With Booth multipliers everywhere (`hwdse paper --booth`) INT8->FX drops to "
                    f"{bb.area:.0f} gates and the ratios become {b16.area / bb.area:.2f} / "
                    f"{b32.area / bb.area:.2f}: the size of FP8's penalty hinges on a multiplier-"
                    f"architecture choice the gate-count model does not make explicit"
                    + (", its sign does not." if min(b16.area, b32.area) > bb.area else "."))
    if ctx.quick:
        notes.append("_Quick mode: only INT8->FX, FP8-E4->FP16 and FP8-E4->FP32 were synthesised._")
    else:
        cheapest = []
        for f in df.in_fmt.unique():
            sub = df[(df.in_fmt == f) & ok]
            if len(sub) == 3:
                best = sub.loc[sub.synth_total_gates.idxmin()]
                cheapest.append(f"{f.replace('paper_', 'FP8-').upper()}: {best.acc.split(':')[0]}")
        notes.append("**Cheapest accumulator per input after synthesis** (the paper: fixed point up "
                     "to FP8-E3, break-even at E4): " + "; ".join(cheapest) + ".")

    if ext is not None and base.synth_total_gates == base.synth_total_gates:
        ext_show = pd.DataFrame({
            "input": ext.in_fmt, "accumulator": ext.acc, "model_gates": ext.model_total_gates,
            "synth_gates": ext.synth_total_gates.round(0),
            "model_vs_int8_fx": (ext.model_total_gates / base.model_total_gates).round(2),
            "synth_vs_int8_fx": (ext.synth_total_gates / base.synth_total_gates).round(2),
            "synth_flip_flops": ext.synth_dff_count, "synth_depth_cells": ext.synth_depth_cells,
            "error": ext.error})
    tables = [
        Table("Fig. 3 reproduced: gates per MAC in Appendix-B units (paper, our model of it, our "
              "synthesis of the verified RTL)", show,
              f"paper: {PAPER_SRC}; model: hwmodel.papermodel (Appendix B on Fig. 2); synth: {synth_src}"),
        Table("Building blocks: Appendix-B formula vs synthesis with the same cell costs", blocks,
              f"Appendix B of arXiv:2303.17951; {synth_src}"),
    ]
    if ext is not None and base.synth_total_gates == base.synth_total_gates:
        tables.append(Table("Beyond the paper: INT4, OCP FP8, FP6, FP4, BF16 and FP16 inputs (gates "
                            "per MAC; ratios to INT8 into the 27-bit fixed-point register)", ext_show,
                            f"model: hwmodel.papermodel; synth: {synth_src}"))
    intro = (
        "The FP8-vs-INT8 paper counts equivalent 2-input gates of one MAC with a hand cost table "
        "(Appendix B) on the datapaths of its Fig. 2; it does not synthesise. We put three numbers "
        "side by side: the paper's Fig. 3, our implementation of its analytical model (any format, "
        "any accumulator, any guard bits), and a Yosys/ABC synthesis of our verified RTL MAC mapped "
        "to a Liberty library whose cell areas are the paper's own gate costs (AND2/OR2 1, AO21 2, "
        "MUX2/XOR2 3, flip-flop 6), so the difference is the design and the mapping, not the unit. "
        "INT8 into the fixed-point register is built without a product register, as Fig. 2a says.")
    return Section(key="paper", title="FP8 vs INT8: the paper's gate counts, reproduced and synthesised",
                   intro=intro, tables=tables,
                   figures=[Figure("Fig. 3 totals: paper, our model, our synthesis. " + FIGURE_MARKS, fig_path,
                                   f"{PAPER_SRC}; hwmodel.papermodel; {synth_src}")],
                   notes="\n\n".join(notes))
