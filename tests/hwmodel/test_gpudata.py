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
    with pytest.raises(UnsupportedConfig, match="--gpu must be a measurement folder"):
        gpudata.measurement_path("h300")


def test_committed_h200_measurement_is_one_complete_folder():
    m = gpudata.load_measurements(gpudata.COMMITTED["h200"])
    assert m.gpu_name == "NVIDIA H200" and m.sm_count == 132
    assert set(m.gemm["device"]) == {"NVIDIA H200"}
    assert m.random is not None and set(m.random["device"]) == {"NVIDIA H200"}
    # every grid row timed in 5 independent passes; the median kept, the spread recorded
    assert (m.gemm["n_passes"] == 5).all()
    agree = m.gemm["passes_agree"].astype(bool)
    assert ((m.gemm["spread"] <= 0.1) == agree).all() and agree.mean() > 0.5
    meta = json.loads((gpudata.COMMITTED["h200"] / "metadata.json").read_text())
    for run in meta["runs"]:
        assert run["command"].startswith("hwdse gpu-bench") and len(run["git_sha"]) == 40


@pytest.mark.parametrize("device, entry", [
    ("NVIDIA H100 80GB HBM3", "h100-sxm"), ("NVIDIA H100 PCIe", "h100-pcie"),
    ("NVIDIA H200", "h200"), ("NVIDIA H200 NVL", None), ("NVIDIA H100 NVL", None),
    ("NVIDIA A100-SXM4-80GB", "a100-sxm"), ("NVIDIA L40S", "l40s"), ("NVIDIA B200", "b200"),
    ("AMD Instinct MI300X", "mi300x"), ("ACME X1", None),
])
def test_datasheet_entry_from_the_device_name(device, entry):
    assert gpudata.datasheet_name(device) == entry


def test_datasheet_has_the_devices_a_user_may_own():
    ds = gpudata.load_datasheet()
    for gpu in ("h100-sxm", "h100-pcie", "h200", "a100-sxm", "l40s", "b200", "mi300x"):
        spec = gpudata.gpu_spec(gpu)
        assert spec.peak("bf16") > 0 and spec.memory_bytes_per_s > 0, gpu
        assert ds[ds["gpu"] == gpu]["source"].str.contains("datasheet|data sheet|whitepaper").all()
    # dense peaks are half the sparse figures the datasheets print: H200 BF16 1979 / 2
    assert gpudata.gpu_spec("h200").peak("bf16") == pytest.approx(1979e12 / 2, rel=1e-3)
    assert gpudata.gpu_spec("mi300x").peak("fp8_e4m3") == pytest.approx(5229.8e12 / 2)


def _folder(tmp_path, gemm_device="NVIDIA H200", copy_device="NVIDIA H200", drop=()):
    src = gpudata.COMMITTED["h200"]
    for part in ("gemm", "copy", "quant", "elementwise"):
        if part in drop:
            continue
        d = pd.read_csv(src / f"{part}.csv")
        if part == "gemm":
            d = d[d["kernel"] == "cublas_bf16"].assign(device=gemm_device)
        if part == "copy":
            d = d.assign(device=copy_device)
        d.to_csv(tmp_path / f"{part}.csv", index=False)
    (tmp_path / "metadata.json").write_text((src / "metadata.json").read_text())
    return tmp_path


def test_folder_with_missing_csvs_says_what_to_run(tmp_path):
    with pytest.raises(DataError) as exc:
        gpudata.load_measurements(_folder(tmp_path, drop=("copy", "quant")))
    text = str(exc.value)
    assert "lacks copy.csv, quant.csv" in text and "hwdse gpu-bench --out" in text
    assert "\n" not in text


def test_folder_mixing_devices_is_refused(tmp_path):
    with pytest.raises(DataError) as exc:
        gpudata.load_measurements(_folder(tmp_path, copy_device="NVIDIA H100 80GB HBM3"))
    text = str(exc.value)
    assert "mixes devices" in text and "NVIDIA H100 80GB HBM3" in text and "\n" not in text
