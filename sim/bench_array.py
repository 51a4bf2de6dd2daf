"""cocotb bench of rtl.array.MacArray: random GEMM tiles against hwmodel.numerics.gemm.

Run through sim.runner.run_bench(ArrayConfig(...), "sim.bench_array"); the config arrives as JSON.
Each tile C = A (R x K) . B (K x C) is streamed in unskewed (column k of A and row k of B in one
cycle, `clear` with k = 0) through sim.testbench.Testbench, which pauses the stream at seeded
random steps (valid low for 1..6 cycles, garbage on a_col/b_row) and after the last one; the bench
then waits `config.latency` edges after the last step (read from the config), pulses `drain` and
reads the R rows from c_row/c_index/c_valid. A PE that took garbage or lost its sum during a pause
shows in the drained result. Every PE's register
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

from hwmodel import numerics
from sim.bench_dot import gemm_operands, pack
from sim.runner import config_from_env
from sim.testbench import Testbench

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

    # no valid_out: the PEs' registers are read by draining them after the tile
    tb = Testbench(dut, latency=cfg.latency, seed=seed, valid_out=None)
    await tb.reset(2, hold_low=("drain",))
    await tb.wait(1)

    msgs, n_bad, checked, n_finite, inside, idle = [], 0, 0, 0, 0, 0
    for t in range(tiles):
        A, B, how = gemm_operands(cfg, rng, R, K, C)
        gold = golden_tile(cfg, A, B)
        if fmt is not None:   # coverage: outputs that are numbers, not NaN/inf
            n_finite += int(np.isfinite(numerics.decode(fmt, gold.astype(np.uint64))).sum())
        # step k: column k of A and row k of B; pauses (valid low, garbage operands) inside the
        # tile must leave every PE's accumulator as it was, which the drained result shows
        run = await tb.stream({"a_col": [pack(A[:, k], bits) for k in range(K)],
                               "b_row": [pack(B[k, :], bits) for k in range(K)],
                               "clear": [int(k == 0) for k in range(K)]})
        inside += run.pauses_inside
        idle += run.idle_cycles
        # stream() returned `latency` edges after the last step was sampled, after a pause
        dut.drain.value = 1
        await tb.wait(1)
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
            await tb.wait(1)
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
                  f"checked ({n_finite if fmt is not None else checked} finite), {n_bad} mismatches; "
                  f"{inside} pauses inside tiles ({idle} idle cycles)")
    assert checked > 0 or msgs, f"{cfg.name}: nothing checked"
    assert inside > 0 or msgs, f"{cfg.name}: no pause inside a tile was checked"
    if n_bad > len(msgs):
        msgs.append(f"... {n_bad} mismatching outputs in all")
    assert not msgs, "\n".join(msgs)
