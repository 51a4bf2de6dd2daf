"""MACs with k > 1 accumulation-loop registers (C-slow, rtl/loopacc.py) against the interleaved
golden model (hwmodel.interleave), bit for bit, every partial sum and the Kulisch flags, in
Verilator: directed corners plus 20,000 seeded random products per config, idle cycles inside
accumulations (sim/bench_mac_clock.py). Deliberately wrong RTL (rounding, Kulisch alignment) must
be caught."""

import re

import pytest

from rtl.config import MacConfig
from sim.runner import BenchFailed

pytestmark = [pytest.mark.sim, pytest.mark.slow]

CONFIGS = [MacConfig("int8", "kulisch", 1, loop_stages=2),
           MacConfig("float8_e4m3fn", "fp32", 1, loop_stages=2),
           # every FpAddRound cut at once (k = 8) and the operand register (pipeline_stages 2)
           MacConfig("float8_e4m3fn", "fp16", 2, loop_stages=8),
           # Kulisch: three carry-chain slices; registers after the signed significand and after
           # the alignment in front of the loop (pipeline_stages 3: loop_pre 2)
           MacConfig("float8_e4m3fn", "kulisch", 3, loop_stages=3),
           # an int product into a float loop: registers after the sign-magnitude conversion and
           # after the operand's normalisation
           MacConfig("int8", "fp32", 3, loop_stages=2)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_loop_pipelined_mac_matches_interleaved_golden(config, bench):
    n = "20000" if config.loop_stages == 2 else "5000"
    res = bench(config, "sim.bench_mac_clock", extra_env={"HWDSE_RANDOM": n})
    assert res.tests == 1 and res.failed == 0
    m = re.search(r"checked (\d+) segments / (\d+) products", res.log)
    assert m and int(m.group(2)) >= int(n), res.log


MUTANTS = [MacConfig("float8_e4m3fn", "fp32", 1, loop_stages=2, mutant="fpacc_rtz"),
           MacConfig("float8_e4m3fn", "kulisch", 1, loop_stages=2, mutant="kulisch_shift")]


@pytest.mark.parametrize("cfg", MUTANTS, ids=lambda c: c.name)
def test_loop_bench_catches_mutants(cfg, bench):
    with pytest.raises(BenchFailed, match=re.escape(cfg.name)):
        bench(cfg, "sim.bench_mac_clock", extra_env={"HWDSE_RANDOM": "2000"})
