"""Iso-area accelerator, whole: each format's MAC array plus its on-chip buffer in one silicon budget,
at one clock, running transformer workloads; energy and time per token beside the measured GPU.

Needs hwmodel.memory (data movement priced: CACTI SRAM energy/area per access, DRAM energy per bit).
Without it `available()` is False and the iso-area section says so (`missing_reason()`).

For each design (a row of analysis.isoarea.isoarea_table at one clock, with its energy per MAC from
the sweep):
    buffer      one SRAM of `buffer_bytes` (default 1 MiB), its area from CACTI (um^2) turned into
                gate equivalents by the NAND2_X1 area of rtl/lib/cells.csv (Nangate 45 nm), taken
                out of the budget first; the rest holds MAC units (units = floor(rest / unit area))
    array       a square-ish R x C array of those units (R = floor(sqrt(units)), C = units // R), for
                the buffer traffic model (hwmodel.memory.gemm_traffic_bits)
    time        analysis.isoarea.workload_time_s at the array's peak ops/s and the memory bandwidth
                (roofline: compute-bound prefill, memory-bound decode), per token = / tokens
    delivered   workload ops (2 x MACs of every GEMM and the attention core) / time
    energy      hwmodel.memory.workload_energy_j (MACs at the measured pJ/MAC, buffer accesses,
                DRAM bits at the operand width), per token
The GPU beside it: analysis.isoarea.h100_reference (fitted on our H100 measurements), time only.

Contract
    available() -> bool;  missing_reason() -> str
    accelerator_table(table, sweep, budget_ge, bandwidth_gb_s, buffer_bytes=1 MiB, dram="hbm3",
                      workloads=WORKLOADS) -> DataFrame: one row per design x workload
    winners(frame) -> DataFrame: per workload, the design with the least time and the least energy
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from hwmodel.errors import UnsupportedConfig

from analysis.design import unit_macs
from analysis.isoarea import WORKLOADS, _bits, _spec, workload_time_s

CELLS_CSV = Path(__file__).resolve().parents[1] / "rtl" / "lib" / "cells.csv"
BUFFER_BYTES = 1 << 20


def available() -> bool:
    try:
        import hwmodel.memory  # noqa: F401
    except ImportError:
        return False
    return True


def missing_reason() -> str:
    return ("the whole-accelerator view (array plus buffers, energy per token) needs hwmodel.memory "
            "(data movement priced), which this checkout does not have yet")


def nand2_um2() -> float:
    """NAND2_X1 area (um^2) from rtl/lib/cells.csv: one gate equivalent in ge.lib."""
    with open(CELLS_CSV, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["cell"] == "NAND2":
                return float(row["area_um2"])
    raise UnsupportedConfig(f"{CELLS_CSV} has no NAND2 row")


def workload_ops(w) -> float:
    """Operations (2 per MAC) of one step of the workload: weight GEMMs and attention core, all layers."""
    from hwmodel.workloads import attention_flops, get_model
    m = get_model(w.model)
    gemm = sum(2.0 * w.tokens * n * k for _, n, k in m.linear_layers())
    return (gemm + attention_flops(m, w.tokens, w.context)) * m.layers


def accelerator_table(table: pd.DataFrame, sweep: pd.DataFrame, budget_ge: float, bandwidth_gb_s: float,
                      buffer_bytes: float = BUFFER_BYTES, dram: str = "hbm3",
                      workloads=WORKLOADS) -> pd.DataFrame:
    """One row per (design, workload): units after the buffer, array shape, peak and delivered
    TOPS, time and energy per token (see the module docstring)."""
    from hwmodel import memory
    from hwmodel.formats import parse_format
    if not (budget_ge and budget_ge > 0):
        raise UnsupportedConfig(f"the whole-accelerator view needs a budget in gate equivalents, not {budget_ge!r}")
    buf_word = 512.0
    buffer_ge = float(memory.sram_area_um2(buf_word, buffer_bytes)) / nand2_um2()
    if buffer_ge >= budget_ge:
        raise UnsupportedConfig(f"budget_ge must hold the {buffer_bytes:g}-byte buffer ({buffer_ge:.4g} GE), "
                                f"not {budget_ge!r}")
    energy = {}
    if "energy_pj" in sweep:
        for _, r in sweep.iterrows():
            e = pd.to_numeric(pd.Series([r.get("energy_pj")]), errors="coerce").iloc[0]
            if e == e:
                energy[(_spec(r), r["acc"])] = float(e)
    rows = []
    for _, r in table.iterrows():
        spec = _spec(r)
        units = int((budget_ge - buffer_ge) // float(r["unit_area_ge"]))
        if units < 1:
            continue
        rr = max(1, int(math.isqrt(units)))
        cc = units // rr
        clock_hz = float(r["clock_ghz"]) * 1e9
        peak = 2.0 * rr * cc * unit_macs(r.get("unit", "mac")) * clock_hz  # bdot:N: N products a cycle
        e_mac = energy.get((spec, r["acc"]))
        fmt = parse_format(spec)
        for w in workloads:
            t = workload_time_s(w, peak, bandwidth_gb_s * 1e9, _bits(spec) / 8)
            row = {"in_fmt": r["in_fmt"], "acc": r["acc"], "workload": w.name, "phase": w.phase,
                   "units": rr * cc, "array": f"{rr}x{cc}", "buffer_ge": buffer_ge,
                   "clock_ghz": float(r["clock_ghz"]), "peak_tops": peak / 1e12,
                   "delivered_tops": workload_ops(w) / t / 1e12, "time_per_token_ms": 1e3 * t / w.tokens,
                   "energy_per_token_mj": float("nan"), "mac_share": float("nan"), "dram_share": float("nan")}
            if e_mac is not None:
                ej = memory.workload_energy_j(w.model, w.phase, w.tokens, w.context, fmt, e_mac, rows=rr,
                                              cols=cc, buffer_bytes=buffer_bytes, dram=dram)
                row["energy_per_token_mj"] = 1e3 * ej["per_token_j"]
                row["mac_share"] = ej["mac_j"] / ej["total_j"]
                row["dram_share"] = ej["dram_j"] / ej["total_j"]
            rows.append(row)
    return pd.DataFrame(rows)


def _names_at_min(g: pd.DataFrame, col: str, rel: float = 1e-3) -> str:
    """The designs within `rel` of the column's minimum (a tie is named as one), ' = '-joined."""
    m = float(g[col].min())
    near = g[g[col] <= m * (1 + rel)]
    return " = ".join(f"{r['in_fmt']}/{r['acc']}" for _, r in near.iterrows())


def winners(frame: pd.DataFrame) -> pd.DataFrame:
    """Per workload: the design with the least time per token and the one with the least energy
    (designs within 0.1% of the least are named together, as a tie)."""
    out = []
    for w, g in frame.groupby("workload", sort=False):
        e = g.dropna(subset=["energy_per_token_mj"])
        out.append({"workload": w, "phase": g["phase"].iloc[0],
                    "fastest": _names_at_min(g, "time_per_token_ms"),
                    "time_per_token_ms": float(g["time_per_token_ms"].min()),
                    "least_energy": _names_at_min(e, "energy_per_token_mj") if len(e) else None,
                    "energy_per_token_mj": float(e["energy_per_token_mj"].min()) if len(e) else None})
    return pd.DataFrame(out)
