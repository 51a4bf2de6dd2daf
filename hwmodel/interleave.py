"""Golden model of an accumulator pipelined inside its loop: k interleaved partial sums.

A MAC whose accumulation loop holds k registers (rtl MacConfig.loop_stages = k, C-slow
pipelining) adds product t of an accumulation (t counted in clock cycles from the clearing cycle,
idle cycles included) into partial sum t mod k. This module computes exactly that order:

  float F   partial_j = round_F(...round_F(round_F(+0 + p_a) + p_b)... ) over the products of slot
            j in arrival order (acc_float's rule: one RNE rounding per product, subnormals kept,
            overflow to inf, NaN rules of hwmodel.accum); an empty partial is +0.
            combined = round_F(...round_F(partial_0 + partial_1) + partial_2 ... + partial_{k-1}):
            the k - 1 extra roundings of the final combine, in partial order 0, 1, ..., k-1.
            Roundings in all: one per product plus k - 1 (a sequential accumulation has one per
            product), so the interleaved result may differ from the sequential one in the last
            places (and by more after cancellation).
  Kulisch   partial_j = wrap_W(sum of its products * 2^-L), exact; combined = wrap_W(sum of the
            partials) = the sequential register value exactly (wrapped addition is associative).
            The flags are the unit's: nan/pinf/ninf as sequential; `overflow` is set when an
            addition into a *partial* leaves [-2^(W-1), 2^(W-1) - 1], `overflow_neg` is the
            direction of the first such addition in arrival order. These can differ from the
            sequential flags (the prefix sums differ); `combine_overflow` says whether the sum
            of the partials leaves the range (the combiner's own check).

Public API
    slots_of(n, k, cycles=None) -> int array          slot (partial index) of each product
    float_interleaved(products, fmt, k, cycles=None) -> (partial codes [k], combined code)
    kulisch_interleaved(products, spec, k, cycles=None) -> KulischInterleaved
products: exact float64 values of one accumulation in arrival order (1-D); cycles: the cycle of
each product counted from the clearing cycle (default 0, 1, 2, ...: one product per cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwmodel.accum import KulischSpec, acc_float, add_round
from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import Format
from hwmodel.numerics import decode, encode


def slots_of(n: int, k: int, cycles=None) -> np.ndarray:
    """Partial index (cycle mod k) of each of n products."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise UnsupportedConfig(f"interleave factor k must be an int >= 1, not {k!r}")
    c = np.arange(n) if cycles is None else np.asarray(cycles, np.int64)
    if c.shape != (n,) or (n and (c[0] < 0 or np.any(np.diff(c) <= 0))):
        raise UnsupportedConfig("cycles must be increasing, >= 0, one per product")
    return c % k


def float_interleaved(products, fmt: Format | str, k: int, cycles=None) -> tuple[list[int], int]:
    """(codes of the k partials of float format fmt, code of their combination); see the module
    docstring for the order and the roundings."""
    p = np.asarray(products, np.float64).reshape(-1)
    slots = slots_of(p.size, k, cycles)
    partials = []
    for j in range(k):
        sel = p[slots == j]
        # -0 is the identity of acc_float's addition (x + -0 = x, -0 included): an empty
        # partial stays +0, as the unit's idle slots leave it
        seq = np.concatenate([sel, [-0.0]])
        partials.append(int(acc_float(seq, fmt)))
    vals = decode(fmt, np.array(partials, dtype=np.uint64))
    c = vals[0]
    for j in range(1, k):
        c = add_round(fmt, c, vals[j])
    return partials, int(encode(fmt, np.asarray(c)))


@dataclass
class KulischInterleaved:
    """Partials (signed ints, value * 2^L), the combined register and the unit's sticky flags."""
    partials: list
    combined: int
    overflow: bool
    overflow_neg: bool
    nan: bool
    pinf: bool
    ninf: bool
    combine_overflow: bool


def kulisch_interleaved(products, spec: KulischSpec, k: int, cycles=None) -> KulischInterleaved:
    """The interleaved Kulisch accumulation of exact products (multiples of 2^L) into k partials
    of spec.width bits; see the module docstring."""
    p = np.asarray(products, np.float64).reshape(-1)
    slots = slots_of(p.size, k, cycles)
    W = spec.width
    lo, hi = -(1 << (W - 1)), (1 << (W - 1)) - 1

    def wrap(x: int) -> int:
        return ((x - lo) % (1 << W)) + lo

    part = [0] * k
    ovf = ovf_neg = nan = pinf = ninf = False
    for x, j in zip(p.tolist(), slots.tolist()):
        if np.isnan(x):
            nan = True
            continue
        if np.isinf(x):
            pinf, ninf = pinf or x > 0, ninf or x < 0
            continue
        scaled = np.ldexp(x, -spec.lsb_exp)
        if scaled != np.trunc(scaled):
            raise UnsupportedConfig(f"product {x!r} is not a multiple of 2^{spec.lsb_exp}")
        t = part[j] + int(scaled)
        if (t < lo or t > hi) and not ovf:
            ovf, ovf_neg = True, t < lo
        part[j] = wrap(t)
    total = sum(part)
    return KulischInterleaved(partials=part, combined=wrap(total), overflow=ovf, overflow_neg=ovf_neg,
                              nan=nan, pinf=pinf, ninf=ninf, combine_overflow=not lo <= total <= hi)
