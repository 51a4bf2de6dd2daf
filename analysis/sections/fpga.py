"""Report section: FPGA cost per format (Yosys + nextpnr on ECP5 and iCE40), beside the published
FPGA figure of the ShiftQuant paper, with what was and was not compared."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.section import Figure, ReportContext, Section, Table
from analysis.sections.physical import label, measure_fpga, read_data, run_all

DEVICE = "ecp5-25k"
ICE40 = "ice40-hx8k"
ICE40_DESIGNS = [("int8", "kulisch"), ("int4", "kulisch"), ("float8_e4m3fn", "kulisch"),
                 ("float8_e4m3fn", "fp16")]
FP16_REF = ("float16", "fp32")
# Block-scaled dot units (rtl.blockdot), full report only: 4 lanes keep the ports within the
# CABGA256 package's I/O pins (a Kulisch block accumulator's output alone needs more).
BLOCK_UNITS = [("mxfp8_e4m3", "fp32"), ("shiftquant_int4", "fp32")]
BLOCK_LANES = 4
ROOT = Path(__file__).resolve().parents[2]


def fpga_rows(ctx: ReportContext, designs, device: str):
    return run_all(lambda f, a: measure_fpga(f, a, device, ctx.cache_dir), designs, ctx)


def blockdot_present() -> bool:
    return (ROOT / "rtl" / "blockdot.py").is_file()


def measure_block(spec: str, acc: str, device: str, cache_dir, lanes: int = BLOCK_LANES) -> dict:
    """Yosys + nextpnr of one block-scaled dot unit; counts also per element product."""
    import warnings

    from amaranth.back import rtlil

    from rtl.blockdot import BlockDotConfig
    from rtl.fpga import fpga_design
    cfg = BlockDotConfig.of(spec, acc=acc, lanes=lanes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = rtlil.convert(cfg.create(), name=cfg.name, emit_src=False)
    r = fpga_design(text, cfg.name, device, cache_dir=cache_dir)
    eq = r.luts + 2 * r.carry
    return {"design": f"{spec} -> {cfg.acc.spec} (block {cfg.block_size}, {lanes} lanes)",
            "format": spec, "acc": acc, "lanes": lanes, "lut4": r.luts, "carry": r.carry,
            "lut4_equiv": eq, "ff": r.ffs, "dsp": r.dsp, "bram": r.bram,
            "lut4_equiv_per_product": round(eq / lanes, 1), "dsp_per_product": r.dsp / lanes,
            "ff_per_product": round(r.ffs / lanes, 1),
            "fmax_mhz": None if r.fmax_mhz is None else round(r.fmax_mhz, 1),
            "netlist_sha256": r.netlist_sha256[:12], "tools": r.tool_versions}


def build(ctx: ReportContext) -> Section:
    from analysis.sections.physical import designs
    from hwmodel.errors import ToolNotFound
    from rtl.fpga import tool_versions
    try:
        tool_versions("ecp5")
    except ToolNotFound as exc:
        return Section(key="fpga", title="FPGA cost per format",
                       intro=f"This section needs the FPGA tools, which are not installed here "
                             f"({exc}); every other section works without them.")
    ds = designs(ctx)
    if FP16_REF not in ds:
        ds = ds + [FP16_REF]       # the baseline of the ShiftQuant comparison, also in quick mode
    rows, failed = fpga_rows(ctx, ds, DEVICE)
    if not rows:
        raise RuntimeError(f"no design could be placed and routed on {DEVICE}: "
                           + "; ".join(f"{d}: {w}" for d, w in failed))
    df = pd.DataFrame(rows)
    tools = ", ".join(f"{k} {v}" for k, v in rows[0]["tools"].items())
    src = (f"our place-and-route (Yosys synth_ecp5 + nextpnr-ecp5 --25k CABGA256, seed 1, "
           f"{tools}; per-design netlist sha256 in the table)")
    cols = ["design", "lut4", "carry", "lut4_equiv", "ff", "dsp", "bram", "fmax_mhz",
            "netlist_sha256"]
    tables = [Table(f"One MAC (one product register) on {DEVICE}: LUT4s outside carry chains, "
                    f"CCU2C carry cells, LUT4-equivalents (LUT4 + 2 x CCU2C: a CCU2C fills two "
                    f"LUT4 positions of a slice), flip-flops, MULT18X18D DSPs, block RAMs and "
                    f"nextpnr's achieved Fmax (register to register, routed, 100 MHz target)",
                    df[cols], src)]

    ice_ds = ICE40_DESIGNS[:1] if ctx.quick else ICE40_DESIGNS
    ice, ice_failed = fpga_rows(ctx, ice_ds, ICE40)
    if ice:
        idf = pd.DataFrame(ice)
        itools = ", ".join(f"{k} {v}" for k, v in ice[0]["tools"].items())
        tables.append(Table(f"LUT-only costs on {ICE40} (no DSP blocks: the multiplier is built "
                            f"from SB_LUT4 and SB_CARRY, which share a logic cell)",
                            idf[["design", "lut4", "carry", "ff", "fmax_mhz", "netlist_sha256"]],
                            f"our place-and-route (Yosys synth_ice40 + nextpnr-ice40 --hx8k ct256, "
                            f"{itools})"))

    blocks, block_failed, block_note = [], [], ""
    if blockdot_present() and not ctx.quick:
        blocks, block_failed = run_all(lambda f, a: measure_block(f, a, DEVICE, ctx.cache_dir),
                                       BLOCK_UNITS, ctx)
        if blocks:
            bdf = pd.DataFrame(blocks)
            tables.append(Table(
                f"Block-scaled dot units (rtl/blockdot.py: {BLOCK_LANES} element products a cycle, "
                f"exact block sum, scale, FP32 accumulate) on {DEVICE}, whole unit and per element "
                f"product (divided by the lanes), beside the scalar MACs above",
                bdf[["design", "lut4", "carry", "lut4_equiv", "ff", "dsp", "lut4_equiv_per_product",
                     "dsp_per_product", "ff_per_product", "fmax_mhz", "netlist_sha256"]], src))
    elif blockdot_present():
        block_note = " Block-scaled units are placed in the full report only (quick mode)."
    failed = failed + block_failed
    cmp, cmp_notes = _shiftquant(df, blocks)
    if cmp is not None:
        tables.append(cmp)
    if failed or ice_failed:
        tables.append(Table("Designs that could not be placed and routed", pd.DataFrame(
            [(d, DEVICE, w) for d, w in failed] + [(d, ICE40, w) for d, w in ice_failed],
            columns=["design", "device", "reason"]), src))

    block = (f"Block-scaled dot units come from `rtl/blockdot.py` ({BLOCK_LANES} lanes; a "
             f"Kulisch block accumulator is left out: its output port alone needs more I/O pins "
             f"than the package has).{block_note}" if blockdot_present() else
             "Block-scaled units (MX, NVFP4) are not in this section: their RTL generator "
             "(`rtl/blockdot.py`) is not yet in the repository.")
    intro = (
        f"Each MAC is built by the same generators as every other section, synthesised by the "
        f"project's Yosys (synth_ecp5 / synth_ice40) and placed and routed by nextpnr, both from "
        f"PyPI (yowasp). Counts are read from Yosys' statistics of the mapped netlist; Fmax is "
        f"nextpnr's achieved frequency after routing. I/O pins are placed but unconstrained, so "
        f"Fmax is the register-to-register figure. {block}")
    path = fpga_figure(df, pd.DataFrame(ice) if ice else None,
                       ctx.figure_dir / "fpga_luts_vs_fmax.png")
    figures = [Figure(f"LUT4-equivalents against routed Fmax per MAC, {DEVICE}"
                      + (f" (left) and {ICE40} (right, LUT4 + carry cells)" if ice else "")
                      + ". " + FIGURE_MARKS, path, src)]
    return Section(key="fpga", title="FPGA cost per format", intro=intro, tables=tables,
                   figures=figures, notes=_notes(df) + cmp_notes)


FIGURE_MARKS = ("Joined in red and named: the designs no other design beats on both LUT "
                "count (fewer) and Fmax (higher), i.e. non-dominated (DSP blocks are shown in "
                "the names, not weighed); ringed and named in bold: the reference designs "
                "(INT8 into its Kulisch register, FP8-E4M3 into each accumulator).")


def fpga_figure(df: pd.DataFrame, ice: pd.DataFrame | None, path: Path) -> Path:
    """Scatter of LUT4-equivalents vs Fmax per MAC (ECP5; iCE40 beside it when given), the
    non-dominated designs joined and named, the references ringed. Returns the PNG's path."""
    from analysis import plots
    panels = [(df, "lut4_equiv", f"LUT4-equivalents on {DEVICE} (LUT4 + 2 x CCU2C)")]
    if ice is not None and len(ice):
        panels.append((ice.assign(lut4_carry=ice["lut4"] + ice["carry"]), "lut4_carry",
                       f"logic cells on {ICE40} (SB_LUT4 + SB_CARRY)"))
    fig, axes = plots.new_figure(6.5 * len(panels), 4.6, ncols=len(panels))
    axes = list(axes) if len(panels) > 1 else [axes]
    for ax, (d, x, xlabel) in zip(axes, panels):
        d = d.dropna(subset=[x, "fmax_mhz"]).assign(
            in_fmt=lambda t: t["format"],
            name=lambda t: [f"{f}/{a}" + (f" ({int(n)} DSP)" if "dsp" in t and n else "")
                            for f, a, n in zip(t["format"], t["acc"],
                                               t["dsp"] if "dsp" in t else [0] * len(t))])
        plots.front_scatter(ax, d, x, "fmax_mhz", [(x, "min"), ("fmax_mhz", "max")], "name",
                            xlabel=xlabel, ylabel="routed Fmax (MHz)", log_x=True,
                            front_what="non-dominated (LUTs, Fmax)")
    return plots.savefig(fig, path)


def _notes(df: pd.DataFrame) -> str:
    by = df.set_index("design")
    base = label("int8", "kulisch")
    out = []
    if base in by.index:
        b = by.loc[base]
        rel = ", ".join(f"{d} {r['lut4_equiv'] / b['lut4_equiv']:.2f}x ({r['dsp']} DSP, "
                        f"{r['fmax_mhz']} MHz)" for d, r in by.iterrows() if d != base)
        out.append(f"- LUT4-equivalents relative to {base} ({b['lut4_equiv']} LUT4-eq, "
                   f"{b['dsp']} DSP, {b['fmax_mhz']} MHz): {rel}.")
    return "\n".join(out)


def _shiftquant(df: pd.DataFrame, blocks=()):
    pub = read_data("fpga_published.csv")[0]
    ref = label(*FP16_REF)
    by = df.set_index("design")
    if ref not in by.index:
        return None, (f"\n- The ShiftQuant comparison needs the FP16 reference MAC ({ref}), which "
                      f"could not be placed and routed.")
    r = by.loc[ref]
    rows = [{"figure": f"ShiftQuant (published): FPGA resource vs {pub['baseline']}",
             "lut4_equiv_saving_pct": None, "dsp": None, "ff_saving_pct": None,
             "published_saving_pct": float(pub["value"]), "source": pub["source"]}]
    for d, x in by.iterrows():
        if d == ref:
            continue
        rows.append({"figure": f"ours: {d} MAC vs {ref} MAC (ECP5)",
                     "lut4_equiv_saving_pct": round(100 * (1 - x["lut4_equiv"] / r["lut4_equiv"]), 1),
                     "dsp": f"{x['dsp']} vs {r['dsp']}",
                     "ff_saving_pct": round(100 * (1 - x["ff"] / r["ff"]), 1),
                     "published_saving_pct": None,
                     "source": "our place-and-route (table above)"})
    for x in blocks:
        rows.append({"figure": f"ours: {x['design']} per product vs {ref} MAC (ECP5)",
                     "lut4_equiv_saving_pct": round(100 * (1 - x["lut4_equiv_per_product"]
                                                           / r["lut4_equiv"]), 1),
                     "dsp": f"{x['dsp_per_product']:g} vs {r['dsp']}",
                     "ff_saving_pct": round(100 * (1 - x["ff_per_product"] / r["ff"]), 1),
                     "published_saving_pct": None,
                     "source": "our place-and-route (block table above)"})
    t = pd.DataFrame(rows)
    ours = t.dropna(subset=["lut4_equiv_saving_pct"]).set_index("figure")["lut4_equiv_saving_pct"]
    int4 = [f for f in ours.index if f.startswith(f"ours: {label('int4', 'kulisch')}")]
    int8 = [f for f in ours.index if f.startswith(f"ours: {label('int8', 'kulisch')}")]
    pct = float(pub["value"])
    sentence = ""
    if int4 and int8:
        s4, s8 = ours[int4[0]], ours[int8[0]]
        rel = ("larger savings than" if min(s4, s8) > pct else
               "smaller savings than" if max(s4, s8) < pct else "savings either side of")
        sentence = (f" Our integer MACs with exact (Kulisch) accumulation save {s8:.1f}% (INT8) "
                    f"and {s4:.1f}% (INT4) of the FP16 MAC's LUT4-equivalents, {rel} the "
                    f"published {pct:g}% ({s8 - pct:+.1f} and {s4 - pct:+.1f} points); the "
                    f"figures are not like for like, for the reasons below.")
    sq = [f for f in ours.index if f.startswith("ours: shiftquant_int4")]
    if sq:
        sentence += (f" Our ShiftQuant-style block unit (INT4 elements, power-of-two group scale "
                     f"applied as a shift, FP32 accumulator) saves {ours[sq[0]]:.1f}% per element "
                     f"product ({ours[sq[0]] - pct:+.1f} points from the published figure).")
    notes = (
        f"\n- ShiftQuant beside ours, what was compared:{sentence} Compared: the cost of an "
        f"integer datapath against an FP16 one, on an FPGA. Not compared: (1) they built a whole "
        f"training accelerator (memories, control, data movement, quantisers, several operations); "
        f"we place one MAC; (2) their metric is \"FPGA resource\" as the abstract states it, "
        f"without naming LUTs, DSPs or BRAM or their weighting; ours counts LUT4 positions with "
        f"carry cells as two LUT4s and reports DSP blocks and flip-flops apart; (3) their FP16 "
        f"baseline is their own FP16 design, ours is an FP16-input MAC with an FP32 accumulator "
        f"built by our generator; (4) their integers are group-quantised with power-of-two "
        f"scales applied by shifts, which our plain INT MACs do not include (the block unit does, per "
        f"element product of a {BLOCK_LANES}-lane unit, where it was placed); (5) device and "
        f"tools differ (the abstract names none). The published figure is from the abstract "
        f"only.")
    return (Table("Our ECP5 savings against the FP16 reference MAC beside ShiftQuant's published "
                  "FPGA figure", t, "ours: our place-and-route; published: "
                  "hwmodel/data/fpga_published.csv"), notes)
