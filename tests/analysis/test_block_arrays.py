"""analysis.arrays.block_array_area: block dot arrays (broadcast and systolic skew) against the
single block dot unit, per element product."""

import pytest

from analysis import arrays
from hwmodel.errors import UnsupportedConfig


def test_block_array_area_refuses_scalar_formats_and_sizes_beyond_the_flow():
    with pytest.raises(UnsupportedConfig, match="needs a block format"):
        arrays.block_array_area("int8", "fp32", 2, 2)
    with pytest.raises(UnsupportedConfig, match="must be an int in 1..8"):
        arrays.block_array_area("mxfp4", "fp32", 16, 16)


@pytest.mark.synth
def test_two_by_two_costs_four_units_plus_the_systolic_registers():
    lanes = 2
    one = arrays.block_array_area("mxfp4", "fp32", 1, 1, lanes=lanes)
    bc = arrays.block_array_area("mxfp4", "fp32", 2, 2, lanes=lanes)
    sk = arrays.block_array_area("mxfp4", "fp32", 2, 2, lanes=lanes, skew=True)
    assert one["macs"] == lanes and bc["macs"] == sk["macs"] == 4 * lanes
    assert one["area_per_mac_vs_mac"] == 1.0 and one["mac_area_ge"] == one["area_ge"] / lanes
    assert bc["mac_area_ge"] == one["mac_area_ge"] and not bc["skew"] and sk["skew"]
    assert bc["area_per_mac_ge"] == pytest.approx(bc["area_ge"] / (4 * lanes))
    assert sk["area_per_mac_vs_mac"] == pytest.approx(sk["area_ge"] / 4 / one["area_ge"])
    # broadcast: four units, their common control logic may be shared (one beat counter)
    assert bc["area_ge"] > 3.8 * one["area_ge"]
    # skew: registers a systolic array cannot do without, each a row operand (lanes x 4-bit E2M1
    # + the 8-bit E8M0 scale) or a column operand of the same width: row 1's and column 1's skew
    # stage, forwarding east out of PEs (0,0) and (1,0), south out of (0,0) and (0,1): 6 operands
    from rtl.synth import cell_table
    t = cell_table()
    dff = float(t.loc[t["cell"] == "DFF", "area_ge"].iloc[0])
    assert (sk["seq_area_ge"] - bc["seq_area_ge"]) / dff >= 6 * (4 * lanes + 8) - 1e-6
    assert sk["area_ge"] > bc["area_ge"]


def test_block_array_energy_refuses_ports_the_simulator_cannot_drive():
    # 4 rows x 8 lanes x 4-bit E2M1 = 128 bits on port a, before any synthesis
    with pytest.raises(UnsupportedConfig, match="at most 64 bits"):
        arrays.block_array_energy("mxfp4", "fp32", 4, 4, lanes=8)
    with pytest.raises(UnsupportedConfig, match="n_blocks must be an int >= 2"):
        arrays.block_array_energy("mxfp4", "fp32", 2, 2, n_blocks=1)


@pytest.mark.synth
@pytest.mark.sim
@pytest.mark.slow
def test_broadcast_array_energy_per_product_is_the_units():
    e1 = arrays.block_array_energy("mxfp4", "fp32", 1, 1, lanes=2, n_blocks=16)
    e2 = arrays.block_array_energy("mxfp4", "fp32", 2, 2, lanes=2, n_blocks=16)
    # broadcast: every PE is the unit, driven straight from the inputs by operands of the same
    # distribution, and nothing is added between them: per product the unit's energy, up to
    # sampling noise. (A systolic PE fed from registers toggles less in this zero-delay model,
    # so skew is not held to the unit's figure here.)
    assert 0.9 < e2["pj_per_mac"] / e1["pj_per_mac"] < 1.1
    assert e2["lanes"] == 2 and not e2["skew"] and "broadcast" in e2["energy_source"]
