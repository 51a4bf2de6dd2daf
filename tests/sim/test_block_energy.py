"""sim.energy.block_energy: energy per element product of a block dot unit by gate-level
simulation, its parts, and the check of the gate-level results against the block golden model."""

from __future__ import annotations

import numpy as np
import pytest

from hwmodel import blockscaled as BS
from hwmodel.errors import ResultMismatch, UnsupportedConfig
from rtl.unit import unit_config
from sim import energy as E


def _golden_outputs(cfg, n_blocks, per_dot, rng):
    """Operands, and an acc_out trace holding the golden accumulator on each block's last beat
    (and garbage on the other cycles, which the check must ignore)."""
    bs, beats = cfg.block_size, cfg.beats
    x = rng.standard_normal((2, n_blocks * bs))
    qa = BS.quantize_blocks(cfg.golden_a.__class__(**{**vars(cfg.golden_a), "rule": "ocp"}), x[0])
    qb = BS.quantize_blocks(cfg.golden_b.__class__(**{**vars(cfg.golden_b), "rule": "ocp"}), x[1])
    sa, ea, sb, eb = (np.asarray(v, np.uint64) for v in (qa.scales, qa.elements, qb.scales, qb.elements))
    out = rng.integers(0, 1 << 32, n_blocks * beats).astype(np.uint64)
    for d in range(n_blocks // per_dot):
        j0, j1 = d * per_dot, (d + 1) * per_dot
        steps = BS.block_dot_steps(cfg.golden_a, (sa[j0:j1], ea[j0 * bs:j1 * bs]),
                                   cfg.golden_b, (sb[j0:j1], eb[j0 * bs:j1 * bs]), cfg.acc)
        for j in range(j0, j1):
            out[(j + 1) * beats - 1] = steps[j - j0]
    return sa, ea, sb, eb, out


def test_gate_level_results_are_checked_against_the_block_golden_model():
    cfg = unit_config("mxfp8_e4m3", "fp32", "mac")
    sa, ea, sb, eb, out = _golden_outputs(cfg, 16, 8, np.random.default_rng(1))
    E._check_block_results(cfg, {"acc_out": out}, sa, ea, sb, eb, 8, cfg.beats, ResultMismatch, BS)
    bad = out.copy()
    bad[3 * cfg.beats - 1] ^= np.uint64(1)          # one block's result off by one ulp
    with pytest.raises(ResultMismatch, match=r"after 1 of 16 blocks"):
        E._check_block_results(cfg, {"acc_out": bad}, sa, ea, sb, eb, 8, cfg.beats, ResultMismatch, BS)
    # a trace read one cycle late is caught (the first beat of the next dot clears the register)
    late = np.roll(out, 1)
    with pytest.raises(ResultMismatch):
        E._check_block_results(cfg, {"acc_out": late}, sa, ea, sb, eb, 8, cfg.beats, ResultMismatch, BS)


@pytest.mark.parametrize("fmt, kw, msg", [
    ("int8", {}, "needs a block format"),
    ("mxfp4", {"lanes": 12}, "multiple of the lanes"),
    ("mxint8", {"lanes": 16}, "at most 64 bits"),
    ("mxfp4", {"n_blocks": 1}, "n_blocks must be an int >= 2"),
])
def test_block_energy_bad_input(fmt, kw, msg):
    with pytest.raises(UnsupportedConfig, match=msg):
        E.block_energy(fmt, "fp32", **kw)


@pytest.mark.sim
@pytest.mark.synth
def test_block_energy_per_element_product_and_parts():
    r = E.block_energy("mxfp8_e4m3", "fp32", n_blocks=32)
    assert r["lanes"] == 8 and r["cycles"] == 32 * 4
    parts = [r[f"pj_per_product_{p}"] for p in r["parts"]]
    assert r["pj_per_product"] > 0 and min(parts[:4]) > 0
    assert sum(parts) == pytest.approx(r["pj_per_product"], rel=1e-9)
    # per element product: the weighted toggles of all cycles over cycles x lanes
    assert r["pj_per_product"] == pytest.approx(r["k_pj_per_toggle"] * r["weighted_toggles_per_product"])
    again = E.block_energy("mxfp8_e4m3", "fp32", n_blocks=32)
    assert again["pj_per_product"] == r["pj_per_product"]


def test_energy_stage_notes_a_unit_too_wide_to_simulate():
    from analysis.design import DesignPoint
    from analysis.stages import stage_energy
    r = stage_energy(DesignPoint.make("mxfp8_e4m3", "fp32", "bdot:16"), 0, True)
    assert set(r) == {"energy_note"} and "128" in r["energy_note"]
