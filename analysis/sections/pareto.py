"""Report section: numerical quality against area and energy per MAC, per accumulator."""

from __future__ import annotations

from analysis.section import Figure, ReportContext, Section, Table

_LABELS = {"sqnr_db": "SQNR, N(0,1) data (dB)",
           "sqnr_t3_db": "SQNR, Student-t(3) data (dB)",
           "dot_rel_err": "dot-product error (|err| / sum|a_i b_i|)",
           "area_per_product_ge": "area per product (gate equivalents, NAND2; block dot unit / lanes)",
           "energy_pj": "energy per product (pJ)"}
# Costs per product: a scalar MAC's area, a block dot unit's area over its element products a cycle
# (energy_pj is per product for both: sim.energy.mac_energy, sim.energy.block_energy).
COSTS = ("area_per_product_ge", "energy_pj")


def build(ctx: ReportContext) -> Section:
    from analysis import pareto, plots
    from analysis.reportsweep import report_sweep

    df = per_product(report_sweep(ctx))
    tables, figures, missing = [], [], []
    for cost in COSTS:
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
            src = ("quality: our golden model (hwmodel.numerics; block formats hwmodel.blockscaled); "
                   + ("area: our synthesis (Yosys, ge.lib)" if cost.startswith("area")
                      else "energy: our gate-level simulation (sim.energy)"))
            figures.append(Figure(f"{_LABELS[q]} against {_LABELS[cost]}.", path, src))
            front = fr[fr["pareto"]][["acc", "in_fmt", cost, q, "pareto_all"]]
            tables.append(Table(f"Non-dominated designs per accumulator: {q} vs {cost} "
                                f"(pareto_all: also non-dominated over every accumulator)", front, src))
    intro = ("Each point is one design (input format x accumulator): a scalar MAC, or for a block-scaled "
             "format its block dot unit (bdot:N, N element products a cycle), costed per product (area / N; "
             "energy per element product from gate-level simulation). Quality: SQNR of N(0,1) and of "
             "heavy-tailed Student-t (nu=3) samples, scalar formats quantised per tensor (absmax to the "
             "format's largest value), block formats per block by their own scale rule "
             "(hwmodel.blockscaled), and the median relative error of dot products (block formats: the "
             "block dot golden model, one rounding per block). A design is non-dominated when "
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


def per_product(df):
    """The sweep with `area_per_product_ge`: area_ge over the unit's products a cycle
    (analysis.design.unit_macs: mac 1, bdot:N N), for every row that has an area."""
    import pandas as pd

    from analysis.design import unit_macs
    if "area_ge" not in df:
        return df
    lanes = df["unit"].map(unit_macs) if "unit" in df else 1
    return df.assign(area_per_product_ge=pd.to_numeric(df["area_ge"], errors="coerce") / lanes)
