"""rtl/blockdot.py without a simulator: config validation, derived widths against the golden
model's derivation, JSON round trip, and the submodules that name the synthesis split."""

import pytest

from hwmodel import blockscaled as BS
from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import parse_format
from rtl.blockdot import BlockDotConfig
from sim.runner import config_from_json, config_to_json

from tests.hwmodel.blockfmt import UE4M3, shift


def test_block_size_must_be_a_multiple_of_lanes():
    with pytest.raises(UnsupportedConfig, match="multiple of the lanes, not 32 with 12 lanes"):
        BlockDotConfig("e4m3", "e8m0", 32, 12)
    for bad in (0, -4, 2.5):
        with pytest.raises(UnsupportedConfig, match="block size must be an int"):
            BlockDotConfig("e4m3", "e8m0", bad, 1)


def test_kulisch_needs_power_of_two_scales():
    with pytest.raises(UnsupportedConfig, match="power-of-two scales"):
        BlockDotConfig("e2m1", UE4M3, 16, 16, "kulisch")
    assert BlockDotConfig("int4", shift(5), 32, 8, "kulisch").kulisch.width == 14 + 62 + 12


def test_bad_pairings_and_mutants():
    with pytest.raises(UnsupportedConfig, match="both int/fixed or both float"):
        BlockDotConfig("int8", "e8m0", 32, 8, "fp32", elem_b="e4m3")
    with pytest.raises(UnsupportedConfig, match="mutant must be one of"):
        BlockDotConfig("e4m3", "e8m0", mutant="nope")
    with pytest.raises(UnsupportedConfig, match="fp32/fp16/bf16 or kulisch"):
        BlockDotConfig("int8", "e8m0", acc="int32")
    with pytest.raises(UnsupportedConfig, match="scalar int, fixed or float"):
        BlockDotConfig("mxfp4", "e8m0")


def test_widths_follow_the_golden_model():
    c = BlockDotConfig("e4m3", "e8m0", 32, 8, "fp32")
    # e4m3 products at the lowest LSB 2^-18 span 36 bits; 32 of them and a sign: 42 bits
    assert c.sum_bits == BS.block_sum_bits(c.elem_a, c.elem_b, 32) == 36 + 5 + 1
    vs = c.value_shape
    assert (vs.exp_min, vs.exp_max, vs.sig_width) == (-18 - 254, -18 + 254, 42)
    n = BlockDotConfig("e2m1", UE4M3, 16, 16, "fp32").value_shape
    # E2M1 magnitudes span 4 bits at their LSB 2^-1 (0.5 .. 6); two of them, 16 terms and a sign:
    # 13 bits, times two 4-bit UE4M3 significands
    assert n.sig_width == 4 + 4 + 4 + 1 + 2 * 4
    assert BlockDotConfig("e4m3", "e8m0", 32, 8).beats == 4


@pytest.mark.parametrize("config", [
    BlockDotConfig("e4m3", "e8m0", 32, 8, "fp32"),
    BlockDotConfig("int4", shift(5), 32, 8, "kulisch"),
    BlockDotConfig(parse_format("mxint8").element, "e8m0", 32, 16, "fp16"),
    BlockDotConfig.of("mxfp4", acc="bf16", lanes=4),
], ids=lambda c: c.name)
def test_json_round_trip_and_parts(config):
    assert config_from_json(config_to_json(config)) == config
    from amaranth.back import rtlil
    text = rtlil.convert(config.create(), name=config.name)
    for part in ["mul0", f"mul{config.lanes - 1}", "tree", "scale", "acc"]:
        assert f"module \\{config.name}.{part}" in text, part
    assert config.latency == 1


def test_of_reads_block_formats():
    c = BlockDotConfig.of("mxfp8_e4m3", "mxfp8_e5m2", "fp16", lanes=16)
    assert (c.elem_a.name, c.elem_b.name, c.block_size, c.lanes) == ("float8_e4m3fn", "float8_e5m2", 32, 16)
    assert c.name == "bdot16_float8_e4m3fn_float8_e5m2_float8_e8m0fnu_k32_float16"


def test_array_config_and_parts():
    from rtl.blockdot import BlockDotArrayConfig
    unit = BlockDotConfig("e2m1", "e8m0", 32, 4, "fp32")
    with pytest.raises(UnsupportedConfig, match="array rows must be an int in 1..64"):
        BlockDotArrayConfig(unit, 0, 2)
    with pytest.raises(UnsupportedConfig, match="needs a BlockDotConfig"):
        BlockDotArrayConfig("mxfp4", 2, 2)
    cfg = BlockDotArrayConfig(unit, 2, 3)
    assert config_from_json(config_to_json(cfg)) == cfg
    assert cfg.name == "barray2x3_" + unit.name and cfg.latency == unit.latency
    from amaranth.back import rtlil
    text = rtlil.convert(cfg.create(), name=cfg.name)
    for i in range(2):
        for j in range(3):
            assert f"module \\{cfg.name}.pe_{i}_{j}\n" in text
