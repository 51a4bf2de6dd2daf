"""Block quantisation (each scale rule) and the block dot product against hand-derived values and an
independent Fraction reference (exact block sums, exact scaling, one RNE rounding per block)."""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from hwmodel import blockscaled as B
from hwmodel import numerics as N
from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import parse_format

from tests.hwmodel.blockfmt import BF16, E8M0, FP32, UE4M3, block, shift

MXFP8 = block("e4m3")
MXFP4 = block("e2m1")
MXE5M2 = block("e5m2")
NVFP4 = block("e2m1", "ue4m3", 16, "amax", "fp32")
NVFP4_1 = block("e2m1", "ue4m3", 16, "amax")
JETFIRE = block("int8", "fp32", 32, "amax")
JETFIRE_BF16 = block("int8", "bf16", 32, "amax")
SHIFTQ = block("int4", shift(5), 32, "pow2")


# ---- independent references ----------------------------------------------------------------
def frac_scale(scale, code):
    if type(scale).__name__ == "Pow2Scale":
        k = int(code)
        k = k - (1 << scale.bits) if k >> (scale.bits - 1) else k
        return Fraction(2) ** k
    return N.decode_exact(scale, int(code))


def floor_log2(a: Fraction) -> int:
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def round_rne(F, q: Fraction):
    """q rounded to nearest even into float format F (IEEE overflow to inf), as a Fraction/inf."""
    if q == 0:
        return Fraction(0)
    a = abs(q)
    quantum = Fraction(2) ** (max(floor_log2(a), F.emin) - F.man_bits)
    n = a // quantum
    rem = a / quantum - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2):
        n += 1
    v = n * quantum
    if v > Fraction(F.max_normal):
        return math.inf if q > 0 else -math.inf
    return v if q > 0 else -v


def ref_steps(fa, a, fb, b, F):
    """Accumulator after every block: acc <- RNE_F(acc + exact block value), finite inputs."""
    bs = fa.block_size
    ea, eb = np.asarray(a.elements), np.asarray(b.elements)
    out = np.zeros(a.scales.shape, object)
    for lane in np.ndindex(a.scales.shape[:-1]):
        acc = Fraction(0)
        for j in range(a.scales.shape[-1]):
            s = sum(N.decode_exact(fa.element, int(x)) * N.decode_exact(fb.element, int(y))
                    for x, y in zip(ea[lane][j * bs:(j + 1) * bs], eb[lane][j * bs:(j + 1) * bs]))
            v = s * frac_scale(fa.scale, a.scales[lane][j]) * frac_scale(fb.scale, b.scales[lane][j])
            acc = round_rne(F, acc + v)
            out[lane + (j,)] = acc
    return out


def check_steps(fmt_a, fmt_b, a, b, acc):
    F = parse_format(acc)
    got = B.block_dot_steps(fmt_a, a, fmt_b, b, acc)
    want = ref_steps(fmt_a, a, fmt_b, b, F)
    vals = N.decode(F, got)
    for idx in np.ndindex(got.shape):
        w = want[idx]
        assert vals[idx] == (float(w) if not isinstance(w, float) else w), (idx, vals[idx], w)


# ---- scale rules: hand-derived values ----------------------------------------------------------
def test_ocp_rule_hand_example():
    """amax 3 in E2M1: floor(log2 3) = 1, emax_elem = 2 -> X = 2^-1; 3/X = 6 (code 0b0111),
    0.3/X = 0.6 -> 0.5 (code 0b0001), -1.25/X = -2.5 -> -2 (tie to even, code 0b1100)."""
    x = np.zeros(32)
    x[:3] = [3.0, 0.3, -1.25]
    c = B.quantize_blocks(MXFP4, x)
    assert int(c.scales[0]) == 127 - 1                 # E8M0 code of 2^-1
    assert [int(v) for v in c.elements[:4]] == [0b0111, 0b0001, 0b1100, 0]


def test_ocp_rule_equals_numerics_quantize_block():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 64)) * 2.0 ** rng.uniform(-30, 30, (16, 1))
    for spec in ("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8"):
        f = parse_format(spec)
        s, e = N.quantize_block(f, x)
        c = B.quantize_blocks(f, x)
        assert (c.scales == s).all() and (c.elements == e).all(), spec


@pytest.mark.parametrize("amax, k", [(7.0, 0), (7.0001, 1), (14.0, 1), (14.5, 2), (3.5, -1),
                                     (3.4, -1), (1.75, -2), (1.0, -2), (0.875, -3)])
def test_pow2_rule_smallest_power_of_two(amax, k):
    """ShiftQuant: the smallest 2^k with amax / 2^k <= 7 (INT4)."""
    x = np.zeros(32)
    x[5] = -amax
    c = B.quantize_blocks(SHIFTQ, x)
    assert int(c.scales[0]) == k & 31
    assert N.decode("int4", c.elements[5]) == -max(-8, min(7, round(amax / 2.0 ** k)))


def test_pow2_rule_property_and_clamp():
    rng = np.random.default_rng(2)
    x = rng.standard_t(3, (64, 32)) * 2.0 ** rng.uniform(-12, 12, (64, 1))
    c = B.quantize_blocks(SHIFTQ, x)
    k = B.scale_fields(SHIFTQ.scale, c.scales).lsb_exp[:, 0]
    amax = np.abs(x).max(axis=1)
    inside = (k > -16) & (k < 15)
    assert inside.sum() > 40
    assert np.all(amax[inside] <= 7 * 2.0 ** k[inside])
    assert np.all(amax[inside] > 7 * 2.0 ** (k[inside] - 1))
    big = B.quantize_blocks(SHIFTQ, np.full(32, 1e9))
    assert int(big.scales[0]) == 15 and (N.decode("int4", big.elements) == 7).all()


def test_amax_rule_nvfp4_hand_example():
    """amax 3: d = 3/6 = 0.5 -> UE4M3 0.5 = 2^-1 (code 0b0110_000); x / 0.5 -> E2M1."""
    x = np.zeros(16)
    x[:3] = [3.0, -1.1, 0.25]
    c = B.quantize_blocks(NVFP4_1, x)
    assert int(c.scales[0]) == (6 << 3)
    assert list(N.decode("e2m1", c.elements[:3])) == [6.0, -2.0, 0.5]


def test_amax_rule_two_level_tensor_scale():
    """NVFP4 two-level: t = fl32(amax_tensor / (6 * 448)); block scale = E4M3(amax_block / 6 / t)."""
    x = np.zeros((1, 32))
    x[0, 0], x[0, 16] = 2688.0, 1.0
    c = B.quantize_blocks(NVFP4, x)
    assert c.tensor_scale == 1.0                       # 2688 / 2688
    # 1/6 = 0.1667 lies between E4M3 0.15625 and 0.171875, nearer the latter
    assert list(B.decode_scale(UE4M3, c.scales[0])) == [448.0, 0.171875]
    v = B.dequantize_blocks(NVFP4, c)
    assert v[0, 0] == 2688.0 and v[0, 16] == 6 * 0.171875   # 1 / 0.171875 = 5.8 -> 6


def test_amax_rule_jetfire():
    """INT8 with a float scale amax / 127: amax 254 -> scale 2; 63 / 2 = 31.5 -> 32 (tie to even)."""
    x = np.zeros(32)
    x[:3] = [254.0, 63.0, -65.0]
    for f in (JETFIRE, JETFIRE_BF16):
        c = B.quantize_blocks(f, x)
        assert B.decode_scale(f.scale, c.scales)[0] == 2.0
        assert list(N.decode("int8", c.elements[:3])) == [127, 32, -32]


def test_two_dimensional_tiles_share_one_scale():
    f = block("e4m3", "e8m0", 4, "ocp", block_rows=2)
    x = np.ones((4, 8))
    x[1, 5] = 100.0                                    # tile (0, 1): rows 0-1, columns 4-7
    c = B.quantize_blocks(f, x)
    assert c.scales.shape == (2, 2)
    assert int(c.scales[0, 1]) == 127 + 6 - 8 and int(c.scales[0, 0]) == 127 - 8
    assert (B.dequantize_blocks(f, c) == B.dequantize_blocks(f, c)).all()
    assert B.dequantize_blocks(f, c)[1, 5] == 96.0     # 100 / 2^-2 = 400 -> 384 in E4M3


# ---- specials (OCP MX v1.0: NaN scale -> NaN block) -------------------------------------------
def test_nan_and_inf_blocks_get_the_nan_scale_code():
    x = np.ones((3, 32))
    x[0, 4] = np.nan
    x[1, 7] = np.inf
    for f in (MXFP8, MXFP4, SHIFTQ.__class__(SHIFTQ.element, E8M0, 32, SHIFTQ.rule)):
        c = B.quantize_blocks(f, x)
        assert list(c.scales) == [0xFF, 0xFF, 127 - B._elem_emax(f.element)]
        assert (c.elements[:2] == 0).all()


def test_all_zero_block_takes_the_smallest_scale():
    c = B.quantize_blocks(MXFP8, np.zeros(32))
    assert int(c.scales[0]) == 0 and (c.elements == 0).all()
    c = B.quantize_blocks(NVFP4_1, np.zeros(16))
    assert B.decode_scale(UE4M3, c.scales)[0] == 2.0 ** -6 and (c.elements == 0).all()
    z = B.block_dot(MXFP8, B.quantize_blocks(MXFP8, np.zeros(64)), MXFP8,
                    B.quantize_blocks(MXFP8, np.ones(64)))
    assert z == 0.0 and not np.signbit(z)


def test_scale_overflow_clamps_and_saturates():
    """amax 2^200: floor(log2) - 8 = 192 > 127, so X = 2^127 and the elements saturate to 448."""
    c = B.quantize_blocks(MXFP8, np.full(32, 2.0 ** 200))
    assert int(c.scales[0]) == 254 and (c.elements == 0x7E).all()


def test_nan_scale_makes_the_dot_nan():
    a = B.BlockCodes(np.array([127, 0xFF], np.uint64), np.full(64, 0x38, np.uint64))   # 1.0s
    b = B.BlockCodes(np.array([127, 127], np.uint64), np.full(64, 0x38, np.uint64))
    steps = B.block_dot_steps(MXFP8, a, MXFP8, b, "fp32")
    assert N.decode("fp32", steps[0]) == 32.0 and np.isnan(N.decode("fp32", steps[1]))
    assert np.isnan(B.block_dot(MXFP8, a, MXFP8, b, "kulisch"))


@pytest.mark.parametrize("elems_a, scale_b, want", [
    ({0: 0x7F}, 127, math.nan),                          # E4M3 NaN element
    ({0: 0x7C}, 127, math.inf),                          # E5M2 +inf x 1
    ({0: 0x7C, 1: 0xFC}, 127, math.nan),                 # +inf and -inf in one block
    ({0: 0xFC}, 127, -math.inf),
])
def test_special_elements(elems_a, scale_b, want):
    f = MXE5M2 if any(v & 0x7C == 0x7C for v in elems_a.values()) and 0x7F not in elems_a.values() \
        else MXFP8
    ea = np.full(32, 0x3C if f is MXE5M2 else 0x38, np.uint64)
    for i, v in elems_a.items():
        ea[i] = v
    a = B.BlockCodes(np.array([127], np.uint64), ea)
    b = B.BlockCodes(np.array([scale_b], np.uint64), np.full(32, ea[31], np.uint64))
    got = B.block_dot(f, a, f, b, "fp32")
    assert (np.isnan(got) and math.isnan(want)) or got == want


def test_inf_block_times_zero_scale_is_nan():
    f = block("e5m2", "ue4m3", 32, "amax")
    ea = np.full(32, 0x3C, np.uint64)
    ea[0] = 0x7C
    a = B.BlockCodes(np.array([0], np.uint64), ea)                   # UE4M3 code 0 = 0.0
    b = B.BlockCodes(np.array([0x38], np.uint64), np.full(32, 0x3C, np.uint64))
    assert np.isnan(B.block_dot(f, a, f, b, "fp32"))
    a.elements[0] = 0x3C
    assert B.block_dot(f, a, f, b, "fp32") == 0.0                    # zero scale: zero block


# ---- the block dot against the Fraction reference ---------------------------------------------
def random_operands(f, rng, lanes, blocks, spread=8):
    n = blocks * f.block_size
    x = rng.standard_normal((lanes, n)) * 2.0 ** rng.uniform(-spread, spread, (lanes, blocks)).repeat(
        f.block_size, axis=1)
    return B.quantize_blocks(f, x)


@pytest.mark.parametrize("fmt, acc", [(MXFP8, "fp32"), (MXFP8, "fp16"), (MXFP4, "bf16"),
                                      (MXE5M2, "fp32"), (NVFP4_1, "fp16"), (SHIFTQ, "fp32"),
                                      (JETFIRE, "fp32"), (JETFIRE_BF16, "bf16"),
                                      (parse_format("mxint8"), "fp16")],
                         ids=lambda v: getattr(v, "name", v))
def test_block_dot_rounds_once_per_block(fmt, acc):
    rng = np.random.default_rng(5)
    a, b = random_operands(fmt, rng, 3, 6), random_operands(fmt, rng, 3, 6)
    check_steps(fmt, fmt, a, b, acc)


def test_block_dot_random_codes_including_subnormals():
    """Uniformly random finite element codes and scales within the fp32 range."""
    rng = np.random.default_rng(6)
    for f in (MXFP8, MXFP4, block("e3m2")):
        codes = N.all_codes(f.element)
        fin = codes[np.isfinite(N.decode(f.element, codes))]
        mk = lambda: B.BlockCodes(rng.integers(100, 150, (2, 4)).astype(np.uint64),
                                  rng.choice(fin, (2, 4 * f.block_size)))
        check_steps(f, f, mk(), mk(), "fp32")


def test_mixed_operand_formats():
    rng = np.random.default_rng(7)
    a, b = random_operands(MXFP8, rng, 2, 3), random_operands(MXE5M2, rng, 2, 3)
    check_steps(MXFP8, MXE5M2, a, b, "fp32")


def test_one_rounding_per_block_differs_from_one_per_product():
    """256*256 + 2^-9*2^-9 - 256*256 = 2^-18 exactly inside a block; rounding after every product
    in fp32 loses the 2^-18 (below half an ulp of 2^16) and gives 0."""
    f = block("e4m3", "e8m0", 4)
    ea = np.array([0x78, 0x01, 0xF8, 0], np.uint64)
    eb = np.array([0x78, 0x01, 0x78, 0], np.uint64)
    one = np.array([127], np.uint64)
    assert B.block_dot(f, (one, ea), f, (one, eb), "fp32") == 2.0 ** -18
    assert N.dot("e4m3", ea, "e4m3", eb, "fp32") == 0.0


# ---- Kulisch across blocks -------------------------------------------------------------------
def test_kulisch_register_is_the_exact_sum():
    rng = np.random.default_rng(8)
    f = SHIFTQ
    a, b = random_operands(f, rng, 3, 5, spread=6), random_operands(f, rng, 3, 5, spread=6)
    regs, flags = B.block_dot_steps(f, a, f, b, "kulisch")
    ks = B.block_kulisch_spec(f, f)
    assert ks.width == B.block_sum_bits(f.element, f.element, 32) + 2 * 31 + 12
    want = ref_steps(f, a, f, b, parse_format("fp(e=11,m=50,bias=1023)"))   # wide: exact here
    for idx in np.ndindex(regs.shape):
        assert Fraction(int(regs[idx])) * Fraction(2) ** ks.lsb_exp == want[idx]
    assert not flags["overflow"].any()


def test_kulisch_overflow_flag_and_wrap():
    f = SHIFTQ
    ea = N.encode("int4", np.full(8 * 32, 7.0))
    a = B.BlockCodes(np.full(8, 15, np.uint64), ea)
    ks = B.block_kulisch_spec(f, f, guard_bits=0)
    assert ks.width == 14 + 62 and ks.lsb_exp == -32
    regs, flags = B.block_dot_steps(f, a, f, a, "kulisch:0")
    # each block adds 32 * 49 * 2^30 = 1568 * 2^62 units of 2^-32; the register holds < 2^75 =
    # 8192 * 2^62, so the sixth block (1568 * 6 = 9408 > 8192) overflows
    assert list(flags["overflow"]) == [False] * 5 + [True] * 3
    assert not flags["overflow_neg"].any()
    assert -(1 << (ks.width - 1)) <= int(regs[-1]) < (1 << (ks.width - 1))
    assert B.block_dot(f, a, f, a, "kulisch:0") == math.inf


def test_kulisch_needs_power_of_two_scales():
    with pytest.raises(UnsupportedConfig, match="power-of-two scales"):
        B.block_kulisch_spec(NVFP4_1, NVFP4_1)


# ---- bad input -------------------------------------------------------------------------------
def test_bad_shapes_and_block_sizes():
    with pytest.raises(UnsupportedConfig, match="multiple of the block size 32"):
        B.quantize_blocks(MXFP8, np.zeros(40))
    a = B.quantize_blocks(MXFP8, np.zeros(64))
    b = B.quantize_blocks(NVFP4_1, np.zeros(64))
    with pytest.raises(UnsupportedConfig, match="one block size"):
        B.block_dot(MXFP8, a, NVFP4_1, b)
    with pytest.raises(UnsupportedConfig, match="float .* or Kulisch"):
        B.block_dot(MXFP8, a, MXFP8, a, "int32")


def test_nan_without_a_nan_scale_and_bad_codes():
    x = np.ones(32)
    x[3] = np.nan
    with pytest.raises(UnsupportedConfig, match="needs a scale format with a NaN code"):
        B.quantize_blocks(SHIFTQ, x)
    from hwmodel.errors import FormatError
    with pytest.raises(FormatError, match="element codes of float4_e2m1fn must be integers in 0..15"):
        B.block_dot(MXFP4, (np.array([127]), np.full(32, 16)), MXFP4, (np.array([127]), np.zeros(32, int)))


def test_tensor_scales_applied_outside_with_two_roundings():
    assert B.apply_tensor_scales(np.array([3.0]), 1.0 / 3, 3.0, "fp16")[0] == 3.0
    v = B.apply_tensor_scales(np.array([1.0 + 2.0 ** -10]), 1.0 + 2.0 ** -10, 1.0, "fp16")[0]
    assert v == 1.0 + 2.0 ** -9                        # (1 + 2^-10)^2 rounds to 1 + 2^-9 in fp16


def test_module_imports_without_amaranth():
    code = "import sys, hwmodel.blockscaled; print('amaranth' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_catalogue_block_format_quantises_and_dots():
    """Each catalogue block format (2-D tiles and tensor scales included): the block dot of its
    quantised operands is within n_blocks fp32 roundings of the float64 sum of dequantised
    products (Kulisch for shift scales: exact)."""
    from hwmodel.formats import BlockFormat, catalogue_formats
    rng = np.random.default_rng(9)
    seen = 0
    for f in catalogue_formats():
        if not isinstance(f, BlockFormat):
            continue
        seen += 1
        R, n = 2 * f.block_rows, 3 * f.block_size
        a = B.quantize_blocks(f, rng.standard_normal((R, n)))
        b = B.quantize_blocks(f, rng.standard_normal((R, n)))
        assert a.scales.shape == (R // f.block_rows if f.block_rows > 1 else R, 3)
        pa, pb = B.dequantize_blocks(f, a), B.dequantize_blocks(f, b)
        if type(f.scale).__name__ == "Pow2Scale":
            got = B.block_dot(f, a, f, b, "kulisch")
            assert np.array_equal(got, np.array([math.fsum(r) for r in (pa * pb)])), f.name
            continue
        got = B.block_dot(f, a, f, b, "fp32")
        if f.tensor_scale is not None:       # the block dot excludes the tensor scales
            got = got * a.tensor_scale * b.tensor_scale
        ref = (pa * pb).sum(axis=-1)
        bound = 3 * 2.0 ** -24 * np.abs(pa * pb).sum(axis=-1) * 1.01
        assert np.all(np.abs(got - ref) <= bound), f.name
    assert seen >= 10
