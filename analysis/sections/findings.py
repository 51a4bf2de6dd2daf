"""Report section shown first: findings computed from the report's own tables, then the headline
plot (peak throughput in the iso-area budget at one clock against SQNR, non-dominated designs
joined, INT8/Kulisch and FP8-E4M3 named). It runs after the other sections (analysis.report
RUN_LAST) and reads the same frames they render."""

from __future__ import annotations

from analysis.section import Figure, ReportContext, Section, Table


def build(ctx: ReportContext) -> Section:
    import pandas as pd

    from analysis import findings, pareto, plots
    from analysis.config import FO4_SOURCE
    from analysis.sections import arrays as arr_section, isoarea as iso_section

    fr = iso_section.frames(ctx)
    table, target, sweep, iso = fr["table"], fr["target"], fr["sweep"], fr["iso"]
    budget = (f"{iso.budget_ge:.3g} GE" if iso.budget_ge is not None else f"{iso.budget_mm2:g} mm^2")
    items = [findings.cheapest_at_isoarea(table, target, budget),
             findings.area_vs_paper(sweep, acc="fp32"),
             findings.area_vs_paper(sweep, acc="kulisch"),
             findings.cheapest_acc_per_format(sweep),
             findings.sqnr_winners(sweep)]
    items.append(findings.block_formats_at_isoarea(table, sweep))
    if target is not None and "meets_clock" in table:
        items.append(findings.clock_needs(table))
    items += findings.accelerator_winners(fr.get("accel_winners"))
    items += findings.array_overhead(arr_section.frames(ctx, compute=False))
    if fr.get("accel_winners") is None:
        from analysis import accelerator
        if not accelerator.available():
            items.append(findings.Finding("Whole accelerator (array + buffers, energy per token) not shown: "
                                          + accelerator.missing_reason() + "."))
    md = findings.as_markdown(items)
    # Headline: what the budget buys against how accurate it is.
    q = sweep[["in_fmt_spec", "acc", "sqnr_db"]].drop_duplicates(["in_fmt_spec", "acc"])
    pts = table.merge(q, on=["in_fmt_spec", "acc"], how="left").dropna(subset=["peak_tops", "sqnr_db"])
    figures, tables = [], []
    src = ("peak TOPS: iso-area model (analysis.isoarea) over our synthesis, "
           f"{FO4_SOURCE}; SQNR: our golden model (hwmodel.numerics; block formats: hwmodel.blockscaled, "
           "block-quantised by their scale rule)")
    if not pts.empty:
        unit = pts["unit"].astype(str) if "unit" in pts else pd.Series("mac", index=pts.index)
        pts = pts.assign(pareto=pareto.non_dominated(pts, [("peak_tops", "max"), ("sqnr_db", "max")]),
                         design=pts["in_fmt"] + "/" + pts["acc"],
                         kind=unit.map(lambda u: "block dot unit" if u.startswith("bdot") else "scalar MAC"))
        if "meets_clock" in pts:  # a design that misses the common clock runs at its own: say which
            pts["clock"] = pts["meets_clock"].map(lambda m: "common" if bool(m) else "own (misses common)")
        fig, ax = plots.new_figure()
        plots.pareto_scatter(ax, pts, "peak_tops", "sqnr_db", "kind",
                             xlabel=f"peak throughput in {budget} (TOPS)"
                             + (f", one clock {target.period:.4g} {target.unit}" if target is not None else "")
                             + (" (designs that miss it: their own)" if "clock" in pts
                                and (pts["clock"] != "common").any() else ""),
                             ylabel="SQNR, N(0,1) data (dB)", annotate="design")
        for _, r in pts[(pts["kind"] == "block dot unit") & ~pts["pareto"]].iterrows():
            # block designs off the front are named too (the front's names come from pareto_scatter)
            ax.annotate(str(r["design"]).replace("float", "fp"), (r["peak_tops"], r["sqnr_db"]), fontsize=7,
                        xytext=(3, -9), textcoords="offset points")
        ax.set_title("What the budget buys against accuracy: lines join the non-dominated designs "
                     "(over all designs)", fontsize=9)
        path = plots.savefig(fig, ctx.figure_dir / "headline.png")
        figures.append(Figure("Peak throughput at equal area and one clock against SQNR; non-dominated "
                              "designs joined and named, references ringed.", path, src))
        tables.append(Table("The designs of the headline plot (non-dominated: pareto; unit bdot:N = block dot "
                            "unit of N element products a cycle, area per element product; clock: the common "
                            "one or the design's own where it misses it)",
                            pts[["design", "unit", "peak_tops", "sqnr_db", "pareto"]
                                + [c for c in ("area_per_product_ge", "clock_ghz", "meets_clock", "clock",
                                               "pipeline_stages", "latency_cycles") if c in pts]]
                            .sort_values("peak_tops", ascending=False), src))
    intro = ("Each statement below is computed from the tables of this report; the figure it rests on is "
             "in bold and its table is named.\n\n" + md)
    return Section(key="findings", title="Findings", intro=intro, figures=figures, tables=tables)
