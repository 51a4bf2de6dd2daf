"""DotUnit in amaranth.sim against the contract derived independently of the golden model's code:
acc <- encode_F(acc + sum of the exact products) (float; the sum formed with Fraction) or the
two's-complement wrap/saturate sum (int). Small configs, streamed with random valid/clear, so that
pipeline alignment (valid_out after `latency`) is checked too. Seconds.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from amaranth.sim import Simulator

from hwmodel.errors import UnsupportedConfig
from hwmodel.numerics import decode, encode, is_nan
from rtl.dot import DotConfig, DotUnit

SEED = 7


def round_add(F, acc_code: int, terms) -> int:
    """encode_F(decode(acc) + sum(terms)), the sum exact; IEEE rules for NaN/inf/signed zeros."""
    a = float(decode(F, np.array([acc_code], dtype=np.uint64))[0])
    vals = [a] + [float(t) for t in terms]
    if not all(math.isfinite(v) for v in vals) or all(v == 0 for v in vals):
        total = math.fsum(vals) if all(math.isfinite(v) for v in vals) else sum(vals)
        if all(v == 0 for v in vals):
            total = vals[0]
            for v in vals[1:]:
                total = total + v          # float64 signed-zero rules: -0 only if all are -0
    else:
        exact = sum((Fraction(v) for v in vals), Fraction(0))
        total = float(exact)
        if Fraction(total) != exact:
            raise AssertionError("test sum does not fit float64 exactly; narrow the test")
    return int(encode(F, np.array([total]))[0])


def int_add(fmt, acc: int, terms, mode: str) -> int:
    W = fmt.bits
    v = (acc - (1 << W) if acc >> (W - 1) else acc) + int(sum(int(t) for t in terms))
    if mode == "saturate":
        v = min(max(v, fmt.min_int), fmt.max_int)
    return v & ((1 << W) - 1)


def stream(cfg: DotConfig, n_cycles: int, seed: int):
    """Run random groups through DotUnit(cfg); return (rtl outputs, golden outputs, groups)."""
    dut = DotUnit(cfg)
    fi, F = cfg.in_fmt, cfg.acc.fmt
    rng = random.Random(seed)
    got, want, groups = [], [], []
    state = 0

    async def bench(ctx):
        nonlocal state
        for t in range(n_cycles + cfg.latency + 1):
            live = t < n_cycles
            valid = live and rng.random() < 0.85
            clear = live and rng.random() < 0.1
            a = [rng.randrange(1 << fi.bits) for _ in range(cfg.n)]
            b = [rng.randrange(1 << fi.bits) for _ in range(cfg.n)]
            for i in range(cfg.n):
                ctx.set(dut.a[i], a[i])
                ctx.set(dut.b[i], b[i])
            ctx.set(dut.valid_in, valid)
            ctx.set(dut.clear, clear)
            if valid:
                da = decode(fi, np.array(a, dtype=np.uint64))
                db = decode(fi, np.array(b, dtype=np.uint64))
                base = 0 if clear else state
                if cfg.acc.kind == "int":
                    state = int_add(F, base, [int(x) * int(y) for x, y in zip(da, db)], cfg.acc.mode)
                else:
                    with np.errstate(invalid="ignore"):
                        prods = [float(x) * float(y) for x, y in zip(da, db)]
                    state = round_add(F, base, prods)
                want.append(state)
                groups.append((a, b, clear))
            elif clear:
                state = 0
            await ctx.tick()
            if ctx.get(dut.valid_out):
                got.append(ctx.get(dut.acc_out))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got, want, groups


CONFIGS = [
    DotConfig("e4m3", "fp16", n=4, pipeline_stages=1),
    DotConfig("e3m4", "fp16", n=3, pipeline_stages=0),
    DotConfig("e2m1", "bf16", n=8, pipeline_stages=1),
    DotConfig("int8", "int32", n=4, pipeline_stages=1),
    DotConfig("int4", "int16:sat", n=8, pipeline_stages=0),
    DotConfig("int8", "fp16", n=2, pipeline_stages=1),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_dot_unit_matches_contract(cfg):
    got, want, groups = stream(cfg, 120, SEED)
    F = cfg.acc.fmt
    assert len(got) == len(want) > 70, f"{cfg.name}: {len(got)} outputs for {len(want)} groups"
    for k, (g, w) in enumerate(zip(got, want)):
        if g != w and not (cfg.acc.kind == "float" and is_nan(F, np.array([g, w], dtype=np.uint64)).all()):
            a, b, clear = groups[k]
            pytest.fail(f"{cfg.name} seed {SEED} group {k} (a={a}, b={b}, clear={clear}): "
                        f"rtl {g:#x}, golden {w:#x}")


def test_dot_unit_rtz_mutant_is_caught():
    cfg = DotConfig("e4m3", "fp16", n=4, mutant="fpacc_rtz")
    got, want, _ = stream(cfg, 100, SEED)
    assert sum(g != w for g, w in zip(got, want)) > 5


@pytest.mark.parametrize("kwargs, match", [
    (dict(in_fmt="e4m3", acc="fp16", n=0), "lanes N must be an int in 1..256"),
    (dict(in_fmt="e4m3", acc="fp16", pipeline_stages=3), "pipeline stages must be 0 or 1"),
    (dict(in_fmt="e4m3", acc="kulisch"), "Kulisch accumulator is not built"),
    (dict(in_fmt="bf16", acc="fp32"), "needs 522 bits per lane"),
    (dict(in_fmt="e4m3", acc="e4m3"), "IEEE-style"),
])
def test_dot_config_rejects(kwargs, match):
    with pytest.raises(UnsupportedConfig, match=match):
        DotConfig(**kwargs)


def test_dot_latency_and_name():
    cfg = DotConfig("e4m3", "fp32", n=8, pipeline_stages=1)
    assert cfg.latency == 2
    assert cfg.name == "dot8_float8_e4m3fn_float32_p1"
    # lane: 8-bit significand product shifted over the product exponent span (-18..10: 28),
    # plus sign, plus 3 carry bits for 8 lanes
    assert cfg.tree_lane_bits == 8 + 28 and cfg.tree_width == 8 + 28 + 1 + 3
