"""cocotb bench of rtl.fpacc.FloatAccumulator against hwmodel.numerics.acc_float, every cycle.

Run through sim.runner.run_bench(FpAccConfig(...), "sim.bench_fpacc"); the config arrives as JSON.
The bench drives the product port directly (sign, exp, sig, nan, inf, zero), so that any operand
the shape allows is reachable: products of two input formats, or wide fixed-point sums.

The stimulus is a list of segments, each starting with `clear` (acc restarts at +0 with its first
product). After every product the accumulator register is compared with the golden running sum
(acc_float one step at a time from the golden previous value), so a wrong step is reported where
it happens. Segments:
  * directed corners: signed zeros ((-0) + (-0) = -0, (-0) + (+0) = +0), +-max + +-max (overflow
    to inf), the overflow tie at max + ulp/2, subnormal sums and ties at the smallest subnormal
    (rounding to +-0), NaN, +-inf and +inf + -inf, RNE ties both ways (to even down and up),
    catastrophic cancellation with and without a sticky tail; each one where the product shape can
    carry the values (skipped ones are counted in the log);
  * HWDSE_RANDOM (default 100,000) seeded random products (seed HWDSE_SEED, default 12345, logged)
    in segments of 1..64, each segment's exponents clustered around a random centre so that sums
    align, cancel, carry and round instead of one operand swamping the other.
The stream goes through sim.testbench.Testbench: at seeded random points (inside segments and
between them) valid drops for 1..6 cycles with garbage on the product port, and the register must
hold its value throughout. Results compare as codes, NaN by class (the RTL emits one quiet NaN).
A failure message names the config, the step, the segment, the product, the previous accumulator,
and the RTL and golden codes.
"""

from __future__ import annotations

import math
import os

import cocotb
import numpy as np

from hwmodel import numerics
from sim.runner import config_from_env
from sim.testbench import Testbench

MAX_REPORT = 8
FIELDS = ("sign", "exp", "sig", "nan", "inf", "zero")
MAX_SEG = 64


# ---------------------------------------------------------------------------------------------
# Products: (sign, exp, sig, nan, inf, zero) <-> exact float64 values
# ---------------------------------------------------------------------------------------------
def product_value(row) -> float:
    """Exact float64 value of one product (sig has at most 53 significant bits)."""
    sign, exp, sig, nan, inf, zero = row
    if nan:
        return math.nan
    v = math.inf if inf else 0.0 if zero else math.ldexp(float(sig), exp)
    return -v if sign else v


def represent(shape, v: float):
    """(sign, exp, sig, nan, inf, zero) carrying exactly the value v on this port, or None."""
    sign = int(math.copysign(1.0, v) < 0) if not math.isnan(v) else 0
    if math.isnan(v):
        return (0, shape.exp_min, 0, 1, 0, 0)
    if math.isinf(v):
        return (sign, shape.exp_min, 0, 0, 1, 0)
    if v == 0:
        return (sign, shape.exp_min, 0, 0, 0, 1)
    m, e = math.frexp(abs(v))
    sig, exp = int(m * (1 << 53)), e - 53
    while sig % 2 == 0 and exp < shape.exp_max:
        sig //= 2
        exp += 1
    if exp > shape.exp_max:
        sig <<= exp - shape.exp_max
        exp = shape.exp_max
    if exp < shape.exp_min or sig >= (1 << shape.sig_width):
        return None
    return (sign, exp, sig, 0, 0, 0)


def directed_segments(cfg) -> tuple[list[tuple[str, list[float]]], int]:
    """(name, values) corner segments the shape can carry, and how many were skipped."""
    F = cfg.acc_fmt
    M = F.man_bits
    mx, tiny = F.max_normal, F.min_subnormal
    ulp1, half = 2.0 ** -M, 2.0 ** -(M + 1)
    half_at_max = 2.0 ** (F.emax - M - 1)
    segs = [
        ("+0", [0.0]), ("-0", [-0.0]), ("-0 + -0", [-0.0, -0.0]), ("-0 + +0", [-0.0, 0.0]),
        ("+0 + -0", [0.0, -0.0]), ("x - x", [1.5, -1.5]), ("-0, x - x", [-0.0, 1.0, -1.0]),
        ("max + max", [mx, mx]), ("-max - max", [-mx, -mx]), ("max - max", [mx, -mx]),
        ("max + ulp/2 (overflow tie)", [mx, half_at_max]),
        ("max + just under ulp/2", [mx, half_at_max * (1 - 2.0 ** -8)]),
        ("-max - ulp/2", [-mx, -half_at_max]),
        ("subnormals", [tiny, tiny, -3 * tiny]), ("tiny/2 -> +0", [tiny / 2]),
        ("-tiny/2 -> -0", [-tiny / 2]), ("1.5 tiny -> 2 tiny", [1.5 * tiny]),
        ("0.75 tiny -> tiny", [0.75 * tiny]), ("2.5 tiny -> 2 tiny", [2.5 * tiny]),
        ("min normal - tiny", [F.min_normal, -tiny]),
        ("nan", [1.0, math.nan, 1.0]), ("inf", [math.inf, 1.0]), ("inf - inf", [math.inf, -math.inf]),
        ("-inf - inf", [-math.inf, -math.inf]), ("x, -inf, +inf", [1.0, -math.inf, math.inf]),
        ("nan after inf", [math.inf, math.nan]),
        ("tie to even (down)", [1.0, half]), ("tie to even (up)", [1.0 + ulp1, half]),
        ("negative tie (down)", [-1.0, -half]), ("negative tie (up)", [-(1.0 + ulp1), -half]),
        ("3/2 ulp tie", [1.0, 3 * half]), ("tie below 1", [1.0, -half / 2]),
        ("just above tie", [1.0, half * (1 + 2.0 ** -6)]),
        ("just below tie", [1.0, half * (1 - 2.0 ** -6)]),
        ("cancellation", [1.0 + ulp1, -1.0]),
        ("sticky then cancel", [1.0, 2.0 ** -(M + 5), -1.0]),
        ("wide cancellation", [1.0, -(1.0 - 2.0 ** -(cfg.shape.sig_width - 2))]),
        ("big - big + small", [2.0 ** (F.emax - 1), 2.0 ** (F.emin - 2), -(2.0 ** (F.emax - 1))]),
    ]
    out, skipped = [], 0
    for name, vals in segs:
        reps = [represent(cfg.shape, v) for v in vals]
        if any(r is None for r in reps):
            skipped += 1
            continue
        out.append((name, reps))
    return out, skipped


def random_segments(cfg, rng, n: int) -> list[tuple[str, list[tuple]]]:
    """n random products in segments of 1..MAX_SEG with clustered exponents (module docstring)."""
    shape, F = cfg.shape, cfg.acc_fmt
    W = shape.sig_width
    half = W // 2
    segs, done = [], 0
    while done < n:
        ln = min(int(np.exp(rng.uniform(0, np.log(MAX_SEG)))), n - done)
        centre = int(rng.integers(shape.exp_min, shape.exp_max + 1))
        spread = F.precision + 4
        e = np.clip(centre + rng.integers(-spread, spread + 1, ln), shape.exp_min, shape.exp_max)
        if shape.exp_min == shape.exp_max:   # fixed point: cluster the magnitudes instead
            # at most 53 significant bits, so that the golden float64 value is exact
            top = int(rng.integers(1, W + 1))
            nb = min(top, 53)
            sig = [int(rng.integers(0, 1 << nb, dtype=np.uint64)) << (top - nb) for _ in range(ln)]
        else:
            kind = rng.random(ln)
            sa = rng.integers(0, 1 << half, ln, dtype=np.uint64)
            sb = rng.integers(0, 1 << (W - half), ln, dtype=np.uint64)
            uni = rng.integers(0, 1 << W, ln, dtype=np.uint64) >> rng.integers(0, W, ln).astype(np.uint64)
            sig = np.where(kind < 0.5, sa * sb, uni).tolist()
        sign = rng.integers(0, 2, ln)
        r = rng.random(ln)
        nan, inf = r < 0.002, (r >= 0.002) & (r < 0.005)
        reps = []
        for i in range(ln):
            s = int(sig[i])
            zero = int(s == 0 and not nan[i] and not inf[i]) or int(0.005 <= r[i] < 0.015)
            if zero:
                s = 0
            reps.append((int(sign[i]), int(e[i]), s, int(nan[i]), int(inf[i] and not nan[i]), zero))
        segs.append(("random", reps))
        done += ln
    return segs


# ---------------------------------------------------------------------------------------------
# Golden model adapter: the only place that calls hwmodel.numerics' accumulator.
# ---------------------------------------------------------------------------------------------
def golden_trace(F, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Accumulator code after every product: acc_float one step at a time, all segments in
    lockstep (segment s's step t from the golden code after step t-1, or +0 at its start)."""
    bounds = list(starts) + [values.size]
    seg_len = np.diff(bounds)
    S, L = len(starts), int(seg_len.max())
    P = np.full((S, L), -0.0)                  # -0 pads: acc + (-0) = acc for every acc
    for s in range(S):
        P[s, :seg_len[s]] = values[bounds[s]:bounds[s + 1]]
    codes = np.zeros((S, L), dtype=np.uint64)
    acc = np.zeros(S)
    with np.errstate(invalid="ignore"):
        for t in range(L):
            codes[:, t] = numerics.acc_float(P[:, t:t + 1], F, init=acc)
            acc = numerics.decode(F, codes[:, t])
    return np.concatenate([codes[s, :seg_len[s]] for s in range(S)])


@cocotb.test()
async def fpacc_matches_golden(dut):
    cfg = config_from_env()
    F = cfg.acc_fmt
    seed = int(os.environ.get("HWDSE_SEED", "12345"))
    n_random = int(os.environ.get("HWDSE_RANDOM", "100000"))
    rng = np.random.default_rng(seed)
    directed, skipped = directed_segments(cfg)
    segs = directed + random_segments(cfg, rng, n_random)
    names = [name for name, reps in segs for _ in reps]
    rows = [rep for _, reps in segs for rep in reps]
    starts = np.cumsum([0] + [len(reps) for _, reps in segs[:-1]])
    clear = np.zeros(len(rows), dtype=np.uint8)
    clear[starts] = 1
    values = np.array([product_value(r) for r in rows])
    gold = golden_trace(F, values, starts)

    tb = Testbench(dut, latency=cfg.latency, seed=seed, valid="valid")
    exp_w = cfg.shape.exp_width
    await tb.reset(2)
    await tb.wait(1)
    assert int(dut.acc_out.value) == 0, f"{cfg.name}: acc_out after reset is {dut.acc_out.value}, not +0"
    cols = {f"product__{k}": [r[i] for r in rows] for i, k in enumerate(FIELDS)}
    cols["product__exp"] = [v if v >= 0 else v + (1 << exp_w) for v in cols["product__exp"]]
    cols["clear"] = clear
    run = await tb.stream(cols, ["acc_out"])
    got = np.array(run.values["acc_out"], dtype=np.uint64)

    bad = np.flatnonzero((got != gold) & ~(numerics.is_nan(F, got) & numerics.is_nan(F, gold)))
    # a register that did not hold during a pause is reported first: it explains the mismatches
    msgs = run.hold_failures(cfg.name, lambda t: f"step {t} ({names[t]}): product "
                             f"{dict(zip(FIELDS, rows[t]))} = {values[t]!r}, golden acc_float "
                             f"{int(gold[t]):#x}", limit=MAX_REPORT // 2)
    for t in bad[:MAX_REPORT]:
        prev_rtl = "+0 (clear)" if clear[t] else f"{int(got[t - 1]):#x}"
        prev_gold = "+0 (clear)" if clear[t] else f"{int(gold[t - 1]):#x}"
        prod = dict(zip(FIELDS, rows[t]))
        msgs.append(f"{cfg.name} seed {seed} step {t} ({names[t]}): product {prod} = {values[t]!r}; "
                    f"acc before: rtl {prev_rtl}, golden {prev_gold}; rtl {int(got[t]):#x}, "
                    f"golden acc_float {int(gold[t]):#x}")
    if bad.size > MAX_REPORT:
        msgs.append(f"... {bad.size} mismatching steps in all")
    dut._log.info(f"HWDSE {cfg.name}: {len(rows)} products checked every cycle "
                  f"({len(directed)} directed segments, {skipped} not representable on this port; "
                  f"{n_random} random, seed {seed}), {bad.size} mismatches; {len(run.holds)} pauses "
                  f"({run.pauses_inside} inside accumulations, {run.idle_cycles} idle cycles) held")
    assert len(rows) > 0, f"{cfg.name}: no products checked"
    assert run.pauses_inside > 0, f"{cfg.name}: no pause inside an accumulation was checked"
    assert not msgs, "\n".join(msgs)
