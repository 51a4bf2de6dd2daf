"""rtl.unit for block formats: the bdot:N unit kind, a block format's "mac" as its block dot unit,
and one-line refusals of units a block format cannot be built as."""

import pytest

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import parse_format
from rtl.blockdot import BlockDotConfig
from rtl.unit import block_unit, default_block_lanes, parse_unit, unit_config


@pytest.mark.parametrize("text", ["bdot:8", "bdot8", " BDOT:8 "])
def test_bdot_spellings_parse_to_one_canonical_spec(text):
    u = parse_unit(text)
    assert (u.kind, u.n, u.spec, u.macs_per_cycle) == ("bdot", 8, "bdot:8", 8)
    assert parse_unit(u.spec) == u and u.has_accumulator


@pytest.mark.parametrize("fmt, lanes", [("mxfp4", 8), ("nvfp4", 8), ("deepseek_fp8_act", 8),
                                        ("block(int4,block=4,scale=shift5,rule=pow2)", 4)])
def test_mac_of_a_block_format_is_its_block_dot_unit(fmt, lanes):
    f = parse_format(fmt)
    assert default_block_lanes(f) == min(8, f.block_size) == lanes
    assert block_unit(f, "mac") == parse_unit(f"bdot:{lanes}")
    acc = "kulisch" if "shift" in fmt else "fp32"
    cfg = unit_config(fmt, acc, "mac")
    # the same unit as the block dot config built directly from the format
    assert isinstance(cfg, BlockDotConfig) and cfg == BlockDotConfig.of(f, acc=acc, lanes=lanes)
    assert (cfg.lanes, cfg.block_size, cfg.elem_a, cfg.scale_a) == (lanes, f.block_size, f.element, f.scale)
    assert unit_config(fmt, acc, "bdot:16" if f.block_size % 16 == 0 else f"bdot:{lanes}").lanes \
        == (16 if f.block_size % 16 == 0 else lanes)


def test_scalar_format_keeps_its_unit():
    assert block_unit("int8", "dot:4") == parse_unit("dot:4")
    assert type(unit_config("int8", "int32", "mac")).__name__ == "MacConfig"


@pytest.mark.parametrize("fmt, acc, unit, msg", [
    ("mxfp4", "fp32", "bdot:12", "block size must be a multiple of the lanes, not 32 (mxfp4) with bdot:12"),
    ("mxfp4", "fp32", "bdot:64", "not 32 (mxfp4) with bdot:64"),
    ("mxfp4", "fp32", "dot:8", "unit must be mac or bdot:N"),
    ("mxfp4", "fp32", "array:2x2", "unit must be mac or bdot:N"),
    ("int8", "int32", "bdot:8", "a bdot:N unit needs a block format"),
    ("nvfp4", "kulisch", "mac", "power-of-two"),
    ("mxfp4", "int32", "mac", "fp32/fp16/bf16 or kulisch"),
    ("mxfp4", None, "mac", "needs an accumulator"),
])
def test_bad_block_units_are_one_line_unsupported_config(fmt, acc, unit, msg):
    with pytest.raises(UnsupportedConfig) as e:
        unit_config(fmt, acc, unit)
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_bdot_lanes_bounded():
    with pytest.raises(UnsupportedConfig, match="1..256 lanes"):
        parse_unit("bdot:512")
    with pytest.raises(UnsupportedConfig):
        parse_unit("bdot:0")
