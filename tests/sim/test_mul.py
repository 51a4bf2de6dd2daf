"""Multipliers against hwmodel.numerics.mul_exact, bit for bit, in Verilator (or Icarus):
every operand pair where both operands have <= 8 bits, corners + 100,000 random pairs otherwise."""

import re

import pytest

from sim.suite import mul_configs

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("config", mul_configs(), ids=lambda c: c.name)
def test_multiplier_matches_golden(config, bench):
    res = bench(config, "sim.bench_mul")
    assert res.tests == 1 and res.failed == 0
    # the bench logged what it checked: every pair, or corners + 100,000 random pairs
    m = re.search(r"(\d+) vectors \((exhaustive|\d+ corner pairs \+ (\d+) random)", res.log)
    assert m, res.log
    fa, fb = config.fmt_a, config.fmt_b
    if m.group(2) == "exhaustive":
        assert int(m.group(1)) == fa.n_codes * fb.n_codes
    else:
        assert int(m.group(3)) >= 100_000, res.log
    held = re.search(r"(\d+) held vectors re-sampled", res.log)
    assert held and int(held.group(1)) > 0, res.log
