"""Findings: short statements computed from the tables a report shows, each with its figure.

Every function takes the frames a section also renders (the sweep, the iso-area table, the paper's
Fig. 3 table) and returns a `Finding` or None when the frame lacks what the statement needs (a
finding is never made up). The sentence holds its figures in bold (`**2.03x**`, `**31.2 dB**`), in
the order of `Finding.figures`: (what, value) pairs, so a test can parse the sentence and recompute
each figure from the frame on its own.

    cheapest_at_isoarea(table, target)     the design with the most peak ops/s in the budget
    area_vs_paper(sweep, paper)            FP8-E4M3 vs INT8 area: our synthesis beside Fig. 3
    cheapest_acc_per_format(sweep)         the smallest accumulator of each format
    sqnr_winners(sweep)                    the best format per data distribution
    block_formats_at_isoarea(table, sweep) each block-scaled design's peak TOPS, ratio and SQNR
    verdict(table, sweep, fmt, acc)        a what-if's verdict: cheaper/dearer, more/less accurate
                                           than INT8/Kulisch and FP8-E4M3 at the same clock and area
    array_overhead(arrays)                 per design: array area/energy per MAC vs the single MAC
                                           at the largest measured size, and the laws' 128x128
                                           extrapolation with their held-out errors
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

PAPER_FIG3 = Path(__file__).resolve().parents[1] / "hwmodel" / "data" / "paper_fig3.csv"
INT8_REF = ("int8", "kulisch:12")
FP8_NAME = "float8_e4m3fn"


@dataclass(frozen=True)
class Finding:
    text: str                                      # one Markdown sentence, figures in bold
    figures: tuple = field(default_factory=tuple)  # ((what, value), ...) in the sentence's order
    source: str = ""                               # the table the figures come from


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _canon_acc(acc) -> str:
    from hwmodel.accum import parse_acc
    try:
        return parse_acc(acc).spec
    except Exception:  # noqa: BLE001 - a spelling the parser does not know compares as written
        return str(acc)


def _row(frame: pd.DataFrame, in_fmt: str, acc: str | None = None):
    """The first row of a format (display name or canonical spec) and accumulator (any spelling),
    or None."""
    if frame is None or frame.empty:
        return None
    m = (frame["in_fmt"] == in_fmt)
    if "in_fmt_spec" in frame:
        m = m | (frame["in_fmt_spec"] == in_fmt)
    if acc is not None:
        m = m & (frame["acc"].map(_canon_acc) == _canon_acc(acc))
    sub = frame[m]
    return None if sub.empty else sub.iloc[0]


def fmt_figure(v: float, unit: str = "") -> str:
    """How a figure is written in a sentence: 3 significant digits, whole numbers from 1000 up (the
    test parses this)."""
    return (f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}") + unit


def cheapest_at_isoarea(table: pd.DataFrame, target=None, budget: str = "the budget") -> Finding | None:
    """The design with the highest peak_tops, and its ratio to INT8/Kulisch's peak."""
    if table is None or table.empty or "peak_tops" not in table:
        return None
    t = table.dropna(subset=["peak_tops"])
    if t.empty:
        return None
    best = t.loc[t["peak_tops"].astype(float).idxmax()]
    where = (f"at one clock ({fmt_figure(target.period)} {target.unit})" if target is not None
             else "each at its own clock")
    figs = [("peak_tops", float(best["peak_tops"]))]
    text = (f"Cheapest per MAC at iso-area, {where}: **{best['in_fmt']}/{best['acc']}** fills {budget} "
            f"with the most throughput, **{fmt_figure(float(best['peak_tops']))} TOPS** peak")
    ref = _row(t, *INT8_REF)
    if ref is not None and not (best["in_fmt"] == ref["in_fmt"] and best["acc"] == ref["acc"]):
        r = float(best["peak_tops"]) / float(ref["peak_tops"])
        figs.append(("ratio_to_int8_kulisch", r))
        text += f", **{fmt_figure(r)}x** INT8/Kulisch's"
    return Finding(text + ".", tuple(figs), "iso-area table (peak_tops)")


def area_vs_paper(sweep: pd.DataFrame, paper: pd.DataFrame | None = None, acc: str = "fp32") -> Finding | None:
    """FP8-E4M3 into `acc` over INT8 into Kulisch: our area_ge ratio beside the paper's Fig. 3
    ratio (paper_e4 row: the paper's E4 format)."""
    if paper is None:
        paper = pd.read_csv(PAPER_FIG3) if PAPER_FIG3.exists() else None
    fp8, int8 = _row(sweep, FP8_NAME, acc), _row(sweep, *INT8_REF)
    if fp8 is None or int8 is None or "area_ge" not in sweep:
        return None
    a, b = _num(fp8["area_ge"]), _num(int8["area_ge"])
    if not a or not b:
        return None
    ours = a / b
    figs = [("area_ratio_ours", ours)]
    text = (f"FP8-E4M3 into {fp8['acc']} takes **{fmt_figure(ours)}x** the area of INT8 into "
            f"{int8['acc']} in our synthesis (area_ge, NAND2 equivalents)")
    prow = None
    if paper is not None:
        sub = paper[(paper["in_fmt"] == "paper_e4") & (paper["acc"].map(_canon_acc) == _canon_acc(acc))]
        prow = None if sub.empty else sub.iloc[0]
    if prow is not None:
        pr = float(prow["ratio_vs_int8_kulisch"])
        figs.append(("area_ratio_paper", pr))
        text += (f", against **{fmt_figure(pr)}x** in the paper's Fig. 3 (van Baalen et al. 2023, "
                 f"gate counts of its E4 format; hwmodel/data/paper_fig3.csv)")
    return Finding(text + ".", tuple(figs), "area table (area_ge); paper Fig. 3")


def cheapest_acc_per_format(sweep: pd.DataFrame) -> Finding | None:
    """For each format, the accumulator with the smallest area_ge."""
    if sweep is None or "area_ge" not in sweep:
        return None
    s = sweep.assign(_a=pd.to_numeric(sweep["area_ge"], errors="coerce")).dropna(subset=["_a"])
    if s.empty:
        return None
    parts, figs = [], []
    for f, g in s.groupby("in_fmt", sort=False):
        if g["acc"].nunique() < 2:
            continue
        best = g.loc[g["_a"].idxmin()]
        parts.append(f"{f} -> {best['acc']} (**{fmt_figure(float(best['_a']))} GE**)")
        figs.append((f"{f}/{best['acc']}", float(best["_a"])))
    if not parts:
        return None
    return Finding("Cheapest accumulator per format (area per MAC): " + "; ".join(parts) + ".",
                   tuple(figs), "sweep (area_ge)")


_DISTS = {"sqnr_db": "N(0,1) data", "sqnr_t3_db": "Student-t(3) data"}


def sqnr_winners(sweep: pd.DataFrame) -> Finding | None:
    """The format with the highest SQNR on each distribution (SQNR depends on the format only)."""
    parts, figs = [], []
    for col, what in _DISTS.items():
        if sweep is None or col not in sweep:
            continue
        s = sweep.assign(_q=pd.to_numeric(sweep[col], errors="coerce")).dropna(subset=["_q"])
        s = s[s["_q"] < float("inf")]
        if s.empty:
            continue
        best = s.loc[s["_q"].idxmax()]
        parts.append(f"on {what} **{best['in_fmt']}** (**{fmt_figure(float(best['_q']))} dB**)")
        figs.append((f"{col}:{best['in_fmt']}", float(best["_q"])))
    if not parts:
        return None
    return Finding("Highest SQNR per distribution: " + "; ".join(parts) + ".", tuple(figs),
                   "sweep (sqnr_db, sqnr_t3_db)")


def block_formats_at_isoarea(table: pd.DataFrame, sweep: pd.DataFrame) -> Finding | None:
    """The block-scaled designs of the iso-area table (block dot units, unit bdot:N): for each, its
    peak throughput in the budget, its ratio to INT8/Kulisch's, its SQNR on N(0,1) data (sweep),
    and whether it runs at the common clock or its own (meets_clock False)."""
    if table is None or table.empty or "unit" not in table or "peak_tops" not in table:
        return None
    blk = table[table["unit"].astype(str).str.startswith("bdot")]
    if blk.empty:
        return None
    ref = _row(table, *INT8_REF)
    parts, figs = [], []
    for _, r in blk.iterrows():
        name = f"{r['in_fmt']}/{r['acc']}"
        tops = float(r["peak_tops"])
        part = f"{name} **{fmt_figure(tops)} TOPS**"
        figs.append((f"peak_tops:{name}", tops))
        if ref is not None:
            ratio = tops / float(ref["peak_tops"])
            part += f" (**{fmt_figure(ratio)}x** INT8/Kulisch's)"
            figs.append((f"ratio_to_int8_kulisch:{name}", ratio))
        s = _row(sweep, r.get("in_fmt_spec", r["in_fmt"]), r["acc"]) if sweep is not None else None
        q = _num(s.get("sqnr_db")) if s is not None else None
        if q is not None:
            part += f" at **{fmt_figure(q)} dB**"
            figs.append((f"sqnr_db:{name}", q))
        if "meets_clock" in r and r["meets_clock"] is not None and not bool(r["meets_clock"]):
            part += f", at its own clock (**{fmt_figure(float(r['clock_ghz']))} GHz**)"
            figs.append((f"clock_ghz:{name}", float(r["clock_ghz"])))
        parts.append(part)
    return Finding("Block-scaled formats in the same budget (block dot units, area and throughput per "
                   "element product; SQNR of N(0,1) data block-quantised by each format's scale rule): "
                   + "; ".join(parts) + ".", tuple(figs), "iso-area table (peak_tops, clock_ghz); sweep (sqnr_db)")


def compare_word(x: float, y: float, more: str, less: str, same: str, tol: float = 0.0) -> str:
    """more when x > y beyond the relative tolerance, less when below, else same."""
    if y != 0 and abs(x / y - 1) <= tol or x == y:
        return same
    return more if x > y else less


def verdict(table: pd.DataFrame, sweep: pd.DataFrame, fmt: str, acc: str, target=None) -> list[Finding]:
    """A what-if's closing verdict: the new design against INT8/Kulisch and FP8-E4M3 (same
    accumulator if swept, else its best) at the same clock and area: throughput in the budget
    (cheaper = more peak TOPS from the same silicon) and SQNR on both distributions."""
    new_t, new_s = _row(table, fmt, acc), _row(sweep, fmt, acc)
    if new_t is None or new_s is None:
        return [Finding(f"No verdict: {fmt}/{acc} has no iso-area row (no synthesised area and delay).")]
    refs = [("INT8/Kulisch", _row(table, *INT8_REF), _row(sweep, *INT8_REF))]
    fp8_t = _row(table, FP8_NAME, acc)
    if fp8_t is None:
        sub = table[table["in_fmt"] == FP8_NAME]
        fp8_t = None if sub.empty else sub.loc[sub["peak_tops"].astype(float).idxmax()]
    if fp8_t is not None:
        refs.append((f"FP8-E4M3/{fp8_t['acc']}", fp8_t, _row(sweep, FP8_NAME, fp8_t["acc"])))
    where = (f"at one clock ({fmt_figure(target.period)} {target.unit})" if target is not None
             else "each at its own clock")
    if target is not None and "meets_clock" in new_t and not bool(new_t["meets_clock"]):
        where = (f"at one clock ({fmt_figure(target.period)} {target.unit}; {new_t['in_fmt']}/{new_t['acc']} "
                 f"misses it and runs at its own)")
    out = []
    for name, rt, rs in refs:
        if rt is None or rs is None:
            continue
        if fmt in (rt["in_fmt"], rt.get("in_fmt_spec")) and rt["acc"] == new_t["acc"]:
            continue
        tp = float(new_t["peak_tops"]) / float(rt["peak_tops"])
        figs = [(f"throughput_ratio:{name}", tp)]
        text = (f"Against {name} {where} and the same silicon: "
                f"**{compare_word(tp, 1.0, 'cheaper', 'dearer', 'as cheap', 0.01)}**"
                f" (**{fmt_figure(tp)}x** its peak throughput")
        area_col = next((c for c in ("area_per_product_ge", "area_per_product_um2", "unit_area_ge",
                                     "unit_area_um2") if c in table), None)
        if area_col is not None:
            # per product: a block dot unit's area over its element products a cycle (analysis.isoarea)
            ar = float(new_t[area_col]) / float(rt[area_col])
            ck = float(new_t["clock_ghz"]) / float(rt["clock_ghz"])
            figs += [(f"area_ratio:{name}", ar), (f"clock_ratio:{name}", ck)]
            text += (f": area per {'product' if area_col.startswith('area_per') else 'MAC'} "
                     f"**{fmt_figure(ar)}x**, clock **{fmt_figure(ck)}x**")
        text += ")"
        acc_parts = []
        for col, what in _DISTS.items():
            a, b = _num(new_s.get(col)), _num(rs.get(col))
            if a is None or b is None:
                continue
            figs.append((f"{col}:new", a))
            figs.append((f"{col}:{name}", b))
            acc_parts.append(f"**{compare_word(a, b, 'more accurate', 'less accurate', 'as accurate')}** on {what} "
                             f"(**{fmt_figure(a)} dB** vs **{fmt_figure(b)} dB**)")
        if acc_parts:
            text += "; " + ", ".join(acc_parts)
        out.append(Finding(text + ".", tuple(figs), "iso-area table (peak_tops); quality table (SQNR)"))
    return out


def clock_needs(table: pd.DataFrame) -> Finding | None:
    """How many designs meet the common clock with product registers alone, how many only with
    interleaved partial sums (loop_stages > 1), how many not at all (meets_clock False)."""
    if table is None or "meets_clock" not in table or table.empty:
        return None
    meets = table["meets_clock"].astype(bool)
    loops = pd.to_numeric(table.get("loop_stages", pd.Series(1, index=table.index)), errors="coerce").fillna(1)
    inter, miss = table[meets & (loops > 1)], table[~meets]
    plain = int((meets & (loops <= 1)).sum())
    text = (f"**{plain}** of **{len(table)}** designs meet the common clock with product registers alone; "
            f"**{len(inter)}** only with interleaved partial sums in the accumulate loop"
            + (" (" + ", ".join(f"{r.in_fmt}/{r.acc}: {int(r.loop_stages)}" for r in inter.itertuples()) + ")"
               if len(inter) else "")
            + f"; **{len(miss)}** not at all"
            + (" (" + ", ".join(f"{r.in_fmt}/{r.acc}" for r in miss.itertuples()) + ")" if len(miss) else "")
            + ".")
    return Finding(text, (("plain", float(plain)), ("designs", float(len(table))), ("interleaved", float(len(inter))),
                          ("missed", float(len(miss)))), "iso-area table (meets_clock, loop_stages)")


def accelerator_winners(win: pd.DataFrame | None) -> list[Finding]:
    """From analysis.accelerator.winners: per phase, which design is fastest and which spends the
    least energy per token, on each workload (one sentence per phase)."""
    if win is None or len(win) == 0:
        return []
    out = []
    for phase, what in (("prefill", "compute-bound prefill"), ("decode", "memory-bound decode")):
        g = win[win["phase"] == phase]
        if g.empty:
            continue
        parts, figs = [], []
        for _, r in g.iterrows():
            part = f"{r['workload']}: fastest **{r['fastest']}** (**{fmt_figure(float(r['time_per_token_ms']))} ms**/token)"
            figs.append((f"time:{r['workload']}", float(r["time_per_token_ms"])))
            if r.get("least_energy") is not None and _num(r.get("energy_per_token_mj")) is not None:
                part += (f", least energy **{r['least_energy']}** "
                         f"(**{fmt_figure(float(r['energy_per_token_mj']))} mJ**/token)")
                figs.append((f"energy:{r['workload']}", float(r["energy_per_token_mj"])))
            parts.append(part)
        out.append(Finding(f"Whole accelerator (array + buffer, same budget and clock), {what}: "
                           + "; ".join(parts) + ".", tuple(figs), "whole-accelerator table"))
    return out


def array_overhead(arrays: dict | None, extrapolate: int = 128) -> list[Finding]:
    """From the arrays section's frames (analysis.sections.arrays.frames: "sizes", "law" and
    "energy_law"), one sentence per design: area per MAC against the single MAC at the largest
    synthesised size, energy per MAC against the single MAC at the largest simulated size (where
    there is one), and the per-MAC cost the area law (and the energy law, where fitted)
    extrapolates to at `extrapolate` x `extrapolate`, with its error on the held-out size."""
    if not arrays or arrays.get("law") is None or arrays["law"].empty:
        return []
    sizes, law = arrays["sizes"], arrays["law"]
    elaw = arrays.get("energy_law")
    col = f"extrapolated_{extrapolate}x{extrapolate}_vs_mac"
    out = []
    for _, lr in law.iterrows():
        g = sizes[sizes["design"] == lr["design"]]
        if g.empty or col not in lr:
            continue
        big = g.loc[g["macs"].idxmax()]
        figs = [(f"area per MAC vs MAC at {big['size']}", float(big["area_per_mac_vs_mac"]))]
        text = (f"{lr['design']} array: at {big['size']} (the largest synthesised) a MAC costs "
                f"**{fmt_figure(figs[0][1], 'x')}** the single MAC's area")
        if "energy_per_mac_vs_mac" in g:
            e = g[g["energy_per_mac_vs_mac"].notna() & (g["macs"] > 1)]
            if not e.empty:
                eb = e.loc[e["macs"].idxmax()]
                figs.append((f"energy per MAC vs MAC at {eb['size']}", float(eb["energy_per_mac_vs_mac"])))
                text += (f" and, at {eb['size']} (the largest simulated), **{fmt_figure(figs[-1][1], 'x')}** "
                         "its energy")
        figs += [("area law held-out error %", float(lr["held_out_error_pct"])),
                 (f"area per MAC vs MAC at {extrapolate}x{extrapolate}", float(lr[col]))]
        text += (f"; the area law, held out on {lr['held_out']} (error **{fmt_figure(figs[-2][1], ' %')}**), "
                 f"extrapolates to **{fmt_figure(figs[-1][1], 'x')}** at {extrapolate}x{extrapolate}")
        el = elaw[elaw["design"] == lr["design"]] if elaw is not None and not elaw.empty else None
        if el is not None and not el.empty and col in el:
            er = el.iloc[0]
            figs += [("energy law held-out error %", float(er["held_out_error_pct"])),
                     (f"energy per MAC vs MAC at {extrapolate}x{extrapolate}", float(er[col]))]
            text += (f", the energy law (held out on {er['held_out']}, error "
                     f"**{fmt_figure(figs[-2][1], ' %')}**) to **{fmt_figure(figs[-1][1], 'x')}**")
        out.append(Finding(text + ".", tuple(figs), "arrays section: size table and law tables"))
    return out


def as_markdown(findings: list[Finding | None]) -> str:
    """A Markdown bullet list of the findings that exist."""
    return "\n".join(f"- {f.text}" + (f" *(from: {f.source})*" if f.source else "")
                     for f in findings if f is not None)
