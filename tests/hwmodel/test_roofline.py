"""Roofline model: hand-computed predictions, the split, fitting, validation, blocks, what-if."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hwmodel import gpudata, roofline as rl
from hwmodel.errors import DataError, UnsupportedConfig

SM = 132


def _fit(kernel, **kw):
    base = dict(kernel=kernel, peak_ops_per_s=1e15, eta=1.0, bw_bytes_per_s=1e30, t0_s=0.0,
                alpha=0.0, p=60.0, k0=0.0, bw_sm=1e30)
    base.update(kw)
    return rl.KernelFit(**base)


def test_compute_term_by_hand_tile_choice():
    # Triton INT8, M > 256: tiles 128x256, 128x128, 256x128, no split-K. 1024^3 with alpha=0:
    # 128x128 gives 64 tiles (1 wave of 132 SMs) of 2*128*128*1024 ops at P/132 per SM.
    t = rl.predict_fit(1024, 1024, 1024, _fit("triton_int8"), SM)
    assert t == pytest.approx(2 * 128 * 128 * 1024 * SM / 1e15, rel=1e-3)


def test_wave_quantisation_by_hand():
    # Triton INT8 large tiles on 1536 x 1536 x 1024: 128x256 and 256x128 give 72 tiles (1 wave),
    # 128x128 gives 144 tiles (2 waves of half-size tiles): all cost 2 * 32768 * 1024 per SM.
    t = rl.predict_fit(1536, 1536, 1024, _fit("triton_int8"), SM)
    assert t == pytest.approx(2 * 256 * 128 * 1024 * SM / 1e15, rel=1e-3)
    # cuBLAS may split K: 64x64 tiles split 2 ways = 1152 tiles = 9 waves of 64x64x512,
    # 9 * 4096 * 512 = 18.9M MACs per SM, the cheapest candidate (by hand over the set).
    t = rl.predict_fit(1536, 1536, 1024, _fit("cublas_bf16"), SM)
    assert t == pytest.approx(2 * 9 * 64 * 64 * 512 * SM / 1e15, rel=1e-3)
    # 132 tiles of 128x256 (1 wave) vs 133 (2 waves): one more tile row costs a whole wave.
    one = rl.predict_fit(128 * 11, 256 * 12, 4096, _fit("triton_int8"), SM)
    two = rl.predict_fit(128 * 11 + 1, 256 * 12, 4096, _fit("triton_int8"), SM)
    assert two / one > 1.3


def test_memory_term_by_hand():
    # M=1 decode GEMV in bf16: bytes = 2*(K + N*K) + 2*N; bandwidth-limited when peak is huge.
    f = _fit("cublas_bf16", peak_ops_per_s=1e30, bw_bytes_per_s=3e12)
    N, K = 4096, 11008
    t = rl.predict_fit(1, N, K, f, SM)
    assert t == pytest.approx((2 * (K + N * K) + 2 * N) / 3e12, rel=1e-3)
    # a grid of few CTAs draws at most CTAs x bw_sm: Triton M<=16 tiles are 16x64 or 16x128,
    # so N=256 gives at most 4 CTAs -> 4 * 1e10 B/s
    f2 = _fit("triton_int8", peak_ops_per_s=1e30, bw_bytes_per_s=3e12, bw_sm=1e10)
    t2 = rl.predict_fit(1, 256, 8192, f2, SM)
    nbytes = (8192 + 256 * 8192) + 4 * 256
    assert t2 == pytest.approx(nbytes / (4 * 1e10), rel=1e-3)


def test_datasheet_roofline_by_hand():
    spec = gpudata.gpu_spec()
    info = rl.KERNELS["cublas_bf16"]
    n = 8192
    assert rl.datasheet_time(n, n, n, info, spec) == pytest.approx(2 * n**3 / 989e12)
    # decode GEMV is memory-bound at 3.35 TB/s
    t = rl.datasheet_time(1, 4096, 4096, info, spec)
    assert t == pytest.approx((2 * (4096 + 4096 * 4096) + 2 * 4096) / 3.35e12)
    # block scales add 4 bytes per scale: 1x128 activations, 128x128 weights
    b = rl.gemm_bytes(256, 256, 256, rl.KERNELS["triton_int8_blk1x128"])
    assert b == 256 * 256 * 2 + 2 * 256 * 256 + 4 * (256 * 2 + 2 * 2)


def test_split_is_deterministic_disjoint_and_by_shape():
    m = rl.build_model()
    d = m.data
    # one split per shape, the same for every kernel
    per_shape = d.groupby(["M", "N", "K"])["split"].nunique()
    assert (per_shape == 1).all()
    frac = (d.drop_duplicates(["M", "N", "K"])["split"] == "holdout").mean()
    assert 0.2 < frac < 0.4
    # stable: a fresh call on the same shape agrees, and the hash is of the shape text
    assert rl.shape_split(8192, 8192, 8192) == rl.shape_split(8192, 8192, 8192)
    import zlib
    h = zlib.crc32(b"4096x4096x4096") / 2**32
    assert rl.shape_split(4096, 4096, 4096) == ("holdout" if h < 0.3 else "fit")


def test_fit_never_sees_held_out_rows():
    meas = gpudata.load_measurements()
    df = rl.add_split(meas.gemm)
    df = df[df["kernel"] == "cublas_bf16"]
    a = rl.fit_all(df, SM, ["cublas_bf16"])["cublas_bf16"]
    spoiled = df.copy()
    spoiled.loc[spoiled["split"] == "holdout", "time_s"] *= 7.0
    b = rl.fit_all(spoiled, SM, ["cublas_bf16"])["cublas_bf16"]
    assert a == b


def test_fit_recovers_a_known_model_on_synthetic_data():
    true = _fit("cublas_fp16", peak_ops_per_s=7e14, eta=0.9, bw_bytes_per_s=2.5e12, t0_s=6e-6,
                alpha=0.25, p=3.0, k0=200.0, bw_sm=4e10)
    rng = np.random.default_rng(0)
    shapes = [(int(m), int(n), int(k)) for m, n, k in zip(
        rng.choice([1, 16, 128, 512, 2048, 8192], 60), rng.choice([768, 1024, 3072, 4096, 11008], 60),
        rng.choice([768, 1024, 3072, 4096, 11008], 60))]
    df = pd.DataFrame(shapes, columns=["M", "N", "K"]).drop_duplicates()
    df["time_s"] = rl.predict_fit(df["M"], df["N"], df["K"], true, SM)
    fit = rl.fit_kernel(df, "cublas_fp16", SM)
    pred = rl.predict_fit(df["M"], df["N"], df["K"], fit, SM)
    assert np.median(np.abs(pred / df["time_s"] - 1)) < 0.02


def test_fit_needs_enough_rows_and_known_kernel():
    df = pd.DataFrame({"M": [1, 2], "N": [8, 8], "K": [8, 8], "time_s": [1e-5, 1e-5]})
    with pytest.raises(DataError, match="at least 5"):
        rl.fit_kernel(df, "cublas_bf16", SM)
    with pytest.raises(UnsupportedConfig, match="kernel must be one of"):
        rl.fit_kernel(df, "cutlass_int4", SM)


def test_committed_fit_cache_matches_a_fresh_fit():
    # the cached parameters are what fitting the committed data gives (two kernels, for speed)
    meas = gpudata.load_measurements()
    df = rl.add_split(meas.gemm)
    model = rl.build_model()
    fresh = rl.fit_all(df, SM, ["cublas_bf16", "triton_int8"], copy_bw=model.copy_bytes_per_s)
    cached = model.fits
    for k, f in fresh.items():
        assert cached[k].eta == pytest.approx(f.eta, rel=1e-6)
        assert cached[k].t0_s == pytest.approx(f.t0_s, rel=1e-6)


def test_validation_table_beats_the_datasheet_roofline():
    m = rl.build_model()
    v = rl.validate(m)
    assert set(v["kernel"]) == set(m.data["kernel"])
    assert (v["n_holdout"] > 20).all()
    # our model must be far closer than the datasheet roofline on held-out shapes
    assert (v["median_err_pct"] < v["datasheet_median_err_pct"] / 3).all()
    assert (v["p90_err_pct"] < v["datasheet_p90_err_pct"]).all()


def test_measured_ceilings_are_below_datasheet():
    c = rl.build_model().ceilings()
    assert (c["fraction_of_datasheet"] < 1.0).all() and (c["fraction_of_datasheet"] > 0.1).all()
    peaks = rl.h100_ceilings()
    assert peaks["fp8_e4m3"][0] > peaks["bf16"][0]
    assert 2.5e12 < peaks["bf16"][1] < 3.35e12  # measured copy, below the datasheet's 3.35 TB/s


def test_block_parts_add_up_and_schemes_differ():
    m = rl.build_model()
    b = rl.block_time(m, "llama-2-7b", 2048, 2048, "prefill", "bf16")
    parts = b["linear_s"] + b["quant_s"] + b["attention_s"] + b["memory_ops_s"]
    assert b["total_s"] == pytest.approx(parts) and b["quant_s"] == 0
    q = rl.block_time(m, "llama-2-7b", 2048, 2048, "prefill", "int8_blk128")
    assert q["quant_s"] > 0 and q["attention_s"] == b["attention_s"]
    # linear layers alone: the sum of the four predicted GEMMs
    by_hand = sum(float(m.predict(2048, n, k, "cublas_bf16"))
                  for _, n, k in [("q", 12288, 4096), ("o", 4096, 4096), ("u", 22016, 4096),
                                  ("d", 4096, 11008)])
    assert b["linear_s"] == pytest.approx(by_hand)
    d = rl.block_time(m, "llama-2-7b", 16, 2048, "decode", "bf16")
    assert d["attention_s"] == 0 and d["memory_ops_s"] > 0


def test_whatif_int4_is_faster_than_int8_and_scales_with_multiple():
    m = rl.build_model()
    w2 = rl.int4_gemm_whatif(m, 2.0)
    w1 = rl.int4_gemm_whatif(m, 1.0)
    assert (w2["int4_over_int8"] > 1.0).all()
    assert (w2["int4_over_int8"] > w1["int4_over_int8"]).all()
    assert (w2["int4_over_int8"] <= 2.0 + 1e-9).all()   # never above the multiple
    s = rl.block_speedups(m, whatif_multiple=2.0)
    assert (s["int4 speedup"] > s["int8_blk128 speedup"]).all()


@pytest.mark.parametrize("call, message", [
    (lambda m: rl.block_time(m, "llama-2-7b", 0), "tokens must be a positive"),
    (lambda m: rl.block_time(m, "llama-2-7b", 16, phase="train"), "phase must be"),
    (lambda m: rl.block_time(m, "gpt5", 16), "model must be one of"),
    (lambda m: rl.block_time(m, "bert-base", 16, scheme="int2"), "scheme must be one of"),
    (lambda m: rl.whatif_scheme("int4", 0), "multiple must be a positive"),
    (lambda m: m.predict(16, 16, 16, "int3"), "dtype must be one of"),
])
def test_bad_inputs_raise_one_line_errors(call, message):
    m = rl.build_model()
    with pytest.raises(UnsupportedConfig, match=message):
        call(m)


@pytest.mark.parametrize("text", ["0x4x4", "4x4", "ax4x4", "4x-1x4", ""])
def test_parse_gemm_rejects_non_positive_or_malformed(text):
    with pytest.raises(UnsupportedConfig, match="three positive integers"):
        rl.parse_gemm(text)


def test_dtype_aliases_resolve_through_the_format_catalogue():
    assert rl.resolve_kernel("e4m3") == "cublas_fp8_e4m3"
    assert rl.resolve_kernel("float8_e5m2") == "cublas_fp8_e5m2"
    assert rl.resolve_kernel("bfloat16") == "cublas_bf16"
    assert rl.resolve_kernel("triton_int8_blk32") == "triton_int8_blk32"


def test_hwmodel_roofline_imports_no_torch_or_hdl():
    code = ("import sys, hwmodel.roofline, hwmodel.gpudata, hwmodel.workloads, hwmodel.gemmfit, "
            "hwmodel.gpumodel, hwmodel.blockmodel, hwmodel.gpukernels, hwmodel.optimise; "
            "print([m for m in ('torch', 'triton', 'amaranth', 'cocotb') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("gpu", ["h100-sxm", "h200"])
def test_fitted_parameters_are_physical(gpu):
    m = rl.build_model(gpu)
    for k, f in m.fits.items():
        assert 0 < f.eta < 1, k
        assert f.bw_bytes_per_s <= m.copy_bytes_per_s * (1 + 1e-9), k
        assert f.bw_sm <= f.bw_bytes_per_s * (1 + 1e-9), k
    assert rl.fitted_parameters_physical(m)[["eta_below_1", "bw_at_most_copy",
                                             "bw_cta_at_most_bw"]].all().all()


def test_fit_respects_the_copy_bandwidth_bound_on_synthetic_data():
    # data made with a bandwidth of 5 TB/s, fitted under a 3 TB/s copy ceiling: the fitted
    # bandwidth may not exceed the ceiling, however much the data pull
    true = _fit("cublas_bf16", peak_ops_per_s=7e14, eta=0.9, bw_bytes_per_s=5e12, t0_s=5e-6,
                alpha=0.2, p=3.0, k0=64.0, bw_sm=5e10)
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"M": rng.choice([1, 16, 128, 4096], 30), "N": rng.choice([1024, 8192], 30),
                       "K": rng.choice([1024, 8192], 30)}).drop_duplicates()
    df["time_s"] = rl.predict_fit(df["M"], df["N"], df["K"], true, SM)
    fit = rl.fit_kernel(df, "cublas_bf16", SM, copy_bw=3e12)
    assert fit.bw_bytes_per_s <= 3e12 and fit.eta < 1


def test_random_shapes_are_validated_separately():
    h200 = rl.validate(rl.build_model("h200")).set_index("kernel")
    for k in ("cublas_bf16", "cublas_int8", "cublas_fp8_e4m3"):
        assert h200.loc[k, "n_random"] == 40
        assert 0 < h200.loc[k, "random_median_err_pct"] < h200.loc[k, "datasheet_median_err_pct"]
    # the random shapes are none of the grid's (fitting or held-out)
    m = rl.build_model("h200")
    grid = set(map(tuple, m.data[["M", "N", "K"]].to_numpy()))
    assert not grid & set(map(tuple, m.random[["M", "N", "K"]].to_numpy()))
    # no random shapes were measured on the H100: NaN, never a number from elsewhere
    h100 = rl.validate(rl.build_model("h100-sxm"))
    assert (h100["n_random"] == 0).all() and h100["random_median_err_pct"].isna().all()


def test_int8_names_two_kernels_and_is_refused():
    with pytest.raises(UnsupportedConfig, match="cublas_int8 or triton_int8"):
        rl.resolve_kernel("int8")
    with pytest.raises(UnsupportedConfig, match="cublas_int8 or triton_int8"):
        rl.build_model().predict(64, 64, 64, "int8")
    assert rl.resolve_kernel("cublas_int8") == "cublas_int8"


def test_datasheet_of_the_measured_device():
    # the H200's datasheet entry, not the H100's: 4.8 TB/s (NVIDIA H200 datasheet), beside the
    # measured copy bandwidth below it
    m = rl.build_model("h200")
    assert m.spec.name == "h200" and m.spec.memory_bytes_per_s == 4.8e12
    assert m.copy_bytes_per_s < 4.8e12 and "H100" not in m.memory_line()
    assert "ABOVE" not in m.memory_line()


def test_batch_predictions_keep_input_order(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("M,N,K,kernel\n4096,4096,4096,cublas_bf16\n1,4096,11008,triton_int8\n"
                 "128,768,768,e4m3\n")
    shapes = rl.read_shapes_csv(p)
    assert list(shapes["kernel"]) == ["cublas_bf16", "triton_int8", "cublas_fp8_e4m3"]
    m = rl.build_model()
    out = rl.predict_batch(m, shapes)
    for i, (M, N, K, k) in enumerate(shapes.itertuples(index=False)):
        assert out["predicted_time_us"].iloc[i] == pytest.approx(float(m.predict(M, N, K, k)) * 1e6)


@pytest.mark.parametrize("text, message", [
    ("M,N,K,kernel\n0,4,4,cublas_bf16\n", "line 2: M must be a positive integer"),
    ("M,N,K,kernel\n4,4,4,cublas_bf16\n4,x,4,cublas_bf16\n", "line 3: N must be"),
    ("M,N,K,kernel\n4,4,4,int8\n", "line 2: 'int8' is measured by two kernels"),
    ("M,N,kernel\n4,4,cublas_bf16\n", "missing K"),
    ("M,N,K,kernel\n", "has no rows"),
])
def test_bad_shapes_csv_is_a_one_line_error(tmp_path, text, message):
    p = tmp_path / "s.csv"
    p.write_text(text)
    with pytest.raises(DataError) as exc:
        rl.read_shapes_csv(p)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_a_device_without_datasheet_entry_shows_none(tmp_path):
    # a folder measured on a GPU the datasheet table does not know: measured figures only,
    # datasheet columns NaN, and no message names another GPU
    src = gpudata.COMMITTED["h200"]
    for part in ("gemm", "copy", "quant", "elementwise"):
        d = pd.read_csv(src / f"{part}.csv")
        if part == "gemm":
            d = d[d["kernel"] == "cublas_fp8_e4m3"]
        d.assign(device="ACME X1").to_csv(tmp_path / f"{part}.csv", index=False)
    meta = json.loads((src / "metadata.json").read_text())
    meta["gpu"]["gpu_name"] = "ACME X1"
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    m = rl.build_model(tmp_path)
    assert m.spec is None and m.device == "ACME X1"
    assert np.isnan(float(m.datasheet(4096, 4096, 4096, "cublas_fp8_e4m3")))
    line = m.memory_line()
    assert "ACME X1" in line and "H100" not in line and "H200" not in line
    c = m.ceilings()
    assert c["datasheet_peak_tops"].isna().all() and not c["above_datasheet"].any()
