"""The format catalogue and parser, parameterised over every catalogue entry."""

import math

import ml_dtypes
import numpy as np
import pytest

from hwmodel.errors import FormatError
from hwmodel import numerics as N
from hwmodel.formats import (CATALOGUE, BlockFormat, FixedFormat, FloatFormat, IntFormat,
                             NanEncoding, PAPER_FP8, Pow2Scale, ScaleRule, catalogue_formats,
                             parse_format, parse_scale)

ENTRIES = catalogue_formats()
FLOATS = [f for f in ENTRIES if isinstance(f, FloatFormat)]

REQUIRED = ["int4", "int8", "uint8", "int16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
            "float8_e5m2fnuz", "float8_e3m4", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn",
            "float8_e8m0fnu", "float16", "bfloat16", "float32", "mxfp8_e4m3", "mxfp8_e5m2",
            "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8", "paper_e2", "paper_e3", "paper_e4",
            "paper_e5", "nvfp4", "jetfire_int8", "shiftquant_int4", "shiftquant_int8",
            "deepseek_fp8_act", "deepseek_fp8_weight"]


@pytest.mark.parametrize("name", REQUIRED)
def test_issue_2_catalogue_entries_exist(name):
    assert name in CATALOGUE


@pytest.mark.parametrize("fmt", ENTRIES, ids=lambda f: f.name)
def test_every_entry_cites_a_source_and_round_trips_its_name(fmt):
    assert fmt.source.strip(), f"{fmt.name} has no source"
    assert parse_format(fmt.name) == fmt
    if isinstance(fmt, FloatFormat):
        assert parse_format(fmt.spec) == fmt


# Maxima and smallest subnormals from the documents (OFP8 rev 1.0 tables, OCP MX v1.0 5.3.x,
# IEEE 754 binary16/32, bfloat16), typed from the specs, not computed by formats.py.
SPEC_FIGURES = {
    "float8_e4m3fn": (448.0, 2.0 ** -9), "float8_e5m2": (57344.0, 2.0 ** -16),
    "float8_e4m3fnuz": (240.0, 2.0 ** -10), "float8_e5m2fnuz": (57344.0, 2.0 ** -17),
    "float8_e3m4": (15.5, 2.0 ** -6), "float6_e2m3fn": (7.5, 0.125), "float6_e3m2fn": (28.0, 0.0625),
    "float4_e2m1fn": (6.0, 0.5), "float16": (65504.0, 2.0 ** -24),
    "bfloat16": (3.3895313892515355e38, 2.0 ** -133), "float32": (3.4028234663852886e38, 2.0 ** -149),
    "float8_e8m0fnu": (2.0 ** 127, 2.0 ** -127),
}


@pytest.mark.parametrize("name", sorted(SPEC_FIGURES))
def test_derived_extremes_match_the_specs(name):
    fmt = parse_format(name)
    assert (fmt.max_normal, fmt.min_subnormal) == SPEC_FIGURES[name]


@pytest.mark.parametrize("fmt", [f for f in FLOATS if hasattr(ml_dtypes, f.name) or f.name in
                                 ("float16", "float32")], ids=lambda f: f.name)
def test_float_properties_match_ml_dtypes_finfo(fmt):
    fi = ml_dtypes.finfo(getattr(ml_dtypes, fmt.name, None) or np.dtype(fmt.name))
    assert fmt.max_normal == float(fi.max)
    assert fmt.min_normal == float(fi.smallest_normal)
    assert fmt.bits == fi.bits
    if fmt.subnormals:
        assert fmt.min_subnormal == float(fi.smallest_subnormal)
    assert fmt.man_bits == fi.nmant


@pytest.mark.parametrize("E", [2, 3, 4, 5])
def test_paper_family(E):
    """Sign + E exponent bits + (7 - E) mantissa bits, subnormals, one NaN code, no inf."""
    f = PAPER_FP8[E]
    assert (f.bits, f.exp_bits, f.man_bits, f.has_inf) == (8, E, 7 - E, False)
    assert f.nan is NanEncoding.ALL_ONES and f.subnormals
    assert parse_format(f"paper_e{E}") is CATALOGUE[f.name]
    assert parse_format("paper_e4") == parse_format("float8_e4m3fn")


def test_block_formats():
    f = parse_format("mxfp8_e4m3")
    assert isinstance(f, BlockFormat) and f.block_size == 32 and f.scale.name == "float8_e8m0fnu"
    assert f.bits_per_element == 8.25 and parse_format("mxfp4").bits_per_element == 4.25
    assert parse_format("mx(e2m1,block=32)") == parse_format("mxfp4")
    assert parse_format("mx(e2m1,block=16)").block_size == 16
    elem = parse_format("mxint8").element
    assert isinstance(elem, FixedFormat) and (elem.bits, elem.frac_bits) == (8, 6)   # OCP MX 5.3.3


# Block-scaled entries as their documents define them, typed from the documents (OCP MX v1.0
# Table 1; NVIDIA's NVFP4 note; Jetfire Sec. 4; DeepSeek-V3 Sec. 3.3.2): element, scale, block,
# rule, tensor scale, rows, and storage bits per element (NVFP4: 4.5 bits, its scale one FP8 byte).
BLOCK_FIGURES = {
    "mxfp8_e4m3": ("float8_e4m3fn", "float8_e8m0fnu", 32, "ocp", None, 1, 8.25),
    "mxfp8_e5m2": ("float8_e5m2", "float8_e8m0fnu", 32, "ocp", None, 1, 8.25),
    "mxfp6_e2m3": ("float6_e2m3fn", "float8_e8m0fnu", 32, "ocp", None, 1, 6.25),
    "mxfp6_e3m2": ("float6_e3m2fn", "float8_e8m0fnu", 32, "ocp", None, 1, 6.25),
    "mxfp4": ("float4_e2m1fn", "float8_e8m0fnu", 32, "ocp", None, 1, 4.25),
    "mxint8": ("mxint8_element", "float8_e8m0fnu", 32, "ocp", None, 1, 8.25),
    "nvfp4": ("float4_e2m1fn", "ue4m3", 16, "amax", "float32", 1, 4.5),
    "jetfire_int8": ("int8", "float32", 32, "amax", None, 32, 8 + 32 / 1024),
    "shiftquant_int4": ("int4", "shift8", 32, "pow2", None, 1, 4.25),
    "shiftquant_int8": ("int8", "shift8", 32, "pow2", None, 1, 8.25),
    "deepseek_fp8_act": ("float8_e4m3fn", "float32", 128, "amax", None, 1, 8.25),
    "deepseek_fp8_weight": ("float8_e4m3fn", "float32", 128, "amax", None, 128, 8 + 32 / 16384),
}


@pytest.mark.parametrize("name", sorted(BLOCK_FIGURES))
def test_block_catalogue_entries(name):
    f = parse_format(name)
    elem, scale, block, rule, tensor, rows, bpe = BLOCK_FIGURES[name]
    got = (f.element.name, f.scale.name, f.block_size, f.rule.value,
           f.tensor_scale.name if f.tensor_scale else None, f.block_rows, f.bits_per_element)
    assert got == (elem, scale, block, rule, tensor, rows, bpe)
    assert f.source.strip()


@pytest.mark.parametrize("name,elem_max,emax_elem", [
    # OCP MX v1.0 Table 1 emax_elem: E4M3 8, E5M2 15, E2M3 2, E3M2 4, E2M1 2, INT8 0
    ("mxfp8_e4m3", 448.0, 8), ("mxfp8_e5m2", 57344.0, 15), ("mxfp6_e2m3", 7.5, 2),
    ("mxfp6_e3m2", 28.0, 4), ("mxfp4", 6.0, 2), ("mxint8", 127 / 64, 0),
    ("nvfp4", 6.0, 2), ("jetfire_int8", 127.0, 6), ("shiftquant_int4", 7.0, 2)])
def test_block_element_range(name, elem_max, emax_elem):
    f = parse_format(name)
    assert (f.element_max, f.element_emax) == (elem_max, emax_elem)


def test_ue4m3_is_e4m3_without_its_sign():
    """NVFP4's scale: the positive E4M3 codes, max 448, 0x7F NaN (OFP8 rev 1.0)."""
    ue, e4 = parse_format("ue4m3"), parse_format("e4m3")
    assert ue.bits == 7 and ue.max_normal == 448.0 and ue.min_subnormal == 2.0 ** -9
    codes = N.all_codes(ue)
    assert N.decode(ue, codes[:-1]).tolist() == N.decode(e4, codes[:-1]).tolist()
    assert N.is_nan(ue, [0x7F]).all()


def test_block_spec_syntax_composes():
    f = parse_format("block(e2m1,block=16,scale=ue4m3,rule=amax,tensor=fp32)")
    assert f == parse_format("nvfp4") and f.spec == "nvfp4"
    g = parse_format("block(int4,block=64,scale=shift6,rule=pow2)")
    assert (g.element, g.scale, g.block_size, g.rule) == (IntFormat(4), Pow2Scale(6), 64, ScaleRule.POW2)
    assert g.spec == "block(int4,block=64,scale=shift6,rule=pow2)"
    assert g.bits_per_element == 4 + 8 / 64
    h = parse_format("block(e4m3,block=128,scale=fp32,rule=amax,rows=128)")
    assert h == parse_format("deepseek_fp8_weight")
    k = parse_format("block(e5m2,block=32,scale=bf16,rule=ocp,rows=4)")
    assert k.scale.name == "bfloat16" and k.block_rows == 4
    assert parse_format(k.spec) == k and parse_format(k.name) == k
    # mx(...) is the OCP shorthand: E8M0 scale, ocp rule, integer elements as OCP fixed point
    assert parse_format("mx(int8)") == parse_format("mxint8")
    assert parse_format("block(int8)").element == IntFormat(8)     # block(...) takes it literally
    assert parse_format("mx(e2m1,block=16)") == parse_format("block(e2m1,block=16,scale=e8m0,rule=ocp)")
    assert parse_format("mx(e2m1,block=16)").name == "mx_float4_e2m1fn_k16"
    assert parse_scale("shift8") == Pow2Scale(8) and parse_scale("e8m0").name == "float8_e8m0fnu"


def test_parser_short_and_parameterised_forms():
    assert parse_format("e4m3") == parse_format("float8_e4m3fn")
    assert parse_format("int6") == IntFormat(6)
    assert parse_format("uint4") == IntFormat(4, signed=False)
    f = parse_format("fp(e=3,m=4,bias=7,nan=fn)")
    assert (f.exp_bits, f.man_bits, f.bias, f.nan) == (3, 4, 7, NanEncoding.ALL_ONES)
    assert parse_format(" BF16 ") == parse_format("bfloat16")


# Issue 2, "Bad input": each gives a one-line FormatError saying what is wrong and what is allowed.
BAD = [
    ("fp(e=0,m=3)", "exponent width must be an int in 1..11"),
    ("int-3", "integer width must be an int in 2..32"),
    ("fp(e=4,m=-1)", "mantissa width must be an int in 0..52"),
    ("fp(e=5,m=2,bias=2000)", "does not fit float64"),        # bias leaves no float64 normals
    ("fp(e=1,m=0,nan=fn)", "no normal number is left"),
    ("fp(e=1,m=2,nan=ieee)", "leaves no normal numbers"),
    ("float9_nope", "unknown format"),
    ("fp(e=4,m=3", "unknown format"),
    ("fp(e=a,m=3)", "must be an integer"),
    ("fp(e=4,m=3,foo=1)", "takes only named keys"),
    ("fp(m=3)", "needs e="),
    ("fp(e=4,m=3,nan=maybe)", "must be one of ieee, fn, fnuz, none"),
    ("mx(e2m1,block=0)", "block size must be an int"),
    ("mx()", "needs exactly one element format"),
    ("float8_e5m3", "names a 8-bit format"),
    ("", "must not be empty"),
    ("block(e2m1,block=0)", "block size must be an int in 1..65536, not 0"),
    ("block(e2m1,block=-16)", "block size must be an int in 1..65536, not -16"),
    ("block(e2m1,block=16,rows=0)", "block rows must be an int"),
    ("mx(e2m1,block=x)", "block in .* must be an integer"),
    ("block(fp(e=11,m=10),scale=e8m0)", "cannot hold the element range"),
    ("block(e2m1,scale=fp(e=3,m=1,bias=-2,nan=none))", "cannot hold 1"),
    ("block(e2m1,scale=shift8,rule=amax)", "rule amax rounds amax/elem_max into a float scale"),
    ("block(e2m1,rule=median)", "must be one of ocp, amax, pow2"),
    ("block(int4,scale=int8,rule=pow2)", "a block scale must be a float format"),
    ("block(e2m1,scale=shift12)", "2..11 exponent bits"),
    ("mx(mxfp4)", "nested blocks"),
    ("block(nvfp4,block=16)", "nested blocks"),
    ("block(e2m1,scale=mxfp4)", "nested blocks"),
    ("block(e2m1,tensor=mxfp8_e4m3)", "nested blocks"),
    ("blk_float4_e2m1fn__mxfp4__k16__amax", "nested blocks"),
    ("blk_float4_e2m1fn__k16", "must read blk_"),
    ("block(e2m1,colour=red)", "takes only named keys"),
    ("shift8", "is a block scale"),
]


@pytest.mark.parametrize("spec,msg", BAD)
def test_bad_format_specs_give_one_line_errors(spec, msg):
    with pytest.raises(FormatError, match=msg) as info:
        parse_format(spec)
    assert "\n" not in str(info.value)


def test_non_string_spec():
    with pytest.raises(FormatError, match="must be a string"):
        parse_format(8)


def test_a_nan_block_needs_a_scale_with_a_nan_code():
    """OCP MX marks a block holding NaN/inf by the scale's NaN; a scale without one is an error."""
    f = parse_format("mx(e2m1,scale=fp(e=5,m=0,nan=none,signed=0,subnormals=0))")
    x = [float("nan")] + [1.0] * 31
    with pytest.raises(FormatError, match="has no NaN code") as info:
        N.quantize_block(f, x)
    assert "\n" not in str(info.value)
    s, _ = N.quantize_block("mxfp4", x)        # E8M0 has one: the block's scale is NaN
    assert N.is_nan("e8m0", s).all()
