"""rtl.config: derived widths (checked against the FP8-vs-INT8 paper's own formulas), names,
latency, and one-line errors for unsupported pairings. No simulator, no amaranth elaboration."""

import pytest

from hwmodel.errors import HwdseError, UnsupportedConfig
from hwmodel.formats import PAPER_FP8, parse_format
from rtl.config import KulischShape, MacConfig, MulConfig, ProductShape
from rtl.configjson import config_from_json, config_to_json


@pytest.mark.parametrize("e", [2, 3, 4, 5])
def test_kulisch_width_matches_paper_formula(e):
    # van Baalen et al. Sec. 3.3 / Fig. 2a: S = 9 - E, k = 2(2^E - 2), width 2S - 1 + k + 12
    S, k = 9 - e, 2 * (2 ** e - 2)
    shape = KulischShape.of(PAPER_FP8[e], PAPER_FP8[e], 12)
    assert (shape.S_a, shape.k, shape.width) == (S, k, 2 * S - 1 + k + 12)


def test_kulisch_anchor_widths():
    # paper text: INT8 -> 27-bit accumulator, FP8-E4 -> 37-bit aligned product, 49-bit accumulator
    assert KulischShape.of(parse_format("int8"), parse_format("int8")).width == 27
    e4 = KulischShape.of(PAPER_FP8[4], PAPER_FP8[4])
    assert (e4.aligned_width, e4.width) == (37, 49)
    # LSB exponent of e4m3: (emin - man) twice = (-6 - 3) * 2
    assert e4.lsb_exp == -18


def test_kulisch_matches_golden_spec():
    numerics = pytest.importorskip("hwmodel.numerics")
    if not hasattr(numerics, "kulisch_spec"):
        pytest.skip("hwmodel.numerics.kulisch_spec not available yet")
    for name in ("int8", "int4", "e4m3", "e5m2", "paper_e2", "paper_e3", "paper_e5", "e2m1", "bf16"):
        f = parse_format(name)
        spec = numerics.kulisch_spec(f, f, guard_bits=12)
        w, lsb = (spec.width, spec.lsb_exp) if hasattr(spec, "width") else spec[:2]
        ours = KulischShape.of(f, f, 12)
        assert (ours.width, ours.lsb_exp) == (w, lsb), name


def test_product_shape_e4m3():
    f = parse_format("e4m3")
    s = ProductShape.of(f, f)
    # e4m3: emin -6, emax 8, 3 mantissa bits, precision 4
    assert (s.exp_min, s.exp_max, s.sig_width) == (-18, 10, 8)
    assert s.exp_width == 6          # [-18, 10] needs 6 signed bits (-32..31), 5 holds only -16..15
    assert s.sign


def test_int_mul_value_width():
    assert MulConfig("int8").value_width == 16      # (-128)^2 = 2^14 needs 16 signed bits
    assert MulConfig("uint8", "int8").value_signed
    assert not MulConfig("uint8").value_signed


def test_names_and_latency():
    assert MacConfig("int8", "kulisch").name == "mac_int8_kulisch27_p1"      # docs/DESIGN.md
    assert MacConfig("e4m3", "fp16").name == "mac_float8_e4m3fn_float16_p1"
    assert MacConfig("int8", "int32:sat", 2).name == "mac_int8_int32sat_p2"
    assert MacConfig("e4m3", "kulisch", mutant="kulisch_shift").name.endswith("_mut_kulisch_shift")
    for p in range(5):
        assert MacConfig("e4m3", "fp32", p).latency == p + 1
    assert MulConfig("e4m3").latency == 0


@pytest.mark.parametrize("make, words", [
    (lambda: MacConfig("mxfp4", "fp32"), "element format 'float4_e2m1fn'"),
    (lambda: MacConfig("int8", "int8"), "at least as wide as the 16-bit product"),
    (lambda: MacConfig("e4m3", "int32"), "needs int inputs"),
    (lambda: MacConfig("e4m3", "e4m3"), "IEEE-style float"),
    (lambda: MacConfig("e4m3", "fp32", 7), "pipeline stages must be an int in 0..4"),
    (lambda: MacConfig("e4m3", "fp32", mutant="nope"), "mutant must be one of"),
    (lambda: MacConfig("e4m3", "kulisch:-1"), "guard bits"),
    (lambda: MulConfig("int8", "e4m3"), "both int or both float"),
    (lambda: MulConfig("mxint8"), "scalar format"),
    (lambda: MacConfig("nosuchformat", "fp32"), "unknown format"),
])
def test_unsupported_pairings_one_line(make, words):
    with pytest.raises(HwdseError) as exc:
        make()
    msg = str(exc.value)
    assert words in msg and "\n" not in msg
    assert isinstance(exc.value, (UnsupportedConfig,)) or "format" in msg


@pytest.mark.parametrize("cfg", [MulConfig("e4m3"), MulConfig("int8", "uint8"),
                                 MacConfig("paper_e3", "kulisch:10", 2),
                                 MacConfig("fp(e=3,m=2,bias=5,nan=fnuz)", "bf16", 0),
                                 MacConfig("int4", "int16:sat", mutant=None)],
                         ids=lambda c: c.name)
def test_config_json_round_trip(cfg):
    back = config_from_json(config_to_json(cfg))
    assert back == cfg and back.name == cfg.name


def test_readout_config():
    from rtl.config import ReadoutConfig
    r = ReadoutConfig("e4m3", "fp16")
    assert r.name == "kread_float8_e4m3fn_kulisch49_float16" and r.latency == 0
    with pytest.raises(UnsupportedConfig, match="signed IEEE-style float"):
        ReadoutConfig("e4m3", "e4m3")


def test_kulisch_rejects_formats_without_zero():
    # E8M0 (the MX scale) has no zero and no sign: nothing to accumulate exactly from 0
    with pytest.raises(UnsupportedConfig, match="zero and subnormals"):
        MacConfig("e8m0", "kulisch")


def test_unsigned_int_kulisch_needs_a_sign_bit():
    # uint8 x uint8 < 2^16 needs 17 signed bits: S = 9 per operand, 2S - 1 = 17
    assert KulischShape.of(parse_format("uint8"), parse_format("uint8")).product_width == 17
