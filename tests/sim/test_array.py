"""MAC arrays (rtl/array.py) in Verilator (or Icarus): random GEMM tiles (8x8 arrays, K = 64)
streamed in, drained and compared with hwmodel.numerics.gemm (codes). The RTZ mutant must fail."""

import re

import pytest

from rtl.array import ArrayConfig
from sim.runner import BenchFailed

pytestmark = pytest.mark.sim

CONFIGS = [
    ArrayConfig("e4m3", "fp16", rows=8, cols=8),
    ArrayConfig("int8", "int32", rows=8, cols=8),
    ArrayConfig("e5m2", "fp32", rows=4, cols=2, pipeline_stages=0),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_array_matches_golden(config, bench):
    res = bench(config, "sim.bench_array")
    assert res.tests == 1 and res.failed == 0
    m = re.search(rf"8 tiles {config.rows}x64x{config.cols} .* 0 mismatches; (\d+) pauses inside",
                  res.log)
    assert m and int(m.group(1)) > 0, res.log


def test_truncating_mutant_fails_the_bench(bench):
    config = ArrayConfig("e4m3", "fp16", rows=2, cols=2, mutant="fpacc_rtz")
    with pytest.raises(BenchFailed, match=r"C\[\d+\]\[\d+\]: .*rtl 0x[0-9a-f]+, golden gemm 0x"):
        bench(config, "sim.bench_array")
