"""Report section: numerical quality against area and energy per MAC, per accumulator."""

from __future__ import annotations

from analysis.section import Figure, ReportContext, Section, Table

_LABELS = {"sqnr_db": "SQNR, N(0,1) data (dB)",
           "sqnr_t3_db": "SQNR, Student-t(3) data (dB)",
           "dot_rel_err": "dot-product error (|err| / sum|a_i b_i|)",
           "area_ge": "area per MAC unit (gate equivalents, NAND2)",
           "energy_pj": "energy per MAC (pJ)"}


def build(ctx: ReportContext) -> Section:
    from analysis import pareto, plots
    from analysis.reportsweep import report_sweep

    df = report_sweep(ctx)
    tables, figures, missing = [], [], []
    for cost in pareto.COSTS:
        for quality in pareto.QUALITY:
            q = quality[0]
            if cost not in df or q not in df or df[[cost, q]].dropna().empty:
                missing.append(f"{q} vs {cost}")
                continue
            fr = pareto.fronts(df, quality, cost, by="acc")
            if fr.empty:
                missing.append(f"{q} vs {cost}")
                continue
            fig, ax = plots.new_figure()
            plots.pareto_scatter(ax, fr, cost, q, "acc", xlabel=_LABELS[cost], ylabel=_LABELS[q],
                                 log_y=(q == "dot_rel_err"))
            ax.set_title(f"{q} vs {cost}: lines join each accumulator's non-dominated points", fontsize=9)
            path = plots.savefig(fig, ctx.figure_dir / f"pareto_{q}_{cost}.png")
            src = ("quality: our golden model (hwmodel.numerics); "
                   + ("area: our synthesis (Yosys, ge.lib)" if cost == "area_ge"
                      else "energy: our gate-level simulation (sim.energy)"))
            figures.append(Figure(f"{_LABELS[q]} against {_LABELS[cost]}.", path, src))
            front = fr[fr["pareto"]][["acc", "in_fmt", cost, q, "pareto_all"]]
            tables.append(Table(f"Non-dominated designs per accumulator: {q} vs {cost} "
                                f"(pareto_all: also non-dominated over every accumulator)", front, src))
    intro = ("Each point is one MAC design (input format x accumulator). Quality: SQNR of N(0,1) and of "
             "heavy-tailed Student-t (nu=3) samples quantised per tensor (absmax to the format's largest "
             "value), and the median relative error of sequential dot products. A design is non-dominated when "
             "no other design with the same accumulator is at least as cheap and at least as accurate, "
             "and strictly better in one.")
    notes = ""
    if missing:
        notes = "Not drawn, the sweep has no values for: " + ", ".join(missing) + \
                " (see the failed points in the sweep table, reports/sweep/sweep.csv)."
    if not figures:
        raise RuntimeError("no Pareto front could be drawn: the sweep produced no quality/cost pairs")
    return Section(key="pareto", title="Pareto fronts: quality versus cost", intro=intro,
                   tables=tables, figures=figures, notes=notes)
