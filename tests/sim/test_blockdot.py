"""Block-scaled dot-product units (rtl/blockdot.py) in Verilator against
hwmodel.blockscaled.block_dot_steps: every element pair of 4-bit formats, corners (extreme and NaN
scales, zero scales and blocks, special elements, overflow, ties), seeded random dots, idle cycles
everywhere. The scale-path mutant (exponent adder without carry) must fail the same bench."""

import pytest

from hwmodel.formats import parse_format
from rtl.blockdot import BlockDotArrayConfig, BlockDotConfig
from sim.runner import BenchFailed

from tests.hwmodel.blockfmt import UE4M3, shift

pytestmark = pytest.mark.sim

CONFIGS = [
    BlockDotConfig("e2m1", "e8m0", 32, 8, "fp32"),                  # MXFP4
    BlockDotConfig("e4m3", "e8m0", 32, 8, "fp32"),                  # MXFP8
    BlockDotConfig("e2m1", UE4M3, 16, 16, "fp32"),                  # NVFP4 (block scales)
    BlockDotConfig("int4", shift(5), 32, 8, "kulisch"),             # ShiftQuant-style INT4 groups
    BlockDotConfig("int4", shift(5), 32, 8, "kulisch:0"),           # register overflow, both signs
    BlockDotConfig(parse_format("mxint8").element, "e8m0", 32, 16, "fp16"),   # MXINT8 into fp16
    BlockDotConfig("int8", "bf16", 32, 8, "bf16"),                  # Jetfire-style float scales
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_block_dot_unit_matches_golden(config, bench):
    res = bench(config, "sim.bench_blockdot", testcase="blockdot_matches_golden")
    assert res.tests == 1 and res.failed == 0
    assert " 0 mismatches" in res.log and "idle cycles" in res.log
    if config.acc.kind == "kulisch" and config.acc.guard_bits == 0:
        assert "overflow 0" not in res.log


def test_scale_carry_mutant_fails_the_bench(bench):
    config = BlockDotConfig("e4m3", "e8m0", 32, 8, "fp32", mutant="scale_carry")
    with pytest.raises(BenchFailed, match=r"extreme scales .* block \d+: rtl 0x[0-9a-f]+, golden 0x"):
        bench(config, "sim.bench_blockdot", testcase="blockdot_matches_golden",
              extra_env={"HWDSE_DOTS": "4"})


ARRAYS = [
    BlockDotArrayConfig(BlockDotConfig("e2m1", "e8m0", 32, 8, "fp32"), 2, 3),
    BlockDotArrayConfig(BlockDotConfig("int4", shift(5), 32, 8, "kulisch"), 2, 2),
]


@pytest.mark.parametrize("config", ARRAYS, ids=lambda c: c.name)
def test_block_dot_array_matches_golden(config, bench):
    res = bench(config, "sim.bench_blockdot", testcase="blockdot_array_matches_golden")
    assert res.tests == 1 and res.failed == 0
    assert " 0 mismatches" in res.log and "PE block results checked" in res.log
