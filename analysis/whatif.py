"""New-datatype what-if: the whole chain for a format the catalogue may lack, on one page.

`run_whatif(spec, acc, ...)` parses the format, then evaluates the design points
{new format x acc} + {comparison formats (INT8, FP8-E4M3) x their accumulators} through the sweep
engine (numerics quality from the golden model, RTL generated and verified by its cocotb bench,
area/delay synthesised by Yosys, energy by gate-level simulation; every point cached), puts them
through the iso-area model and the workload roofline, and writes a one-page report
(`whatif.md`, `whatif.html`, `whatif.metadata.json`, `sweep.parquet/csv`) comparing the new format
with the others. Bad input (a malformed format, a budget that is not positive, a scheduler that does
not answer) raises before any work; a budget too small for one unit raises after the sweep, whose
results stay cached.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from hwmodel.errors import FormatError, UnsupportedConfig

from analysis.config import FO4_SOURCE, Config, IsoAreaConfig, WhatIfConfig
from analysis.design import DesignPoint, acc_spec
from analysis.engine import check_scheduler, run_sweep
from analysis.metadata import run_metadata
from analysis.outcome import one_line
from analysis.section import Figure, ReportContext, Section, Table
from analysis.table import save_sweep, select


def _safe_dirname(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def format_table(formats) -> pd.DataFrame:
    """Bit layout and range of each format (from hwmodel.formats)."""
    rows = []
    for f in formats:
        row = {"format": f.name, "bits": f.bits, "kind": f.kind}
        for attr in ("exp_bits", "man_bits", "bias"):
            row[attr] = getattr(f, attr, None)
        row["max_value"] = float(getattr(f, "max_value", None) or getattr(f, "max_normal", float("nan")))
        row["min_positive"] = float(getattr(f, "min_subnormal", 1.0))
        row["inf"] = bool(getattr(f, "has_inf", False))
        row["nan"] = bool(getattr(f, "has_nan", False))
        rows.append(row)
    return pd.DataFrame(rows)


def _check_budget(iso: IsoAreaConfig) -> None:
    for name in ("budget_ge", "budget_mm2", "bandwidth_gb_s", "fo4_ps", "clock_ghz_max"):
        v = getattr(iso, name)
        if v is not None and not (v > 0 and math.isfinite(v)):
            raise UnsupportedConfig(f"{name} must be a positive finite number, not {v!r}")


def _check_clock(iso: IsoAreaConfig, library: str) -> None:
    """The clock options, checked before any work: a positive period in the library's unit, and not
    both a period and --unpipelined."""
    from analysis import oneclock
    oneclock._check_positive("--clock-fo4", iso.clock_fo4)
    oneclock._check_positive("--clock-ns", iso.clock_ns)
    if iso.clock_fo4 is not None and iso.clock_ns is not None:
        raise UnsupportedConfig("give --clock-fo4 or --clock-ns, not both")
    if iso.unpipelined and (iso.clock_fo4 is not None or iso.clock_ns is not None):
        raise UnsupportedConfig("--unpipelined compares each design at its own clock: give it without "
                                "--clock-fo4 / --clock-ns")
    if not iso.unpipelined:
        unit = oneclock.timing_unit(library)
        if iso.clock_ns is not None and unit != "ns":
            raise UnsupportedConfig(f"--clock-ns needs a Liberty with timing tables (library osu018), not "
                                    f"{library!r}: give --clock-fo4 with ge")
        if iso.clock_fo4 is not None and unit != "FO4":
            raise UnsupportedConfig(f"--clock-fo4 needs the ge library (FO4 estimate); {library!r} is timed "
                                    f"in ns: give --clock-ns")


def run_whatif(spec: str | None = None, acc: str | None = None, *, config: Config | None = None,
               out: Path | str | None = None, quick: bool = False, jobs: int = 2,
               scheduler: str | None = None, cache_dir: Path | str | None = None, seed: int | None = None,
               progress: bool = True, evaluator=None, retry_failed: bool = False,
               preflight: bool = True) -> dict:
    """Run the what-if and write its report. Returns {"paths": {...}, "sweep": DataFrame,
    "sections": [...], "new_ok": bool}. `evaluator` overrides the chain (tests inject a fake).
    cache_dir None: hwmodel.cache.default_cache_dir()."""
    from hwmodel.cache import default_cache_dir
    from hwmodel.formats import parse_format

    from analysis import checks, report
    from analysis.stages import ChainEvaluator

    config = config or Config()
    wi: WhatIfConfig = config.whatif
    spec = spec or wi.format
    if not spec:
        raise FormatError("a format must be given: SPEC on the command line or [whatif] format in the "
                          "config, e.g. \"fp(e=3,m=4,bias=7)\"")
    fmt = parse_format(spec)
    # The new design: format and accumulator as objects, never re-parsed from a display name.
    new_point = DesignPoint.make(fmt, acc or wi.acc, library=wi.library)
    acc = acc_spec(new_point.acc)
    compare = [parse_format(c) for c in wi.compare]
    iso = config.isoarea
    _check_budget(iso)
    if not isinstance(jobs, int) or jobs < 1:
        raise UnsupportedConfig(f"--jobs must be a positive integer, not {jobs!r}")
    points = [new_point]
    for c in compare:
        for a in wi.compare_acc:
            points.append(DesignPoint.make(c, a, library=wi.library))
    points = list(dict.fromkeys(points))
    out = Path(out) if out is not None else Path("reports") / "whatif" / _safe_dirname(fmt.name)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if preflight:  # every input checked before any stage runs
        from rtl.unit import unit_config
        # The new design must be one the RTL can build (e.g. an int32 accumulator needs int inputs).
        unit_config(new_point.in_fmt, new_point.acc, new_point.unit, new_point.pipeline_stages)
        checks.output_dir(out, "--out")
        checks.libraries([wi.library])
        checks.budget_library(iso, [wi.library])
        _check_clock(iso, wi.library)
    if scheduler:
        check_scheduler(scheduler).close()
    seed = config.seed if seed is None else seed
    ctx = ReportContext(outdir=out, cache_dir=cache_dir, seed=seed, quick=quick, jobs=jobs)
    evaluator = evaluator or ChainEvaluator(cache_dir=cache_dir)
    df = run_sweep(points, evaluator, cache_dir=cache_dir, jobs=jobs, scheduler=scheduler, seed=seed,
                   quick=quick, progress=progress, desc=f"whatif {fmt.name}", retry_failed=retry_failed)
    ident = {"whatif_format": fmt.name, "format_spec": str(spec), "canonical_spec": fmt.spec, "acc": acc}
    save_sweep(df, out, "sweep", run_metadata(ctx, **ident))
    new = select(df, fmt, new_point.acc)

    sections = [_summary(fmt, new_point.acc, df, iso), _format_section(fmt, compare), _quality_section(df),
                _cost_section(df)]
    iso_frames = None
    try:
        iso_section, iso_frames = _isoarea_section(ctx, df, fmt, iso, wi.library)
        sections.append(iso_section)
    except UnsupportedConfig:
        raise  # an impossible budget is bad input: exit 2 (the sweep above stays cached)
    except Exception as exc:  # noqa: BLE001 - the rest of the page is still worth writing
        sections.append(Section("isoarea", "Iso-area throughput and workload speedup",
                                failed=one_line(exc)))
    sections.insert(0, _findings_section(fmt, new_point.acc, df, iso, iso_frames))
    sections.append(_verdict_section(fmt, new_point.acc, df, iso_frames))
    paths = report.write_report(ctx, sections, title=f"What if: {fmt.name} ({spec}) with a {acc} accumulator",
                                stem="whatif", extra_metadata=ident)
    return {"paths": paths, "sweep": df, "sections": sections,
            "new_ok": bool(len(new)) and bool((new["status"] == "ok").all())}


def _get(df: pd.DataFrame, fmt, acc, col: str):
    """The value of `col` for a format and an accumulator (objects or any spelling), or None."""
    sub = select(df, fmt, acc)
    if sub.empty or col not in sub:
        return None
    v = sub.iloc[0][col]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _fmtv(v, unit="", digits=4):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}g}{unit}"
    return f"{v}{unit}"


def _per_mac(df, fmt, acc, col: str):
    """`col` per product: a unit's value divided by its products per cycle (a dot or block dot
    unit's lanes), or None."""
    from analysis.design import unit_macs
    v, unit = _get(df, fmt, acc, col), _get(df, fmt, acc, "unit")
    return None if v is None else v / unit_macs(unit or "mac")


def _summary(fmt, acc, df, iso) -> Section:
    row = select(df, fmt, acc).iloc[0]
    lines = [f"- **Format:** `{fmt.name}` ({fmt.bits} bits), accumulator `{acc_spec(acc)}`; design point status: "
             f"**{row['status']}**" + (f" ({row['reason']})" if row["status"] != "ok" else ""),
             f"- **SQNR** of N(0,1) data: {_fmtv(_get(df, fmt, acc, 'sqnr_db'), ' dB')}; Student-t(3): "
             f"{_fmtv(_get(df, fmt, acc, 'sqnr_t3_db'), ' dB')}",
             f"- **Area** per MAC: {_fmtv(_per_mac(df, fmt, acc, 'area_ge'), ' GE')}; critical path "
             f"{_fmtv(_get(df, fmt, acc, 'delay_fo4'), ' FO4')}; energy "
             f"{_fmtv(_get(df, fmt, acc, 'energy_pj'), ' pJ/MAC')}",
             f"- **RTL verified** against the golden model: {_fmtv(_get(df, fmt, acc, 'verified'))}"]
    for c in ("int8", "float8_e4m3fn"):
        for a in ("kulisch", "fp32"):
            if _get(df, c, a, "area_ge") is not None and _get(df, fmt, acc, "area_ge") is not None:
                ratio = _per_mac(df, fmt, acc, "area_ge") / _per_mac(df, c, a, "area_ge")
                lines.append(f"- Area relative to {c} with {a} accumulation: **{ratio:.2f}x**")
    return Section("summary", "Summary", intro="\n".join(lines),
                   notes="Every figure below comes from a run of this tool in this session; sources are "
                         "named under each table. The sweep rows (all metrics) are in `sweep.csv`.")


def _format_section(fmt, compare) -> Section:
    return Section("format", "The formats compared",
                   tables=[Table("Bit layout and range", format_table([fmt] + compare),
                                 "hwmodel.formats (the catalogue's cited specifications; the new format "
                                 "from its spec string)")])


def _quality_section(df) -> Section:
    cols = [c for c in ("in_fmt", "acc", "unit", "sqnr_db", "sqnr_t3_db", "dot_rel_err", "dot_length") if c in df]
    block = "unit" in df and df["unit"].astype(str).str.startswith("bdot").any()
    intro = ("SQNR of 65,536 N(0,1) and Student-t (nu=3) samples quantised per tensor (absmax "
             "to the largest value, RNE, saturating); median relative error of dot products "
             "accumulated sequentially in the accumulator (exact reference: math.fsum).")
    if block:
        intro += (" Block formats (unit bdot:N): the same sample sizes quantised per block by the format's "
                  "own scale rule (hwmodel.blockscaled), and dot products by the block dot golden model "
                  "(exact block sums, one rounding per block into the accumulator).")
    return Section("quality", "Numerical quality", intro=intro,
                   tables=[Table("Quality per design point", df[cols],
                                 "our golden model (hwmodel.numerics" + ("; hwmodel.blockscaled" if block else "")
                                 + "), seeded samples")])


def _cost_section(df) -> Section:
    cols = [c for c in ("in_fmt", "acc", "unit", "status", "verified", "area_ge", "area_per_product_ge",
                        "area_mpy_ge", "area_alignadd_ge", "area_normacc_ge", "scale_path_share",
                        "delay_fo4", "logic_depth", "energy_pj", "reason") if c in df]
    src = "; ".join(sorted({s for s in df.get("synth_source", pd.Series(dtype=str)).dropna().map(
        lambda s: s.split(", library")[0] + ")")})) or "our synthesis (rtl.synth)"
    return Section("cost", "RTL verification, area and energy",
                   intro="The RTL of each design was generated (amaranth), simulated against the golden "
                         "model with its cocotb bench (Verilator), synthesised with Yosys to ge.lib "
                         "(NAND2 gate equivalents) and, for energy, simulated at gate level with "
                         "Gaussian operands.",
                   tables=[Table("Verification, area (gate equivalents), critical path (FO4) and energy per MAC",
                                 df[cols], f"{src}; energy: our gate-level simulation (sim.energy); "
                                           "verification: our simulation (cocotb + Verilator)")])


def _isoarea_section(ctx, df, fmt, iso: IsoAreaConfig, library: str = "ge"):
    """(Section, frames): the designs at one clock (or unpipelined) in the same silicon budget, and
    workload times through the roofline. frames: {"table", "work", "target", "plan"}."""
    from analysis import isoarea, oneclock, plots
    rows, target, plan = oneclock.plan_sweep(df, iso, library, cache_dir=ctx.cache_dir, jobs=ctx.jobs)
    table = isoarea.isoarea_table(rows, budget_ge=iso.budget_ge, budget_mm2=iso.budget_mm2,
                                  clock_ghz_max=iso.clock_ghz_max, fo4_ps=oneclock.fo4_for(target, iso.fo4_ps))
    work = isoarea.workload_table(table, iso.bandwidth_gb_s)
    tcols = [c for c in work.columns if c.endswith("time_ms")]
    base = work.loc[select(table, "int8", "kulisch").index]  # work has one row per table row
    speed = work[["in_fmt", "acc"]].copy()
    if not base.empty:
        for c in tcols:
            speed[c.replace("time_ms", "speedup_vs_int8_kulisch")] = base.iloc[0][c] / work[c]
    budget = f"{iso.budget_ge:.3g} GE" if iso.budget_ge is not None else f"{iso.budget_mm2:g} mm^2"
    src = (f"our synthesis and simulation (this run), iso-area model analysis.isoarea, {FO4_SOURCE}; "
           f"memory {iso.bandwidth_gb_s:g} GB/s (H100 SXM5 HBM3 datasheet)")
    fig, ax = plots.new_figure()
    labels = [f"{f}/{a}" for f, a in zip(table["in_fmt"], table["acc"])]
    new_label = f"{fmt.name}/{select(table, fmt, None).iloc[0]['acc']}" if len(select(table, fmt, None)) else None
    plots.reference_bars(ax, labels, list(table["peak_tops"]), f"peak TOPS in {budget}",
                         missed=list(~table["meets_clock"].astype(bool)) if "meets_clock" in table else None,
                         highlight=new_label)
    ax.set_title(f"peak throughput at equal area, " + (f"one clock {target.period:.4g} {target.unit}"
                                                      if target is not None else "each at its own clock"),
                 fontsize=9)
    path = plots.savefig(fig, ctx.figure_dir / "whatif_isoarea.png")
    from analysis.sections.isoarea import _order
    tables = [Table(f"Designs at equal area ({budget})"
                    + (": pipeline depth, latency and clock at one clock" if target is not None else ""),
                    _order(table.drop(columns=["in_fmt_spec"])), src)]
    if plan is not None:
        tables.append(Table("What limits each design's clock: critical path at each depth tried",
                            plan.drop(columns=["in_fmt_spec"]), "our synthesis (rtl.clock.depth_sweep: Yosys, "
                            "ge.lib, FO4 estimate)" if target.unit == "FO4" else "our synthesis + OpenSTA"))
    tables.append(Table("Predicted time per step (ms)", work, src))
    if len(speed.columns) > 2:
        tables.append(Table("Workload speedup over INT8 with Kulisch accumulation (the paper's baseline)",
                            speed, src))
    intro = (f"The same silicon budget ({budget}) filled with MAC units of each design; workloads through "
             f"the roofline.\n\n" + oneclock.clock_sentence(target, plan, iso.fo4_ps))
    if target is not None:
        intro += (" Energy per MAC is the gate-level figure at one product register (the extra registers' "
                  "energy is not in it); the cocotb benches ran the swept designs (one product register, sequential summation): a deeper design "
                  "shows `verified` as not run.")
    sec = Section("isoarea", "Iso-area throughput and workload speedup", intro=intro, tables=tables,
                  figures=[Figure("Peak throughput at equal area.", path, src)])
    return sec, {"table": table, "work": work, "target": target, "plan": plan, "speed": speed,
                 "figure": Figure("Peak throughput at equal area (the new design in orange, references "
                                  "outlined).", path, src)}


def _findings_section(fmt, acc, df, iso, frames) -> Section:
    """Findings first: the new design's clock, throughput and accuracy against the references."""
    from analysis import findings
    items = []
    name = f"{fmt.name}/{acc_spec(acc)}"
    if frames is not None:
        table, target, plan = frames["table"], frames["target"], frames["plan"]
        if plan is not None:
            row = plan[(plan["in_fmt_spec"] == fmt.spec) & (plan["acc"] == acc_spec(acc))]
            if len(row):
                r = row.iloc[0]
                u = target.unit.lower()
                k = int(r.get("loop_stages", 1) or 1)
                if bool(r["meets_clock"]):
                    inter = (f" and **{k}** interleaved partial sums in its accumulate loop (its sequential "
                             f"loop alone is longer; the summation order changes)" if k > 1 else "")
                    items.append(findings.Finding(
                        f"{name} meets the common clock (**{findings.fmt_figure(target.period)} {target.unit}**, "
                        f"{target.how}) with **{int(r['pipeline_stages'])}** product register(s){inter}, latency "
                        f"**{int(r['latency_cycles'])}** cycles.",
                        (("target", target.period), ("stages", float(r["pipeline_stages"])))
                        + ((("loop_stages", float(k)),) if k > 1 else ())
                        + (("latency", float(r["latency_cycles"])),), "clock table"))
                else:
                    items.append(findings.Finding(
                        f"{name} cannot meet the common clock (**{findings.fmt_figure(target.period)} "
                        f"{target.unit}**, {target.how}) at any depth: it reaches **"
                        f"{findings.fmt_figure(float(r['critical_path_' + u]))} {target.unit}**, limited by its "
                        f"{r['limited_by']}; it is compared at that clock.",
                        (("target", target.period), ("reached", float(r["critical_path_" + u]))), "clock table"))
        new_t = findings._row(table, fmt.spec, acc_spec(acc))
        ref = findings._row(table, *findings.INT8_REF)
        if new_t is not None and ref is not None:
            sp = float(new_t["peak_tops"]) / float(ref["peak_tops"])
            ck = float(new_t["clock_ghz"]) / float(ref["clock_ghz"])
            # products per cycle in the budget (units x products per unit: a bdot:N unit does N)
            un = float(new_t["macs_per_cycle"]) / float(ref["macs_per_cycle"])
            items.append(findings.Finding(
                f"Peak throughput in the same silicon: **{findings.fmt_figure(sp)}x** INT8/Kulisch's = "
                f"**{findings.fmt_figure(un)}x** the products per cycle (area per product) times "
                f"**{findings.fmt_figure(ck)}x** the clock.", (("speedup", sp), ("units", un), ("clock", ck)),
                "iso-area table"))
        budget = f"{iso.budget_ge:.3g} GE" if iso.budget_ge is not None else f"{iso.budget_mm2:g} mm^2"
        items.append(findings.cheapest_at_isoarea(table, target, budget))
    items.append(findings.sqnr_winners(df))
    items.append(findings.area_vs_paper(df, acc="fp32"))
    md = findings.as_markdown(items) or "- No finding: the iso-area comparison did not run (see below)."
    return Section("findings", "Findings", intro="Computed from the tables below; each figure in bold, its "
                   "table named. The verdict closes the page.\n\n" + md,
                   figures=[frames["figure"]] if frames is not None else [])


def _verdict_section(fmt, acc, df, frames) -> Section:
    from analysis import findings
    if frames is None:
        return Section("verdict", "Verdict", failed="no iso-area comparison to judge from (see above)")
    items = findings.verdict(frames["table"], df, fmt.spec, acc_spec(acc), frames["target"])
    return Section("verdict", "Verdict", intro=f"{fmt.name} with a {acc_spec(acc)} accumulator, judged from "
                   "the iso-area table (same silicon, same clock) and the quality table:\n\n"
                   + findings.as_markdown(items))
