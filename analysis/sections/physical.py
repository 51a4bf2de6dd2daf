"""Report section: timing and power of the default designs from a characterised library (OSU
0.18 um cells, OpenSTA), beside the FO4 estimate and the GE-toggle energy model, and the
validation of one design's area, delay and energy against independent figures.

Also the measurements the FPGA section shares (`measure_fpga`, `measure_asic`), each cached by
content hash in the tools it calls (rtl.fpga, rtl.synth, sim.activity, rtl.sta, sim.energy).
"""

from __future__ import annotations

import csv
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table

# (input format, accumulator): the default designs. float16 -> float32 is the FP16 reference.
DESIGNS = [("int8", "kulisch"), ("int8", "fp32"), ("float8_e4m3fn", "kulisch"),
           ("float8_e4m3fn", "fp16"), ("float8_e4m3fn", "fp32"), ("float8_e5m2", "fp16"),
           ("int4", "kulisch"), ("bf16", "fp32"), ("float16", "fp32")]
QUICK_DESIGNS = [("int8", "kulisch"), ("float8_e4m3fn", "fp32"), ("int4", "kulisch")]
VALIDATION = [("int8", "kulisch"), ("float8_e4m3fn", "fp32")]   # base first
CLOCK_NS = 10.0            # the clock for report_power (100 MHz); energy per MAC = P x period
DATA = Path(__file__).resolve().parents[2] / "hwmodel" / "data"
INSTALL = "apt-get install opensta qflow-tech-osu018"


def designs(ctx: ReportContext) -> list[tuple[str, str]]:
    return QUICK_DESIGNS if ctx.quick else DESIGNS


def n_macs(ctx: ReportContext) -> tuple[int, int]:
    """(MACs simulated per design, calibration vectors): the energy section's sample sizes, so
    that the GE-toggle model's results come from its cache."""
    return (256, 400) if ctx.quick else (4096, 2000)


def label(fmt: str, acc: str) -> str:
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    return f"{parse_format(fmt).name} -> {parse_acc(acc).spec}"


def read_data(name: str) -> list[dict]:
    with open(DATA / name, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if not (r.get("source") or "").strip():
            raise ValueError(f"hwmodel/data/{name}: a row without a source: {r}")
    return rows


# ---------------------------------------------------------------------------------------------
# Measurements (each tool call is cached by content hash)
# ---------------------------------------------------------------------------------------------
def measure_fpga(fmt: str, acc: str, device: str, cache_dir) -> dict:
    """Yosys synth_<family> + nextpnr of one MAC (rtl.fpga.fpga_unit) on `device`."""
    from rtl.fpga import fpga_unit
    r = fpga_unit(fmt, acc, "mac", device, cache_dir=cache_dir)
    return {"design": label(fmt, acc), "format": fmt, "acc": acc, "device": r.device,
            "lut4": r.luts, "carry": r.carry, "lut4_equiv": r.luts + 2 * r.carry, "ff": r.ffs,
            "dsp": r.dsp, "bram": r.bram,
            "fmax_mhz": None if r.fmax_mhz is None else round(r.fmax_mhz, 1),
            "netlist_sha256": r.netlist_sha256[:12], "tools": r.tool_versions}


def measure_asic(fmt: str, acc: str, lib: str, ctx: ReportContext) -> dict:
    """OSU018 mapping + OpenSTA (simulated activity and data-idle), FO4 and the GE energy model."""
    from rtl.sta import run_sta
    from rtl.synth import synth_unit
    from sim.activity import mac_activity
    from sim.energy import mac_energy
    n, n_cal = n_macs(ctx)
    cd = ctx.cache_dir
    r = synth_unit(fmt, acc, "mac", library=lib, cache_dir=cd)
    ge = synth_unit(fmt, acc, "mac", library="ge", cache_dir=cd)
    act = mac_activity(fmt, acc, r.netlist, r.top, lib, n=n, seed=ctx.seed, cache_dir=cd)
    s = run_sta(r.netlist, r.top, lib, CLOCK_NS, pin_activity=act.pins, port_activity=act.ports,
                activity_source=act.source, cache_dir=cd)
    # every data net idle: what the clock alone costs (flip-flop clock pins) plus leakage
    idle = run_sta(r.netlist, r.top, lib, CLOCK_NS, 0.0, cache_dir=cd)
    e = mac_energy(fmt, acc, "gaussian", n=n, library="ge", seed=ctx.seed, cache_dir=cd,
                   n_cal=n_cal)
    ffs = sum(c for t, c in r.cells_by_type.items() if re.match(r"DFF|LATCH", t))
    return {"design": label(fmt, acc), "format": fmt, "acc": acc,
            "osu018_area_um2": r.area, "osu018_cells": r.n_cells, "osu018_ffs": ffs,
            "ge_area": ge.area, "sta_ns": s.critical_path_ns, "fo4": ge.delay_fo4,
            "power_mw": s.power_mw, "internal_mw": s.internal_mw, "switching_mw": s.switching_mw,
            "idle_power_mw": idle.power_mw,
            "sta_pj_per_mac": s.pj_per_cycle, "idle_pj_per_cycle": idle.pj_per_cycle,
            "ge_model_pj_per_mac": e["pj_per_mac"],
            "ge_model_mpy_share": e.get("pj_per_mac_mpy", float("nan")) / e["pj_per_mac"],
            "activity": act.source,
            "mean_toggle_rate": act.mean_output_toggle_rate,
            "sta_source": s.source, "synth_source": r.source, "ge_source": ge.source,
            "netlist_sha256": s.netlist_sha256[:12]}


def run_all(func, items, ctx: ReportContext) -> tuple[list[dict], list[tuple[str, str]]]:
    """func(item) for every item, ctx.jobs at a time (the work is in tool subprocesses): the
    rows that succeeded and (design, one-line reason) for those that did not."""
    from analysis.report import one_line
    rows, failed = [], []
    with ThreadPoolExecutor(max(1, ctx.jobs)) as pool:
        futs = [(it, pool.submit(func, *it)) for it in items]
        for it, f in futs:
            try:
                rows.append(f.result())
            except Exception as exc:  # noqa: BLE001 - one design's failure is a row, not the section's
                failed.append((label(it[0], it[1]), one_line(exc)))
    return rows, failed


def pearson(x, y) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])


def _nom_voltage(lib_path: str) -> float:
    m = re.search(r"nom_voltage\s*:\s*([\d.]+)", Path(lib_path).read_text(errors="replace"))
    if not m:
        raise ValueError(f"{lib_path}: no nom_voltage")
    return float(m.group(1))


def energy_scale(lib_path: str) -> tuple[float, str]:
    """Factor taking a 45 nm, 0.9 V energy (Horowitz) to the OSU018 node and supply by the CV^2
    rule of hwmodel/data/phys_scaling.csv, and the rule in words."""
    rules = read_data("phys_scaling.csv")
    hz = read_data("horowitz_2014.csv")[0]
    node0, v0 = float(hz["node_nm"]), float(hz["voltage_v"])
    exp = {r["unit"]: float(r["value"]) for r in rules if r["rule"] == "switching_energy_cv2"}
    node1 = float(next(r["value"] for r in rules if r["rule"] == "node_osu018"))
    v1 = _nom_voltage(lib_path)
    k_l, k_v = exp["exponent of the feature-size ratio"], exp["exponent of the supply-voltage ratio"]
    f = (node1 / node0) ** k_l * (v1 / v0) ** k_v
    return f, (f"E x ({node1:g} nm / {node0:g} nm)^{k_l:g} x ({v1:g} V / {v0:g} V)^{k_v:g} = "
               f"E x {f:.3g} (C proportional to feature size, E = C V^2: Dennard et al. 1974; "
               f"{v1:g} V is the Liberty's nom_voltage)")


def fo4_ps() -> tuple[float, str]:
    rules = {r["rule"]: r for r in read_data("phys_scaling.csv")}
    per_um = float(rules["fo4_delay_per_um"]["value"])
    node = float(rules["node_osu018"]["value"])
    ps = per_um * node / 1000.0
    return ps, (f"{per_um:g} ps per um of drawn gate length x {node / 1000:g} um = {ps:.0f} ps per "
                f"FO4 (Ho, Mai, Horowitz 2001, typical corner)")


def horowitz_mac(fmt: str, acc: str) -> tuple[float, str] | None:
    """45 nm pJ of a MAC composed from Horowitz's operations (hwmodel/data/mac_from_ops.csv)."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    ops = {r["operation"]: float(r["energy_pj"]) for r in read_data("horowitz_2014.csv")}
    for r in read_data("mac_from_ops.csv"):
        if parse_format(r["in_fmt"]) == parse_format(fmt) and parse_acc(r["acc"]) == parse_acc(acc):
            names = r["operations"].split(";")
            return sum(ops[o] for o in names), " + ".join(names)
    return None


# ---------------------------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------------------------
def build(ctx: ReportContext) -> Section:
    from rtl.sta import library_path, sta_available
    title = "Timing and power from a characterised library"
    why = sta_available()
    if why is not None:
        return Section(key="physical", title=title,
                       intro=(f"This section needs OpenSTA and the OSU 0.18 um cells, which are "
                              f"not installed here ({why}). Install them with `{INSTALL}` and "
                              f"rerun the report; every other section works without them."))
    lib = library_path("osu018")
    ds = designs(ctx)
    rows, failed = run_all(lambda f, a: measure_asic(f, a, lib, ctx), ds, ctx)
    if not rows:
        raise RuntimeError("no design could be timed: " + "; ".join(f"{d}: {w}" for d, w in failed))
    df = pd.DataFrame(rows)
    scale, scale_rule = energy_scale(lib)
    ps, fo4_rule = fo4_ps()

    tab = pd.DataFrame({
        "design": df["design"],
        "osu018_area_um2": df["osu018_area_um2"].round(0),
        "osu018_ffs": df["osu018_ffs"],
        "sta_critical_path_ns": df["sta_ns"].round(3),
        "fo4_estimate": df["fo4"].round(1),
        "fo4_rule_ns": (df["fo4"] * ps / 1000).round(3),
        "sta_over_fo4_rule": (df["sta_ns"] / (df["fo4"] * ps / 1000)).round(2),
        "power_mw_at_100mhz": df["power_mw"].round(3),
        "internal_share": (df["internal_mw"] / df["power_mw"]).round(3),
        "idle_power_mw": df["idle_power_mw"].round(3),
        "sta_pj_per_mac": df["sta_pj_per_mac"].round(2),
        "ge_model_pj_per_mac_45nm": df["ge_model_pj_per_mac"].round(4),
        "sta_over_ge_model": (df["sta_pj_per_mac"] / df["ge_model_pj_per_mac"]).round(1),
        "ge_model_scaled_pj_per_mac": (df["ge_model_pj_per_mac"] * scale).round(3),
        "sta_over_scaled_ge_model": (df["sta_pj_per_mac"] / (df["ge_model_pj_per_mac"] * scale)).round(2),
        "netlist_sha256": df["netlist_sha256"],
    })
    src = (f"{df['sta_source'].iloc[0].split(', netlist')[0]}; synthesis "
           f"{df['synth_source'].iloc[0].split(', netlist')[0]}; per-design netlist hashes in the "
           f"table; activity: {df['activity'].iloc[0]}; FO4 from Logical Effort on ge.lib; GE model "
           f"from sim/energy.py; FO4 rule and CV^2 rule from hwmodel/data/phys_scaling.csv")
    ok = df.dropna(subset=["sta_ns", "fo4"])
    r = pearson(ok["sta_ns"], ok["fo4"]) if len(ok) >= 3 else float("nan")
    slope = float(np.sum(ok["sta_ns"] * ok["fo4"]) / np.sum(ok["fo4"] ** 2)) * 1000
    corr = pd.DataFrame({"quantity": ["Pearson r, OpenSTA ns vs FO4 estimate",
                                      "least-squares ps per FO4 (through 0)",
                                      "FO4 rule for 0.18 um (ps)", "designs"],
                         "value": [round(r, 3), round(slope, 1), round(ps, 1), len(ok)]})
    tables = [
        Table(f"OSU 0.18 um (OpenSTA, typical corner, no wire load) per design: critical path beside "
              f"the FO4 estimate, power at {1000 / CLOCK_NS:g} MHz with per-pin activity from our "
              f"gate-level simulation, and the GE-toggle energy model (45 nm calibration) with the "
              f"ratio per design; internal_share is the part of the power in the cells' internal-"
              f"power tables (the rest is switching of pin capacitance, plus leakage); "
              f"idle_power_mw is the same netlist with every data net held (clock and leakage "
              f"only)", tab, src),
        Table("FO4 estimate against OpenSTA over the designs above (computed from the table's "
              "columns)", corr, src),
    ]
    val_tab, val_notes = _validation(ctx, df, scale, scale_rule, ps, fo4_rule)
    if val_tab is not None:
        tables += val_tab
    if failed:
        tables.append(Table("Designs that could not be timed", pd.DataFrame(
            failed, columns=["design", "reason"]), src))
    intro = (
        f"Each MAC (one product register, as in the other sections) is mapped by the project's "
        f"Yosys flow onto the OSU 0.18 um standard cells and timed with OpenSTA: the critical path "
        f"is the clock period minus the worst setup slack with inputs and outputs constrained at "
        f"0 ns, so it is comparable with the FO4 walk of the same design on ge.lib. Power comes "
        f"from OpenSTA's report_power at a {CLOCK_NS:g} ns clock with every cell pin's toggle rate "
        f"taken from our zero-delay gate-level simulation of the same netlist, driven by the "
        f"energy model's operand stream ({n_macs(ctx)[0]} MACs, Gaussian operands); energy per MAC "
        f"is power x period (one MAC per cycle), also for a design that misses {CLOCK_NS:g} ns. "
        f"The 45 nm GE-toggle model is scaled to the OSU node by {scale_rule}.")
    notes = _notes(tab, r, slope, ps, fo4_rule, scale) + val_notes
    path = physical_figure(df, ctx.figure_dir / "physical_energy_area_delay.png")
    figures = [Figure(f"Energy per MAC (OpenSTA power x {CLOCK_NS:g} ns) against OSU 0.18 um area "
                      f"(left) and critical path (right), one point per design. " + FIGURE_MARKS,
                      path, src)]
    return Section(key="physical", title=title, intro=intro, tables=tables, figures=figures,
                   notes=notes)


FIGURE_MARKS = ("Joined in red and named: in each panel, the designs no other design beats on "
                "both axes (lower energy and smaller area, or lower energy and shorter path), "
                "i.e. non-dominated; ringed and named in bold: the reference designs (INT8 into "
                "its Kulisch register, FP8-E4M3 into each accumulator).")


def physical_figure(df: pd.DataFrame, path: Path) -> Path:
    """Energy per MAC against area and against critical path (OpenSTA on OSU018), each with its
    non-dominated designs joined and named and the references ringed. Returns the PNG's path."""
    from analysis import plots
    d = df.dropna(subset=["sta_pj_per_mac"]).assign(
        in_fmt=lambda t: t["format"],
        name=lambda t: [f"{f}/{a}" for f, a in zip(t["format"], t["acc"])])
    fig, (a1, a2) = plots.new_figure(12.0, 4.6, ncols=2)
    plots.front_scatter(a1, d, "osu018_area_um2", "sta_pj_per_mac",
                        [("osu018_area_um2", "min"), ("sta_pj_per_mac", "min")], "name",
                        xlabel="area (um2, OSU 0.18 um)", ylabel="energy per MAC (pJ, OpenSTA)",
                        front_what="non-dominated (area, energy)")
    plots.front_scatter(a2, d, "sta_ns", "sta_pj_per_mac",
                        [("sta_ns", "min"), ("sta_pj_per_mac", "min")], "name",
                        xlabel="critical path (ns, OpenSTA)", ylabel="energy per MAC (pJ, OpenSTA)",
                        front_what="non-dominated (delay, energy)")
    return plots.savefig(fig, path)


def _notes(tab: pd.DataFrame, r: float, slope: float, ps: float, fo4_rule: str,
           scale: float) -> str:
    lines = []
    if np.isfinite(r):
        lines.append(f"- FO4 vs OpenSTA over {len(tab)} designs: Pearson r = {r:.3f}. A least-"
                     f"squares line through 0 gives {slope:.0f} ps per FO4, against {fo4_rule}: "
                     f"OpenSTA's paths are {slope / ps:.2f}x the rule's delay per FO4 (the FO4 walk "
                     f"has no wires and one ideal gate per stage; OpenSTA uses the cells' tables "
                     f"with real input slews but also no wire load).")
    else:
        lines.append(f"- FO4 vs OpenSTA: {len(tab)} designs are too few for a correlation (the "
                     f"full report has {len(DESIGNS)}).")
    q = tab["sta_over_ge_model"]
    qs = tab["sta_over_scaled_ge_model"]
    idle = tab["idle_power_mw"] / tab["power_mw_at_100mhz"]
    data = ((tab["power_mw_at_100mhz"] - tab["idle_power_mw"]) * CLOCK_NS
            / tab["ge_model_scaled_pj_per_mac"])
    lines.append(f"- OpenSTA's energy per MAC is {_span(q, '{:.0f}')}x the 45 nm GE-toggle "
                 f"model; after the CV^2 scaling (x{scale:.3g}) it is {_span(qs, '{:.2f}')}x. "
                 f"With every data net held, the clock and leakage alone draw "
                 f"{_span(idle, '{:.0%}')} of the simulated power (flip-flop clock pins, which "
                 f"the GE model does not count: it counts cell-output toggles only). Without "
                 f"that part OpenSTA is still {_span(data, '{:.1f}')}x the scaled model, and "
                 f"{_span(tab['internal_share'], '{:.0%}')} of OpenSTA's power is the cells' "
                 f"internal power. The remaining disagreement is in the energy per transition: "
                 f"either the CV^2 rule's assumption (capacitance linear in the feature size) "
                 f"does not hold for these OSU cells, or Horowitz's 45 nm figures come from a "
                 f"denser, custom-sized implementation than a generic cell library; this report "
                 f"cannot tell which.")
    ge_rank = tab["ge_model_pj_per_mac_45nm"].rank()
    sta_rank = tab["sta_pj_per_mac"].rank()
    if len(tab) >= 3:
        rho = pearson(ge_rank, sta_rank)
        lines.append(f"- Ranking: Spearman rho between the GE model's and OpenSTA's energy per "
                     f"MAC over the designs = {rho:.2f}"
                     + (": the two agree on which design costs more, so a scale, not the toggle "
                        "counts, separates them." if rho >= 0.8 else
                        ": they disagree on the order as well as the scale; the flip-flop clock "
                        "power (in OpenSTA only) and the cells' unequal internal energy per "
                        "transition weigh designs differently."))
    return "\n".join(lines)


def _validation(ctx, df: pd.DataFrame, scale: float, scale_rule: str, ps: float,
                fo4_rule: str):
    """Area, delay and energy of the validation designs beside independent figures."""
    by = df.set_index(df.apply(lambda x: label(x["format"], x["acc"]), axis=1))
    keys = [label(f, a) for f, a in VALIDATION]
    if not all(k in by.index for k in keys):
        return None, "\n- Validation: a validation design could not be measured (see above)."
    fp, _ = run_all(lambda f, a: measure_fpga(f, a, "ecp5-25k", ctx.cache_dir), VALIDATION, ctx)
    fpb = {label(r["format"], r["acc"]): r for r in fp}
    paper, paper_mpy = {}, {}
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    for row in read_data("paper_fig3.csv"):
        try:
            k = label(row["in_fmt"], row["acc"])
        except Exception:  # noqa: BLE001 - the paper's E2..E5 rows name no catalogue format
            m = re.fullmatch(r"paper_e(\d)", row["in_fmt"])
            if not m:
                continue
            k = None
            for f, a in VALIDATION:
                pf = parse_format(f)
                if getattr(pf, "exp_bits", None) == int(m.group(1)) and \
                        parse_acc(row["acc"]).spec == parse_acc(a).spec:
                    k = label(f, a)
        if k:
            paper[k] = float(row["total_gates"])
            paper_mpy[k] = float(row["mpy_gates"])
    nand2 = _nand2_um2()
    rows = []
    for k, (f, a) in zip(keys, VALIDATION):
        d = by.loc[k]
        hz = horowitz_mac(f, a)
        rows.append({
            "design": k,
            "area_ge_ours": round(d["ge_area"], 0),
            "osu018_ffs": int(d["osu018_ffs"]),
            "ge_model_mpy_share": round(float(d["ge_model_mpy_share"]), 3),
            "area_osu018_nand2_eq": round(d["osu018_area_um2"] / nand2, 0) if nand2 else None,
            "area_paper_gates": paper.get(k),
            "ecp5_lut4_equiv": fpb.get(k, {}).get("lut4_equiv"),
            "ecp5_dsp": fpb.get(k, {}).get("dsp"),
            "delay_sta_ns": round(d["sta_ns"], 3),
            "delay_fo4_rule_ns": round(d["fo4"] * ps / 1000, 3),
            "ecp5_period_ns": (round(1000 / fpb[k]["fmax_mhz"], 3)
                               if fpb.get(k, {}).get("fmax_mhz") else None),
            "energy_sta_pj": round(d["sta_pj_per_mac"], 2),
            "energy_ge_model_scaled_pj": round(d["ge_model_pj_per_mac"] * scale, 3),
            "energy_horowitz_scaled_pj": round(hz[0] * scale, 3) if hz else None,
            "horowitz_ops": hz[1] if hz else "",
        })
    v = pd.DataFrame(rows)
    b, o = v.iloc[0], v.iloc[1]

    def ratio(col):
        return (None if b[col] in (None, 0) or o[col] is None or pd.isna(b[col]) or pd.isna(o[col])
                else round(float(o[col]) / float(b[col]), 2))
    rat = pd.DataFrame([
        ("area", "paper gates (van Baalen et al. Fig. 3)", ratio("area_paper_gates")),
        ("area", "our GE (ge.lib)", ratio("area_ge_ours")),
        ("area", "our OSU018 (um2)", ratio("area_osu018_nand2_eq")),
        ("area", "our ECP5 LUT4-equivalents (DSPs apart)", ratio("ecp5_lut4_equiv")),
        ("delay", "our FO4 estimate", ratio("delay_fo4_rule_ns")),
        ("delay", "our OpenSTA ns", ratio("delay_sta_ns")),
        ("delay", "our ECP5 routed period", ratio("ecp5_period_ns")),
        ("energy", "Horowitz composition", ratio("energy_horowitz_scaled_pj")),
        ("energy", "our GE-toggle model", ratio("energy_ge_model_scaled_pj")),
        ("energy", "our OpenSTA power", ratio("energy_sta_pj")),
    ], columns=["quantity", "figure", f"{keys[1]} over {keys[0]}"])
    src = ("ours: the tables above; independent: van Baalen et al. 2023 Fig. 3 "
           "(hwmodel/data/paper_fig3.csv), Horowitz 2014 (hwmodel/data/horowitz_2014.csv, composed "
           f"per hwmodel/data/mac_from_ops.csv), scaled by {scale_rule}; FO4 rule {fo4_rule}; "
           f"OSU018 NAND2X1 = {nand2:g} um2 read from the Liberty")
    tables = [
        Table("Validation: area, delay and energy of two designs beside independent figures", v, src),
        Table(f"Validation: {keys[1]} over {keys[0]} by each figure", rat, src),
    ]
    return tables, "\n" + _validation_notes(v, rat, keys, fpb, paper_mpy)


def _validation_notes(v: pd.DataFrame, rat: pd.DataFrame, keys, fpb, paper_mpy) -> str:
    b, o = v.iloc[0], v.iloc[1]
    col = rat.columns[-1]
    R = {fig: val for fig, val in zip(rat["figure"], rat[col])}
    out = []
    for _, x in v.iterrows():
        parts = []
        if x["area_paper_gates"]:
            parts.append(f"area {x['area_ge_ours']:.0f} GE (ge.lib) and "
                         f"{x['area_osu018_nand2_eq']:.0f} OSU NAND2-equivalents against the "
                         f"paper's {x['area_paper_gates']:.0f} gates "
                         f"({x['area_ge_ours'] / x['area_paper_gates']:.2f}x and "
                         f"{x['area_osu018_nand2_eq'] / x['area_paper_gates']:.2f}x)")
        parts.append(f"delay {x['delay_sta_ns']:.2f} ns by OpenSTA against "
                     f"{x['delay_fo4_rule_ns']:.2f} ns by the FO4 rule "
                     f"({x['delay_sta_ns'] / x['delay_fo4_rule_ns']:.2f}x)")
        if x["energy_horowitz_scaled_pj"]:
            parts.append(f"energy {x['energy_sta_pj']:.1f} pJ per MAC by OpenSTA against "
                         f"{x['energy_horowitz_scaled_pj']:.2f} pJ from Horowitz's "
                         f"{x['horowitz_ops']} scaled to 0.18 um "
                         f"({x['energy_sta_pj'] / x['energy_horowitz_scaled_pj']:.1f}x) and "
                         f"{x['energy_ge_model_scaled_pj']:.2f} pJ from our scaled GE model")
        out.append(f"- {x['design']}: " + "; ".join(parts) + ".")
    pa, ga = R.get("paper gates (van Baalen et al. Fig. 3)"), R.get("our GE (ge.lib)")
    oa, la = R.get("our OSU018 (um2)"), R.get("our ECP5 LUT4-equivalents (DSPs apart)")
    if pa and ga and oa:
        out.append(f"- Area ratio {keys[1]} / {keys[0]}: paper {pa:.2f}, our GE {ga:.2f}, OSU018 "
                   f"{oa:.2f}, ECP5 LUT4-equivalents {la}. Both ASIC libraries agree within "
                   f"{abs(oa / ga - 1):.0%} of each other; against the paper they differ by "
                   f"{abs(ga / pa - 1):.0%}: the paper counts its own gate-level construction "
                   f"(Appendix B gate costs, no synthesis), we count what Yosys and ABC map.")
    if la and ga:
        db, do = fpb.get(keys[0], {}).get("dsp"), fpb.get(keys[1], {}).get("dsp")
        mp = paper_mpy.get(keys[0])
        share = (f" ({mp:.0f} of the paper's {b['area_paper_gates']:.0f} gates, "
                 f"{mp / b['area_paper_gates']:.0%})" if mp and b["area_paper_gates"] else "")
        out.append(f"- The ECP5 LUT ratio ({la:.2f}) is not the ASIC ratio ({ga:.2f}): on ECP5 "
                   f"the {keys[0]} product uses {db} MULT18X18D and the {keys[1]} significand "
                   f"product {do}, so the multiplier, the largest part of the INT8 MAC in "
                   f"gates{share}, leaves the LUT count of both, while the FP design's alignment, "
                   f"normalisation and rounding stay in LUTs and carry chains: "
                   f"{b['ecp5_lut4_equiv']} against {o['ecp5_lut4_equiv']} LUT4-equivalents.")
    ds, df_, de = R.get("our OpenSTA ns"), R.get("our FO4 estimate"), R.get("our ECP5 routed period")
    if ds and df_:
        out.append(f"- Delay ratio: FO4 {df_:.2f}, OpenSTA {ds:.2f}, ECP5 {de}: the FO4 walk "
                   f"{'over' if df_ > ds else 'under'}states the FP design's path against OpenSTA "
                   f"by {abs(df_ / ds - 1):.0%}.")
    eh, eg, es = (R.get("Horowitz composition"), R.get("our GE-toggle model"),
                  R.get("our OpenSTA power"))
    if eh and eg and es:
        out.append(f"- Energy ratio: Horowitz composition {eh:.2f}, GE-toggle model {eg:.2f}, "
                   f"OpenSTA {es:.2f}. Horowitz's composition charges a full FP32 adder per MAC "
                   f"(0.9 of its 1.1 pJ) measured on random operands, and an 8-bit multiply for a "
                   f"4x4 significand product; the simulated figures count what switches under "
                   f"Gaussian operands, where one adder input is the running sum and each FP8 "
                   f"product carries at most 8 significant bits (the multiplier is "
                   f"{b['ge_model_mpy_share']:.0%} of the INT8 MAC's simulated energy, "
                   f"{o['ge_model_mpy_share']:.0%} of the FP one's), and OpenSTA adds the clock "
                   f"power of every flip-flop ({o['osu018_ffs']} against {b['osu018_ffs']}, "
                   f"{o['osu018_ffs'] / b['osu018_ffs']:.2f}x), which the GE model leaves out.")
    return "\n".join(out)


def _span(x, fmt: str) -> str:
    lo, hi = fmt.format(float(x.min())), fmt.format(float(x.max()))
    return lo if lo == hi else f"{lo}-{hi}"


def _nand2_um2() -> float | None:
    from rtl.sta import library_path
    text = Path(library_path("osu018")).read_text(errors="replace")
    m = re.search(r"cell\s*\(NAND2X1\)\s*\{\s*area\s*:\s*([\d.]+)", text)
    return float(m.group(1)) if m else None
