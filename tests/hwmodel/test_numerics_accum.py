"""Accumulators, dot products and GEMM against Fraction sums and numpy's IEEE arithmetic."""

import bisect
import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from hwmodel import numerics as N
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import parse_format
from hwmodel.numerics import Rounding


def finite_codes(fmt, rng, shape):
    """Random codes of fmt that are finite (no NaN/inf)."""
    codes = N.all_codes(fmt)
    ok = codes[np.isfinite(N.decode(fmt, codes))]
    return rng.choice(ok, size=shape)


def exact(fmt, code) -> Fraction:
    return N.decode_exact(fmt, int(code))


# ---- Kulisch ------------------------------------------------------------------------------
@pytest.mark.parametrize("E", [2, 3, 4, 5])
def test_kulisch_width_is_the_papers_formula(E):
    """van Baalen et al. Fig. 2a: S = 9 - E, k = 2(2^E - 2), W = 2S - 1 + k + 12."""
    S, k = 9 - E, 2 * (2 ** E - 2)
    spec = N.kulisch_spec(f"paper_e{E}", f"paper_e{E}")
    assert (spec.width, spec.exp_span) == (2 * S - 1 + k + 12, k)


def test_kulisch_widths_of_the_anchors():
    assert N.kulisch_spec("int8").width == 27          # paper: INT8 -> 27-bit accumulator
    e4 = N.kulisch_spec("float8_e4m3fn")
    assert (e4.width, e4.product_bits, e4.lsb_exp) == (49, 37, -18)   # "INT37", 49 bits
    assert N.kulisch_spec("int8", guard_bits=4).width == 19
    assert N.parse_acc("kulisch").name_for("int8") == "kulisch27"


@pytest.mark.parametrize("spec", ["float8_e4m3fn", "float8_e5m2", "int8", "float6_e2m3fn",
                                  "float4_e2m1fn", "float16", "bfloat16"])
def test_kulisch_sum_equals_fraction_sum(spec):
    fmt = parse_format(spec)
    rng = np.random.default_rng(4)
    a = finite_codes(fmt, rng, (6, 300))
    b = finite_codes(fmt, rng, (6, 300))
    ks = N.kulisch_spec(fmt, fmt)
    res = N.kulisch_accumulate(fmt, a, fmt, b, ks)
    assert not res.overflow.any() and not res.nan.any()
    for lane in range(6):
        want = sum(exact(fmt, x) * exact(fmt, y) for x, y in zip(a[lane], b[lane]))
        assert Fraction(int(res.acc_int[lane])) * Fraction(2) ** ks.lsb_exp == want


def test_kulisch_wraps_and_flags_overflow():
    """(-128)(-128) = 2^14; with V = 0, W = 15: every addition overflows [-2^14, 2^14 - 1]."""
    ks = N.kulisch_spec("int8", guard_bits=0)
    assert ks.width == 15
    a = np.full((1, 3), 0x80)
    res = N.kulisch_accumulate("int8", a, "int8", a, ks)
    assert res.overflow.tolist() == [True] and res.overflow_neg.tolist() == [False]
    s = 3 * 2 ** 14
    wrapped = (s + 2 ** 14) % 2 ** 15 - 2 ** 14   # independent two's-complement wrap
    assert int(res.acc_int[0]) == wrapped
    # 4096 products of 127 x 127 fit the default 27 bits; 4096 of (-128)(-128) do not (2^26)
    big = N.kulisch_accumulate("int8", np.full(4096, 0x7F), "int8", np.full(4096, 0x7F))
    assert not big.overflow and int(big.acc_int) == 4096 * 127 * 127
    over = N.kulisch_accumulate("int8", np.full(4096, 0x80), "int8", np.full(4096, 0x80))
    assert over.overflow and int(over.acc_int) == -(2 ** 26)


def test_kulisch_specials_and_read_out():
    f = parse_format("float8_e5m2")   # has inf: 0x7C, -inf 0xFC, NaN 0x7E, 1.0 = 0x3C, 0 = 0x00
    one, zero, inf, ninf, nan = 0x3C, 0x00, 0x7C, 0xFC, 0x7E
    a = np.array([[one, inf], [one, zero], [inf, ninf], [one, nan], [one, one]])
    b = np.array([[one, one], [one, inf], [one, one], [one, one], [one, one]])
    ks = N.kulisch_spec(f)
    res = N.kulisch_accumulate(f, a, f, b, ks)
    assert res.pinf.tolist() == [True, False, True, False, False]
    assert res.ninf.tolist() == [False, False, True, False, False]
    assert res.nan.tolist() == [False, True, False, True, False]
    out = N.decode("float16", N.kulisch_to_float(res, ks, "float16"))
    assert out[0] == math.inf and np.isnan(out[1:4]).all() and out[4] == 2.0


def fp16_grid():
    vals = N.decode("float16", N.all_codes("float16")[:0x7C00])   # +0 .. max, ascending
    return [Fraction(v) for v in vals.tolist()]


_FP16 = None


def round_fraction_fp16(q: Fraction) -> float:
    """Independent RNE of a Fraction into float16 by bisection over the enumerated finite values."""
    global _FP16
    if _FP16 is None:
        _FP16 = fp16_grid()
    g = _FP16
    a = abs(q)
    top = g[-1] + Fraction(2) ** (15 - 10)
    if a >= (g[-1] + top) / 2:
        return math.copysign(math.inf, q) if a > (g[-1] + top) / 2 else math.copysign(math.inf, q)
    i = bisect.bisect_right(g, a) - 1
    lo, hi = g[i], g[i + 1]
    if a - lo < hi - a or (a - lo == hi - a and i % 2 == 0):
        r = lo
    else:
        r = hi
    return float(-r if q < 0 else r)


def test_kulisch_to_float_rounds_once_like_the_fraction_reference():
    fmt = parse_format("float8_e4m3fn")
    rng = np.random.default_rng(9)
    a = finite_codes(fmt, rng, (40, 64))
    b = finite_codes(fmt, rng, (40, 64))
    ks = N.kulisch_spec(fmt)
    res = N.kulisch_accumulate(fmt, a, fmt, b, ks)
    got = N.decode("float16", N.kulisch_to_float(res, ks, "float16"))
    for lane in range(40):
        q = sum(exact(fmt, x) * exact(fmt, y) for x, y in zip(a[lane], b[lane]))
        assert got[lane] == round_fraction_fp16(q), lane


# ---- floating-point accumulation ------------------------------------------------------------
def adversarial_float32_products(rng, lanes, n):
    """float32 values with wide exponent spread, exact cancellations, subnormals and repeats."""
    mant = rng.standard_normal((lanes, n))
    expo = rng.integers(-30, 30, (lanes, n))
    p = np.ldexp(mant, expo).astype(np.float32)
    p[:, 5::17] = -p[:, 4::17][:, : p[:, 5::17].shape[1]]
    p[:, 7::23] = np.float32(1e-40)
    return p


def test_acc_float_fp32_equals_numpy_float32_addition():
    """IEEE 754 float32 addition (numpy) is the exact sum rounded once to nearest even."""
    rng = np.random.default_rng(2)
    p = adversarial_float32_products(rng, 64, 500)
    ref = np.zeros(64, np.float32)
    for t in range(p.shape[1]):
        ref = ref + p[:, t]
    ours = N.acc_float(p.astype(np.float64), "float32", method="twosum")
    assert np.array_equal(ours, ref.view(np.uint32).astype(np.uint64))
    assert np.array_equal(N.acc_float(p.astype(np.float64), "float32"), ours)   # numpy fast path


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_acc_float_16bit_equals_numpy_and_ml_dtypes(name):
    """numpy's float16 (and ml_dtypes' bfloat16) add in float32 and round again; with 24 >= 2p + 2
    bits that double rounding is innocuous (Figueroa 1995), so they are correctly rounded adds."""
    dt = np.float16 if name == "float16" else ml_dtypes.bfloat16
    rng = np.random.default_rng(3)
    scale = 2.0 ** rng.integers(-20, 12, (64, 400)) if name == "float16" else 2.0 ** rng.integers(-130, 120, (64, 400))
    with np.errstate(over="ignore"):
        p = (rng.standard_normal((64, 400)) * scale).astype(dt)
    p[:, 11::29] = -p[:, 10::29][:, : p[:, 11::29].shape[1]]
    ref = np.zeros(64, dt)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(p.shape[1]):
            ref = ref + p[:, t]
    ours = N.acc_float(p.astype(np.float64), name, method="twosum")
    refc = ref.view(np.uint16).astype(np.uint64)
    nan = np.isnan(ref.astype(np.float64))
    assert np.array_equal(ours[~nan], refc[~nan])
    assert np.array_equal(N.is_nan(name, ours), nan)


def test_acc_float_overflow_and_zero_signs():
    f = "float16"
    big = np.array([[60000.0, 60000.0, -1.0]])
    assert N.decode(f, N.acc_float(big, f))[0] == math.inf
    assert np.isnan(N.decode(f, N.acc_float(np.array([[math.inf, -math.inf]]), f))[0])
    z = N.decode(f, N.acc_float(np.array([[1.0, -1.0], [-0.0, -0.0]]), f))
    assert math.copysign(1, z[0]) == 1.0                     # x + (-x) = +0
    z = N.decode(f, N.acc_float(np.array([[-0.0]]), f, init=-0.0))
    assert math.copysign(1, z[0]) == -1.0                    # (-0) + (-0) = -0


def small_grid(fmt):
    vals = N.decode(fmt, N.all_codes(fmt))
    v = sorted({Fraction(x) for x in vals[np.isfinite(vals)].tolist() if x >= 0})
    return v


def ref_round(grid, q: Fraction, mode: Rounding, fmt):
    """Round a Fraction into an IEEE-style small format (grid of its non-negative values)."""
    ulp_top = Fraction(2) ** (fmt.emax - fmt.man_bits)
    g = grid + [grid[-1] + ulp_top]
    a = abs(q)
    if a > g[-1]:
        lo, hi, i = g[-1], g[-1] + ulp_top, len(g) - 1
    else:
        i = bisect.bisect_right(g, a) - 1
        lo, hi = g[i], g[min(i + 1, len(g) - 1)]
    if a == lo:
        r = lo
    elif mode is Rounding.RTZ:
        r = lo
    elif mode is Rounding.AWAY:
        r = hi
    elif a - lo != hi - a:
        r = lo if a - lo < hi - a else hi
    else:
        r = hi if mode is Rounding.RNA or i % 2 else lo
    if r > grid[-1]:
        return math.copysign(grid[-1] if mode is Rounding.RTZ else math.inf, q)
    return float(-r if q < 0 else r)


@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ, Rounding.AWAY, Rounding.RNA])
def test_acc_float_rounding_modes_against_fraction_steps(mode):
    """Each step: acc <- round(acc + p) computed with Fractions, into float8_e5m2."""
    f = parse_format("float8_e5m2")
    grid = small_grid(f)
    rng = np.random.default_rng(5)
    p = N.mul_exact("float8_e4m3fn", finite_codes(parse_format("e4m3"), rng, (20, 40)),
                    "float8_e4m3fn", finite_codes(parse_format("e4m3"), rng, (20, 40))) / 64
    got = N.decode(f, N.acc_float(p, f, mode))
    for lane in range(20):
        acc = 0.0
        for x in p[lane]:
            if math.isinf(acc):
                break
            acc = ref_round(grid, Fraction(acc) + Fraction(x), mode, f)
        assert got[lane] == acc, (lane, got[lane], acc)


# ---- integer accumulation -------------------------------------------------------------------
def test_acc_int_wrap_and_saturate_against_python_ints():
    rng = np.random.default_rng(6)
    p = rng.integers(-(2 ** 14), 2 ** 14, (10, 300))
    W = 18
    lo, hi = -(2 ** (W - 1)), 2 ** (W - 1) - 1
    wrap = N.acc_int(p, W, "wrap")
    sat = N.acc_int(p, W, "saturate")
    for lane in range(10):
        s = int(p[lane].sum())
        assert int(wrap[lane]) == (s - lo) % 2 ** W + lo
        acc = 0
        for x in p[lane].tolist():
            acc = min(max(acc + x, lo), hi)
        assert int(sat[lane]) == acc
    with pytest.raises(UnsupportedConfig, match="integer products"):
        N.acc_int([0.5], 32)


# ---- dot products, dot-product unit, GEMM ---------------------------------------------------
def test_dot_orders():
    rng = np.random.default_rng(8)
    f = parse_format("int8")
    a, b = finite_codes(f, rng, (5, 256)), finite_codes(f, rng, (5, 256))
    va, vb = N.decode(f, a).astype(np.int64), N.decode(f, b).astype(np.int64)
    exact_sum = (va * vb).sum(axis=-1)
    for acc in ("kulisch", "int32", "fp32"):
        assert np.array_equal(N.dot(f, a, f, b, acc), exact_sum.astype(float))
    # pairwise in bf16: reference tree in ml_dtypes bfloat16 (correctly rounded adds)
    x = (va * vb).astype(ml_dtypes.bfloat16)
    while x.shape[-1] > 1:
        x = x[..., 0::2] + x[..., 1::2]
    assert np.array_equal(N.dot(f, a, f, b, "bf16", order="pairwise"), x[..., 0].astype(np.float64))
    # chunked: int32 within 32-product chunks (exact), chunk sums added in float32
    chunks = (va * vb).reshape(5, 8, 32).sum(axis=-1).astype(np.float32)
    ref = np.zeros(5, np.float32)
    for c in range(8):
        ref = ref + chunks[:, c]
    assert np.array_equal(N.dot(f, a, f, b, "int32", order="chunked", chunk=32), ref.astype(np.float64))
    with pytest.raises(UnsupportedConfig, match="order must be"):
        N.dot(f, a, f, b, "fp32", order="random")
    with pytest.raises(UnsupportedConfig, match="int inputs"):
        N.dot("e4m3", a, "e4m3", b, "int32")


def test_dot_unit_accumulate_rounds_once_per_step():
    rng = np.random.default_rng(10)
    f8 = parse_format("float8_e4m3fn")
    prods = N.mul_exact(f8, finite_codes(f8, rng, (6, 10, 8)), f8, finite_codes(f8, rng, (6, 10, 8))) / 256
    got = N.decode("float16", N.dot_unit_accumulate(prods, "float16"))
    for lane in range(6):
        acc = 0.0
        for step in range(10):
            acc = round_fraction_fp16(Fraction(acc) + sum(Fraction(x) for x in prods[lane, step]))
        assert got[lane] == acc


def test_gemm_is_sequential_dot_per_output():
    rng = np.random.default_rng(12)
    f = parse_format("float8_e4m3fn")
    A, B = finite_codes(f, rng, (3, 50)), finite_codes(f, rng, (50, 4))
    C = N.gemm(f, A, f, B, "fp16")
    for i in range(3):
        for j in range(4):
            assert C[i, j] == N.dot(f, A[i], f, B[:, j], "fp16")
    codes = N.gemm(f, A, f, B, "fp16", codes=True)
    assert np.array_equal(N.decode("float16", codes), C)
    res = N.gemm(f, A, f, B, "kulisch", codes=True)
    ks = N.kulisch_spec(f)
    q = sum(exact(f, A[1, k]) * exact(f, B[k, 2]) for k in range(50))
    assert Fraction(int(res.acc_int[1, 2])) * Fraction(2) ** ks.lsb_exp == q


# ---- accumulator specs ----------------------------------------------------------------------
def test_parse_acc():
    assert N.parse_acc("kulisch") == N.AccSpec("kulisch", None, 12)
    assert N.parse_acc("kulisch:8").guard_bits == 8
    assert N.parse_acc("int32").mode == "wrap" and N.parse_acc("int32:sat").mode == "saturate"
    assert N.parse_acc("int32:sat").name == "int32sat"
    assert N.parse_acc("fp16").fmt == parse_format("float16")
    assert N.parse_acc("bf16").name == "bfloat16"
    assert N.parse_acc("e5m2").kind == "float"
    for bad, exc, msg in [("kulisch:x", UnsupportedConfig, "must be an integer"),
                          ("int32:clamp", UnsupportedConfig, "sat or wrap"),
                          ("fp32:sat", FormatError, "':' argument"),
                          ("mxfp4", UnsupportedConfig, "float format"),
                          ("nope", FormatError, "accumulator spec must be kulisch"),
                          ("", FormatError, "kulisch")]:
        with pytest.raises(exc, match=msg):
            N.parse_acc(bad)


# ---- double-rounding traps: sums that lie a hair off a tie of the target format -------------
TRAPS = [  # (accumulator start, product, exact result rounded to float16 by hand)
    (1.0, 2.0 ** -11 + 2.0 ** -63, 1.0 + 2.0 ** -10),                  # just above a tie: up
    (1.0 + 2.0 ** -10, 2.0 ** -11 - 2.0 ** -63, 1.0 + 2.0 ** -10),     # just below a tie: down
    (-1.0, -(2.0 ** -11) - 2.0 ** -63, -(1.0 + 2.0 ** -10)),
    (1.0, 2.0 ** -11, 1.0),                                           # an exact tie: to even
]


@pytest.mark.parametrize("start,p,want", TRAPS)
def test_acc_float_is_not_fooled_by_double_rounding(start, p, want):
    """Rounding a + b to float64 first and then to float16 would land on the tie and round to even;
    one rounding of the exact sum must not (the hand-derived answers above)."""
    got = N.decode("float16", N.acc_float(np.array([[p]]), "float16", init=start, method="twosum"))
    assert got[0] == want
    assert round_fraction_fp16(Fraction(start) + Fraction(p)) == want   # the reference agrees
    got = N.decode("float16", N.dot_unit_accumulate(np.array([[[start, p]]]), "float16"))
    assert got[0] == want
    assert N.add_round("float16", start, p)[()] == want


def test_kulisch_to_float_rounds_sums_wider_than_float64_once():
    """float16 products 4 x 2^30 + 2^24 + 2^-48: the exact sum 2^32 + 2^24 + 2^-48 needs 81 bits and
    sits just above the bfloat16 tie between 2^32 and 2^32 + 2^25, so it must round up."""
    f = parse_format("float16")
    c = {v: int(N.encode(f, [v])[0]) for v in (2.0 ** 15, 2.0 ** 12, 2.0 ** -24)}
    a = np.array([c[2.0 ** 15]] * 4 + [c[2.0 ** 12], c[2.0 ** -24]])
    ks = N.kulisch_spec(f)
    res = N.kulisch_accumulate(f, a, f, a, ks)
    assert Fraction(int(res.acc_int)) * Fraction(2) ** ks.lsb_exp == 2 ** 32 + 2 ** 24 + Fraction(1, 2 ** 48)
    assert N.decode("bfloat16", N.kulisch_to_float(res, ks, "bfloat16"))[()] == 2.0 ** 32 + 2.0 ** 25


def test_kulisch_accumulate_on_products_equals_on_codes():
    fmt = parse_format("float8_e4m3fn")
    rng = np.random.default_rng(13)
    a, b = finite_codes(fmt, rng, (4, 200)), finite_codes(fmt, rng, (4, 200))
    ks = N.kulisch_spec(fmt)
    on_codes = N.kulisch_accumulate(fmt, a, fmt, b, ks)
    acc, flags = N.kulisch_accumulate(N.mul_exact(fmt, a, fmt, b), ks)
    assert np.array_equal(acc, on_codes.acc_int) and not flags.overflow.any()
    with pytest.raises(UnsupportedConfig, match="exact multiples"):
        N.kulisch_accumulate(np.array([2.0 ** -30]), ks)
    e5 = parse_format("float8_e5m2")   # W = 77: Python-int path, inf flags
    res = N.kulisch_accumulate(np.array([[1.0, np.inf, 3.0]]), N.kulisch_spec(e5))
    assert int(res.acc_int[0]) * 2.0 ** N.kulisch_spec(e5).lsb_exp == 4.0 and res.pinf[0]
