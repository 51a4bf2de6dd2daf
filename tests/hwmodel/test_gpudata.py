"""GPU data loaders: the committed files load, and bad files give one-line DataErrors."""

import json

import pandas as pd
import pytest

from hwmodel import gpudata
from hwmodel.errors import DataError, UnsupportedConfig


def test_committed_measurements_load_with_metadata():
    m = gpudata.load_measurements()
    assert m.sm_count == 132
    assert "H100" in m.gpu_name
    # 103 shapes x 9 kernels, every row passed its float64 check
    assert len(m.gemm) == 103 * 9
    assert set(m.gemm["check"]) == {"ok"}
    assert m.copy is not None and m.quant is not None and m.elementwise is not None
    meta = json.loads((gpudata.DEFAULT_MEASUREMENTS / "metadata.json").read_text())
    for run in meta["runs"]:
        assert run["command"] and run["date_utc"]
    for key in ("torch", "triton", "cuda", "nvidia_smi"):
        assert key in meta["gpu"]


def test_every_datasheet_and_anchor_row_has_a_source():
    ds = gpudata.load_datasheet()
    assert ds["source"].str.len().min() > 10
    anchors = gpudata.load_anchors()
    assert anchors["source"].str.len().min() > 10
    assert (anchors["speedup"] > 0).all()


def test_h100_datasheet_figures():
    spec = gpudata.gpu_spec("h100-sxm")
    # anchors.md: dense FP8 1979, INT8 1979, BF16 989, TF32 495 T; HBM3 3.35 TB/s; 132 SMs
    assert spec.peak("fp8_e4m3") == 1979e12 and spec.peak("int8") == 1979e12
    assert spec.peak("bf16") == 989e12 and spec.peak("tf32") == 495e12
    assert spec.memory_bytes_per_s == 3.35e12 and spec.sm_count == 132


def _write(tmp_path, df, name="gemm.csv"):
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


GOOD = pd.DataFrame({"dtype": ["bf16"] * 6, "kernel": ["cublas_bf16"] * 6,
                     "M": [1, 16, 128, 512, 2048, 8192], "N": [4096] * 6, "K": [4096] * 6,
                     "time_s": [2e-5, 2e-5, 3e-5, 5e-5, 1.5e-4, 6e-4]})


def test_loader_reads_a_plain_csv(tmp_path):
    m = gpudata.load_measurements(_write(tmp_path, GOOD))
    assert len(m.gemm) == 6 and m.copy is None and m.meta == {}


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns=["K"]), "missing K"),
    (lambda d: d.rename(columns={"time_s": "time_ms"}), "foreign units"),
    (lambda d: d.assign(tflops=1.0), "foreign units"),
    (lambda d: d.assign(M=[1, 16, 0, 512, 2048, 8192]), "M must be a positive integer"),
    (lambda d: d.assign(N=[4096, 4096, 4096, -5, 4096, 4096]), "N must be a positive integer"),
    (lambda d: d.assign(K=[4096, 4096, 4096, 4096, 1.5, 4096]), "K must be a positive integer"),
    (lambda d: d.assign(time_s=[2e-5, 0.0, 3e-5, 5e-5, 1.5e-4, 6e-4]), "time_s must be a positive"),
    (lambda d: d.assign(time_s=["x", 1, 1, 1, 1, 1]), "time_s must be a positive"),
])
def test_bad_measurement_csv_is_a_one_line_data_error(tmp_path, mutate, message):
    p = _write(tmp_path, mutate(GOOD.copy()))
    with pytest.raises(DataError) as exc:
        gpudata.load_measurements(p)
    text = str(exc.value)
    assert message in text and "\n" not in text and str(p) in text


def test_missing_file_and_non_csv(tmp_path):
    with pytest.raises(DataError, match="must exist"):
        gpudata.load_measurements(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError):
        gpudata.load_measurements(bad)


def test_rows_that_failed_their_check_are_dropped(tmp_path):
    d = GOOD.assign(check=["ok", "FAIL", "ok", "ok", "ok", "ok"])
    assert len(gpudata.load_measurements(_write(tmp_path, d)).gemm) == 5
    with pytest.raises(DataError, match="no rows that passed"):
        gpudata.load_measurements(_write(tmp_path, d.assign(check="FAIL")))


def test_datasheet_foreign_units_and_missing_source(tmp_path):
    ds = pd.read_csv(gpudata.DATASHEET_CSV)
    p = _write(tmp_path, ds.assign(unit=ds["unit"].replace({"ops/s": "TFLOPS"})), "ds.csv")
    with pytest.raises(DataError, match="foreign units"):
        gpudata.load_datasheet(p)
    ds2 = ds.copy()
    ds2.loc[3, "source"] = ""
    with pytest.raises(DataError, match="must name its source"):
        gpudata.load_datasheet(_write(tmp_path, ds2, "ds2.csv"))
    with pytest.raises(UnsupportedConfig, match="gpu must be one of"):
        gpudata.gpu_spec("h200-nvl")
