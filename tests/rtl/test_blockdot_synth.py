"""Synthesis of a block dot unit: every part of the split (multipliers, adder tree, scale path,
accumulator) is a submodule with area, and the scale path of power-of-two scales (an exponent
adder) is cheaper than that of UE4M3 scales (two significand multipliers)."""

import warnings

import pytest

from rtl.blockdot import BlockDotConfig, split_area as split
from rtl.synth import synthesize

from tests.hwmodel.blockfmt import UE4M3

pytestmark = pytest.mark.synth


def _parts(cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = synthesize(cfg.create(), "paper")
    return res, split(res.area_by_part)


def test_split_names_every_part_and_scale_paths_compare():
    res, parts = _parts(BlockDotConfig("e2m1", "e8m0", 32, 4, "fp32"))
    assert all(parts[p] > 0 for p in ("multipliers", "adder_tree", "scale_path", "accumulator"))
    assert abs(sum(parts.values()) - res.area_hier) < 1e-6
    _, nv = _parts(BlockDotConfig("e2m1", UE4M3, 16, 4, "fp32"))
    assert nv["scale_path"] > 2 * parts["scale_path"]
