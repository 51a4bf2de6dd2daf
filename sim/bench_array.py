"""cocotb bench of rtl.array.MacArray: random GEMM tiles against hwmodel.numerics.gemm.

Run through sim.runner.run_bench(ArrayConfig(...), "sim.bench_array"); the config arrives as JSON.
Each tile C = A (R x K) . B (K x C) is streamed in unskewed (column k of A and row k of B in one
cycle, `clear` with k = 0), the bench waits `config.latency` edges after the last step (read from
the config), pulses `drain` and reads the R rows from c_row/c_index/c_valid. Every PE's register
is compared with numerics.gemm(..., codes=True), the golden output-stationary array with the MAC
unit's semantics (float: one rounding per product; int: wrap/saturate; Kulisch: the raw register).
Operands as in sim.bench_dot (Gaussian at a random scale per tile, quantised with saturation, or
uniformly random codes). HWDSE_TILES (default 8) tiles of depth HWDSE_K (default 64); seed
HWDSE_SEED (default 12345), logged. Float results compare as codes, NaN by class.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from hwmodel import numerics
from sim.bench_dot import gemm_operands, pack
from sim.runner import config_from_env

MAX_REPORT = 8


def golden_tile(cfg, A, B) -> np.ndarray:
    """Register contents (R, C) as unsigned acc_width-bit codes."""
    mac = cfg.mac
    with np.errstate(invalid="ignore"):
        res = numerics.gemm(cfg.in_fmt, A, cfg.in_fmt, B, mac.acc, codes=True)
    if mac.acc.kind == "kulisch":
        res = res.acc_int
    mask = (1 << cfg.acc_width) - 1
    return np.array([[int(v) & mask for v in row] for row in np.asarray(res).tolist()], dtype=object)


@cocotb.test()
async def array_matches_golden(dut):
    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    tiles = int(os.environ.get("HWDSE_TILES", "8"))
    K = int(os.environ.get("HWDSE_K", "64"))
    R, C, bits, W = cfg.rows, cfg.cols, cfg.in_fmt.bits, cfg.acc_width
    rng = np.random.default_rng(seed)
    fmt = cfg.acc.fmt if cfg.acc.kind == "float" else None

    cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
    dut.rst.value = 1
    for h in (dut.valid_in, dut.clear, dut.drain):
        h.value = 0
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)

    msgs, n_bad, checked, n_finite = [], 0, 0, 0
    for t in range(tiles):
        A, B, how = gemm_operands(cfg, rng, R, K, C)
        gold = golden_tile(cfg, A, B)
        if fmt is not None:   # coverage: outputs that are numbers, not NaN/inf
            n_finite += int(np.isfinite(numerics.decode(fmt, gold.astype(np.uint64))).sum())
        for k in range(K):
            dut.a_col.value = pack(A[:, k], bits)
            dut.b_row.value = pack(B[k, :], bits)
            dut.valid_in.value = 1
            dut.clear.value = int(k == 0)
            await FallingEdge(dut.clk)
        dut.valid_in.value = 0
        dut.clear.value = 0
        for _ in range(cfg.latency - 1):   # the loop's last edge sampled step K-1
            await FallingEdge(dut.clk)
        dut.drain.value = 1
        await FallingEdge(dut.clk)
        dut.drain.value = 0
        got = np.zeros((R, C), dtype=object)
        drained = True
        for r in range(R):
            if not (int(dut.c_valid.value) and int(dut.c_index.value) == r):
                msgs.append(f"{cfg.name} tile {t}: drain row {r}: c_valid={dut.c_valid.value} "
                            f"c_index={dut.c_index.value}, expected valid row {r}")
                drained = False
                break
            word = int(dut.c_row.value)
            for j in range(C):
                got[r, j] = (word >> (j * W)) & ((1 << W) - 1)
            await FallingEdge(dut.clk)
        if not drained:   # the stream protocol broke: the rest would only repeat the failure
            break
        for i in range(R):
            for j in range(C):
                g, w = int(got[i, j]), int(gold[i, j])
                same = g == w or (fmt is not None and bool(numerics.is_nan(
                    fmt, np.array([g, w], dtype=np.uint64)).all()))
                checked += 1
                if not same:
                    n_bad += 1
                    if len(msgs) < MAX_REPORT:
                        msgs.append(f"{cfg.name} seed {seed} tile {t} ({how}) C[{i}][{j}]: "
                                    f"A row {[hex(int(x)) for x in A[i]]}, B col "
                                    f"{[hex(int(x)) for x in B[:, j]]}: rtl {g:#x}, golden gemm {w:#x}")
    dut._log.info(f"HWDSE {cfg.name}: {tiles} tiles {R}x{K}x{C} (seed {seed}), {checked} outputs "
                  f"checked ({n_finite if fmt is not None else checked} finite), {n_bad} mismatches")
    assert checked > 0 or msgs, f"{cfg.name}: nothing checked"
    if n_bad > len(msgs):
        msgs.append(f"... {n_bad} mismatching outputs in all")
    assert not msgs, "\n".join(msgs)
