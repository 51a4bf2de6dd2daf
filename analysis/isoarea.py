"""Iso-area accelerator model: what a fixed silicon budget buys in each number format.

For every design point with a synthesised area, a critical-path delay and (where measured) an
energy per MAC:

    units        = floor(budget / area of one unit)          (MAC units only: no SRAM, no control)
    clock_hz     = 1 / critical path (capped at clock_ghz_max when given)
    peak_ops_s   = 2 * units * MACs per unit * clock_hz      (a multiply-accumulate is 2 ops)
    ops_per_j    = 2 / energy per MAC

A block dot unit (bdot:N, block formats) counts as N MACs per unit: its N element products a cycle
each add into the block sum, and its energy_pj is per element product (sim.energy.block_energy).

and, with a chosen memory bandwidth, a roofline prediction of transformer workloads: each GEMM
takes max(2MNK / peak_ops_s, bytes moved / bandwidth), with operands in the point's format
(bits/8 bytes per element) and 16-bit outputs; the attention core runs on the same MACs and the
memory-bound operators (norms, residuals, softmax, KV-cache reads) move their bytes at the
bandwidth (shapes and byte counts from hwmodel.workloads).

The budget is gate equivalents (`budget_ge`, compared with `area_ge`) or mm^2 (`budget_mm2`,
compared with `area_um2`, which needs a Liberty library). A budget that is not positive, or that
does not hold a single unit of any point, is an `UnsupportedConfig` with a one-line message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig

from analysis.design import unit_macs


@dataclass(frozen=True)
class Workload:
    """One transformer run: model, phase, tokens processed per step, context length."""

    name: str
    model: str
    phase: str          # "prefill" or "decode"
    tokens: int         # GEMM M: prompt tokens (prefill) or sequences in the batch (decode)
    context: int        # attention span


# Sequence lengths are the models' usual ones (BERT 512, GPT-2 1024, LLaMA-2 4096 max; 2048 here).
WORKLOADS = (
    Workload("BERT-large prefill (512 tokens)", "bert-large", "prefill", 512, 512),
    Workload("GPT-2 prefill (1024 tokens)", "gpt2", "prefill", 1024, 1024),
    Workload("GPT-2 decode (batch 1, context 1024)", "gpt2", "decode", 1, 1024),
    Workload("LLaMA-2-7B prefill (2048 tokens)", "llama-2-7b", "prefill", 2048, 2048),
    Workload("LLaMA-2-7B decode (batch 1, context 2048)", "llama-2-7b", "decode", 1, 2048),
)

OUT_BYTES = 2  # GEMM outputs and memory-bound operators in 16 bits (bf16/fp16 activations)


def _bits(spec: str) -> float:
    """Stored bits per element of a format given by its canonical spec (block formats count their
    share of the scale)."""
    from hwmodel.formats import parse_format
    f = parse_format(spec)
    return float(getattr(f, "bits_per_element", f.bits))


def _spec(r) -> str:
    """The canonical format spec of a sweep row (tables from before in_fmt_spec: the name)."""
    v = r.get("in_fmt_spec", None)
    return r["in_fmt"] if v is None or (isinstance(v, float) and math.isnan(v)) else v


def isoarea_table(points: pd.DataFrame, *, budget_ge: float | None = None,
                  budget_mm2: float | None = None, clock_ghz_max: float | None = None,
                  fo4_ps: float | None = None) -> pd.DataFrame:
    """One row per point with an area and a delay: units that fit, clock, peak
    ops/s, ops/J, peak power. Columns: in_fmt, in_fmt_spec, acc, unit, pipeline_stages, library, unit_area,
    area_per_product_<ge|um2> (unit area / products per cycle), units, macs_per_cycle (products per
    cycle of all units: a bdot:N unit counts its N element products), clock_ghz, peak_tops, tops_per_w, power_w, verified, and, when the rows
    come from a one-clock plan (analysis.oneclock), latency_cycles, meets_clock, limited_by, summation.

    The critical path is `delay_ns`, or `delay_fo4` x `fo4_ps` (the synthesis flow reports FO4)."""
    if fo4_ps is not None:
        if not (fo4_ps > 0) or math.isinf(fo4_ps):
            raise UnsupportedConfig(f"fo4_ps must be a positive finite number, not {fo4_ps!r}")
        if "delay_fo4" in points.columns:
            points = points.assign(delay_ns=pd.to_numeric(points["delay_fo4"], errors="coerce") * fo4_ps / 1e3)
    if (budget_ge is None) == (budget_mm2 is None):
        raise UnsupportedConfig("give exactly one budget: budget_ge (gate equivalents) or budget_mm2 "
                                "(mm^2, needs a Liberty library)")
    if clock_ghz_max is not None and not (clock_ghz_max > 0):
        raise UnsupportedConfig(f"clock_ghz_max must be a positive number, not {clock_ghz_max!r}")
    if budget_ge is not None:
        budget, area_col, what = float(budget_ge), "area_ge", "budget_ge"
    else:
        budget, area_col, what = float(budget_mm2) * 1e6, "area_um2", "budget_mm2"  # mm^2 -> um^2
    if not (budget > 0) or math.isinf(budget):
        raise UnsupportedConfig(f"{what} must be a positive finite number, not "
                                f"{budget_ge if budget_ge is not None else budget_mm2!r}")
    need = {area_col, "delay_ns"}
    missing = need - set(points.columns)
    if missing:
        hint = " (mm^2 budgets need synthesis with a Liberty library)" if area_col == "area_um2" else ""
        raise DataError(f"sweep results must have columns {sorted(need)}, missing {sorted(missing)}{hint}")
    # Every point with an area and a delay takes part, failed verification or not: the table
    # carries `verified` so a reader sees which designs the benches passed.
    ok = points[(pd.to_numeric(points[area_col], errors="coerce") > 0)
                & (pd.to_numeric(points["delay_ns"], errors="coerce") > 0)]
    if ok.empty:
        raise DataError("no design point has a synthesised area and delay; run the sweep with synthesis")
    rows = []
    for _, r in ok.iterrows():
        units = int(budget // r[area_col])
        macs = units * unit_macs(r["unit"])
        clock_hz = 1e9 / float(r["delay_ns"])
        if clock_ghz_max is not None:
            clock_hz = min(clock_hz, clock_ghz_max * 1e9)
        peak = 2.0 * macs * clock_hz
        e = r.get("energy_pj", np.nan)
        e = float(e) if e is not None and not pd.isna(e) else np.nan
        ops_per_j = 2.0 / (e * 1e-12) if e > 0 else np.nan
        rows.append({"in_fmt": r["in_fmt"], "in_fmt_spec": _spec(r), "acc": r["acc"], "unit": r["unit"],
                     "pipeline_stages": int(r["pipeline_stages"]), "library": r["library"],
                     f"unit_{area_col}": float(r[area_col]),
                     # per product: a bdot:N unit does N element products a cycle, a mac one
                     f"area_per_product_{area_col[5:]}": float(r[area_col]) / unit_macs(r["unit"]),
                     "units": units, "macs_per_cycle": macs,
                     "clock_ghz": clock_hz / 1e9, "peak_tops": peak / 1e12,
                     "tops_per_w": ops_per_j / 1e12 if ops_per_j == ops_per_j else np.nan,
                     "power_w": peak / ops_per_j if ops_per_j == ops_per_j else np.nan,
                     "verified": _verified(r)})
        for c in _PASS:  # the one-clock plan's columns (analysis.oneclock), when the rows carry them
            if c in r.index and not (isinstance(r[c], float) and math.isnan(r[c])):
                rows[-1][c] = r[c]
    table = pd.DataFrame(rows)
    if (table["units"] < 1).all():
        smallest = ok[area_col].min()
        unit_name = "gate equivalents" if area_col == "area_ge" else "um^2"
        raise UnsupportedConfig(f"{what} must hold at least one unit ({smallest:.4g} {unit_name} for the "
                                f"smallest design), not {budget_ge if budget_ge is not None else budget_mm2!r}")
    return table[table["units"] >= 1].reset_index(drop=True)


# Columns of a one-clock plan (analysis.oneclock.apply_to_sweep) carried into the table.
_PASS = ("latency_cycles", "loop_stages", "meets_clock", "limited_by", "summation")


def _verified(r) -> str:
    v = r.get("verified", None)
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "not run"
    if str(v).lower() in ("true", "1", "1.0"):
        return "yes"
    if str(v).lower() in ("false", "0", "0.0"):
        return "NO"
    return "not run"


def gemm_time_s(m: float, n: float, k: float, peak_ops_s: float, bandwidth_bytes_per_s: float,
                in_bytes: float, out_bytes: float = OUT_BYTES) -> float:
    """Roofline time of C[M,N] = A[M,K] @ B[K,N]: max(compute, memory), each operand read once."""
    flops = 2.0 * m * n * k
    moved = (m * k + k * n) * in_bytes + m * n * out_bytes
    return max(flops / peak_ops_s, moved / bandwidth_bytes_per_s)


def workload_time_s(w: Workload, peak_ops_s: float, bandwidth_bytes_per_s: float, in_bytes: float) -> float:
    """Predicted time of all blocks of the workload's model for one step (see module docstring)."""
    from hwmodel.workloads import attention_flops, get_model, nongemm_ops
    if not (peak_ops_s > 0 and bandwidth_bytes_per_s > 0):
        raise UnsupportedConfig(f"peak ops/s and bandwidth must be positive, not {peak_ops_s!r}, "
                                f"{bandwidth_bytes_per_s!r}")
    model = get_model(w.model)
    t = 0.0
    for _, n, k in model.linear_layers():
        t += gemm_time_s(w.tokens, n, k, peak_ops_s, bandwidth_bytes_per_s, in_bytes)
    t += attention_flops(model, w.tokens, w.context) / peak_ops_s
    t += sum(op.bytes for op in nongemm_ops(model, w.tokens, w.context, OUT_BYTES, w.phase)) \
        / bandwidth_bytes_per_s
    return t * model.layers


def workload_table(table: pd.DataFrame, bandwidth_gb_s: float,
                   workloads: tuple[Workload, ...] = WORKLOADS) -> pd.DataFrame:
    """Predicted time (ms) of each workload on each iso-area design, with the memory bandwidth."""
    if not (bandwidth_gb_s > 0) or math.isinf(bandwidth_gb_s):
        raise UnsupportedConfig(f"bandwidth_gb_s must be a positive finite number, not {bandwidth_gb_s!r}")
    rows = []
    for _, r in table.iterrows():
        row = {"in_fmt": r["in_fmt"], "acc": r["acc"], "unit": r["unit"], "peak_tops": r["peak_tops"]}
        for w in workloads:
            row[f"{w.name} time_ms"] = 1e3 * workload_time_s(w, r["peak_tops"] * 1e12, bandwidth_gb_s * 1e9,
                                                             _bits(_spec(r)) / 8)
        rows.append(row)
    return pd.DataFrame(rows)


def h100_reference(workloads: tuple[Workload, ...] = WORKLOADS,
                   schemes=("bf16", "int8", "fp8_e4m3")) -> tuple[pd.DataFrame, str] | None:
    """The same workloads on the H100, for scale: hwmodel.roofline's shape-aware model fitted on
    our H100 measurements (block_time x layers), per data-flow scheme, with the measured peak.
    None when that model or its data is not available."""
    try:
        from hwmodel import roofline
        from hwmodel.workloads import get_model
        model = roofline.build_model()
        ceilings = roofline.h100_ceilings()
    except Exception:  # noqa: BLE001 - the reference is optional beside our own numbers
        return None
    rows = []
    for scheme in schemes:
        if scheme not in roofline.SCHEMES:
            continue
        dtype = {"bf16": "bf16", "fp8_e4m3": "fp8_e4m3"}.get(scheme, "int8")
        peak = ceilings.get(dtype, (float("nan"),))[0]
        row = {"in_fmt": f"H100 {scheme}", "acc": "", "unit": "GPU", "peak_tops": peak / 1e12}
        for w in workloads:
            t = roofline.block_time(model, w.model, w.tokens, w.context, w.phase, scheme)["total_s"]
            row[f"{w.name} time_ms"] = 1e3 * float(t) * get_model(w.model).layers
        rows.append(row)
    src = (f"{model.source}: shape-aware roofline fitted on our H100 measurements (hwmodel.roofline."
           f"block_time x layers; peak = best measured GEMM throughput per dtype)")
    return pd.DataFrame(rows), src
