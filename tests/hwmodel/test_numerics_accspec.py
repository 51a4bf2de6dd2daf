"""Accumulator identity: canonical AccSpec specs, synonyms, the one Kulisch width, import order."""

import ast
import pathlib
import re

import pytest
from hypothesis import given, settings, strategies as st

from hwmodel import papermodel
from hwmodel.accum import AccSpec, kulisch_spec, kulisch_width, parse_acc
from hwmodel.errors import HwdseError
from hwmodel.formats import FLOAT32, FloatFormat, IntFormat, NanEncoding

SYNONYMS = [
    ["fp32", "float32", "FP32", " single ", "e8m23", "fp(e=8,m=23,bias=127,nan=ieee)",
     "fp(e=8,m=23)", "float32_e8m23", AccSpec("float", FLOAT32), AccSpec("float", FloatFormat(8, 23))],
    ["fp16", "float16", "half", "e5m10", "fp(e=5,m=10,bias=15)"],
    ["bf16", "bfloat16", "e8m7"],
    ["kulisch", "kulisch:12", "KULISCH", "kulisch_v12", AccSpec("kulisch"),
     AccSpec("kulisch", FLOAT32, 12)],
    ["int32", "int32:wrap", "INT32", AccSpec("int", IntFormat(32)),
     AccSpec("int", IntFormat(32), guard_bits=3)],
    ["int16:sat", "int16:saturate", "int16sat", AccSpec("int", IntFormat(16), mode="sat")],
]


@pytest.mark.parametrize("group", SYNONYMS, ids=lambda g: str(g[0]))
def test_synonyms_give_one_accumulator_and_one_spec(group):
    accs = [parse_acc(x) for x in group]
    assert all(a == accs[0] for a in accs)
    assert len({a.spec for a in accs}) == 1 and len({hash(a) for a in accs}) == 1


@pytest.mark.parametrize("text,spec,name", [
    ("fp32", "float32", "float32"), ("kulisch", "kulisch:12", "kulisch_v12"),
    ("kulisch:0", "kulisch:0", "kulisch_v0"), ("int32", "int32:wrap", "int32"),
    ("int16:sat", "int16:sat", "int16sat"), ("uint24", "uint24:wrap", "uint24"),
    ("fp(e=6,m=9)", "fp(e=6,m=9,bias=31,nan=ieee)", "float16_e6m9"),
])
def test_canonical_spec_and_name(text, spec, name):
    a = parse_acc(text)
    assert (a.spec, a.name, str(a)) == (spec, name, spec)
    assert parse_acc(a.spec) == a and parse_acc(a.name) == a


accs = st.one_of(
    st.builds(AccSpec, st.just("kulisch"), st.none(), st.integers(0, 64)),
    st.builds(lambda b, s, m: AccSpec("int", IntFormat(b, s), mode=m),
              st.integers(2, 32), st.booleans(), st.sampled_from(["wrap", "saturate", "sat"])),
    st.builds(lambda e, m, n: AccSpec("float", FloatFormat(e, m, None, n)),
              st.integers(2, 10), st.integers(0, 52), st.sampled_from(list(NanEncoding))),
)


@settings(max_examples=300, deadline=None)
@given(accs)
def test_generated_accumulators_round_trip(a):
    assert parse_acc(a.spec) == a and parse_acc(a.name) == a
    assert parse_acc(a.spec).spec == a.spec


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30),
                 st.text(alphabet="kulischntfpbe0123456789:_=(),sawr-", max_size=30)))
def test_malformed_accumulators_give_one_line_errors(text):
    try:
        a = parse_acc(text)
    except HwdseError as exc:
        assert "\n" not in str(exc)
    else:
        assert parse_acc(a.spec) == a


@pytest.mark.parametrize("text,msg", [
    ("kulisch:x", "guard bits"), ("kulisch:-1", "guard bits"), ("kulisch:65", "0..64"),
    ("int32:foo", "sat or wrap"), ("int32sat:sat", "give the mode once"), ("fp32:sat", "':' argument"),
    ("mxfp4", "must be kulisch"), ("int\uff13\uff12", "U+FF13"), ("\uff46p32", "U+FF46"),
    ("kulisch:\uff11\uff12", "U+FF11"), ("", "accumulator spec must be"), (None, "accumulator spec"),
])
def test_bad_accumulators(text, msg):
    with pytest.raises(HwdseError, match=re.escape(msg)) as info:
        parse_acc(text)
    assert "\n" not in str(info.value)


# Kulisch widths from the paper's formula W = 2S - 1 + k + V (van Baalen et al. Sec. 3.3), typed
# here by hand: INT8 S=8, k=0; FP8-E4M3 S=5, k=2(2^4-2)=28; FP8-E5M2 S=4, k=2*(2^5-3)=58 (IEEE:
# one exponent code less); FP4-E2M1 S=3, k=2*(emax 2 - emin 0)=4; INT4 S=4, k=0.
@pytest.mark.parametrize("fmt,v,width", [("int8", 12, 27), ("e4m3", 12, 49), ("e5m2", 12, 77),
                                         ("e2m1", 12, 21), ("int4", 0, 7)])
def test_kulisch_width_is_derived_once(fmt, v, width):
    assert kulisch_width(fmt, fmt, v) == width == kulisch_spec(fmt, None, v).width
    assert kulisch_width(fmt, guard_bits=v) == width
    acc = parse_acc(f"kulisch:{v}")
    assert acc.name_for(fmt) == f"kulisch{width}"
    # the paper model's accumulator register is that width
    cost = papermodel.mac_cost(fmt, acc)
    assert any(block == f"{width}-bit accumulator register" for _, block, _ in cost.items)


def test_papermodel_takes_accumulator_synonyms():
    assert papermodel.mac_cost("paper_e3", "fp32") == papermodel.mac_cost("paper_e3", "float32")
    assert (papermodel.mac_cost("int8", "kulisch").total_gates
            == papermodel.mac_cost("int8", "kulisch:12").total_gates)


def _imports(module: str) -> set[str]:
    path = pathlib.Path(__file__).parents[2] / "hwmodel" / f"{module}.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_golden_numerics_import_one_way():
    """formats <- codec <- accum <- numerics: no module imports one above it (anywhere in it)."""
    assert not {"hwmodel.numerics", "hwmodel.accum", "hwmodel.codec"} & _imports("formats")
    assert not {"hwmodel.numerics", "hwmodel.accum"} & _imports("codec")
    assert "hwmodel.numerics" not in _imports("accum")
    import hwmodel.numerics as N
    for name in N.__all__:          # the public face still offers every name
        assert getattr(N, name) is not None


# Kulisch across blocks with power-of-two scales: one exact block sum per step. sum_bits =
# M_a + M_b + ceil(log2 block) + 1 with M the largest element magnitude in element LSBs (INT4: 4,
# since |-8| = 2^3 needs 4 bits; E2M1: 6 = 0b1100 at LSB 2^-1 needs 4 bits = emax-emin+precision;
# MXINT8's fixed point: 8), plus the scales' exponent spans (E8M0: -127..127, 254; shift8:
# -128..127, 255), typed by hand.
@pytest.mark.parametrize("fmt,width,lsb", [
    ("shiftquant_int4", (4 + 4 + 5 + 1) + 2 * 255 + 12, 2 * -128),
    ("mxfp4", (4 + 4 + 5 + 1) + 2 * 254 + 12, 2 * (-1 - 127)),
    ("mxint8", (8 + 8 + 5 + 1) + 2 * 254 + 12, 2 * (-6 - 127)),
    ("block(int4,block=16,scale=shift4,rule=pow2)", (4 + 4 + 4 + 1) + 2 * 15 + 12, 2 * -8),
])
def test_kulisch_width_of_power_of_two_scaled_blocks(fmt, width, lsb):
    ks = kulisch_spec(fmt)
    assert (ks.width, ks.lsb_exp) == (width, lsb) and kulisch_width(fmt) == width


@pytest.mark.parametrize("fa,fb,msg", [
    ("nvfp4", None, "power-of-two scales"), ("jetfire_int8", None, "power-of-two scales"),
    ("deepseek_fp8_act", None, "power-of-two scales"), ("mxfp4", "e2m1", "two block formats"),
    ("mxfp4", "mx(e2m1,block=16)", "share the block size"),
])
def test_kulisch_across_blocks_needs_power_of_two_scales(fa, fb, msg):
    with pytest.raises(HwdseError, match=msg):
        kulisch_spec(fa, fb)
