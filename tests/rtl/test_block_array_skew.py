"""Fast checks of the block dot array's options and the Kulisch shifter mutant's config (no
simulator; the benches are in tests/sim/test_block_systolic.py and test_block_kulisch_e8m0.py)."""

import pytest

from hwmodel.errors import UnsupportedConfig
from rtl.blockdot import BlockDotArrayConfig, BlockDotConfig

# the tests build components only to read their ports
pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")

UNIT = BlockDotConfig("e2m1", "e8m0", 32, 8, "kulisch")


def test_broadcast_is_the_default_and_keeps_its_name_and_latency():
    cfg = BlockDotArrayConfig(UNIT, 2, 3)
    assert cfg.skew is False
    assert cfg.name == "barray2x3_" + UNIT.name and cfg.latency == UNIT.latency
    ports = set(cfg.create().signature.members)
    assert {"acc_out", "valid_out", "nan"} <= ports and "drain" not in ports


@pytest.mark.parametrize("rows,cols", [(1, 1), (2, 3), (4, 4), (3, 1)])
def test_skew_latency_is_the_longest_register_path(rows, cols):
    cfg = BlockDotArrayConfig(UNIT, rows, cols, skew=True)
    # PE (R-1, C-1) takes a beat R-1 + C-1 edges after it entered, then the unit's latency
    assert cfg.latency == rows - 1 + cols - 1 + 1
    assert cfg.name == f"barray{rows}x{cols}_skew_" + UNIT.name
    ports = set(cfg.create().signature.members)
    assert {"drain", "c_row", "c_index", "c_valid", "c_nan", "c_overflow_neg"} <= ports
    assert "acc_out" not in ports and "valid_out" not in ports


def test_skew_must_be_a_bool():
    with pytest.raises(UnsupportedConfig, match="skew must be True or False"):
        BlockDotArrayConfig(UNIT, 2, 2, skew=1)


def test_shifter_mutant_needs_a_kulisch_accumulator():
    BlockDotConfig("e2m1", "e8m0", 32, 8, "kulisch", mutant="shift_msb")
    with pytest.raises(UnsupportedConfig, match="needs a Kulisch accumulator"):
        BlockDotConfig("e2m1", "e8m0", 32, 8, "fp32", mutant="shift_msb")


def test_array_mutant_needs_skew():
    BlockDotArrayConfig(UNIT, 2, 2, skew=True, mutant="no_south_register")
    with pytest.raises(UnsupportedConfig, match="array mutant must be one of"):
        BlockDotArrayConfig(UNIT, 2, 2, mutant="no_south_register")
