"""Multipliers against hwmodel.numerics.mul_exact, bit for bit, in Verilator (or Icarus):
every operand pair where both operands have <= 8 bits, corners + 100,000 random pairs otherwise."""

import pytest

from sim.suite import mul_configs

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("config", mul_configs(), ids=lambda c: c.name)
def test_multiplier_matches_golden(config, bench):
    res = bench(config, "sim.bench_mul")
    assert res.tests == 1 and res.failed == 0
    assert "vectors" in res.log     # the bench logged what it checked
