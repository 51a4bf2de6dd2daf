"""Report section "Block-scaled formats": what the shared scale costs per element product and what
quality it buys.

Quality: a seeded run of the block golden numerics (hwmodel.quality.block_quality_study over
hwmodel.blockscaled): SQNR of quantising Gaussian, Student-t (nu = 3) and outlier-channel
activations, and the error of length-n block dot products (exact within a block, FP32 across
blocks), for each block format family x block size x scale rule, beside the scalar INT8, FP8-E4M3
and INT4 with per-channel scaling.

Cost (analysis.blockcost): area, delay and energy per element product of each catalogue block
format's block dot unit (8 lanes) at block 16 / 32 / 64 and of the scalar MACs, split into
multipliers / adder tree / scale path / accumulator / control. Area and delay at block 32 (and of
the scalar MACs) are synthesised live in the full report; the other figures come from the
committed measured table hwmodel/data/blockcost/blockcost.csv (a run of scripts/blockdot_cost.py,
provenance on every row), each row checked against the checkout (analysis.blockcost.check_measured:
the live netlist hash, or the hashes that decide the netlist) and blanked and flagged when stale.
Quick mode (tests) synthesises nothing: a few block-32 rows of the committed table, checked by
their synthesis inputs. Pareto fronts of SQNR against area and against energy per element product
join the two, scalar MACs included.
"""

from __future__ import annotations

from analysis.section import Figure, ReportContext, Section, Table

RULE_MARKERS = {"ocp": "o", "pow2": "s", "amax": "^"}
RULE_WORDS = {"ocp": "OCP floor rule (scale 2^(floor log2 amax - emax_elem))",
              "pow2": "power of two (smallest 2^k with amax / 2^k <= elem_max)",
              "amax": "amax / elem_max rounded into the scale format"}


def sizes(quick: bool) -> dict:
    """Study size: quick mode for tests (seconds), default sized to stay well under a minute."""
    if quick:
        return dict(rows=64, n=512, dot_lanes=4)
    return dict(rows=64, n=4096, dot_lanes=16)


def _source(ctx: ReportContext) -> str:
    import numpy
    return (f"our computation: hwmodel.quality.block_quality_study on the bit-exact block golden "
            f"numerics hwmodel.blockscaled (numpy {numpy.__version__}, seed {ctx.seed})")


def headline_table(df, block_size: int = 32):
    """One row per scalar reference, per block format at `block_size`, and per catalogue format at
    its own block size (NVFP4's 16, DeepSeek's 128): bits per element, SQNR (dB) and relative RMS
    dot error per distribution."""
    import pandas as pd
    from hwmodel import quality as Q
    keep = (df["kind"] == "scalar") | (df["block_size"] == block_size) | (df["format"] == df["family"])
    sel = df[keep]
    index = ["family", "format", "rule", "scale", "block_size", "block_rows", "bits_per_element"]
    cols = [c for c in ("sqnr_db", "dot_rel_rms_error") if c in sel]
    wide = sel.pivot_table(index=index, columns="distribution", values=cols, sort=False)
    dists = [d for d in Q.BLOCK_DISTRIBUTIONS if d in set(sel["distribution"])]
    wide = wide[[(c, d) for c in cols for d in dists]]
    wide.columns = [f"{d}_{'sqnr_db' if c == 'sqnr_db' else 'dot_rel_rms_err'}" for c, d in wide.columns]
    out = wide.reset_index()
    for c in out.columns:
        if c.endswith("sqnr_db"):
            out[c] = out[c].round(2)
        elif c.endswith("dot_rel_rms_err"):
            out[c] = out[c].map(lambda v: float(f"{v:.3g}"))
    return pd.DataFrame(out)


def full_table(df):
    """Every variant: SQNR (dB) per distribution, the relative RMS dot error on Gaussian data, and
    the FP32 cross-block accumulation's own error (largest median over the distributions)."""
    from hwmodel import quality as Q
    index = ["family", "format", "rule", "block_size", "block_rows", "bits_per_element"]
    wide = df.pivot_table(index=index, columns="distribution", values="sqnr_db", sort=False)
    wide = wide[[d for d in Q.BLOCK_DISTRIBUTIONS if d in wide.columns]]
    wide.columns = [f"{d}_sqnr_db" for d in wide.columns]
    wide = wide.round(2).reset_index()
    if "dot_rel_rms_error" in df:
        g = df[df["distribution"] == "gaussian"].groupby(index, sort=False)["dot_rel_rms_error"]
        g = g.first().map(lambda v: float(f"{v:.3g}")).reset_index()
        wide = wide.merge(g.rename(columns={"dot_rel_rms_error": "gaussian_dot_rel_rms_err"}),
                          on=index, how="left")
    if "acc_rel_error_median" in df:
        acc = df.groupby(index, sort=False)["acc_rel_error_median"].max().reset_index()
        acc = acc.rename(columns={"acc_rel_error_median": "fp32_acc_rel_err_max_over_dists"})
        wide = wide.merge(acc, on=index, how="left")
    return wide


def storage_front(df):
    """Per distribution, the formats (block and scalar) no other beats on both SQNR (higher) and
    bits per element (lower): quality against storage, the front available before silicon costs."""
    import pandas as pd
    from analysis.pareto import non_dominated
    parts = []
    for dist, g in df.groupby("distribution", sort=False):
        on = non_dominated(g, [("bits_per_element", "min"), ("sqnr_db", "max")])
        parts.append(g[on].sort_values("bits_per_element", kind="stable"))
    out = pd.concat(parts) if parts else df.iloc[0:0]
    cols = ["distribution", "bits_per_element", "sqnr_db", "format", "rule", "block_size", "block_rows"]
    out = out[cols]
    return out.assign(sqnr_db=out["sqnr_db"].round(2)).reset_index(drop=True)


def plot_sqnr_vs_bits(ax, df, distribution: str, legend: bool = True) -> None:
    """SQNR against bits per element (scale storage included) for one distribution: one marker per
    scale rule, one colour per element format, scalar references as labelled black stars."""
    sub = df[df["distribution"] == distribution]
    blocks = sub[sub["kind"] == "block"]
    elements = list(dict.fromkeys(blocks["element"]))
    cmap = {e: f"C{i % 10}" for i, e in enumerate(elements)}
    for (rule, elem), g in blocks.groupby(["rule", "element"], sort=False):
        ax.scatter(g["bits_per_element"], g["sqnr_db"], marker=RULE_MARKERS.get(rule, "x"),
                   color=cmap[elem], alpha=0.75, s=26)
    for _, r in sub[sub["kind"] == "scalar"].iterrows():
        ax.scatter([r["bits_per_element"]], [r["sqnr_db"]], marker="*", color="black", s=90, zorder=3)
        ax.annotate(f"{r['format'].replace('float', 'fp')} (per-channel)",
                    (r["bits_per_element"], r["sqnr_db"]), fontsize=7, xytext=(4, -10),
                    textcoords="offset points")
    front = storage_front(sub)
    ax.step(front["bits_per_element"], front["sqnr_db"], where="post", color="grey", linewidth=0.8,
            alpha=0.7, zorder=1)
    ax.set_xlabel("bits per element (element + block scale storage / block)")
    ax.set_ylabel("SQNR (dB)")
    ax.set_title(distribution.replace("_", " "))
    ax.grid(True, alpha=0.3)
    if not legend:
        return
    # legends: rule by marker, element by colour
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], marker=m, linestyle="", color="grey", label=f"rule {rule}")
               for rule, m in RULE_MARKERS.items() if rule in set(blocks["rule"])]
    handles += [Line2D([], [], marker="o", linestyle="", color=cmap[e], label=e.replace("float", "fp"))
                for e in elements]
    handles.append(Line2D([], [], marker="*", linestyle="", color="black", label="scalar reference"))
    handles.append(Line2D([], [], color="grey", linewidth=0.8, label="front: SQNR vs bits"))
    ax.legend(handles=handles, fontsize=6, loc="lower right", framealpha=0.6)


def _finding(df, block_size: int = 32) -> str:
    """Sentences computed from the numbers: block vs per-channel scaling on outlier channels, and
    the best block format per distribution at `block_size`."""
    parts = []
    at = df[(df["block_size"] == block_size) | (df["kind"] == "scalar")]
    for dist in at["distribution"].unique():
        d = at[at["distribution"] == dist]
        best = d.loc[d["sqnr_db"].idxmax()]
        parts.append(f"{dist}: best {best['format']} ({best['rule']}) at {best['sqnr_db']:.1f} dB")
    text = f"Highest SQNR at block {block_size} (scalar references included): " + "; ".join(parts) + "."
    o = df[df["distribution"] == "outlier_channels"].set_index(["format", "rule"])["sqnr_db"]
    if ("int8", "channel") in o.index and ("mxint8", "ocp") in o.index:
        text += (f" On activations with outlier channels, MXINT8 (E8M0 per 32) reaches "
                 f"{o[('mxint8', 'ocp')]:.1f} dB against per-channel INT8's "
                 f"{o[('int8', 'channel')]:.1f} dB: the outliers inflate a whole row's scale but "
                 "only their own blocks'.")
    return text


# ---------------------------------------------------------------------------------------------
# Cost per element product, and quality against it
# ---------------------------------------------------------------------------------------------
# Quick mode (tests): these rows of the committed table at block 32, checked by synthesis inputs.
QUICK_FORMATS = (("mxfp4", "fp32"), ("mxint8", "fp32"))
QUICK_SCALARS = (("int8", "int32"), ("float8_e4m3fn", "fp32"))
LIVE_BLOCK_SIZE = 32
COST_COLS = {"area": "area_per_product_ge", "energy": "energy_pj_per_product"}
COST_UNITS = {"area": "GE", "energy": "pJ"}
COST_WORDS = {"area": "area per element product (GE)", "energy": "energy per element product (pJ)"}
DIST_WORDS = {"gaussian": "N(0,1)", "student_t3": "Student-t(3)", "outlier_channels": "outlier channels"}


def design_label(family: str, acc: str, kind: str, block_size) -> str:
    """'mxfp4@32', 'shiftquant_int4/kulisch@32', 'int8 MAC': a cost row's name in tables and plots."""
    if kind == "scalar":
        return f"{family} MAC"
    k = "/kulisch" if str(acc).startswith("kulisch") else ""
    return f"{family}{k}@{int(block_size)}"


def cost_frame(ctx: ReportContext, measured=None):
    """The cost table this report shows: the committed measured rows checked against the checkout
    (analysis.blockcost.check_measured), with block 32 and the scalar MACs synthesised live in the
    full report. Quick mode: QUICK_FORMATS / QUICK_SCALARS at block 32, no synthesis."""
    from analysis import blockcost as BC
    m = BC.load_measured() if measured is None else measured
    if ctx.quick:
        from hwmodel.accum import parse_acc
        keep = {(f, parse_acc(a).spec, LIVE_BLOCK_SIZE) for f, a in QUICK_FORMATS}
        keep |= {(f, parse_acc(a).spec, None) for f, a in QUICK_SCALARS}
        sel = m[[BC._row_key(r) in keep for _, r in m.iterrows()]]
        return BC.check_measured(sel.reset_index(drop=True), jobs=1)
    from hwmodel.errors import HwdseError
    try:
        live, why = BC.block_cost_table(BC.BLOCK_FORMATS, (LIVE_BLOCK_SIZE,), scalars=BC.SCALARS,
                                        cache_dir=ctx.cache_dir, jobs=ctx.jobs), None
    except HwdseError as exc:
        # no live synthesis (e.g. Yosys missing or failing): every row is checked by its inputs
        live, why = None, str(exc)
    out = BC.check_measured(m, live, jobs=ctx.jobs)
    out.attrs["live_error"] = why
    return out


def cost_table(cost):
    """The displayed cost table: per design, area per element product in total and by part (GE),
    the scale path in GE per element product and as a share (%) of the unit, delay (FO4), energy
    per element product (pJ) in total and of the scale path, where the area came from, status."""
    import pandas as pd
    from analysis.blockcost import PARTS
    rows = []
    for _, r in cost.iterrows():
        row = {"design": design_label(r["family"], r["acc"], r["kind"], r["block_size"]),
               "acc": r["acc"], "lanes": int(r["lanes"]),
               "area_per_product_ge": r["area_per_product_ge"]}
        for p in PARTS:
            row[f"{p}_ge"] = r[f"area_{p}_per_product_ge"]
        row["scale_path_share_pct"] = 100 * r["scale_path_share"] if r["kind"] == "block" else 0.0
        row["delay_fo4"] = r["delay_fo4"]
        row["energy_pj_per_product"] = r.get("energy_pj_per_product", float("nan"))
        row["scale_path_energy_pj_per_product"] = r.get("energy_scale_path_pj_per_product", float("nan"))
        row["area_from"], row["status"] = r["area_from"], r["status"]
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in out.columns:
        if c.endswith("_ge") or c in ("delay_fo4", "scale_path_share_pct"):
            out[c] = out[c].astype(float).round(1)
        elif c.endswith("_pj_per_product"):
            out[c] = out[c].astype(float).round(3)
    return out


def quality_cost_points(cost, quality):
    """One row per costed design with a measured cost: its SQNR (dB) on each distribution
    (`sqnr_<dist>_db`) beside area and energy per element product. A block design takes the
    quality of its catalogue family at the same block size under the family's own scale rule; a
    scalar MAC the per-channel-scaled scalar format's. in_fmt / acc name the design for
    analysis.plots.mark_references."""
    import pandas as pd
    from hwmodel.formats import parse_format
    q = quality.pivot_table(index=["family", "rule", "block_size"], columns="distribution",
                            values="sqnr_db", sort=False)
    q.columns = [f"sqnr_{d}_db" for d in q.columns]
    q = q.reset_index()
    qs = q[q["rule"] == "channel"].set_index("family")
    qb = q[q["rule"] != "channel"].set_index(["family", "rule", "block_size"])
    rows = []
    for _, r in cost.iterrows():
        fam = str(r["family"])
        if r["kind"] == "scalar":
            if fam not in qs.index:
                continue
            qual = qs.loc[fam]
        else:
            key = (fam, parse_format(fam).rule.value, int(r["block_size"]))
            if key not in qb.index:
                continue
            qual = qb.loc[key]
        rows.append({"design": design_label(fam, r["acc"], r["kind"], r["block_size"]),
                     "in_fmt": fam, "acc": r["acc"], "kind": r["kind"],
                     "block_size": r["block_size"],
                     COST_COLS["area"]: r["area_per_product_ge"],
                     COST_COLS["energy"]: r.get("energy_pj_per_product", float("nan")),
                     **{c: qual[c] for c in q.columns if c.startswith("sqnr_")}})
    return pd.DataFrame(rows)


def pareto_fronts(points):
    """Per cost (area, energy) and distribution, the designs no other design beats on both cost
    (lower) and SQNR (higher), in cost order: columns cost, distribution, design, cost value,
    sqnr_db. Designs without that cost or SQNR take no part."""
    import pandas as pd
    from analysis.pareto import non_dominated
    parts = []
    for cost, col in COST_COLS.items():
        for qcol in [c for c in points.columns if c.startswith("sqnr_")]:
            pts = points.dropna(subset=[col, qcol])
            if pts.empty:
                continue
            on = non_dominated(pts, [(col, "min"), (qcol, "max")])
            f = pts[on].sort_values(col, kind="stable")
            parts.append(pd.DataFrame({"cost": cost, "distribution": qcol[len("sqnr_"):-len("_db")],
                                       "design": f["design"], "cost_value": f[col].round(3),
                                       "sqnr_db": f[qcol].round(2)}))
    if not parts:
        return pd.DataFrame(columns=["cost", "distribution", "design", "cost_value", "sqnr_db"])
    return pd.concat(parts, ignore_index=True)


def front_sentence(points, fronts) -> str:
    """Sentences computed from the fronts: per cost, the designs non-dominated on all three
    distributions, and where the scalar INT8 and FP8-E4M3 MACs stand (on which fronts; else the
    cheapest design that beats them on N(0,1))."""
    if fronts.empty:
        return "No design has both a measured cost and an SQNR, so no Pareto front is drawn."
    dists = list(dict.fromkeys(fronts["distribution"]))
    words = []
    for cost in COST_COLS:
        f = fronts[fronts["cost"] == cost]
        if f.empty:
            continue
        sets = [set(f.loc[f["distribution"] == d, "design"]) for d in dists]
        every = [d for d in dict.fromkeys(f["design"]) if all(d in s for s in sets)]
        text = (f"Against {COST_WORDS[cost]}, non-dominated on all {len(dists)} distributions: "
                + (", ".join(every) if every else "none") + ".")
        col = COST_COLS[cost]
        refs = []
        for ref in ("int8 MAC", "float8_e4m3fn MAC"):
            if ref not in set(points["design"]):
                continue
            on = [DIST_WORDS.get(d, d) for d, s in zip(dists, sets) if ref in s]
            if on:
                refs.append(f"the scalar {ref} is on the front for {', '.join(on)}")
                continue
            r = points[points["design"] == ref].iloc[0]
            q = "sqnr_gaussian_db"
            beat = points[(points[col] <= r[col]) & (points[q] >= r[q]) & (points["design"] != ref)]
            if len(beat):
                b = beat.sort_values(col).iloc[0]
                refs.append(f"the scalar {ref} is dominated everywhere; on N(0,1) {b['design']} gives "
                            f"{b[q]:.1f} dB against its {r[q]:.1f} dB at {b[col]:.4g} against "
                            f"{r[col]:.4g} {COST_UNITS[cost]} per element product")
            else:
                refs.append(f"the scalar {ref} is dominated everywhere")
        if refs:
            joined = "; ".join(refs)
            text += " " + joined[0].upper() + joined[1:] + "."
        words.append(text)
    return " ".join(words)


def cost_sentence(cost, block_size: int = LIVE_BLOCK_SIZE) -> str:
    """The scale path's cost at `block_size` per scale format (GE per element product and share of
    the unit, FP32-accumulated units), and how far block size moves the share."""
    b = cost[(cost["kind"] == "block") & cost["scale_path_share"].notna()]
    if b.empty:
        return ""
    at = b[(b["block_size"] == block_size) & ~b["acc"].astype(str).str.startswith("kulisch")]
    parts = []
    for scale, g in at.groupby("scale", sort=False):
        ge, sh = g["scale_path_ge_per_product"], 100 * g["scale_path_share"]
        rng = (f"{ge.min():.1f}" if ge.min() == ge.max() else f"{ge.min():.1f}-{ge.max():.1f}")
        shr = (f"{sh.min():.1f}%" if sh.min() == sh.max() else f"{sh.min():.1f}-{sh.max():.1f}%")
        parts.append(f"{scale} scales {rng} GE ({shr} of the unit; {', '.join(g['family'])})")
    text = (f"At block {block_size} the scale path costs, per element product: " + "; ".join(parts) + ".")
    spread = b.groupby(["family", "acc"])["scale_path_share"].agg(lambda s: 100 * (s.max() - s.min()))
    n = b.groupby(["family", "acc"])["block_size"].nunique()
    spread = spread[n >= 2]
    if len(spread):
        text += (f" Between the block sizes measured, a unit's scale share moves by at most "
                 f"{spread.max():.1f} points ({spread.idxmax()[0]}).")
    return text


def ring_int8(ax, points, x: str, y: str) -> None:
    """Ring and name the scalar INT8 MAC (int32 accumulator): the scalar reference that
    analysis.plots.mark_references rings only with a Kulisch accumulator."""
    r = points[points["design"] == "int8 MAC"].dropna(subset=[x, y])
    for _, p in r.iterrows():
        ax.scatter([p[x]], [p[y]], s=160, facecolors="none", edgecolors="black", linewidths=1.2, zorder=5)
        ax.annotate(f"INT8/{str(p['acc']).split(':')[0]} (ref)", (p[x], p[y]), fontsize=7, fontweight="bold",
                    xytext=(4, -10), textcoords="offset points")


def plot_fronts(points, fig_path, plots):
    """2 x 3 panels: SQNR per distribution against area and against energy per element product,
    non-dominated designs joined and named, scalar INT8 and FP8-E4M3 ringed."""
    from analysis.pareto import non_dominated
    qcols = [c for c in points.columns if c.startswith("sqnr_")]
    fig, _ = plots.new_figure(5.2 * len(qcols), 9.5)
    fig.clear()
    axes = fig.subplots(2, len(qcols), squeeze=False)
    for i, (cost, col) in enumerate(COST_COLS.items()):
        for j, q in enumerate(qcols):
            ax = axes[i][j]
            pts = points.dropna(subset=[col, q])
            if pts.empty:
                ax.set_axis_off()
                ax.set_title(f"no measured {cost}", fontsize=9)
                continue
            pts = pts.assign(pareto=non_dominated(pts, [(col, "min"), (q, "max")]),
                             group="block units (8 lanes) and scalar MACs")
            plots.pareto_scatter(ax, pts, col, q, "group", xlabel=COST_WORDS[cost],
                                 ylabel=f"SQNR, {DIST_WORDS.get(q[5:-3], q)} (dB)", annotate="design")
            ring_int8(ax, pts, col, q)
            if ax.get_legend() is not None:
                ax.get_legend().remove()         # one group: the caption says what the points are
            ax.set_xscale("log")
            ax.set_title(f"{DIST_WORDS.get(q[5:-3], q)}: SQNR against {cost}", fontsize=9)
    return plots.savefig(fig, fig_path)


def measured_source(cost) -> str:
    """Where the cost rows come from: live synthesis and/or the committed table (its command,
    date and tool versions)."""
    from analysis.blockcost import REMEASURE_COMMAND
    parts = []
    live = cost[cost["area_from"] == "live synthesis"]
    if len(live):
        parts.append(f"block {LIVE_BLOCK_SIZE} and scalar area/delay: live synthesis in this run "
                     f"({live['synth_source'].iloc[0].split(', netlist')[0]})")
    c = cost[cost["area_from"] == "committed table"]
    com = cost[cost["area_from"] != "live only (no committed row)"]
    if len(com) and "measured_utc" in com:
        dates = sorted(set(com["measured_utc"].dropna().astype(str).str[:10]))
        tools = ", ".join(str(v) for v in dict.fromkeys(
            [com["yosys_version"].iloc[0], com.get("verilator_version", com["yosys_version"]).iloc[0]]))
        what = "energy, and area and delay of the other rows" if len(live) else "area, delay and energy"
        parts.append(f"{what if len(c) else 'energy'}: committed measured table "
                     f"hwmodel/data/blockcost/blockcost.csv, our synthesis + gate-level simulation "
                     f"measured {', '.join(dates)} ({tools}) by `{com['command'].iloc[0]}`; "
                     f"remeasure: `{REMEASURE_COMMAND}`")
    return "; ".join(parts)


def build(ctx: ReportContext) -> Section:
    from analysis import plots
    from hwmodel import quality as Q

    size = sizes(ctx.quick)
    df = Q.block_quality_study(seed=ctx.seed, **size)
    src = _source(ctx)
    data_dir = ctx.outdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(data_dir / "blockscaled_quality.csv", index=False)

    head = headline_table(df, 32)
    full = full_table(df)

    dists = [d for d in Q.BLOCK_DISTRIBUTIONS if d in set(df["distribution"])]
    fig, axes = plots.new_figure(5.0 * len(dists), 4.8, ncols=len(dists))
    axes = list(axes) if len(dists) > 1 else [axes]
    for i, (ax, dist) in enumerate(zip(axes, dists)):
        plot_sqnr_vs_bits(ax, df, dist, legend=i == 0)
    f1 = plots.savefig(fig, ctx.figure_dir / "blockscaled_sqnr_vs_bits.png")

    rules = "; ".join(f"**{k}**: {v}" for k, v in RULE_WORDS.items())
    intro = (
        f"Seeded tensors of {size['rows']} rows x {size['n']} values (blocks along the row, the dot "
        f"axis; rows scaled by exp(U(-1, 1))): Gaussian, Student-t (nu = 3), and N(0, 1) activations "
        f"in which one channel in {Q.OUTLIER_EVERY} (at least 2) is {Q.OUTLIER_GAIN:g}x the rest. "
        "Each block format family (OCP MX, NVFP4, Jetfire per-block INT8 with square tiles, "
        "ShiftQuant power-of-two INT groups, DeepSeek-V3 FP8 1xN) is re-built at block 16 / 32 / 64 "
        "(and its own size) with every scale rule its scale format admits: " + rules + ". Bits per "
        "element include the block scale's storage (whole bytes) spread over the block; NVFP4's "
        "per-tensor FP32 scale is not counted. Scalar INT8, FP8-E4M3 and INT4 use per-channel "
        "(per-row) max-abs scaling with float64 scales, as the scalar study does. Dot error: "
        f"||dot - x.w|| / ||x.w|| over {size['dot_lanes']} lanes of length-{size['n']} dots of the "
        "activations with N(0, 1) weights, both quantised in the format; block dots are the golden "
        "block dot (exact within a block, FP32 across blocks); x.w is the exact dot of the "
        "unquantised operands (correctly rounded).\n\n"
        "Cost: each catalogue block format's block dot unit (rtl.blockdot: 8 lanes of exact element "
        "multipliers, an exact adder tree, the scale path - exponent adder, plus a significand "
        "multiplier for E4M3 / FP32 scales, or a shifter into a Kulisch register - and the "
        "accumulator) at block 16 / 32 / 64, beside the scalar INT8 (int32), FP8-E4M3 (FP32) and "
        "INT4 (int32) MACs. Area is Yosys-mapped NAND2 equivalents (GE) split by submodule; delay "
        "the synthesised critical path in FO4; energy from gate-level simulation of the netlist "
        "under Gaussian operands quantised by the format's own rule, checked against the golden "
        "block dot. Per element product = the unit's figure / its lanes (a scalar MAC: per MAC). "
        + ("In quick mode a few block-32 rows of the committed measured table are shown, checked "
           "against the checkout by their synthesis inputs. " if ctx.quick else
           f"Block {LIVE_BLOCK_SIZE} and the scalar MACs are synthesised in this run; the other rows "
           "and all energies come from the committed measured table, each checked against the "
           "checkout (the live netlist hash, else the hashes that decide the netlist). ")
        + "The Pareto fronts pair each design with its catalogue scale rule's SQNR at the same "
        "block size (Jetfire's quality uses square tiles of the block size; the unit sees one "
        "scale per block along the dot axis either way).")
    # Cost per element product and the fronts of quality against it.
    from analysis import blockcost as BC
    from hwmodel.errors import DataError
    cost_tables, cost_figures, cost_notes = [], [], ""
    try:
        cost = cost_frame(ctx)
    except DataError as exc:
        cost = None
        cost_notes = f"Cost per element product not shown: {exc}."
    if cost is not None:
        cost.to_csv(data_dir / "blockscaled_cost.csv", index=False)
        csrc = measured_source(cost)
        points = quality_cost_points(cost, df)
        fronts = pareto_fronts(points)
        points.to_csv(data_dir / "blockscaled_quality_cost.csv", index=False)
        fig, _ = plots.new_figure(19.0, 7.5)
        fig.clear()
        a1, a2, a3 = fig.subplots(1, 3)
        BC.plot_block_cost(a1, cost, LIVE_BLOCK_SIZE)
        BC.plot_block_energy(a2, cost, LIVE_BLOCK_SIZE)
        BC.plot_scale_share(a3, cost)
        f2 = plots.savefig(fig, ctx.figure_dir / "blockscaled_cost.png")
        f3 = plot_fronts(points, ctx.figure_dir / "blockscaled_pareto.png", plots)
        cost_tables = [
            Table("Cost per element product (block units: the unit's figure over its 8 lanes; scalar "
                  "MACs: per MAC): area by part (GE), the scale path's share of the unit (%), delay "
                  "(FO4, synthesised critical path), energy (pJ) in total and of the scale path; "
                  "where each row's area comes from and whether it is current", cost_table(cost), csrc),
            Table("Pareto fronts: per cost and distribution, the designs no other beats on both cost "
                  "(lower) and SQNR (higher)", fronts, csrc + "; SQNR: " + src)]
        cost_figures = [
            Figure(f"Area and energy per element product by part at block {LIVE_BLOCK_SIZE} beside the "
                   "scalar MACs, and the scale path's share of the unit's area against block size",
                   f2, csrc),
            Figure("SQNR against area (top) and energy (bottom) per element product on the three "
                   "distributions; the line joins the non-dominated designs, which are named; scalar "
                   "INT8 and FP8-E4M3 MACs ringed", f3, csrc + "; SQNR: " + src)]
        stale = cost[cost["status"].astype(str).str.startswith(("stale", "energy stale"))]
        cost_notes = cost_sentence(cost) + " " + front_sentence(points, fronts)
        if cost.attrs.get("live_error"):
            cost_notes += (f"\n\nThe live synthesis at block {LIVE_BLOCK_SIZE} failed "
                           f"({cost.attrs['live_error']}); every row is the committed one, checked "
                           "by its synthesis inputs only.")
        if len(stale):
            names = ", ".join(design_label(r["family"], r["acc"], r["kind"], r["block_size"])
                              for _, r in stale.iterrows())
            cost_notes += (f"\n\n**{len(stale)} committed row(s) are stale** (the checkout would "
                           f"synthesise or simulate something else; their stale figures are blank): "
                           f"{names}. Remeasure: `{BC.REMEASURE_COMMAND}`.")
    notes = _finding(df) + "\n\n" + cost_notes
    return Section(
        key="blockscaled", title="Block-scaled formats", intro=intro,
        tables=cost_tables + [Table("SQNR (dB) and relative RMS dot error at block 32, and each catalogue format at "
                      "its own block size (NVFP4 16, DeepSeek 128), beside scalar formats with "
                      "per-channel scaling", head, src),
                Table("Quality against storage: per distribution, the formats no other beats on "
                      "both SQNR and bits per element", storage_front(df), src),
                Table("Every block format x block size x scale rule: SQNR (dB) by distribution; the "
                      "FP32 cross-block accumulation's own relative error (largest over the "
                      "distributions)", full, src)],
        figures=cost_figures + [Figure("SQNR against bits per element (scale storage included), one "
                                       "marker per scale rule; scalar formats labelled", f1, src)],
        notes=notes)
