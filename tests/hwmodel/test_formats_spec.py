"""Format identity: canonical specs and display names round-trip through the parser, for every
catalogue entry and for generated formats (property-based), and malformed specs never traceback."""

import dataclasses
import re

import pytest
from hypothesis import assume, example, given, settings, strategies as st

from hwmodel.errors import FormatError, HwdseError
from hwmodel.formats import (CATALOGUE, E8M0, FLOAT32, BlockFormat, FixedFormat, FloatFormat,
                             IntFormat, NanEncoding, Pow2Scale, ScaleRule, catalogue_formats,
                             parse_format, parse_scale)

NANS = list(NanEncoding)


def _build(cls, *args, **kw):
    """The object, or a hypothesis rejection when the combination is impossible."""
    try:
        return cls(*args, **kw)
    except FormatError:
        assume(False)


ints = st.builds(IntFormat, st.integers(2, 32), st.booleans())
fixeds = st.builds(FixedFormat, st.integers(2, 64), st.integers(-8, 70), st.booleans())


@st.composite
def floats(draw):
    e = draw(st.integers(1, 11))
    m = draw(st.integers(0, 52))
    nan = draw(st.sampled_from(NANS))
    bias = draw(st.one_of(st.none(), st.integers(-40, 1100)))
    return _build(FloatFormat, e, m, bias, nan, signed=draw(st.booleans()),
                  subnormals=draw(st.booleans()))


scalars = st.one_of(ints, fixeds, floats())
scales = st.one_of(floats(), st.builds(Pow2Scale, st.integers(2, 11)))


@st.composite
def blocks(draw):
    return _build(BlockFormat, draw(scalars), draw(scales), draw(st.integers(1, 65536)),
                  draw(st.sampled_from(list(ScaleRule))), draw(st.one_of(st.none(), floats())),
                  draw(st.integers(1, 256)))


formats = st.one_of(scalars, blocks())


def _unlabelled(f):
    """An equal object built without the catalogue's label (the name then is the derived one)."""
    if isinstance(f, BlockFormat):
        return dataclasses.replace(f, element=_unlabelled(f.element), label=None)
    if isinstance(f, (FloatFormat, FixedFormat)):
        return dataclasses.replace(f, label=None)
    return f


@pytest.mark.parametrize("fmt", catalogue_formats(), ids=lambda f: f.name)
def test_catalogue_spec_and_name_round_trip(fmt):
    assert parse_format(fmt.spec) == fmt and parse_format(fmt.name) == fmt
    plain = _unlabelled(fmt)
    assert plain == fmt and plain.spec == fmt.spec          # equal formats, equal specs
    assert plain.name == fmt.name                           # ... and equal display names


# Generated formats whose plain derived name is a catalogue label of another format.
CLASHES = [FloatFormat(2, 1, None, NanEncoding.ALL_ONES), FloatFormat(2, 3, None, NanEncoding.ALL_ONES),
           FloatFormat(3, 2, None, NanEncoding.ALL_ONES),
           FloatFormat(8, 0, None, NanEncoding.ALL_ONES, signed=False)]


@pytest.mark.parametrize("fmt", CLASHES, ids=lambda f: f.name)
def test_derived_names_never_reuse_another_formats_label(fmt):
    other = CATALOGUE[fmt.name.replace("fnao", "fn")]
    assert other != fmt and "fnao" in fmt.name
    assert parse_format(fmt.name) == fmt and parse_format(fmt.spec) == fmt


@settings(max_examples=400, deadline=None)
@given(formats)
@example(FloatFormat(2, 1, None, NanEncoding.ALL_ONES))
def test_generated_spec_and_name_round_trip(fmt):
    assert parse_format(fmt.spec) == fmt
    assert parse_format(fmt.name) == fmt
    again = parse_format(fmt.spec)
    assert again.spec == fmt.spec and hash(again) == hash(fmt)
    assert parse_format(fmt.spec.upper()) == fmt            # specs are case-insensitive


@settings(max_examples=200, deadline=None)
@given(formats)
def test_names_are_identifiers(fmt):
    """Display names go into Verilog module and file names: letters, digits and '_' only."""
    assert fmt.name.replace("_", "a").isalnum() and fmt.name.isascii()


@settings(max_examples=200, deadline=None)
@given(formats, st.data())
def test_equal_formats_have_equal_specs(a, data):
    """Half the time b is an equal object built another way (parsed from a's name, or a copy
    without label), else an independent format: equality and spec equality agree either way."""
    b = data.draw(st.one_of(st.just(parse_format(a.name)), st.just(_unlabelled(a)), formats))
    assert (a == b) == (a.spec == b.spec)
    if a == b:
        assert a.name == b.name and hash(a) == hash(b)


@pytest.mark.parametrize("spec,expected", [
    ("fp(e=4,m=3,subnormals=0)", FloatFormat(4, 3, subnormals=False)),
    ("float8_e4m3_nosub", FloatFormat(4, 3, subnormals=False)),
    ("fp(e=4,m=3,bias=-2,nan=none)", FloatFormat(4, 3, -2, NanEncoding.NONE)),
    ("float8_e4m3fs_bm2", FloatFormat(4, 3, -2, NanEncoding.NONE)),
    ("fp(e=4,m=3,nan=fn,signed=0)", FloatFormat(4, 3, 7, NanEncoding.ALL_ONES, signed=False)),
    ("ue4m3", FloatFormat(4, 3, 7, NanEncoding.ALL_ONES, signed=False)),
    ("sfix8_f6", FixedFormat(8, 6)), ("ufix12_fm2", FixedFormat(12, -2, False)),
    ("mxint8_element", FixedFormat(8, 6)),
])
def test_generated_names_that_users_see_parse(spec, expected):
    """`fp(e=4,m=3,subnormals=0)` used to print as float8_e4m3_nosub, which the parser rejected."""
    f = parse_format(spec)
    assert f == expected
    assert parse_format(f.name) == f and parse_format(f.spec) == f


def test_a_generated_format_equal_to_a_catalogue_entry_takes_its_name():
    f = parse_format("fp(e=8,m=23,bias=127,nan=ieee)")
    assert f is FLOAT32 and f.spec == "float32"
    assert FloatFormat(8, 23).spec == FloatFormat(8, 23).name == "float32"
    assert FixedFormat(8, 6).name == "mxint8_element"
    assert BlockFormat(FloatFormat(2, 1, 1, NanEncoding.NONE), block_size=32).name == "mxfp4"


# --- malformed input --------------------------------------------------------------------------
NON_ASCII = [
    ("int\uff18", "U+FF18"),                      # full-width digit eight
    ("\uff45\uff14m3", "U+FF45"),                 # full-width e
    ("fp(e=4,m=\uff13)", "U+FF13"),
    ("e4m3\u00a0", "U+00A0"),                     # no-break space is not stripped away
    ("int\u0668", "U+0668"),                      # Arabic-Indic digit eight
    ("e4m3\x00", "U+0000"),
    ("mx(e2m1,block=\uff13\uff12)", "U+FF13"),
]


@pytest.mark.parametrize("spec,code", NON_ASCII)
def test_non_ascii_specs_are_rejected_naming_the_character(spec, code):
    with pytest.raises(FormatError, match=re.escape(code)) as info:
        parse_format(spec)
    msg = str(info.value)
    assert "\n" not in msg and "character" in msg


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=40),
                 st.text(alphabet="fpmxblockintuesh0123456789(),=_:-+ ", max_size=40),
                 st.lists(st.sampled_from(["mx(", "block(", "fp(", "e=", "m=", "4", "3", ",", ")",
                                           "scale=", "rule=", "amax", "pow2", "shift", "tensor=",
                                           "rows=", "e2m1", "nvfp4", "int8", "=", "(", "-1", "0",
                                           "blk_", "__", "mx_", "_k", "16"]),
                          max_size=14).map("".join)))
def test_malformed_specs_give_one_line_errors_never_tracebacks(text):
    try:
        f = parse_format(text)
    except HwdseError as exc:
        assert "\n" not in str(exc)
    else:
        assert parse_format(f.spec) == f


def test_spec_length_is_bounded():
    with pytest.raises(FormatError, match="characters long"):
        parse_format("mx(" * 500 + "e2m1" + ")" * 500)
    with pytest.raises(FormatError, match="nested"):
        parse_format("mx(" * 8 + "e2m1" + ")" * 8)


def test_a_scale_object_is_not_a_format():
    with pytest.raises(FormatError, match="block scale"):
        parse_format(Pow2Scale(8))
    with pytest.raises(FormatError, match="nested blocks"):
        parse_scale(parse_format("mxfp4"))
    with pytest.raises(FormatError, match="power-of-two shift shiftN, not 'int8'"):
        parse_scale("int8")
