"""OCP MX block dot units (E8M0 scales) into a Kulisch register wide enough for every scaled
product (hwmodel.blockscaled.block_kulisch_spec: 534 bits for MXFP4, 562 for MXFP8-E4M3 with the
default 12 guard bits), in Verilator against hwmodel.blockscaled.block_dot_steps: every MXFP4
element pair, the extreme scales 2^-127 and 2^127, the E8M0 NaN code 0xFF, zero blocks, register
overflow (no guard bits), seeded random dots and idle cycles; and the register read out once into
a float (rtl.acc.KulischReadout; rounding ties to even at every binade). Two scale-path mutants
(the exponent adder without carry, the shifter without its largest stage) must fail the bench."""

import pytest

from hwmodel import blockscaled as BS
from hwmodel.formats import parse_format
from rtl.blockdot import BlockDotConfig, BlockReadoutConfig
from sim.runner import BenchFailed

pytestmark = pytest.mark.sim

MXFP4 = BlockDotConfig("e2m1", "e8m0", 32, 8, "kulisch")
MXFP8 = BlockDotConfig("e4m3", "e8m0", 32, 8, "kulisch")
MXFP4_NO_GUARD = BlockDotConfig("e2m1", "e8m0", 32, 8, "kulisch:0")


def test_register_width_is_every_scaled_product_exactly():
    """Width derived independently: the E8M0 exponents span -127..127 on each side, so the
    aligned block sum moves over 2 * 254 bit positions; below that sits the block sum itself
    (32 products of at most 6 * 6 = 36 at an LSB of 2^-2 for E2M1: |S| <= 32 * 144 < 2^13, 14
    signed bits; E4M3: 448^2 at 2^-18: |S| <= 32 * 448^2 * 2^18 < 2^41, 42 signed bits), plus 12
    guard bits."""
    e8m0 = parse_format("e8m0")
    assert (e8m0.emin, e8m0.emax) == (-127, 127)
    assert MXFP4.acc_width == 14 + 508 + 12 == 534
    assert MXFP8.acc_width == 42 + 508 + 12 == 562
    assert MXFP4_NO_GUARD.acc_width == 522
    # the LSB is the smallest element product LSB times the smallest scales
    assert MXFP8.kulisch.lsb_exp == -9 - 9 - 127 - 127
    assert MXFP8.kulisch == BS.block_kulisch_spec(MXFP8.golden_a, MXFP8.golden_b, 12)


@pytest.mark.parametrize("config", [MXFP4, MXFP8, MXFP4_NO_GUARD], ids=lambda c: c.name)
def test_e8m0_kulisch_unit_matches_golden(config, bench):
    res = bench(config, "sim.bench_blockdot", testcase="blockdot_matches_golden")
    assert res.tests == 1 and res.failed == 0
    assert " 0 mismatches" in res.log and "idle cycles" in res.log
    assert "nan 0" not in res.log                 # the E8M0 NaN code was checked
    if config.acc.guard_bits == 0:
        assert "overflow 0" not in res.log        # the register overflowed, and matched


@pytest.mark.parametrize("mutant", ["scale_carry", "shift_msb"])
def test_scale_path_mutants_fail_the_bench(mutant, bench):
    config = BlockDotConfig("e2m1", "e8m0", 32, 8, "kulisch", mutant=mutant)
    with pytest.raises(BenchFailed, match=r"extreme scales 2\^127 x 2\^127 dot \d+ block \d+: rtl \("):
        bench(config, "sim.bench_blockdot", testcase="blockdot_matches_golden",
              extra_env={"HWDSE_DOTS": "4"})


@pytest.mark.slow
def test_register_read_out_rounds_ties_to_even(bench):
    """The 562-bit register rounded once into FP32 (ties to even) at binades across the register.
    Slow: Verilator's C++ compile of the 562-bit normalise-and-round takes ~15 min here."""
    config = BlockReadoutConfig(MXFP8, "fp32")
    res = bench(config, "sim.bench_blockdot", testcase="block_readout_matches_golden")
    assert res.tests == 1 and res.failed == 0
    assert " 0 mismatches" in res.log and "exact ties" in res.log
