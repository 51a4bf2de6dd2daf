"""MacArray in amaranth.sim: small tiles streamed through the array, drained, and compared with
the output-stationary contract derived independently of the golden model's code (per PE:
acc <- encode_F(acc + a*b) for k in order; int: two's-complement wrap). Seconds.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from hwmodel.errors import UnsupportedConfig
from hwmodel.numerics import decode, is_nan
from rtl.array import ArrayConfig, MacArray
from test_dot_fast import int_add, round_add  # tests/rtl is on sys.path (rootdir-less import mode)

SEED = 11


def run_tiles(cfg: ArrayConfig, K: int, tiles: int, seed: int):
    """Stream `tiles` random K-step tiles (back to back: the next tile's clear overlaps nothing),
    drain each; return [(A, B, rtl C, golden C)]."""
    dut = MacArray(cfg)
    fi, F, R, C = cfg.in_fmt, cfg.acc.fmt, cfg.rows, cfg.cols
    rng = random.Random(seed)
    out = []

    async def bench(ctx):
        for _ in range(tiles):
            A = [[rng.randrange(1 << fi.bits) for _ in range(K)] for _ in range(R)]
            B = [[rng.randrange(1 << fi.bits) for _ in range(C)] for _ in range(K)]
            for k in range(K):
                for i in range(R):
                    ctx.set(dut.a_col[i], A[i][k])
                for j in range(C):
                    ctx.set(dut.b_row[j], B[k][j])
                ctx.set(dut.valid_in, 1)
                ctx.set(dut.clear, k == 0)
                await ctx.tick()
            ctx.set(dut.valid_in, 0)
            ctx.set(dut.clear, 0)
            for _ in range(cfg.latency - 1):     # the last step was sampled by the loop's last tick
                await ctx.tick()
            ctx.set(dut.drain, 1)
            await ctx.tick()
            ctx.set(dut.drain, 0)
            got = []
            for r in range(R):
                assert ctx.get(dut.c_valid) == 1 and ctx.get(dut.c_index) == r
                got.append([ctx.get(dut.c_row[j]) for j in range(C)])
                await ctx.tick()
            assert ctx.get(dut.c_valid) == 0
            dA = decode(fi, np.array(A, dtype=np.uint64))
            dB = decode(fi, np.array(B, dtype=np.uint64))
            want = [[0] * C for _ in range(R)]
            for i in range(R):
                for j in range(C):
                    acc = 0
                    for k in range(K):
                        if cfg.acc.kind == "int":
                            acc = int_add(F, acc, [int(dA[i, k]) * int(dB[k, j])], cfg.acc.mode)
                        else:
                            with np.errstate(invalid="ignore"):
                                acc = round_add(F, acc, [float(dA[i, k]) * float(dB[k, j])])
                    want[i][j] = acc
            out.append((A, B, got, want))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


CONFIGS = [
    ArrayConfig("e4m3", "fp16", rows=3, cols=2, pipeline_stages=1),
    ArrayConfig("e2m1", "bf16", rows=2, cols=3, pipeline_stages=2),
    ArrayConfig("int8", "int32", rows=2, cols=2, pipeline_stages=0),
    ArrayConfig("e5m2", "fp32", rows=1, cols=1, pipeline_stages=1),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_array_gemm_matches_contract(cfg):
    checked = 0
    for t, (A, B, got, want) in enumerate(run_tiles(cfg, K=6, tiles=2, seed=SEED)):
        F = cfg.acc.fmt
        for i in range(cfg.rows):
            for j in range(cfg.cols):
                g, w = got[i][j], want[i][j]
                same_nan = cfg.acc.kind == "float" and is_nan(F, np.array([g, w], dtype=np.uint64)).all()
                assert g == w or same_nan, (
                    f"{cfg.name} seed {SEED} tile {t} C[{i}][{j}]: A row {A[i]}, "
                    f"B col {[row[j] for row in B]}: rtl {g:#x}, golden {w:#x}")
                checked += 1
    assert checked == 2 * cfg.rows * cfg.cols


def test_array_rtz_mutant_is_caught():
    cfg = ArrayConfig("e4m3", "fp16", rows=2, cols=2, mutant="fpacc_rtz")
    diffs = sum(g != w for _, _, got, want in run_tiles(cfg, K=16, tiles=2, seed=SEED)
                for gr, wr in zip(got, want) for g, w in zip(gr, wr))
    assert diffs > 0


@pytest.mark.parametrize("rows, cols", [(0, 8), (8, 0), (65, 1), (2, 2.5), (True, 2)])
def test_array_rejects_impossible_shapes(rows, cols):
    with pytest.raises(UnsupportedConfig, match=r"array (rows|cols) must be an int in 1\.\.64"):
        ArrayConfig("int8", "int32", rows=rows, cols=cols)


def test_array_latency_and_name():
    cfg = ArrayConfig("int8", "int32", rows=8, cols=4, pipeline_stages=1)
    # skew hops: 7 down + 3 across, then the MAC's product register and accumulator register
    assert cfg.latency == 7 + 3 + 2
    assert cfg.name == "array8x4_int8_int32_p1"
