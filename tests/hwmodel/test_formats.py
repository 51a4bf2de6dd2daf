"""The format catalogue and parser, parameterised over every catalogue entry."""

import math

import ml_dtypes
import numpy as np
import pytest

from hwmodel.errors import FormatError
from hwmodel.formats import (CATALOGUE, BlockFormat, FixedFormat, FloatFormat, IntFormat,
                             NanEncoding, PAPER_FP8, catalogue_formats, parse_format)

ENTRIES = catalogue_formats()
FLOATS = [f for f in ENTRIES if isinstance(f, FloatFormat)]

REQUIRED = ["int4", "int8", "uint8", "int16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
            "float8_e5m2fnuz", "float8_e3m4", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn",
            "float8_e8m0fnu", "float16", "bfloat16", "float32", "mxfp8_e4m3", "mxfp8_e5m2",
            "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4", "mxint8", "paper_e2", "paper_e3", "paper_e4",
            "paper_e5"]


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
]


@pytest.mark.parametrize("spec,msg", BAD)
def test_bad_format_specs_give_one_line_errors(spec, msg):
    with pytest.raises(FormatError, match=msg) as info:
        parse_format(spec)
    assert "\n" not in str(info.value)


def test_non_string_spec():
    with pytest.raises(FormatError, match="must be a string"):
        parse_format(8)
