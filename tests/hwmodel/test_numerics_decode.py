"""decode / decode_exact / is_nan / mul_exact: checked against ml_dtypes and Fraction references."""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from hwmodel import numerics as N
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import FloatFormat, catalogue_formats, parse_format, BlockFormat

from ml_dtypes_ref import ML_DTYPES


def ml_type(name):
    return np.dtype(getattr(ml_dtypes, name))


def ml_values(name, codes):
    """Decode codes with ml_dtypes: reinterpret the bit pattern, widen to float64."""
    dt = ml_type(name)
    store = {1: np.uint8, 2: np.uint16}[dt.itemsize]
    with np.errstate(invalid="ignore"):   # NaN payloads widen with a warning
        return codes.astype(store).view(dt).astype(np.float64)


def same_values(a, b):
    """Equal as values, NaN == NaN, and the sign of zero (and of every non-NaN) matters."""
    na, nb = np.isnan(a), np.isnan(b)
    return (np.array_equal(na, nb) and np.array_equal(a[~na], b[~nb])
            and np.array_equal(np.signbit(a[~na]), np.signbit(b[~nb])))


@pytest.mark.parametrize("ml_name", sorted(ML_DTYPES))
def test_decode_matches_ml_dtypes_on_every_code(ml_name):
    fmt = parse_format(ML_DTYPES[ml_name])
    codes = N.all_codes(fmt)
    ours = N.decode(fmt, codes)
    if fmt.kind == "int":
        ref = codes.astype(np.uint8).view(ml_type(ml_name))
        # ml_dtypes stores int4 in a byte; its low bits are the code, sign taken from bit bits-1
        ref = np.array([int(v) for v in ref], dtype=np.int64)
        if fmt.signed:
            ref = np.where(ref >= (1 << (fmt.bits - 1)), ref - (1 << fmt.bits), ref)
        assert np.array_equal(ours, ref.astype(np.float64))
    else:
        assert same_values(ours, ml_values(ml_name, codes))


def test_decode_float16_float32_match_numpy():
    codes = N.all_codes("float16")
    assert same_values(N.decode("float16", codes), codes.astype(np.uint16).view(np.float16).astype(np.float64))
    rng = np.random.default_rng(1)
    c32 = rng.integers(0, 1 << 32, 200_000, dtype=np.uint64)
    c32[:4] = [0, 0x80000000, 0x7F800000, 0x00000001]
    with np.errstate(invalid="ignore"):
        ref = c32.astype(np.uint32).view(np.float32).astype(np.float64)
    assert same_values(N.decode("float32", c32), ref)


@pytest.mark.parametrize("fmt", [f for f in catalogue_formats()
                                 if not isinstance(f, BlockFormat) and f.bits <= 12],
                         ids=lambda f: f.name)
def test_decode_equals_fraction_reference(fmt):
    codes = N.all_codes(fmt)
    vals = N.decode(fmt, codes)
    for c, v in zip(codes.tolist(), vals.tolist()):
        ref = N.decode_exact(fmt, c)
        if isinstance(ref, float):
            assert (math.isnan(ref) and math.isnan(v)) or ref == v, (fmt.name, c)
        else:
            assert Fraction(v) == ref, (fmt.name, c)


@pytest.mark.parametrize("fmt", [f for f in catalogue_formats()
                                 if isinstance(f, FloatFormat) and f.bits <= 16], ids=lambda f: f.name)
def test_catalogue_extremes_decode(fmt):
    vals = N.decode(fmt, N.all_codes(fmt))
    finite = vals[np.isfinite(vals)]
    assert finite.max() == fmt.max_normal
    assert finite[finite > 0].min() == fmt.min_subnormal
    assert np.isnan(vals).sum() == N.is_nan(fmt, N.all_codes(fmt)).sum()
    assert np.isinf(vals).any() == fmt.has_inf
    assert np.isnan(vals).any() == fmt.has_nan


def test_nan_counts_per_encoding():
    assert N.is_nan("float8_e4m3fn", N.all_codes("float8_e4m3fn")).sum() == 2     # S.1111.111
    assert N.is_nan("float8_e4m3fnuz", N.all_codes("float8_e4m3fnuz")).sum() == 1  # 0x80
    assert N.is_nan("float8_e5m2", N.all_codes("float8_e5m2")).sum() == 6          # 2 x (m != 0)
    assert N.is_nan("float4_e2m1fn", N.all_codes("float4_e2m1fn")).sum() == 0
    assert N.is_nan("int8", N.all_codes("int8")).sum() == 0


def test_mul_exact_against_fractions_and_ieee_rules():
    fa = parse_format("float8_e5m2")
    codes = N.all_codes(fa)
    a, b = np.meshgrid(codes, codes, indexing="ij")
    prod = N.mul_exact(fa, a, fa, b)
    va, vb = N.decode(fa, a), N.decode(fa, b)
    for i in range(0, 256, 7):
        for j in range(0, 256, 5):
            x, y = N.decode_exact(fa, i), N.decode_exact(fa, j)
            p = prod[i, j]
            if isinstance(x, Fraction) and isinstance(y, Fraction):
                assert Fraction(p) == x * y
    # IEEE special rules, derived independently of numpy's multiply
    inf = float(N.decode(fa, [0x7C])[0])
    assert inf == math.inf
    assert np.isnan(N.mul_exact(fa, [0x00], fa, [0x7C])[0])       # 0 x inf
    assert N.mul_exact(fa, [0xFC], fa, [0x3C])[0] == -math.inf    # -inf x 1
    assert np.isnan(N.mul_exact(fa, [0x7D], fa, [0x3C])[0])       # NaN x 1
    z = N.mul_exact(fa, [0x80], fa, [0x3C])[0]                    # -0 x 1 = -0
    assert z == 0 and math.copysign(1, z) == -1
    z = N.mul_exact(fa, [0x80], fa, [0xBC])[0]                    # -0 x -1 = +0
    assert z == 0 and math.copysign(1, z) == 1
    with np.errstate(invalid="ignore"):
        assert np.array_equal(np.isnan(prod), np.isnan(va * vb))


def test_mul_exact_refuses_inexact_products():
    with pytest.raises(UnsupportedConfig, match="53"):
        N.mul_exact("int32", [1], "int32", [1])


def test_bad_codes_and_formats():
    with pytest.raises(FormatError, match="0..255"):
        N.decode("int8", [256])
    with pytest.raises(FormatError, match=">= 0"):
        N.decode("int8", [-1])
    with pytest.raises(FormatError, match="integers"):
        N.decode("int8", [1.5])
    with pytest.raises(UnsupportedConfig, match="quantize_block"):
        N.decode("mxfp8_e4m3", [0])
    with pytest.raises(UnsupportedConfig, match="24 bits"):
        N.all_codes("float32")
    with pytest.raises(FormatError, match="unknown format"):
        N.decode("float9_nope", [0])


def test_decode_scale_reads_shift_and_float_scales():
    """shiftN codes are N-bit two's-complement exponents: shift4 holds 2^-8 .. 2^7, no zero."""
    from hwmodel.formats import Pow2Scale
    s4 = Pow2Scale(4)
    assert (s4.emin, s4.emax, s4.max_normal, s4.min_normal) == (-8, 7, 128.0, 2.0 ** -8)
    exps = list(range(0, 8)) + list(range(-8, 0))        # codes 0..15
    assert N.decode_scale("shift4", np.arange(16)).tolist() == [2.0 ** e for e in exps]
    codes = np.arange(256)
    e8 = N.decode_scale("e8m0", codes)
    assert np.array_equal(e8, N.decode("e8m0", codes), equal_nan=True)
    with pytest.raises(FormatError, match="codes of shift4 must be in 0..15"):
        N.decode_scale(s4, [16])
