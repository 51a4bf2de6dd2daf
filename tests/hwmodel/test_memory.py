"""hwmodel.memory: CACTI-table interpolation, DRAM per bit, operand traffic by format width."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hwmodel import memory as mem
from hwmodel.errors import UnsupportedConfig


@pytest.mark.parametrize("csv", [mem.CACTI_CSV, mem.DRAM_CSV])
def test_every_row_has_a_source(csv):
    df = pd.read_csv(csv)
    assert len(df) > 5
    assert df["source"].notna().all() and (df["source"].str.strip() != "").all()


def test_cacti_agrees_with_horowitz_within_2x():
    """An outside check: Horowitz's 45 nm 64-bit SRAM reads (8 KB, 32 KB, 1 MB) against CACTI."""
    h = pd.read_csv(mem.DATA / "horowitz_2014.csv").set_index("operation")["energy_pj"]
    ours = mem.sram_read_energy_pj(64, [8 * 1024, 32 * 1024, 1 << 20])
    ref = np.array([h["sram_read_8kb"], h["sram_read_32kb"], h["sram_read_1mb"]])
    assert np.all(ours / ref > 0.5) and np.all(ours / ref < 2.0)


def test_grid_points_are_the_table_and_between_is_between():
    t = mem.cacti_table()
    for r in t.sample(10, random_state=0).itertuples():
        assert mem.sram_read_energy_pj(r.width_bits, r.capacity_bytes) == pytest.approx(r.read_energy_pj)
        assert mem.sram_write_energy_pj(r.width_bits, r.capacity_bytes) == pytest.approx(r.write_energy_pj)
    lo, hi = mem.sram_read_energy_pj(64, 65536), mem.sram_read_energy_pj(64, 131072)
    mid = mem.sram_read_energy_pj(64, 65536 * np.sqrt(2))      # halfway in log2(capacity)
    assert mid == pytest.approx(np.sqrt(lo * hi))                # log-linear interpolation
    assert mem.sram_read_energy_pj([[8], [64]], [1024, 4096, 65536]).shape == (2, 3)


def test_regfile_is_the_table_at_small_sizes():
    assert mem.regfile_read_energy_pj(8, 64) == pytest.approx(
        mem.cacti_table().query("width_bits == 8 and capacity_bytes == 64")["read_energy_pj"].iloc[0])


@pytest.mark.parametrize("w, c", [(4, 1024), (1024, 1 << 20), (64, 8 << 20), (64, 0), (512, 64)])
def test_outside_the_table_is_refused(w, c):
    with pytest.raises(UnsupportedConfig):
        mem.sram_read_energy_pj(w, c)


def test_dram_per_bit():
    h = pd.read_csv(mem.DATA / "horowitz_2014.csv").set_index("operation")
    assert mem.dram_energy_pj_per_bit("horowitz_45nm") == pytest.approx(h.loc["dram_read", "energy_pj"] / 64)
    assert mem.dram_energy_pj_per_bit("HBM3") < mem.dram_energy_pj_per_bit("hbm2") < mem.dram_energy_pj_per_bit("ddr3")
    with pytest.raises(UnsupportedConfig, match="DRAM kind must be one of"):
        mem.dram_energy_pj_per_bit("sdram")


def test_operand_bits_counts_block_scales():
    assert mem.operand_bits("int8") == 8 and mem.operand_bits("e4m3") == 8
    assert mem.operand_bits("mxfp4") == pytest.approx(4 + 8 / 32)       # E8M0 scale per 32 elements
    assert mem.operand_bits("mxfp8_e4m3") == pytest.approx(8.25)


def test_gemm_traffic_by_hand():
    # 16x16 output, K=4, on an 8x8 array: 2x2 tiles; A (16x4) streamed once per column tile
    t = mem.gemm_traffic_bits(16, 16, 4, "int8", 8, 8, out_bits=16)
    assert t["dram_read_bits"] == (16 * 4 + 4 * 16) * 8
    assert t["dram_write_bits"] == 16 * 16 * 16
    assert t["a_buffer_reads"] == 16 * 4 * 2 and t["b_buffer_reads"] == 16 * 4 * 2
    assert t["buffer_read_bits"] == 256 * 8
    assert t["macs"] == 16 * 16 * 4
    t4 = mem.gemm_traffic_bits(16, 16, 4, "mxfp4", 8, 8, out_bits=16)
    assert t4["dram_read_bits"] == pytest.approx(128 * 4.25)
    with pytest.raises(UnsupportedConfig):
        mem.gemm_traffic_bits(0, 16, 4, "int8")


def test_gemm_energy_adds_up():
    e = mem.gemm_energy_pj(64, 64, 64, "int8", mac_energy_pj=0.3, rows=8, cols=8, buffer_bytes=65536, dram="hbm2")
    rd, wr = mem.buffer_energy_pj_per_bit(64, 65536)
    assert e["mac_pj"] == pytest.approx(64 ** 3 * 0.3)
    assert e["buffer_pj"] == pytest.approx(e["buffer_read_bits"] * rd + e["buffer_write_bits"] * wr)
    assert e["dram_pj"] == pytest.approx((e["dram_read_bits"] + e["dram_write_bits"]) * 6.25)
    assert e["total_pj"] == pytest.approx(e["mac_pj"] + e["buffer_pj"] + e["dram_pj"])


def test_decode_weight_traffic_halves_from_int8_to_int4():
    """LLaMA-2-7B decode at batch 1 is weight streaming: DRAM bits of the GEMMs scale with width."""
    e8 = mem.workload_energy_j("llama-2-7b", "decode", 1, 2048, "int8", 0.3)
    e4 = mem.workload_energy_j("llama-2-7b", "decode", 1, 2048, "int4", 0.3)
    from hwmodel.workloads import get_model, nongemm_ops
    cfg = get_model("llama-2-7b")
    weights = sum(n * k for _, n, k in cfg.linear_layers()) * cfg.layers
    other = sum(o.bytes for o in nongemm_ops(cfg, 1, 2048, 2, "decode")) * 8 * cfg.layers
    outs = sum(n for _, n, _ in cfg.linear_layers()) * 16 * cfg.layers
    acts = sum(k for _, _, k in cfg.linear_layers()) * cfg.layers
    for e, b in ((e8, 8), (e4, 4)):
        bits = (weights + acts) * b + outs + other
        assert e["dram_j"] == pytest.approx(bits * 6.25e-12)
    assert e4["total_j"] < e8["total_j"] and e8["per_token_j"] == e8["total_j"]
