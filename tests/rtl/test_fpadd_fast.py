"""FpAddRound against the golden rounding (hwmodel.numerics.encode of the exact sum), amaranth.sim.

Fast: small accumulator formats, a few thousand vectors each (directed corners + seeded random),
so that every path (swap, far/near alignment, cancellation, subnormal, overflow, ties, specials) is
hit in seconds. The exhaustive and 100k-vector runs are the cocotb benches in tests/sim.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from amaranth.sim import Simulator

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import parse_format
from hwmodel.numerics import decode, encode, is_nan
from rtl.config import ProductShape
from rtl.fpadd import FpAddRound

SEED = 20261125

CONFIGS = {
    # accumulator, operand shape: FP8 products into an 8-bit IEEE-style float (overflow and
    # underflow both reachable), FP4 products into a narrow-exponent format, a wide fixed-point
    # operand (a Kulisch/adder-tree sum) and FP8 products into FP16.
    "e4m3ieee_x_e4m3prod": ("fp(e=4,m=3)", ProductShape.of(parse_format("e4m3"), parse_format("e4m3"))),
    "e3m4_x_e2m1prod": ("fp(e=3,m=4)", ProductShape.of(parse_format("e2m1"), parse_format("e2m1"))),
    "e5m2_x_fixed24": ("fp(e=5,m=2)", ProductShape.fixed(-16, 24)),
    "fp16_x_e4m3prod": ("fp16", ProductShape.of(parse_format("e4m3"), parse_format("e4m3"))),
}


def golden_code(F, acc_code: int, sign: int, exp: int, sig: int, nan: int, inf: int, zero: int) -> int:
    """encode_F(decode(acc) + operand), the sum formed exactly (checked to fit float64)."""
    a = float(decode(F, np.array([acc_code], dtype=np.uint64))[0])
    if nan:
        p = math.nan
    elif inf:
        p = -math.inf if sign else math.inf
    elif zero or sig == 0:
        p = -0.0 if sign else 0.0
    else:
        p = float(Fraction(-sig if sign else sig) * Fraction(2) ** exp)
    if math.isfinite(a) and math.isfinite(p) and p != 0:
        exact = Fraction(a) + Fraction(p)
        total = float(exact)
        if Fraction(total) != exact:
            raise AssertionError("test vector sum does not fit float64 exactly; narrow the test")
    else:
        total = a + p    # IEEE float64 rules for NaN, inf and signed zeros are the contract's
    return int(encode(F, np.array([total]))[0])


def vectors(F, shape, n_random: int, seed: int):
    """Directed corners then seeded random (acc, sign, exp, sig, nan, inf, zero) tuples."""
    E, M = F.exp_bits, F.man_bits
    S = F.bits - 1
    inf_c = ((1 << E) - 1) << M
    nan_c = inf_c | (1 << (M - 1))
    max_c = inf_c - 1
    one_c = F.bias << M
    emn, emx = shape.exp_min, shape.exp_max
    W = shape.sig_width

    def clampe(e):
        return min(max(e, emn), emx)

    v = []
    for acc in (0, 1 << S):                       # +-0 acc with +-0 operand
        for s in (0, 1):
            v.append((acc, s, emn, 0, 0, 0, 1))
    for acc in (0, 1 << S, one_c, inf_c, inf_c | 1 << S, nan_c):   # specials both ways
        for s in (0, 1):
            v.append((acc, s, emn, 1, 0, 1, 0))   # +-inf operand
            v.append((acc, s, emn, 1, 1, 0, 0))   # NaN operand
            v.append((acc, s, clampe(0), 1, 0, 0, 0))
    # overflow: max + max (where the operand can reach it)
    top_e = clampe(F.emax - W + 1)
    v.append((max_c, 0, top_e, (1 << W) - 1, 0, 0, 0))
    v.append((max_c | 1 << S, 1, top_e, (1 << W) - 1, 0, 0, 0))
    # catastrophic cancellation: acc = 1.0 minus the operand 1.0 (and 1 - 1.0 - ulp)
    for sig, e in ((1, 0), (1 << (W - 1), -(W - 1))):
        if emn <= e <= emx:
            v.append((one_c, 1, e, sig, 0, 0, 0))
            v.append((one_c + 1, 1, e, sig, 0, 0, 0))
    # ties: acc = 1.0 or 1.0 + ulp, operand = half an ulp (to even: down, then up)
    e_half = -(M + 1)
    if emn <= e_half <= emx:
        for acc in (one_c, one_c + 1, one_c | 1 << S, (one_c + 1) | 1 << S):
            v.append((acc, acc >> S, e_half, 1, 0, 0, 0))
    # smallest subnormals of F: 2^(emin-M) + 2^(emin-M) and its negative
    e_sub = F.emin - M
    if emn <= e_sub <= emx:
        v.append((1, 0, e_sub, 1, 0, 0, 0))
        v.append((1, 1, e_sub, 3, 0, 0, 0))
        v.append((0, 1, e_sub - 1 if e_sub - 1 >= emn else e_sub, 1, 0, 0, 0))  # tiny: rounds to -0
    rng = random.Random(seed)
    for _ in range(n_random):
        acc = rng.randrange(1 << F.bits)
        s = rng.randrange(2)
        sig = rng.randrange(1 << W) >> rng.choice((0, 0, 0, 1, 2, rng.randrange(W)))
        if rng.random() < 0.15:
            sig = (1 << W) - 1 - rng.randrange(3)  # long runs of ones: rounding carries
        ef = (acc >> M) & ((1 << E) - 1)
        if rng.random() < 0.8:   # operand top near the accumulator's top: alignment + cancellation
            e = max(ef, 1) - F.bias + 1 - W + rng.randint(-F.precision - 3, F.precision + 3)
        else:
            e = rng.randint(emn, emx)
        flags = [0, 0, 0]
        if rng.random() < 0.01:
            flags[rng.randrange(3)] = 1
        v.append((acc, s, clampe(e), sig, *flags))
    return v


def run_core(F, shape, vecs, mutant=None, acc_zero=False):
    """Drive FpAddRound with each vector; return the list of mismatches (vector, rtl, golden)."""
    dut = FpAddRound(F, shape, mutant, acc_zero=acc_zero)
    bad = []

    async def bench(ctx):
        for vec in vecs:
            acc, s, e, sig, nan, inf, zero = vec
            ctx.set(dut.acc, acc)
            for name, val in zip(("sign", "exp", "sig", "nan", "inf", "zero"), (s, e, sig, nan, inf, zero)):
                ctx.set(getattr(dut.product, name), val)
            got = ctx.get(dut.result)
            want = golden_code(F, *vec)
            both_nan = bool(is_nan(F, np.array([got, want], dtype=np.uint64)).all())
            if got != want and not both_nan:
                bad.append((vec, got, want))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return bad


@pytest.mark.parametrize("key", list(CONFIGS))
def test_fpadd_matches_golden(key):
    F = parse_format(CONFIGS[key][0])
    shape = CONFIGS[key][1]
    vecs = vectors(F, shape, 500, SEED)
    bad = run_core(F, shape, vecs)
    assert not bad, (f"FpAddRound({F.name}, {shape}) seed {SEED}: {len(bad)} of {len(vecs)} vectors "
                     f"differ; first (acc, sign, exp, sig, nan, inf, zero), rtl, golden: "
                     + "; ".join(f"{v} rtl={g:#x} golden={w:#x}" for v, g, w in bad[:3]))


@pytest.mark.parametrize("acc, lsb, width", [("fp(e=5,m=2)", -16, 24), ("fp16", -18, 49),
                                              ("bf16", -40, 40)])
def test_fpadd_readout_mode_matches_golden(acc, lsb, width):
    """acc_zero=True (Kulisch read-out): round a fixed-point sum on its own, one rounding."""
    F = parse_format(acc)
    shape = ProductShape.fixed(lsb, width)
    vecs = [(0, *v[1:]) for v in vectors(F, shape, 500, SEED)]
    rng = random.Random(SEED)
    for _ in range(300):   # magnitudes spread over the whole register (not near an accumulator)
        top = rng.randrange(1, width + 1)
        vecs.append((0, rng.randrange(2), lsb, rng.randrange(1 << top), 0, 0, 0))
    bad = run_core(F, shape, vecs, acc_zero=True)
    assert not bad, (f"FpAddRound({F.name}, {shape}, acc_zero) seed {SEED}: {len(bad)} differ; "
                     + "; ".join(f"{v} rtl={g:#x} golden={w:#x}" for v, g, w in bad[:3]))


def test_truncating_mutant_is_caught():
    F = parse_format("fp(e=4,m=3)")
    shape = CONFIGS["e4m3ieee_x_e4m3prod"][1]
    vecs = vectors(F, shape, 300, SEED)
    bad = run_core(F, shape, vecs, mutant="fpacc_rtz")
    assert len(bad) > 10   # truncation differs from RNE on every inexact sum above the half ulp


@pytest.mark.parametrize("spec", ["e4m3", "fp(e=4,m=3,nan=fnuz)", "e2m1", "int8", "fp(e=3,m=0)"])
def test_rejects_non_ieee_accumulator(spec):
    with pytest.raises(UnsupportedConfig, match="IEEE-style"):
        FpAddRound(parse_format(spec), ProductShape.fixed(0, 8))


def test_rejects_unknown_mutant():
    with pytest.raises(UnsupportedConfig, match="mutant must be one of"):
        FpAddRound(parse_format("fp16"), ProductShape.fixed(0, 8), mutant="bogus")
