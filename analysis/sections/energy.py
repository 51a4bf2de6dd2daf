"""Report section: data-dependent energy per MAC from gate-level simulation, and Horowitz 2014.

The section runs its own table (energy_table over REPORT_CONFIGS, or QUICK_CONFIGS with --quick)
through sim.energy.mac_energy and sim.horowitz.horowitz_comparison."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table
from hwmodel.cache import default_cache_dir

OURS = "our gate-level simulation, calibrated once on the 8-bit multiply"
HOROWITZ = "Horowitz 2014, 45 nm"

# The section's MAC configurations: (input format, accumulator). The FP8-vs-INT8 paper's INT8 / FP8
# points plus INT4, FP6, FP4 and BF16 inputs, with fixed-point (Kulisch) and float accumulators.
REPORT_CONFIGS = [("int8", "kulisch"), ("int8", "fp32"), ("int4", "kulisch"),
                  ("float8_e4m3fn", "kulisch"), ("float8_e4m3fn", "fp16"), ("float8_e4m3fn", "fp32"),
                  ("float8_e5m2", "fp16"), ("float8_e5m2", "fp32"), ("float6_e2m3fn", "kulisch"),
                  ("float4_e2m1fn", "kulisch"), ("bf16", "fp32")]
QUICK_CONFIGS = [("int8", "kulisch")]


def _energy_rows(cfg, dists, n, library, seed, cache_dir, n_cal) -> list[dict]:
    """mac_energy of one (format, acc) over the distributions; a failure becomes a row with
    `error` set (reported in the table, not swallowed)."""
    from sim.energy import mac_energy

    rows = []
    for d in dists:
        try:
            rows.append(mac_energy(cfg[0], cfg[1], d, n=n, library=library, seed=seed,
                                   cache_dir=cache_dir, n_cal=n_cal))
        except Exception as exc:  # noqa: BLE001 - reported in the table, not swallowed
            rows.append({"format": cfg[0], "acc": cfg[1], "dist": d,
                         "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"})
    return rows


def energy_table(configs, dists, n: int = 4096, library: str = "ge", seed: int = 0,
                 cache_dir: Path | None = None, jobs: int = 2, n_cal: int = 2000) -> pd.DataFrame:
    """mac_energy for every (format, acc) x distribution: one row per point. Configurations run
    `jobs` at a time on the tool's one worker pool (hwmodel.pool: a killed report leaves no
    simulator behind). A configuration that cannot be built or simulated yields rows with `error`
    set instead of stopping the table."""
    import functools

    from hwmodel.pool import map_ordered
    from sim.horowitz import calibration

    cache_dir = cache_dir or default_cache_dir()
    calibration(library, cache_dir, n_cal, seed)   # once, before the workers need it
    one = functools.partial(_energy_rows, dists=tuple(dists), n=n, library=library, seed=seed,
                            cache_dir=cache_dir, n_cal=n_cal)
    rows = [r for rs in map_ordered(one, list(configs), max(1, jobs)) for r in rs]
    return pd.DataFrame(rows)


def build(ctx: ReportContext) -> Section:
    from hwmodel import energy as em
    from sim.energy import DOT_LENGTH
    from sim.horowitz import horowitz_comparison

    quick = ctx.quick
    n = 256 if quick else 4096            # MACs per (config, distribution)
    n_cal = 400 if quick else 2000        # random vectors per reference operation
    configs = QUICK_CONFIGS if quick else REPORT_CONFIGS
    dists = ("gaussian", "relu") if quick else em.DISTRIBUTIONS
    library = "ge"

    df = energy_table(configs, dists, n=n, library=library, seed=ctx.seed,
                      cache_dir=ctx.cache_dir, jobs=ctx.jobs, n_cal=n_cal)
    ops = ["int8_mul", "int8_add"] if quick else None
    hz = horowitz_comparison(library, ctx.cache_dir, n=n_cal, seed=ctx.seed, operations=ops)
    k = float(hz["k_pj_per_toggle"].iloc[0])

    ok = df[df["error"].isna()] if "error" in df else df
    failed = df[df["error"].notna()] if "error" in df else df.iloc[0:0]
    if ok.empty:
        raise RuntimeError("no MAC configuration could be simulated: "
                           + "; ".join(failed["error"].head(3)))
    wide = ok.pivot_table(index=["config", "format", "acc"], columns="dist", values="pj_per_mac")
    wide = wide[[d for d in dists if d in wide.columns]]
    wide.columns = [f"{d}_pj_per_mac" for d in wide.columns]
    area = ok.groupby("config")["area"].first()
    order = list(dict.fromkeys(ok["config"]))          # the configurations' own order
    wide = wide.reset_index()
    wide = wide.set_index("config").loc[order].reset_index()
    wide.insert(3, "area_ge", wide["config"].map(area).round(1))
    if "gaussian_pj_per_mac" in wide and "relu_pj_per_mac" in wide:
        wide["relu_over_gaussian"] = wide["relu_pj_per_mac"] / wide["gaussian_pj_per_mac"]
    wide = wide.round(4)

    cmp = pd.DataFrame({
        "operation": hz["operation"],
        f"{HOROWITZ} (energy_pj)": hz["horowitz_pj"],
        f"{OURS} (energy_pj)": hz["model_pj"].round(4),
        "ours_over_horowitz": hz["model_over_horowitz"].round(3),
        "calibrated_here": hz["calibrated"],
        "area_ge": hz["area"].round(1),
    })

    src_ours = (f"{OURS}: Yosys ({ok['yosys_version'].iloc[0]}) + ABC onto rtl/lib/ge.lib, "
                f"Verilator zero-delay simulation with per-cell toggle counts (SAIF), weighted by "
                f"cell area in NAND2 gate equivalents; k = {k * 1000:.3f} fJ per GE toggle")
    tables = [
        Table(f"Energy per MAC (pJ) by operand distribution: {n} MACs per point, accumulator "
              f"cleared every {DOT_LENGTH} products, operands absmax-scaled and quantised "
              f"with RNE", wide, src_ours),
        Table(f"{OURS} beside {HOROWITZ} (8-bit multiply is the calibration point; every other "
              f"row is a prediction, not fitted)", cmp,
              f"{HOROWITZ}: M. Horowitz, ISSCC 2014 (hwmodel/data/horowitz_2014.csv); {src_ours}"),
    ]
    part_cols = [c for c in ("pj_per_mac_mpy", "pj_per_mac_alignadd", "pj_per_mac_normacc",
                              "pj_per_mac_top") if c in ok]
    if part_cols:
        base = ok[ok["dist"] == ("gaussian" if "gaussian" in set(ok["dist"]) else ok["dist"].iloc[0])]
        split = base[["config"] + part_cols + ["pj_per_mac"]].copy()
        split[part_cols + ["pj_per_mac"]] = split[part_cols + ["pj_per_mac"]].round(4)
        tables.append(Table(f"Where the energy goes ({base['dist'].iloc[0]} operands): pJ per MAC "
                            "by part, named as the FP8-vs-INT8 paper's Fig. 3 splits area "
                            "(mpy = multiplier + product register, alignadd = alignment and add, "
                            "normacc = normalisation / accumulator register)", split, src_ours))
    detail = ok[["config", "dist", "pj_per_mac", "toggles_per_mac", "zero_operand_fraction",
                  "operand_amax", "acc_nonfinite_fraction", "netlist_sha256"]].copy()
    detail["pj_per_mac"] = detail["pj_per_mac"].round(4)
    detail["toggles_per_mac"] = detail["toggles_per_mac"].round(1)
    detail["zero_operand_fraction"] = detail["zero_operand_fraction"].round(3)
    tables.append(Table("Per point: cell-output toggles per MAC and the fraction of operand codes "
                        "that quantise to zero (why heavy tails and ReLU cost less in narrow "
                        "formats)", detail, src_ours))
    if not failed.empty:
        tables.append(Table("Configurations that could not be simulated",
                            failed[["format", "acc", "dist", "error"]], src_ours))

    figures = []
    try:
        figures.append(_figure(ctx, wide, dists, src_ours))
    except Exception:  # noqa: BLE001 - a missing plot must not lose the tables
        pass

    return Section(
        key="energy", title="Energy per MAC: gate-level simulation",
        intro=_intro(k, n),
        tables=tables, figures=figures, notes=_notes(wide, hz))


def _intro(k: float, n: int) -> str:
    return (
        "Each MAC unit (and each reference operation) is synthesised with Yosys onto the generic "
        "NAND2-equivalent library, the mapped netlist is simulated with Verilator using cell models "
        "generated from the library's Liberty functions, and every cell output's toggles are "
        "counted. Energy = k x sum(cell area in GE x toggles). The single constant k is solved so "
        "that our signed 8x8 multiplier under random operands costs Horowitz's 0.2 pJ (45 nm): "
        f"k = {k * 1000:.3f} fJ per GE toggle, close to the 0.5 C V^2 of a 45 nm NAND2 with ~2 fF "
        "at 0.9 V. Nothing else is fitted. Operands of each stream are drawn from a distribution "
        "(Gaussian, Laplace, Student-t nu=3, ReLU'd Gaussian with ~50% zeros, uniform), scaled "
        "per tensor so the largest magnitude maps to the format's maximum (for a float "
        "accumulator at most sqrt(acc max / 256), so that a 256-product sum cannot overflow it "
        "and freeze at inf), and quantised with the golden `encode` (RNE, saturating)."
    )


def _notes(wide: pd.DataFrame, hz: pd.DataFrame) -> str:
    lines = []
    if "relu_over_gaussian" in wide:
        lo, hi = wide["relu_over_gaussian"].min(), wide["relu_over_gaussian"].max()
        lines.append(f"- Data dependence: zero-heavy (ReLU) operands cost {lo:.0%}-{hi:.0%} of the "
                     "Gaussian energy per MAC: a zero operand freezes the multiplier's partial "
                     "products and the accumulator's carry chain.")
    g = wide.set_index("config").get("gaussian_pj_per_mac")
    if g is not None:
        area = wide.set_index("config")["area_ge"]
        base = [c for c in g.index if c.startswith("mac_int8_kulisch")]
        if base:
            b, ab = g[base[0]], area[base[0]]
            rel = ", ".join(f"{c.removeprefix('mac_').removesuffix('_p1')} {v / b:.2f}x "
                            f"(area {area[c] / ab:.2f}x)"
                            for c, v in g.sort_values().items() if c != base[0])
            lines.append(f"- Energy per MAC relative to INT8 with its Kulisch accumulator "
                         f"({b:.3f} pJ/MAC, Gaussian operands), with the area ratio beside it: "
                         f"{rel}. Energy does not follow area: it follows how many gates switch "
                         f"per MAC, and a narrow significand multiplier switches far less than an "
                         f"8x8 integer array even when alignment logic adds area.")
    pred = hz[~hz["calibrated"]]
    if not pred.empty:
        r = pred.set_index("operation")["model_over_horowitz"]
        lines.append("- Against Horowitz (no fitting beyond the 8-bit multiply): "
                     + ", ".join(f"{op} {v:.2f}x" for op, v in r.items()) + ".")
    lines.append(
        "- Left out: glitches (zero-delay simulation settles each net once per cycle), clock-tree "
        "and flip-flop clock-pin energy (only Q toggles count), wire capacitance and leakage. The "
        "calibration folds their average share in an 8-bit multiplier into k; logic that glitches "
        "more than that multiplier (deep FP multiply-normalise-round paths, long alignment "
        "shifters) and clock-heavy designs (many flip-flops per MAC) are underestimated relative "
        "to it, which is the likely reason our FP16/FP32 multiplies land at about 0.6x Horowitz.")
    return "\n".join(lines)


# What the energy figure marks (its caption says it in words).
FIGURE_MARKS = ("Bars outlined in black and hatched: the reference designs (INT8 into its Kulisch "
                "register and FP8-E4M3 into each accumulator), named in the legend; starred and "
                "named: the designs no other design beats on both energy per MAC ({dist} operands) "
                "and area (non-dominated). Right: the same two costs as a scatter, the "
                "non-dominated designs joined and named, the references ringed and named.")


def _figure(ctx: ReportContext, wide: pd.DataFrame, dists, source: str) -> Figure:
    cols = [f"{d}_pj_per_mac" for d in dists if f"{d}_pj_per_mac" in wide]
    path = energy_figure(wide, cols, ctx.figure_dir / "energy_per_mac.png")
    dist = cols[0].removesuffix("_pj_per_mac")
    return Figure("Energy per MAC by configuration and operand distribution. "
                  + FIGURE_MARKS.format(dist=dist), path, source)


def energy_figure(wide: pd.DataFrame, cols: list[str], path: Path) -> Path:
    """Grouped bars (energy per MAC per configuration, one bar per operand distribution) with the
    references hatched and the designs non-dominated on (energy under cols[0], area) starred;
    beside it the scatter of the same two costs. Returns the PNG's path."""
    import numpy as np

    from analysis import plots
    from analysis.pareto import non_dominated

    fig, (ax, ax2) = plots.new_figure(max(9.0, 0.9 * len(wide) + 6), 4.6, ncols=2)
    fig.get_layout_engine().set(wspace=0.05)
    x = np.arange(len(wide))
    w = 0.8 / max(1, len(cols))
    for i, c in enumerate(cols):
        ax.bar(x + i * w - 0.4 + w / 2, wide[c], w, label=c.replace("_pj_per_mac", ""))
    names = [f"{f}/{a}".replace("float", "fp") for f, a in zip(wide["format"], wide["acc"])]
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("energy per MAC (pJ, 45 nm-calibrated)")
    ax.set_xlabel("MAC configuration (input format / accumulator)")
    ax.legend(fontsize=7, title="operand distribution")
    best = non_dominated(wide, [(cols[0], "min"), ("area_ge", "min")])
    refs = [plots.reference_label(f, a) for f, a in zip(wide["format"], wide["acc"])]
    dist = cols[0].removesuffix("_pj_per_mac")
    plots.mark_bars(ax, plots.bar_groups(ax), names, refs, list(best),
                    best_what=f"non-dominated ({dist} energy, area)")
    pts = wide.assign(in_fmt=wide["format"], name=names)
    plots.front_scatter(ax2, pts, "area_ge", cols[0], [("area_ge", "min"), (cols[0], "min")],
                        "name", xlabel="area (NAND2 gate equivalents)",
                        ylabel=f"energy per MAC, {dist} operands (pJ)",
                        front_what="non-dominated (area, energy)")
    return plots.savefig(fig, path, dpi=120)
