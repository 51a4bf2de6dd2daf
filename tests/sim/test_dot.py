"""Dot-product units (rtl/dot.py) in Verilator (or Icarus): 12 random 8x64x8 GEMMs per config,
every accumulation step compared with hwmodel.numerics.dot_unit_accumulate (float accumulators)
or acc_int over the exact group sums (int). The RTZ mutant must fail the same bench."""

import re

import pytest

from rtl.dot import DotConfig
from sim.runner import BenchFailed

pytestmark = pytest.mark.sim

CONFIGS = [
    DotConfig("e4m3", "fp32", n=8),
    DotConfig("e4m3", "fp16", n=4, pipeline_stages=0),
    DotConfig("e5m2", "fp16", n=8),
    DotConfig("e2m1", "bf16", n=16),
    DotConfig("int8", "int32", n=8),
    DotConfig("int8", "int16:sat", n=4),
    DotConfig("int4", "fp16", n=8),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_dot_unit_matches_golden(config, bench):
    res = bench(config, "sim.bench_dot")
    assert res.tests == 1 and res.failed == 0
    m = re.search(r"12 GEMMs 8x64x8 .* 0 mismatches; \d+ pauses \((\d+) inside", res.log)
    assert m and int(m.group(1)) > 0, res.log


def test_truncating_mutant_fails_the_bench(bench):
    config = DotConfig("e4m3", "fp16", n=8, mutant="fpacc_rtz")
    with pytest.raises(BenchFailed, match=r"C\[\d+\]\[\d+\] step \d+ .*rtl 0x[0-9a-f]+, golden 0x"):
        bench(config, "sim.bench_dot", extra_env={"HWDSE_GEMMS": "2"})
