"""cocotb bench of rtl.mul.Multiplier against hwmodel.numerics.mul_exact, bit for bit.

Run through sim.runner.run_bench(MulConfig(...), "sim.bench_mul"); the config arrives as JSON.
Operands of <= 8 bits each: every pair (up to 65,536). Wider: corner codes of each format (zeros,
±max, ±min normal/subnormal, every special code) crossed with each other, plus HWDSE_RANDOM
(default 100,000) seeded random pairs; the seed is logged.

Results compare as values: (-1)^sign * sig * 2^exp must equal the golden float64 product,
including the sign of zero (floats) and NaN by class; a failure message names config, operands,
RTL fields and golden value. The multiplier is combinational: vectors go in through
sim.testbench.Testbench.apply, which also holds seeded random vectors for a few more settle times
and re-samples them (the product must not change while nothing arrives).
"""

from __future__ import annotations

import os

import cocotb
import numpy as np

from hwmodel.formats import FloatFormat, IntFormat
from hwmodel.numerics import mul_exact
from sim.runner import config_from_env
from sim.testbench import Testbench

MAX_REPORT = 10


def corner_codes(fmt) -> np.ndarray:
    """Directed codes: zeros, ±1 ulp, ±min normal, ±max, and every special code of the format."""
    n = fmt.n_codes
    if isinstance(fmt, IntFormat):
        vals = {fmt.min_int, fmt.min_int + 1, -1, 0, 1, 2, fmt.max_int - 1, fmt.max_int}
        return np.array(sorted({v % n for v in vals if fmt.min_int <= v <= fmt.max_int}), dtype=np.uint64)
    f: FloatFormat = fmt
    M, E = f.man_bits, f.exp_bits
    mags = {0, 1, (1 << M) - 1 if M else 0, 1 << M, (1 << M) + 1,          # zero, subnormals, min normal
            (f.bias << M),                                                # 1.0
            ((1 << E) - 1) << M, (((1 << E) - 1) << M) | ((1 << M) - 1),  # top binade ends (specials)
            (((1 << E) - 2) << M) | ((1 << M) - 1),                       # max finite (IEEE)
            (((1 << E) - 1) << M) | ((1 << M) - 2 if M else 0)}           # max finite (fn)
    sign = 1 << (f.bits - 1) if f.signed else 0
    codes = set()
    for mag in mags:
        mag &= (1 << (E + M)) - 1
        codes.add(mag)
        if sign:
            codes.add(mag | sign)
    return np.array(sorted(codes), dtype=np.uint64)


def operand_pairs(fa, fb, seed: int, n_random: int):
    """(A, B, description): every pair for <= 8-bit operands, corners x corners + random otherwise."""
    if fa.bits <= 8 and fb.bits <= 8:
        A, B = np.meshgrid(np.arange(fa.n_codes, dtype=np.uint64),
                           np.arange(fb.n_codes, dtype=np.uint64), indexing="ij")
        return A.ravel(), B.ravel(), "exhaustive"
    ca, cb = corner_codes(fa), corner_codes(fb)
    A, B = np.meshgrid(ca, cb, indexing="ij")
    rng = np.random.default_rng(seed)
    ra = rng.integers(0, fa.n_codes, n_random, dtype=np.uint64)
    rb = rng.integers(0, fb.n_codes, n_random, dtype=np.uint64)
    return (np.concatenate([A.ravel(), ra]), np.concatenate([B.ravel(), rb]),
            f"{A.size} corner pairs + {n_random} random pairs (seed {seed})")


def rtl_values(cfg, raw: dict) -> np.ndarray:
    """float64 values of the RTL's product fields (exact: |sig| < 2^48, exponents in range)."""
    if cfg.is_int:
        w = cfg.value_width
        v = raw["value"].astype(np.int64)
        if cfg.value_signed:
            v = np.where(v >= (1 << (w - 1)), v - (1 << w), v)
        return v.astype(np.float64)
    shape = cfg.product
    w = shape.exp_width
    e = raw["exp"].astype(np.int64)
    e = np.where(e >= (1 << (w - 1)), e - (1 << w), e)
    val = np.ldexp(raw["sig"].astype(np.float64), e.astype(np.int32))
    val = np.where(raw["inf"] == 1, np.inf, val)
    val = np.where(raw["zero"] == 1, 0.0, val)
    val = np.where(raw["sign"] == 1, -val, val)
    return np.where(raw["nan"] == 1, np.nan, val)


def compare(cfg, A, B, got, gold, raw) -> list[str]:
    """Mismatch descriptions (NaN by class; sign of zero for floats; field consistency)."""
    both_nan = np.isnan(got) & np.isnan(gold)
    same = (got == gold) & (cfg.is_int | (np.signbit(got) == np.signbit(gold)))
    bad = ~(both_nan | same)
    if not cfg.is_int:
        # zero flag must agree with a zero significand on finite results
        fin = (raw["nan"] == 0) & (raw["inf"] == 0)
        bad |= fin & ((raw["zero"] == 1) != (raw["sig"] == 0))
        bad |= (raw["nan"] & raw["inf"]) == 1
    idx = np.flatnonzero(bad)
    msgs = []
    for i in idx[:MAX_REPORT]:
        fields = {k: int(v[i]) for k, v in raw.items()}
        msgs.append(f"{cfg.name}: a=0x{int(A[i]):x} b=0x{int(B[i]):x}: RTL {fields} = {got[i]!r}, "
                    f"golden mul_exact = {gold[i]!r}")
    if idx.size > MAX_REPORT:
        msgs.append(f"... {idx.size} mismatches in all")
    return msgs


@cocotb.test()
async def mul_matches_golden(dut):
    cfg = config_from_env()
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_random = int(os.environ.get("HWDSE_RANDOM", "100000"))
    A, B, how = operand_pairs(cfg.fmt_a, cfg.fmt_b, seed, n_random)
    names = ["value"] if cfg.is_int else ["sign", "exp", "sig", "nan", "inf", "zero"]
    ports = {k if cfg.is_int else f"p__{k}": k for k in names}
    tb = Testbench(dut, clock=None, seed=seed)
    got_ports, run = await tb.apply({"a": A, "b": B}, list(ports))
    raw = {k: got_ports[port] for port, k in ports.items()}
    got = rtl_values(cfg, raw)
    with np.errstate(invalid="ignore"):
        gold = mul_exact(cfg.fmt_a, A, cfg.fmt_b, B)
    msgs = compare(cfg, A, B, got, gold, raw)
    msgs += run.hold_failures(cfg.name, lambda i: f"a=0x{int(A[i]):x} b=0x{int(B[i]):x}")
    dut._log.info(f"HWDSE {cfg.name}: {A.size} vectors ({how}), {len(msgs)} mismatch lines; "
                  f"{len(run.holds)} held vectors re-sampled")
    assert A.size > 0, f"{cfg.name}: no vectors checked"
    assert run.holds, f"{cfg.name}: no held vector was re-sampled"
    assert not msgs, "\n".join(msgs)
