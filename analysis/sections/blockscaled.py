"""Report section "Block-scaled formats": what quality the shared scale buys.

Every number comes from a seeded run of the block golden numerics here (hwmodel.quality.
block_quality_study over hwmodel.blockscaled): SQNR of quantising Gaussian, Student-t (nu = 3) and
outlier-channel activations, and the error of length-n block dot products (exact within a block,
FP32 across blocks), for each block format family x block size x scale rule, beside the scalar
INT8, FP8-E4M3 and INT4 with per-channel scaling. Area and energy per element product are not
shown here: they need the block-dot unit's synthesis, which no function in the tool returns yet
(see `COSTS_NOTE`); nothing is estimated in their place.
"""

from __future__ import annotations

from analysis.section import Figure, ReportContext, Section, Table

COSTS_NOTE = (
    "Area and energy per element product (the Pareto fronts of quality against cost) are not in "
    "this section yet: they come from synthesising the block-dot unit (rtl/blockdot.py), and no "
    "function of the tool returns its gate-level area and energy per element product yet. FPGA "
    "LUT counts per element product of two block units (MXFP8 E4M3, ShiftQuant INT4) are in the "
    "FPGA section. Until then quality is shown against bits per element only; no cost is "
    "estimated or copied in its place.")

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
        "unquantised operands (correctly rounded).")
    notes = _finding(df) + "\n\n" + COSTS_NOTE
    return Section(
        key="blockscaled", title="Block-scaled formats", intro=intro,
        tables=[Table("SQNR (dB) and relative RMS dot error at block 32, and each catalogue format at "
                      "its own block size (NVFP4 16, DeepSeek 128), beside scalar formats with "
                      "per-channel scaling", head, src),
                Table("Quality against storage: per distribution, the formats no other beats on "
                      "both SQNR and bits per element", storage_front(df), src),
                Table("Every block format x block size x scale rule: SQNR (dB) by distribution; the "
                      "FP32 cross-block accumulation's own relative error (largest over the "
                      "distributions)", full, src)],
        figures=[Figure("SQNR against bits per element (scale storage included), one marker per "
                        "scale rule; scalar formats labelled", f1, src)],
        notes=notes)
