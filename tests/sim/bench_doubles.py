"""cocotb tests that must make sim.runner.run_bench fail: test doubles for tests/sim/test_runner.py.

Run through run_bench(..., "bench_doubles") on any built config with tests/sim on sys.path (the
cocotb runner passes sys.path to the bench process); none of these drives the DUT."""

import cocotb
import pytest


@cocotb.test()
async def skipped_bench(dut):
    """Skips itself (as a bench might when a tool or file is missing): it checked nothing, so the
    runner must count it as failed."""
    pytest.skip("pretending a tool is missing")


@cocotb.test()
async def failing_bench(dut):
    """Fails: runner.test() returns normally outside pytest, the results file must decide."""
    assert 1 + 1 == 3, "bench_doubles.failing_bench failed on purpose"
