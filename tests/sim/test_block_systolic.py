"""The block dot array's systolic option (BlockDotArrayConfig(skew=True): input skew, forwarding
registers, drain port, as rtl.array.MacArray) in Verilator against the golden block GEMM
(hwmodel.blockscaled.block_dot_steps per row and column operand), idle cycles inside and between
tiles; the broadcast arrays are benched in test_blockdot.py."""

import pytest

from rtl.blockdot import BlockDotArrayConfig, BlockDotConfig
from sim.runner import BenchFailed

pytestmark = pytest.mark.sim

ARRAYS = [
    BlockDotArrayConfig(BlockDotConfig("e2m1", "e8m0", 32, 8, "fp32"), 2, 3, skew=True),
    BlockDotArrayConfig(BlockDotConfig("e2m1", "e8m0", 32, 8, "kulisch"), 2, 2, skew=True),
]


@pytest.mark.parametrize("config", ARRAYS, ids=lambda c: c.name)
def test_systolic_block_array_matches_golden_gemm(config, bench):
    res = bench(config, "sim.bench_blockdot", testcase="blockdot_systolic_matches_golden")
    assert res.tests == 1 and res.failed == 0
    assert " 0 mismatches" in res.log and "PE results checked" in res.log


def test_missing_forwarding_register_fails_the_bench(bench):
    config = BlockDotArrayConfig(BlockDotConfig("e2m1", "e8m0", 32, 8, "fp32"), 2, 2, skew=True,
                                 mutant="no_south_register")
    with pytest.raises(BenchFailed, match=r"tile \d+ PE \(1, \d\) after \d blocks: rtl "):
        bench(config, "sim.bench_blockdot", testcase="blockdot_systolic_matches_golden",
              extra_env={"HWDSE_TILES": "4"})
