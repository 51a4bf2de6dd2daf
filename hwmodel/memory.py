"""Data movement priced: SRAM buffers and register files per access, DRAM per bit, operand traffic.

Sources (tables under hwmodel/data/, each row with a `source`):
    memory_cacti.csv  CACTI 7 (through the hwcomponents-cacti plug-in, 45 nm, 1 RW port, 1 bank):
                      read/write energy per access, area, leakage for word widths 8..512 bits
                      and capacities 64 B..4 MiB (scripts/cacti_memory_table.py writes it).
    dram_energy.csv   DRAM energy per bit by kind (DDR3, LPDDR, LPDDR4, HBM2, HBM3, Horowitz 45 nm).

Functions are small, vectorised (numpy broadcasting) and pure; units are in their names.
    sram_read_energy_pj(width_bits, capacity_bytes)  / sram_write_energy_pj / sram_area_um2 /
    sram_leak_power_w: log-log interpolation in the CACTI grid (UnsupportedConfig outside it).
    regfile_read_energy_pj(width_bits, entries) / regfile_write_energy_pj: the same CACTI model
        at register-file sizes (64 B..); CACTI's smallest arrays, not a flip-flop file.
    dram_energy_pj_per_bit(kind)
    operand_bits(fmt): bits stored per element: Format.bits, or BlockFormat.bits_per_element
        (element plus its share of the block's scale).
    gemm_traffic_bits(m, n, k, fmt, rows, cols, out_bits) -> dict of bits per level
    gemm_energy_pj(m, n, k, fmt, mac_energy_pj, rows, cols, ...) -> dict (mac, buffer, dram, total)
    workload_energy_j(model, phase, tokens, context, fmt, mac_energy_pj, ...) -> dict

Traffic model (an R x C output-stationary array below one on-chip buffer, below DRAM): every
operand and result crosses DRAM once (the buffer is assumed to hold a tile's working set: the
least traffic, as the iso-area roofline assumes); the array computes R x C outputs per tile, and
for each tile reads R x K elements of A and K x C of B from the buffer (in words of R resp. C
elements), so A is read ceil(N/C) times and B ceil(M/R) times; results are written to the buffer
once and to DRAM once. Operand forwarding inside the array is part of the array's own energy.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel.errors import DataError, UnsupportedConfig

DATA = Path(__file__).parent / "data"
CACTI_CSV = DATA / "memory_cacti.csv"
DRAM_CSV = DATA / "dram_energy.csv"
OUT_BITS = 16          # GEMM results and activations leave the array in 16 bits (as analysis.isoarea)


@functools.lru_cache(maxsize=1)
def cacti_table() -> pd.DataFrame:
    """memory_cacti.csv; DataError on a row without a source."""
    df = pd.read_csv(CACTI_CSV)
    if df["source"].isna().any() or (df["source"].astype(str).str.strip() == "").any():
        raise DataError(f"{CACTI_CSV}: every row needs a source")
    return df


@functools.lru_cache(maxsize=1)
def dram_table() -> pd.DataFrame:
    df = pd.read_csv(DRAM_CSV)
    if df["source"].isna().any():
        raise DataError(f"{DRAM_CSV}: every row needs a source")
    return df


@functools.lru_cache(maxsize=8)
def _grid(column: str):
    df = cacti_table()
    widths = np.array(sorted(df["width_bits"].unique()), dtype=float)
    caps = np.array(sorted(df["capacity_bytes"].unique()), dtype=float)
    g = df.pivot(index="width_bits", columns="capacity_bytes", values=column).reindex(
        index=widths.astype(int), columns=caps.astype(int)).to_numpy(dtype=float)
    return np.log2(widths), np.log2(caps), np.log(g)


def _interp(column: str, width_bits, capacity_bytes) -> np.ndarray:
    """Bilinear interpolation of log(value) in (log2 width, log2 capacity) over the CACTI grid."""
    lw, lc, lg = _grid(column)
    w = np.asarray(width_bits, dtype=float)
    c = np.asarray(capacity_bytes, dtype=float)
    w, c = np.broadcast_arrays(w, c)
    if np.any(~(w > 0)) or np.any(~(c > 0)):
        raise UnsupportedConfig(f"width_bits and capacity_bytes must be positive, not {width_bits!r}, "
                                f"{capacity_bytes!r}")
    x, y = np.log2(w), np.log2(c)
    if np.any(x < lw[0] - 1e-9) or np.any(x > lw[-1] + 1e-9) or np.any(y < lc[0] - 1e-9) or np.any(y > lc[-1] + 1e-9):
        raise UnsupportedConfig(f"memory word width must be in {2 ** lw[0]:.0f}..{2 ** lw[-1]:.0f} bits and "
                                f"capacity in {2 ** lc[0]:.0f}..{2 ** lc[-1]:.0f} bytes (the CACTI table), "
                                f"not {width_bits!r} bits, {capacity_bytes!r} bytes")
    i = np.clip(np.searchsorted(lw, x, side="right") - 1, 0, len(lw) - 2)
    j = np.clip(np.searchsorted(lc, y, side="right") - 1, 0, len(lc) - 2)
    tx = (x - lw[i]) / (lw[i + 1] - lw[i])
    ty = (y - lc[j]) / (lc[j + 1] - lc[j])
    v = ((1 - tx) * (1 - ty) * lg[i, j] + tx * (1 - ty) * lg[i + 1, j]
         + (1 - tx) * ty * lg[i, j + 1] + tx * ty * lg[i + 1, j + 1])
    # an exact grid point must not depend on a missing neighbour weighted by 0
    exact = np.isclose(tx, 0) & np.isclose(ty, 0)
    v = np.where(exact, lg[i, j], v)
    if np.any(np.isnan(v)):
        raise UnsupportedConfig(f"a memory of {capacity_bytes!r} bytes must hold at least 4 words of "
                                f"{width_bits!r} bits (smaller ones are not in the CACTI table)")
    return np.exp(v)


def sram_read_energy_pj(width_bits, capacity_bytes) -> np.ndarray:
    """Energy (pJ) of one read of a width_bits word from an SRAM of capacity_bytes (CACTI, 45 nm)."""
    return _interp("read_energy_pj", width_bits, capacity_bytes)


def sram_write_energy_pj(width_bits, capacity_bytes) -> np.ndarray:
    """Energy (pJ) of one write of a width_bits word (CACTI, 45 nm)."""
    return _interp("write_energy_pj", width_bits, capacity_bytes)


def sram_area_um2(width_bits, capacity_bytes) -> np.ndarray:
    """Area (um^2) of the SRAM (CACTI, 45 nm)."""
    return _interp("area_um2", width_bits, capacity_bytes)


def sram_leak_power_w(width_bits, capacity_bytes) -> np.ndarray:
    """Standby leakage (W) of the SRAM (CACTI, 45 nm)."""
    return _interp("leak_power_uw", width_bits, capacity_bytes) * 1e-6


def regfile_read_energy_pj(width_bits, entries) -> np.ndarray:
    """Energy (pJ) of one read of a register file of `entries` words (CACTI at small sizes)."""
    w = np.asarray(width_bits, dtype=float)
    return sram_read_energy_pj(w, w * np.asarray(entries, dtype=float) / 8)


def regfile_write_energy_pj(width_bits, entries) -> np.ndarray:
    w = np.asarray(width_bits, dtype=float)
    return sram_write_energy_pj(w, w * np.asarray(entries, dtype=float) / 8)


def dram_energy_pj_per_bit(kind: str = "hbm2") -> float:
    """Energy per bit moved to or from DRAM of `kind` (dram_energy.csv; the low end of a range)."""
    t = dram_table()
    row = t[t["kind"] == str(kind).lower()]
    if row.empty:
        raise UnsupportedConfig(f"DRAM kind must be one of {', '.join(t['kind'])}, not {kind!r}")
    return float(row["energy_pj_per_bit"].iloc[0])


def operand_bits(fmt) -> float:
    """Bits stored per operand element: the format's width, or for a block format the element
    plus its share of the shared scale (BlockFormat.bits_per_element)."""
    from hwmodel.formats import parse_format
    f = parse_format(fmt)
    return float(getattr(f, "bits_per_element", f.bits))


def _check_dims(**dims) -> None:
    for k, v in dims.items():
        if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
            raise UnsupportedConfig(f"{k} must be an int >= 1, not {v!r}")


def gemm_traffic_bits(m: int, n: int, k: int, fmt, rows: int = 8, cols: int = 8,
                      out_bits: float = OUT_BITS) -> dict:
    """Bits moved for C[M,N] = A[M,K] @ B[K,N] on an R x C output-stationary array (module doc):
    dram_read_bits, dram_write_bits, buffer_read_bits (array operand reads), buffer_write_bits
    (DRAM fills + results), and the element counts behind them."""
    _check_dims(m=m, n=n, k=k, rows=rows, cols=cols)
    b = operand_bits(fmt)
    tiles_m, tiles_n = math.ceil(m / rows), math.ceil(n / cols)
    a_reads = m * k * tiles_n          # each A row block is streamed once per column tile
    b_reads = n * k * tiles_m
    return {"operand_bits": b, "dram_read_bits": (m * k + k * n) * b, "dram_write_bits": m * n * out_bits,
            "buffer_read_bits": (a_reads + b_reads) * b,
            "buffer_write_bits": (m * k + k * n) * b + m * n * out_bits,
            "a_buffer_reads": a_reads, "b_buffer_reads": b_reads, "macs": m * n * k}


def buffer_energy_pj_per_bit(word_bits: float, capacity_bytes: float) -> tuple[float, float]:
    """(read, write) energy per bit of a buffer accessed in words of word_bits."""
    return (float(sram_read_energy_pj(word_bits, capacity_bytes)) / word_bits,
            float(sram_write_energy_pj(word_bits, capacity_bytes)) / word_bits)


def gemm_energy_pj(m: int, n: int, k: int, fmt, mac_energy_pj: float, rows: int = 8, cols: int = 8,
                   buffer_bytes: float = 1 << 20, dram: str = "hbm2", out_bits: float = OUT_BITS) -> dict:
    """Energy (pJ) of one GEMM: MACs (mac_energy_pj each, from the caller's measurement), buffer
    reads and writes (CACTI, words of max(rows, cols) elements, clamped to 8..512 bits) and DRAM
    (per bit). Returns mac_pj, buffer_pj, dram_pj, total_pj and the traffic."""
    if not (mac_energy_pj >= 0):
        raise UnsupportedConfig(f"mac_energy_pj must be a number >= 0, not {mac_energy_pj!r}")
    t = gemm_traffic_bits(m, n, k, fmt, rows, cols, out_bits)
    word = float(np.clip(max(rows, cols) * t["operand_bits"], 8, 512))
    rd, wr = buffer_energy_pj_per_bit(word, buffer_bytes)
    e_dram = dram_energy_pj_per_bit(dram)
    out = {"mac_pj": t["macs"] * mac_energy_pj,
           "buffer_pj": t["buffer_read_bits"] * rd + t["buffer_write_bits"] * wr,
           "dram_pj": (t["dram_read_bits"] + t["dram_write_bits"]) * e_dram,
           "buffer_word_bits": word, **t}
    out["total_pj"] = out["mac_pj"] + out["buffer_pj"] + out["dram_pj"]
    return out


def workload_energy_j(model: str, phase: str, tokens: int, context: int, fmt, mac_energy_pj: float,
                      rows: int = 8, cols: int = 8, buffer_bytes: float = 1 << 20, dram: str = "hbm2",
                      act_bytes: int = 2) -> dict:
    """Energy (J) of one step of a transformer (all layers): the four weight GEMMs per block in
    `fmt` (gemm_energy_pj), the attention core's MACs (QK^T, PV; operands 16-bit from the
    buffer, counted as MACs only), and the memory-bound operators' bytes (hwmodel.workloads.
    nongemm_ops: norms, residuals, softmax or the KV-cache read) through DRAM. Per token: divide
    by `tokens` (prefill) or it is the step (decode, batch `tokens`)."""
    from hwmodel.workloads import attention_flops, get_model, nongemm_ops
    cfg = get_model(model)
    parts = {"mac_j": 0.0, "buffer_j": 0.0, "dram_j": 0.0}
    for _, n, k in cfg.linear_layers():
        g = gemm_energy_pj(tokens, n, k, fmt, mac_energy_pj, rows, cols, buffer_bytes, dram)
        parts["mac_j"] += g["mac_pj"] * 1e-12
        parts["buffer_j"] += g["buffer_pj"] * 1e-12
        parts["dram_j"] += g["dram_pj"] * 1e-12
    parts["mac_j"] += attention_flops(cfg, tokens, context) / 2 * mac_energy_pj * 1e-12
    moved = sum(op.bytes for op in nongemm_ops(cfg, tokens, context, act_bytes, phase))
    parts["dram_j"] += moved * 8 * dram_energy_pj_per_bit(dram) * 1e-12
    out = {k: v * cfg.layers for k, v in parts.items()}
    out["total_j"] = out["mac_j"] + out["buffer_j"] + out["dram_j"]
    out["per_token_j"] = out["total_j"] / tokens
    return out
