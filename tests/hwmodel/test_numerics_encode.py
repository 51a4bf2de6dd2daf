"""encode / quantize / quantize_block against ml_dtypes, numpy and a Fraction-based reference."""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from hwmodel import numerics as N
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import parse_format
from hwmodel.numerics import Rounding
from ml_dtypes_ref import ML_FLOATS


def candidates(fmt, rng, n_random=20_000):
    """Every finite value, every midpoint (ties), the float32 neighbours of each midpoint, random
    values over a huge range, zeros, infinities and overflows; all float32-representable."""
    vals = N.decode(fmt, N.all_codes(fmt))
    fv = np.unique(vals[np.isfinite(vals)])
    mids = (fv[1:] + fv[:-1]) / 2
    top = np.array([fv[-1] * 1.0625, fv[-1] * 1.5, fv[-1] * 4, 1e30])
    m32 = mids.astype(np.float32)
    x = np.concatenate([fv, mids, np.nextafter(m32, np.float32(np.inf)), np.nextafter(m32, np.float32(-np.inf)),
                        top, -top, rng.standard_normal(n_random) * np.exp(rng.uniform(-40, 40, n_random)),
                        [0.0, -0.0, np.inf, -np.inf]])
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    assert np.array_equal(x.astype(np.float64), x.astype(np.float64).astype(np.float32))
    return x


def ml_codes(ml_name, x32):
    dt = np.dtype(getattr(ml_dtypes, ml_name))
    store = np.uint8 if dt.itemsize == 1 else np.uint16
    return x32.astype(dt).view(store).astype(np.uint64)


@pytest.mark.parametrize("ml_name", sorted(ML_FLOATS))
def test_encode_rne_matches_ml_dtypes(ml_name):
    """ml_dtypes' conversion from float32 is a single RNE rounding with OCP's non-saturating overflow
    (inf/NaN) for 8-bit formats, and saturation for FP6/FP4 (which have neither). Its float64 path
    goes through float32 (rounding twice), so the inputs here are float32 values."""
    fmt = parse_format(ML_FLOATS[ml_name])
    x = candidates(fmt, np.random.default_rng(7))
    if not fmt.has_nan:
        x = x[np.isfinite(x)]   # ml_dtypes turns NaN/inf into -0/max there; we refuse NaN
    if not fmt.signed:
        x = x[x > 0]            # E8M0: ml_dtypes sends zero/negatives to NaN, tested below
        # ml_dtypes 0.6 rounds every float32 *subnormal* in [2^-127, 2^-126) up to 2^-126 (even
        # 1.25 * 2^-127); ours follows the Fraction reference there (test_e8m0_below_float32_normal).
        x = x[x >= np.float32(2.0 ** -126)]
    ours = N.encode(fmt, x.astype(np.float64))
    ref = ml_codes(ml_name, x)
    bad = ours != ref
    assert not bad.any(), (ml_name, x[bad][:8], ours[bad][:8], ref[bad][:8])
    # the table fast path (large arrays) and the direct path (small arrays) agree
    big = np.tile(x.astype(np.float64), max(1, 70_000 // x.size + 1))
    assert np.array_equal(N.encode(fmt, big)[: x.size], ours)


def test_e8m0_below_float32_normal():
    """Where ml_dtypes disagrees, the hand-derived answer: 1.25 * 2^-127 is nearer 2^-127 (code 0)."""
    assert N.encode("e8m0", [1.25 * 2.0 ** -127, 1.5 * 2.0 ** -127, 1e-45]).tolist() == [0, 1, 0]


def test_e8m0_zero_and_negative_become_nan_like_ml_dtypes():
    x = np.array([0.0, -0.0, -1.0, -1e-30], np.float32)
    assert np.array_equal(N.encode("e8m0", x), ml_codes("float8_e8m0fnu", x))
    assert np.all(N.encode("e8m0", x) == 0xFF)


@pytest.mark.parametrize("name,ml_name", [("float16", None), ("bfloat16", "bfloat16")])
def test_encode_16bit_on_a_million_values(name, ml_name):
    """>= 1e6 values: random over the whole range, every tie and its neighbours, subnormals,
    overflow. float16 is checked against numpy's own (direct, correctly rounded) float64->half."""
    fmt = parse_format(name)
    rng = np.random.default_rng(3)
    vals = N.decode(fmt, N.all_codes(fmt))
    fv = np.unique(vals[np.isfinite(vals)])
    mids = (fv[1:] + fv[:-1]) / 2
    rand = rng.standard_normal(700_000) * np.exp2(rng.uniform(-30 if name == "float16" else -140,
                                                             20 if name == "float16" else 130, 700_000))
    sub = rng.uniform(-1, 1, 50_000) * fmt.min_normal
    x = np.concatenate([fv, -fv, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf),
                        rand, sub, [fmt.max_normal * 1.01, -fmt.max_normal * 3, np.inf, -np.inf]])
    if name == "float16":
        with np.errstate(over="ignore"):
            ref = x.astype(np.float16).view(np.uint16).astype(np.uint64)
        ours = N.encode(fmt, x)
    else:
        with np.errstate(over="ignore"):
            x = x.astype(np.float32)
        ref = ml_codes(ml_name, x)
        ours = N.encode(fmt, x.astype(np.float64))
    assert x.size >= 1_000_000
    nan = np.isnan(x)
    assert np.array_equal(ours[~nan], ref[~nan])


@pytest.mark.parametrize("ml_name,spec", [("int4", "int4"), ("uint4", "uint4"), ("int2", "int2"),
                                          ("uint2", "uint2")])
def test_encode_int_rtz_matches_ml_dtypes_in_range(ml_name, spec):
    """ml_dtypes' float->int4 cast truncates (C semantics) and wraps out of range: compare RTZ on
    values that truncate into range."""
    fmt = parse_format(spec)
    x = np.random.default_rng(1).uniform(fmt.min_int - 0.999, fmt.max_int + 0.999, 20_000)
    x = np.concatenate([x, np.arange(fmt.min_int, fmt.max_int + 1) + 0.5]).astype(np.float32)
    x = x[(x > fmt.min_int - 1) & (x < fmt.max_int + 1)]
    ref = x.astype(getattr(ml_dtypes, ml_name)).view(np.uint8).astype(np.uint64) & np.uint64((1 << fmt.bits) - 1)
    assert np.array_equal(N.encode(fmt, x.astype(np.float64), "rtz"), ref)


# ---- a slow reference built from Fractions, independent of the bit manipulation ---------------
def ref_encode_value(fmt, x: float, mode: Rounding, saturate: bool):
    """The value (Fraction, or 'inf'/'-inf'/'nan') encode must produce, derived from the sorted list
    of the format's finite values extended by one ulp beyond max (the unbounded grid)."""
    if fmt.kind == "int" and math.isinf(x):
        return Fraction(fmt.max_int if x > 0 else fmt.min_int)
    if math.isinf(x):
        if saturate or not fmt.has_nan:
            return fmt_max(fmt) * (1 if x > 0 else -1)
        return ("inf" if x > 0 else "-inf") if fmt.has_inf else "nan"
    grid = finite_grid(fmt)
    ax = Fraction(abs(x))
    neg = x < 0 or (x == 0 and math.copysign(1, x) < 0)
    i = max(j for j in range(len(grid)) if grid[j] <= ax)
    lo = grid[i]
    hi = grid[i + 1] if i + 1 < len(grid) else None
    if lo == ax or hi is None:
        r = lo
    elif mode is Rounding.RTZ:
        r = lo
    elif mode is Rounding.AWAY:
        r = hi
    else:
        d_lo, d_hi = ax - lo, hi - ax
        if d_lo != d_hi:
            r = lo if d_lo < d_hi else hi
        elif mode is Rounding.RNA:
            r = hi
        else:
            r = lo if grid_even(fmt, i) else hi
    if fmt.kind == "int":   # integers always saturate, asymmetrically
        return min(max(-r if neg else r, Fraction(fmt.min_int)), Fraction(fmt.max_int))
    mx = fmt_max(fmt)
    if r > mx:
        if saturate or not fmt.has_nan or mode is Rounding.RTZ:
            r = mx
        elif fmt.kind == "float" and fmt.has_inf:
            return "-inf" if neg else "inf"
        else:
            return "nan"
    return -r if neg else r


_GRIDS = {}


def finite_grid(fmt):
    """Non-negative values of the format ascending, plus the next value of the unbounded grid."""
    if fmt not in _GRIDS:
        if fmt.kind == "int":
            g = [Fraction(v) for v in range(0, fmt.max_int + 3)]
        else:
            vals = sorted({N.decode_exact(fmt, c) for c in range(1 << fmt.bits)} - {float("nan")},
                          key=lambda v: v if isinstance(v, Fraction) else Fraction(10**9))
            g = [v for v in vals if isinstance(v, Fraction) and v >= 0]
            ulp = Fraction(2) ** (fmt.emax - fmt.man_bits)
            g.append(g[-1] + ulp)
        _GRIDS[fmt] = g
    return _GRIDS[fmt]


def grid_even(fmt, i):
    """Whether grid point i has an even significand (the integer grid: even integer)."""
    if fmt.kind == "int":
        return i % 2 == 0
    return i % 2 == 0   # consecutive non-negative float codes alternate mantissa parity


def fmt_max(fmt):
    return Fraction(fmt.max_int) if fmt.kind == "int" else Fraction(fmt.max_normal)


@pytest.mark.parametrize("spec", ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "float6_e3m2fn",
                                  "e3m4", "int8", "int4", "paper_e2"])
@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ, Rounding.AWAY, Rounding.RNA])
@pytest.mark.parametrize("saturate", [False, True])
def test_rounding_modes_against_fraction_reference(spec, mode, saturate):
    fmt = parse_format(spec)
    rng = np.random.default_rng(11)
    grid = [float(g) for g in finite_grid(fmt)]
    mids = [(a + b) / 2 for a, b in zip(grid, grid[1:])]
    xs = grid + mids + list(rng.uniform(0, grid[-1] * 1.3, 300)) + list(rng.uniform(0, grid[3], 50))
    xs = xs + [-v for v in xs] + [-0.0, math.inf, -math.inf]
    codes = N.encode(fmt, xs, mode, saturate)
    got = N.decode(fmt, codes)
    for x, g in zip(xs, got.tolist()):
        want = ref_encode_value(fmt, x, mode, saturate)
        if want == "nan":
            assert math.isnan(g), (x, g)
        elif want in ("inf", "-inf"):
            assert g == float(want), (x, g)
        else:
            assert Fraction(g) == want, (spec, mode, x, g, want)
            if want == 0 and fmt.kind == "float" and fmt.nan.value != "fnuz":
                assert math.copysign(1, g) == math.copysign(1, x), x


def test_stochastic_rounding_is_seeded_and_unbiased():
    fmt = parse_format("float8_e4m3fn")
    x = np.full(200_000, 1.0 + 0.3 * 0.125)          # 30% of the way from 1.0 to 1.125
    a = N.quantize(fmt, x, "stochastic", seed=5)
    assert np.array_equal(a, N.quantize(fmt, x, "stochastic", seed=5))
    assert not np.array_equal(a, N.quantize(fmt, x, "stochastic", seed=6))
    assert set(np.unique(a)) == {1.0, 1.125}
    p_up = (a == 1.125).mean()
    sigma = math.sqrt(0.3 * 0.7 / x.size)
    assert abs(p_up - 0.3) < 5 * sigma
    exact = N.decode(fmt, N.all_codes(fmt)[:0x7F])
    assert np.array_equal(N.quantize(fmt, exact, "stochastic", seed=1), exact)
    # integers too: 2.25 -> 3 with probability 1/4
    q = N.quantize("int8", np.full(100_000, 2.25), "stochastic", seed=2)
    assert abs((q == 3).mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / q.size)


def test_overflow_policy_per_encoding():
    assert N.encode("float8_e4m3fn", [1e6, -1e6]).tolist() == [0x7F, 0xFF]             # NaN
    assert N.encode("float8_e4m3fn", [1e6, -1e6], saturate=True).tolist() == [0x7E, 0xFE]
    assert N.encode("float8_e4m3fn", [464.0, 464.1]).tolist() == [0x7E, 0x7F]   # tie to even 448
    assert N.encode("float8_e5m2", [1e6, -np.inf]).tolist() == [0x7C, 0xFC]           # inf
    assert N.encode("float8_e5m2", [1e6], "rtz").tolist() == [0x7B]                    # max
    assert N.encode("float8_e5m2", [np.inf], saturate=True).tolist() == [0x7B]
    assert N.encode("float8_e5m2fnuz", [1e6, np.nan]).tolist() == [0x80, 0x80]
    assert N.encode("float4_e2m1fn", [100.0, -np.inf]).tolist() == [0x7, 0xF]         # max
    assert N.encode("int8", [1e9, -np.inf, 127.5, -128.5]).tolist() == [127, 128, 127, 128]
    assert N.encode("uint8", [-3.0, 255.4]).tolist() == [0, 255]


def test_signed_zero():
    assert N.encode("float8_e4m3fn", [-0.0, -1e-9]).tolist() == [0x80, 0x80]
    assert N.encode("float8_e4m3fnuz", [-0.0, -1e-9]).tolist() == [0x00, 0x00]
    assert N.encode("int8", [-0.0, -0.4]).tolist() == [0, 0]


def test_encode_errors():
    with pytest.raises(FormatError, match="no NaN"):
        N.encode("float4_e2m1fn", [np.nan])
    with pytest.raises(FormatError, match="no NaN"):
        N.encode("int8", [np.nan])
    with pytest.raises(FormatError, match="rounding mode must be one of"):
        N.encode("int8", [1.0], "banker")
    with pytest.raises(FormatError, match="must be numbers"):
        N.encode("int8", ["abc"])


# ---- block formats -----------------------------------------------------------------------
def test_quantize_block_picks_the_ocp_mx_scale():
    """OCP MX v1.0 6.3, derived by hand: amax = 1000 -> floor(log2) = 9; E4M3 emax = 8 -> X = 2^1."""
    x = np.zeros((2, 64))
    x[0, :32] = np.linspace(-1000, 1000, 32)
    x[0, 32:] = np.linspace(-0.3, 0.2, 32)          # amax 0.3 -> floor(log2) = -2 -> X = 2^-10
    x[1, :] = 0.0
    s, e = N.quantize_block("mxfp8_e4m3", x)
    assert s.shape == (2, 2) and e.shape == (2, 64)
    assert N.decode("e8m0", s).tolist() == [[2.0, 2.0 ** -10], [2.0 ** -127, 2.0 ** -127]]
    assert np.array_equal(e[0, :32], N.encode("float8_e4m3fn", x[0, :32] / 2, saturate=True))
    v = N.dequantize_block("mxfp8_e4m3", s, e)
    assert np.array_equal(v[0, :32], N.quantize("float8_e4m3fn", x[0, :32] / 2, saturate=True) * 2)
    assert np.array_equal(N.quantize("mxfp8_e4m3", x), v)
    # MXFP4: emax_elem = 2; amax 6 -> floor(log2 6) = 2 -> X = 1; MXINT8: emax_elem = 0
    s4, _ = N.quantize_block("mxfp4", np.full((1, 32), 6.0))
    assert N.decode("e8m0", s4).tolist() == [[1.0]]
    s8, e8 = N.quantize_block("mxint8", np.full((1, 32), 6.0))
    assert N.decode("e8m0", s8).tolist() == [[4.0]]
    assert N.dequantize_block("mxint8", s8, e8)[0, 0] == 6.0


def test_quantize_block_nan_block_and_shape_errors():
    x = np.ones(64)
    x[40] = np.nan
    s, e = N.quantize_block("mxfp4", x)
    assert s.tolist() == [127 - 2, 0xFF]    # amax 1 -> 2^(0 - emax_elem 2)
    assert np.isnan(N.dequantize_block("mxfp4", s, e)[32:]).all()
    with pytest.raises(UnsupportedConfig, match="multiple of the block size"):
        N.quantize_block("mxfp4", np.ones(33))
    with pytest.raises(UnsupportedConfig, match="block format"):
        N.quantize_block("int8", np.ones(32))


ROUND_TRIP = [f for f in __import__("hwmodel.formats", fromlist=["x"]).catalogue_formats()
              if f.kind != "block" and f.bits <= 16] + [
    parse_format(s) for s in ("fp(e=3,m=2,nan=fnuz)", "fp(e=4,m=3,bias=4,nan=ieee)",
                              "fp(e=2,m=2,nan=none,subnormals=1)", "fp(e=5,m=0,nan=ieee)",
                              "fp(e=4,m=3,signed=0,nan=fn)", "int6", "uint5")]


@pytest.mark.parametrize("fmt", ROUND_TRIP, ids=lambda f: f.name)
def test_every_code_round_trips(fmt):
    """encode(decode(c)) == c for every non-NaN code (each value is exactly representable), under
    every deterministic mode; NaN codes come back as a NaN code."""
    codes = N.all_codes(fmt)
    vals = N.decode(fmt, codes)
    nan = np.isnan(vals)
    for mode in ("rne", "rtz", "away", "rna"):
        back = N.encode(fmt, vals[~nan], mode)
        assert np.array_equal(back, codes[~nan]), mode
    if nan.any():
        assert N.is_nan(fmt, N.encode(fmt, vals[nan])).all()
