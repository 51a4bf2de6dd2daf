"""FloatAccumulator (rtl/fpacc.py) against hwmodel.numerics.acc_float, checked after every product,
in Verilator (or Icarus): directed corners + 100,000 seeded random products per configuration, for
fp16/bf16/fp32 accumulators fed by products of several input formats and by wide fixed-point sums
(the Kulisch read-out / adder-tree operand). The RTZ mutant must fail the same bench."""

import re

import pytest

from rtl.fpacc import FpAccConfig
from sim.runner import BenchFailed

pytestmark = pytest.mark.sim

CONFIGS = [
    FpAccConfig.for_inputs("e4m3", "fp16"),
    FpAccConfig.for_inputs("e5m2", "fp16"),
    FpAccConfig.for_fixed(-18, 49, "fp16"),      # FP8-E4 Kulisch register (paper: 49 bits)
    FpAccConfig.for_inputs("e4m3", "bf16"),
    FpAccConfig.for_inputs("bf16", "bf16"),
    FpAccConfig.for_inputs("e5m2", "fp32"),
    FpAccConfig.for_inputs("bf16", "fp32"),
    FpAccConfig.for_inputs("fp16", "fp32"),
    FpAccConfig.for_fixed(-32, 80, "fp32"),      # a wide (80-bit) fixed-point sum
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_float_accumulator_matches_golden(config, bench):
    res = bench(config, "sim.bench_fpacc")
    assert res.tests == 1 and res.failed == 0
    # the bench logged the vectors it checked and the pauses during which the register held
    m = re.search(r"100000 random, seed \d+\), 0 mismatches; \d+ pauses \((\d+) inside", res.log)
    assert m and int(m.group(1)) > 0, res.log


def test_truncating_mutant_fails_the_bench(bench):
    config = FpAccConfig.for_inputs("e4m3", "fp16", mutant="fpacc_rtz")
    with pytest.raises(BenchFailed, match=r"step \d+ .*rtl 0x[0-9a-f]+, golden acc_float 0x"):
        bench(config, "sim.bench_fpacc", extra_env={"HWDSE_RANDOM": "3000"})
