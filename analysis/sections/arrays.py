"""Report section: MAC arrays costed against the single MAC, with the fitted area law.

Area per MAC of synthesised R x C output-stationary arrays (analysis.arrays.array_area: Yosys onto
the NAND2-equivalent library, skew, forwarding and drain logic included), energy per MAC from
gate-level simulation of the small arrays on GEMM tiles (analysis.arrays.array_energy), and the law
area(R, C) = a*R*C + b*(R(R-1) + C(C-1))/2 + c fitted on every measured size but one, checked on
that held-out size, then used to extrapolate to large arrays (labelled as extrapolation, with the
held-out error beside it).

`plan(quick, large)` says which designs and sizes the section measures. The default fits the
report's cold budget (energy at 1x1 and 2x2); `hwdse report --arrays-large` (which sets the
environment variable HWDSE_ARRAYS_LARGE=1 for the run) adds 8x8 area and energy at 4x4 and 8x8, and
the energy law fitted on 1x1/2x2/4x4 and held out on 8x8; so does
`python benchmarks/bench_arrays.py --sizes 1,2,4,8 --energy-sizes 1,2,4,8`.

`frames(ctx)` computes the section's frames once per report run; the findings section reads them
(as it reads the iso-area section's).
"""

from __future__ import annotations

import os
import re

import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table

EXTRAPOLATE = (64, 128)
UNIT = "ge"

# The law has three coefficients, so at least three sizes are fitted and a fourth is held out. Sizes
# with equal R*C and equal skew count (R x C and C x R) carry the same information: a rectangular
# size with R*C equal to a square's (1x4 beside 2x2) separates the skew term from the PE term.
DEFAULT_PLAN = {
    "designs": (("int8", "kulisch"), ("float8_e4m3fn", "fp32"), ("int4", "kulisch")),
    "sizes": ((1, 1), (1, 2), (2, 2), (1, 4), (4, 4)),
    "holdout": (4, 4),
    "energy_sizes": ((1, 1), (2, 2)),
}
# --arrays-large: 8x8 synthesised and held out; energy at every square size, so that the energy law
# (three coefficients) is fitted on 1x1, 2x2, 4x4 and checked on 8x8. Verilator builds of 4x4 and
# 8x8 arrays take minutes each (benchmarks/bench_gatesim.py), too long for the default report.
LARGE_PLAN = {
    "designs": (("int8", "kulisch"), ("float8_e4m3fn", "fp32"), ("float8_e4m3fn", "kulisch"),
                ("int4", "kulisch")),
    "sizes": ((1, 1), (1, 2), (2, 2), (1, 4), (4, 4), (8, 8), (16, 16)),
    "holdout": (8, 8),
    "energy_sizes": ((1, 1), (2, 2), (4, 4), (8, 8)),
}
LARGE_ENV = "HWDSE_ARRAYS_LARGE"
QUICK_PLAN = {
    "designs": (("int8", "kulisch"),),
    "sizes": ((1, 1), (1, 2), (1, 3), (2, 2)),
    "holdout": (2, 2),
    "energy_sizes": (),
}


def large_requested() -> bool:
    """True when the larger arrays were asked for (`hwdse report --arrays-large`)."""
    return os.environ.get(LARGE_ENV, "").strip() not in ("", "0")


def plan(quick: bool, large: bool | None = None) -> dict:
    """The designs and sizes measured: quick, default, or large (None: as large_requested())."""
    if quick:
        return dict(QUICK_PLAN)
    return dict(LARGE_PLAN if (large_requested() if large is None else large) else DEFAULT_PLAN)


def _label(f: str, a: str) -> str:
    return f"{f} -> {a}"


def measure(p: dict, cache_dir, library: str = "ge") -> pd.DataFrame:
    """One row per (design, size): array_area, plus array_energy at p["energy_sizes"]. An energy
    point that cannot be simulated keeps its area row and records `energy_error`."""
    from analysis import arrays

    rows = []
    for f, a in p["designs"]:
        e1 = None
        for r, c in p["sizes"]:
            row = arrays.array_area(f, a, r, c, library, cache_dir)
            if (r, c) in p["energy_sizes"]:
                try:
                    if e1 is None:
                        e1 = arrays.array_energy(f, a, 1, 1, library=library, cache_dir=cache_dir)
                    e = e1 if (r, c) == (1, 1) else arrays.array_energy(f, a, r, c, library=library,
                                                                        cache_dir=cache_dir)
                    row.update({"pj_per_mac": e["pj_per_mac"], "mac_pj_per_mac": e1["pj_per_mac"],
                                "energy_per_mac_vs_mac": e["pj_per_mac"] / e1["pj_per_mac"],
                                "energy_source": e["energy_source"]})
                except Exception as exc:  # noqa: BLE001 - shown in the section, not swallowed
                    row["energy_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            rows.append(row)
    return pd.DataFrame(rows)


def fit_laws(df: pd.DataFrame, holdout) -> dict:
    """{(in_fmt, acc): AreaLaw} fitted on each design's sizes except `holdout`."""
    from analysis.arrays import fit_area_law
    return {k: fit_area_law(g, tuple(holdout), UNIT) for k, g in df.groupby(["in_fmt", "acc"], sort=False)}


def size_table(df: pd.DataFrame, laws: dict, holdout) -> pd.DataFrame:
    """Measured area (and energy) per size, with the law's prediction and error on every size."""
    out = []
    for _, r in df.iterrows():
        law = laws[(r["in_fmt"], r["acc"])]
        pred = float(law.predict(int(r["rows"]), int(r["cols"])))
        held = (int(r["rows"]), int(r["cols"])) == tuple(holdout)
        row = {"design": _label(r["in_fmt"], r["acc"]), "size": f"{r['rows']}x{r['cols']}",
               "macs": int(r["macs"]), "role": "held out" if held else "fitted",
               "area_ge": round(float(r[f"area_{UNIT}"]), 2),
               "area_per_mac_ge": round(float(r[f"area_per_mac_{UNIT}"]), 2),
               "area_per_mac_vs_mac": round(float(r["area_per_mac_vs_mac"]), 4),
               "law_area_ge": round(pred, 2),
               "law_error_pct": round(100 * (pred - float(r[f"area_{UNIT}"])) / float(r[f"area_{UNIT}"]), 3),
               "netlist_sha256": str(r["netlist_sha256"])[:12] if "netlist_sha256" in r else ""}
        if "pj_per_mac" in df and pd.notna(r.get("pj_per_mac")):
            row["pj_per_mac"] = round(float(r["pj_per_mac"]), 4)
            row["energy_per_mac_vs_mac"] = round(float(r["energy_per_mac_vs_mac"]), 4)
        out.append(row)
    return pd.DataFrame(out)


def law_frame(df: pd.DataFrame, laws: dict) -> pd.DataFrame:
    out = []
    for (f, a), law in laws.items():
        mac = float(df[(df["in_fmt"] == f) & (df["acc"] == a)][f"mac_area_{UNIT}"].iloc[0])
        row = {"design": _label(f, a), "a_per_pe_ge": round(law.a, 3),
               "b_per_skew_stage_ge": round(law.b, 3), "c_fixed_ge": round(law.c, 3),
               "fitted_sizes": " ".join(f"{r}x{c}" for r, c in law.fit_sizes),
               "held_out": f"{law.holdout[0]}x{law.holdout[1]}",
               "held_out_measured_ge": round(law.holdout_measured, 2),
               "held_out_predicted_ge": round(law.holdout_predicted, 2),
               "held_out_error_pct": round(100 * law.holdout_error, 3),
               "mac_area_ge": round(mac, 2)}
        for s in EXTRAPOLATE:
            pm = float(law.per_mac(s, s))
            row[f"extrapolated_per_mac_{s}x{s}_ge"] = round(pm, 2)
            row[f"extrapolated_{s}x{s}_vs_mac"] = round(pm / mac, 4)
        out.append(row)
    return pd.DataFrame(out)


def fit_energy_laws(df: pd.DataFrame, holdout) -> dict:
    """{(in_fmt, acc): AreaLaw in pJ per cycle} for the designs with energy at `holdout` and at three
    or more other sizes (the law's three coefficients); others have no energy law."""
    from analysis.arrays import fit_energy_law
    if "pj_per_mac" not in df:
        return {}
    out = {}
    for k, g in df.groupby(["in_fmt", "acc"], sort=False):
        e = g[pd.to_numeric(g["pj_per_mac"], errors="coerce") > 0]
        keys = set(zip(e["rows"].astype(int), e["cols"].astype(int)))
        if tuple(holdout) in keys and len(keys) >= 4:
            out[k] = fit_energy_law(e, tuple(holdout))
    return out


def energy_law_frame(df: pd.DataFrame, laws: dict) -> pd.DataFrame:
    """Per design with an energy law: coefficients (pJ per cycle), held-out error, and the per-MAC
    energy it extrapolates to, against the single MAC's measured pJ per MAC."""
    out = []
    for (f, a), law in laws.items():
        g = df[(df["in_fmt"] == f) & (df["acc"] == a)]
        mac = float(g["mac_pj_per_mac"].dropna().iloc[0])
        row = {"design": _label(f, a), "a_per_pe_pj": round(law.a, 5),
               "b_per_skew_stage_pj": round(law.b, 5), "c_fixed_pj": round(law.c, 5),
               "fitted_sizes": " ".join(f"{r}x{c}" for r, c in law.fit_sizes),
               "held_out": f"{law.holdout[0]}x{law.holdout[1]}",
               "held_out_measured_pj": round(law.holdout_measured, 4),
               "held_out_predicted_pj": round(law.holdout_predicted, 4),
               "held_out_error_pct": round(100 * law.holdout_error, 3),
               "mac_pj_per_mac": round(mac, 4)}
        for s in EXTRAPOLATE:
            pm = float(law.per_mac(s, s))
            row[f"extrapolated_pj_per_mac_{s}x{s}"] = round(pm, 4)
            row[f"extrapolated_{s}x{s}_vs_mac"] = round(pm / mac, 4)
        out.append(row)
    return pd.DataFrame(out)


_FRAMES: dict = {}


def frames(ctx: ReportContext, compute: bool = True) -> dict | None:
    """The arrays frames of this report run, computed once (the findings section reads them too):
    {"plan", "df" (one row per design and size), "laws", "sizes" (size_table), "law" (law_frame),
    "energy_laws", "energy_law" (energy_law_frame, empty without an energy law)}. compute=False:
    None unless this run's arrays section has computed them (synthesis is never started for a
    reader)."""
    p = plan(ctx.quick)
    key = (str(ctx.outdir), str(ctx.cache_dir), ctx.quick, repr(p))
    if key in _FRAMES:
        return _FRAMES[key]
    if not compute:
        return None
    df = measure(p, ctx.cache_dir)
    laws = fit_laws(df, p["holdout"])
    elaws = fit_energy_laws(df, p["holdout"])
    fr = {"plan": p, "df": df, "laws": laws, "sizes": size_table(df, laws, p["holdout"]),
          "law": law_frame(df, laws), "energy_laws": elaws, "energy_law": energy_law_frame(df, elaws)}
    _FRAMES.clear()
    _FRAMES[key] = fr
    return fr


def plot_area_per_mac(ax, df: pd.DataFrame, laws: dict, max_dim: int = max(EXTRAPOLATE)) -> None:
    """Measured area per MAC against MACs in the array (points; the held-out size hollow), the
    law's per-MAC prediction for square arrays up to max_dim (line), and each design's single MAC
    (dotted reference line)."""
    import numpy as np

    dims = np.unique(np.round(np.logspace(0, np.log10(max_dim), 60)).astype(int))
    for i, ((f, a), law) in enumerate(laws.items()):
        g = df[(df["in_fmt"] == f) & (df["acc"] == a)]
        color = f"C{i}"
        held = [(int(r), int(c)) == tuple(law.holdout) for r, c in zip(g["rows"], g["cols"])]
        fit = g[[not h for h in held]]
        ho = g[held]
        ax.plot(fit["macs"], fit[f"area_per_mac_{UNIT}"], "o", color=color,
                label=f"{_label(f, a)}: measured (fitted)")
        ax.plot(ho["macs"], ho[f"area_per_mac_{UNIT}"], "o", mfc="none", color=color, ms=9,
                label=f"{_label(f, a)}: measured (held out, law error {100 * law.holdout_error:+.2f} %)")
        top = int(g["macs"].max())
        inside, beyond = dims[dims * dims <= top], dims[dims * dims >= top]
        ax.plot(inside * inside, law.per_mac(inside, inside), "-", color=color, lw=1,
                label=f"{_label(f, a)}: law, square R x R")
        ax.plot(beyond * beyond, law.per_mac(beyond, beyond), "--", color=color, lw=1,
                label=f"{_label(f, a)}: law, extrapolated")
        mac = float(g[f"mac_area_{UNIT}"].iloc[0])
        ax.axhline(mac, ls=":", color=color, lw=1, label=f"{_label(f, a)}: single MAC (reference)")
    ax.set_xscale("log")
    ax.set_xlabel("MACs in the array (R x C)")
    ax.set_ylabel("area per MAC (NAND2 gate equivalents, GE)")
    ax.legend(fontsize=7)


def build(ctx: ReportContext) -> Section:
    from analysis.plots import new_figure, savefig

    fr = frames(ctx)
    p, df, laws, sizes, lawf, elawf = fr["plan"], fr["df"], fr["laws"], fr["sizes"], fr["law"], fr["energy_law"]

    # One tool/library provenance for all sizes; each size's netlist hash is in its own row.
    tools = dict.fromkeys(re.sub(r",? ?netlist sha256 [0-9a-f]+", "", str(x)) for x in df["area_source"])
    area_src = "; ".join(tools) + " (netlist_sha256 per size in the table)"
    e_src = ""
    if "energy_source" in df and df["energy_source"].notna().any():
        e_src = "; energy: " + "; ".join(dict.fromkeys(df["energy_source"].dropna().astype(str)))
    ex = ", ".join(f"{s}x{s}" for s in EXTRAPOLATE)
    tables = [
        Table("Area per MAC by array size against the single MAC (1x1 is the MAC itself), with the "
              "fitted law's prediction and error on every size"
              + ("; energy per MAC from gate-level simulation at "
                 + ", ".join(f"{r}x{c}" for r, c in p["energy_sizes"]) + " only"
                 if p["energy_sizes"] else "; no energy in quick mode"),
              sizes, area_src + e_src),
        Table(f"The area law per design: coefficients fitted on all sizes but the held-out one, its "
              f"error there, and its EXTRAPOLATION to {ex} (no array that large was synthesised; "
              f"trust it to about the held-out error at best)", lawf,
              f"fitted by least squares (analysis.arrays.fit_area_law) to {area_src}"),
    ]
    if not elawf.empty:
        tables.append(Table(f"The energy law per design: the array's energy per cycle (pJ) = a*R*C + "
                            f"b*(R(R-1) + C(C-1))/2 + c, fitted on all energy sizes but the held-out one, "
                            f"its error there, and its EXTRAPOLATION per MAC to {ex}", elawf,
                            "fitted by least squares (analysis.arrays.fit_energy_law) to" + e_src[len("; energy:"):]))
    if "energy_error" in df and df["energy_error"].notna().any():
        bad = df[df["energy_error"].notna()]
        tables.append(Table("Array sizes whose energy could not be simulated",
                            bad[["in_fmt", "acc", "rows", "cols", "energy_error"]], "sim.energy"))
    figures = []
    try:
        fig, ax = new_figure(7.5, 4.6)
        plot_area_per_mac(ax, df, laws)
        path = savefig(fig, ctx.figure_dir / "arrays_area_per_mac.png")
        figures.append(Figure(f"Area per MAC against array size: measured points, the fitted law "
                              f"(line; extrapolated to {ex}), the single MAC as reference", path,
                              area_src))
    except Exception:  # noqa: BLE001 - a missing plot must not lose the tables
        pass
    return Section(key="arrays", title="MAC arrays: area and energy per MAC against the single MAC",
                   intro=_intro(p, ctx.quick), tables=tables, figures=figures,
                   notes=_notes(lawf, sizes, elawf))


def _intro(p: dict, quick: bool) -> str:
    designs = ", ".join(_label(f, a) for f, a in p["designs"])
    sizes = ", ".join(f"{r}x{c}" for r, c in p["sizes"])
    held = f"{p['holdout'][0]}x{p['holdout'][1]}"
    esz = ", ".join(f"{r}x{c}" for r, c in p["energy_sizes"])
    if not p["energy_sizes"]:
        energy = "Quick mode: INT8 into Kulisch only, no energy."
    elif p is not None and p.get("holdout") == LARGE_PLAN["holdout"]:
        energy = (f"Energy per MAC comes from gate-level simulation (Verilator) of the array's netlist on "
                  f"GEMM tiles at {esz} (the larger arrays, asked for with `hwdse report --arrays-large`); "
                  f"the same law fitted to the energy per cycle is held out on "
                  f"{p['holdout'][0]}x{p['holdout'][1]}.")
    else:
        energy = (f"Energy per MAC comes from gate-level simulation (Verilator) of the array's netlist on "
                  f"GEMM tiles, at {esz} only, which fits the report's time budget: 4x4 and 8x8 arrays "
                  f"take minutes each to build here. `hwdse report --arrays-large` adds them (8x8 "
                  f"and 16x16 area, energy at 4x4 and 8x8, FP8-E4M3 into Kulisch, and the energy law held out "
                  f"on 8x8).")
    return (
        f"Output-stationary R x C arrays of {designs} are synthesised at {sizes} (Yosys onto the "
        "NAND2-equivalent library; the area includes the skew registers that delay A's rows and "
        "B's columns, the forwarding registers between PEs and the drain logic). The law "
        "area(R, C) = a*R*C + b*(R(R-1) + C(C-1))/2 + c (a: one PE, b: one skew register stage, c: "
        f"fixed logic) is fitted on every size except {held}, which is held out and predicted: its "
        "error is stated before the law is used to extrapolate. The rectangular sizes separate the "
        f"skew term from the PE term (1x4 and 2x2 have the same R*C). {energy} Larger sizes and "
        "more designs: `python benchmarks/bench_arrays.py --sizes 1,2,4,8 --energy-sizes 1,2,4,8` "
        "(INT8, INT4 and FP8-E4M3 into Kulisch and FP32). Above 8x8 the array is synthesised "
        "hierarchically (one shared PE module mapped once, `synth_mode` hier; within 1% of the "
        "per-PE flow at 2x2-8x8); 16x16 is the largest size synthesised here, larger ones are "
        "extrapolated by the law."
    )


def _notes(lawf: pd.DataFrame, sizes: pd.DataFrame, elawf: pd.DataFrame | None = None) -> str:
    lines = []
    for _, r in lawf.iterrows():
        g = sizes[sizes["design"] == r["design"]]
        big = g.loc[g["macs"].idxmax()]
        ex = ", ".join(f"{s}x{s} {r[f'extrapolated_{s}x{s}_vs_mac']:.3f}x" for s in EXTRAPOLATE)
        lines.append(f"- {r['design']}: the largest measured array ({big['size']}) costs "
                     f"{big['area_per_mac_vs_mac']:.3f}x the single MAC's {r['mac_area_ge']:.0f} GE "
                     f"per MAC; the law, held out on {r['held_out']}, misses it by "
                     f"{r['held_out_error_pct']:+.2f} %; extrapolated per MAC: {ex} the single MAC.")
        fit = g[g["role"] == "fitted"]
        worst = fit.loc[fit["law_error_pct"].abs().idxmax()]
        lines.append(f"  Largest residual among the fitted sizes: {worst['size']} "
                     f"({worst['law_error_pct']:+.2f} %)"
                     + (" - the 1x1 point is the bare MAC, without the array's drain logic."
                        if worst["size"] == "1x1" else "."))
        if "energy_per_mac_vs_mac" in g and g["energy_per_mac_vs_mac"].notna().any():
            e = g[g["energy_per_mac_vs_mac"].notna() & (g["macs"] > 1)]
            if not e.empty:
                ratios = zip(e["size"], e["energy_per_mac_vs_mac"])
                lines.append("  Energy per MAC against the single MAC: "
                             + ", ".join(f"{s} {v:.3f}x" for s, v in ratios)
                             + " (gate-level simulation on GEMM tiles).")
        el = elawf[elawf["design"] == r["design"]] if elawf is not None and not elawf.empty else None
        if el is not None and not el.empty:
            e = el.iloc[0]
            lines.append(f"  Energy law, held out on {e['held_out']}: error {e['held_out_error_pct']:+.2f} %; "
                         "extrapolated energy per MAC: "
                         + ", ".join(f"{s}x{s} {e[f'extrapolated_{s}x{s}_vs_mac']:.3f}x" for s in EXTRAPOLATE)
                         + " the single MAC.")
    return "\n".join(lines)
