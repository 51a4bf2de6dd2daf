"""`hwdse roofline` and `hwdse gpu-bench` on a machine without a GPU."""

import pandas as pd
import pytest

from analysis.cli import main
from hwmodel import gpudata


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_gemm_prediction_prints_time_and_attainable_ops(capsys):
    code, out, _ = run(capsys, "roofline", "--gemm", "4096x4096x4096", "--dtype", "triton_int8")
    assert code == 0
    assert "triton_int8" in out and "predicted_us" in out and "attainable_tops" in out
    # the committed measurement of this shape is shown beside the prediction
    row = [l for l in out.splitlines() if l.strip().startswith("triton_int8")][0].split()
    predicted, tops, measured = float(row[2]), float(row[3]), float(row[5])
    assert tops == pytest.approx(2 * 4096**3 / (predicted * 1e-6) / 1e12, rel=0.01)
    assert predicted == pytest.approx(measured, rel=0.15)


def test_validate_prints_the_held_out_table(capsys):
    code, out, _ = run(capsys, "roofline", "--validate")
    assert code == 0
    for k in ("cublas_bf16", "triton_int8_blk1x128", "cublas_fp8_e5m2"):
        assert k in out
    assert "median_err_pct" in out and "datasheet_median_err_pct" in out


def test_block_and_whatif(capsys):
    code, out, _ = run(capsys, "roofline", "--block", "gpt2-xl", "--tokens", "512",
                       "--scheme", "all")
    assert code == 0 and "int8_blk32" in out and "speedup_vs_bf16" in out
    code, out, _ = run(capsys, "roofline", "--whatif", "2")
    assert code == 0 and "int4 speedup" in out and "jetfire_block_h4096" in out


def test_roofline_from_a_user_csv(tmp_path, capsys):
    d = gpudata.load_measurements().gemm
    d = d[d["kernel"] == "cublas_bf16"][["dtype", "kernel", "M", "N", "K", "time_s"]]
    p = tmp_path / "mine.csv"
    d.to_csv(p, index=False)
    # the metadata (SM count, device name) beside it, as gpu-bench writes it
    (tmp_path / "metadata.json").write_text(
        (gpudata.DEFAULT_MEASUREMENTS / "metadata.json").read_text())
    code, out, _ = run(capsys, "roofline", "--gpu", str(p), "--gemm", "2048x2048x2048",
                       "--dtype", "bf16")
    assert code == 0 and "cublas_bf16" in out


@pytest.mark.parametrize("argv, message", [
    (["--gemm", "0x4096x4096"], "three positive integers"),
    (["--gemm=-1x4096x4096"], "three positive integers"),
    (["--gemm", "64x64x64", "--dtype", "int3"], "dtype must be one of"),
    (["--gemm", "64x64x64", "--dtype", "int8"], "say which, cublas_int8 or triton_int8"),
    (["--gpu", "no/such.csv", "--validate"], "--gpu must be a measurement folder"),
    (["--gpu", "h300", "--validate"], "--gpu must be a measurement folder"),
    (["--shapes-csv", "no/such.csv"], "does not exist"),
    (["--block", "gpt5"], "model must be one of"),
    (["--block", "bert-base", "--scheme", "int2"], "--scheme must be one of"),
    ([], "roofline needs one of"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, _, err = run(capsys, "roofline", *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns=["time_s"]), "missing time_s"),
    (lambda d: d.rename(columns={"time_s": "time_ms"}), "foreign units"),
])
def test_bad_csv_exits_2(tmp_path, capsys, mutate, message):
    d = gpudata.load_measurements().gemm.head(20)
    p = tmp_path / "bad.csv"
    mutate(d).to_csv(p, index=False)
    code, _, err = run(capsys, "roofline", "--gpu", str(p), "--validate")
    assert code == 2 and message in err and err.count("\n") == 1


def test_gpu_bench_without_cuda_exits_2(capsys, tmp_path):
    try:
        import torch
        if torch.cuda.is_available():
            pytest.skip("a CUDA GPU is present")
    except ImportError:
        pass
    code, _, err = run(capsys, "gpu-bench", "--shapes", "smoke", "--out", str(tmp_path))
    assert code == 2
    assert "gpu-bench needs" in err and err.count("\n") == 1


def test_gpu_bench_rejects_unknown_parts_and_kernels(capsys, tmp_path):
    code, _, err = run(capsys, "gpu-bench", "--parts", "gemm,fft", "--out", str(tmp_path))
    assert code == 2 and "--parts must be a comma list" in err
    code, _, err = run(capsys, "gpu-bench", "--kernels", "cutlass_int4", "--out", str(tmp_path))
    assert code == 2 and "--kernels must be a comma list" in err


def test_gpu_bench_shape_sets():
    from analysis.commands.gpu_bench import select_shapes
    from hwmodel.workloads import MODELS, SQUARE_SIZES, TOKEN_COUNTS
    every = select_shapes("all")
    assert len(every) == len({(m, n, k) for m, n, k, _ in every})       # no duplicates
    squares = select_shapes("square")
    assert [s[0] for s in squares] == list(SQUARE_SIZES)
    # every model's four linear layers at every token count are measured
    shapes = {(m, n, k) for m, n, k, _ in every}
    for model in MODELS.values():
        for _, n, k in model.linear_layers():
            for t in TOKEN_COUNTS:
                assert (t, n, k) in shapes
    # LLaMA-2-7B's gated MLP up projection is one fused GEMM of N = 2 x 11008
    assert (2048, 22016, 4096) in shapes


def test_gpu_report_section_builds_from_committed_data(tmp_path):
    from analysis.section import ReportContext
    from analysis.sections import gpu
    s = gpu.build(ReportContext(outdir=tmp_path, cache_dir=tmp_path / "cache", quick=True))
    assert s.failed is None and s.key == "gpu"
    assert s.figures and s.figures[0].path.is_file() and s.figures[0].path.stat().st_size > 10_000
    captions = " ".join(t.caption for t in s.tables)
    assert "ceilings" in captions and "throughput" in captions
    for t in s.tables:
        assert t.source and not t.frame.empty


def test_harness_modules_import_no_torch_or_hdl():
    # the harness travels to the GPU machine (no amaranth/cocotb there) and must import lazily
    import subprocess
    import sys
    code = ("import sys, analysis.gpubench.harness, analysis.commands.gpu_bench, "
            "analysis.commands.roofline, analysis.sections.gpu; print([m for m in "
            "('torch', 'triton', 'amaranth', 'cocotb', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_validate_h200_shows_random_shapes_and_names_no_other_gpu(capsys):
    code, out, _ = run(capsys, "roofline", "--gpu", "h200", "--validate", "--ceilings")
    assert code == 0
    assert "random_median_err_pct" in out and "NVIDIA H200" in out
    assert "H100" not in out and "h100" not in out
    assert "datasheet (h200) 4.80 TB/s" in out


def test_validate_h100_says_random_shapes_were_not_measured(capsys):
    code, out, _ = run(capsys, "roofline", "--validate")
    assert code == 0 and "random shapes: not measured" in out


def test_batch_mode_prints_csv_in_input_order(tmp_path, capsys):
    import io
    p = tmp_path / "s.csv"
    p.write_text("M,N,K,kernel\n8192,8192,8192,cublas_bf16\n1,4096,11008,cublas_int8\n"
                 "100,300,500,e4m3\n")
    code, out, err = run(capsys, "roofline", "--gpu", "h200", "--shapes-csv", str(p))
    assert code == 0 and err == ""
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == ["M", "N", "K", "kernel", "predicted_time_us", "datasheet_time_us"]
    assert list(df["M"]) == [8192, 1, 100]
    assert list(df["kernel"]) == ["cublas_bf16", "cublas_int8", "cublas_fp8_e4m3"]
    # 8192^3 bf16: between the datasheet time (2 * 8192^3 / 989 TFLOP/s = 1.11 ms) and 2x it
    assert 1111 < df["predicted_time_us"].iloc[0] < 2222
    assert df["datasheet_time_us"].iloc[0] == pytest.approx(2 * 8192**3 / 989e12 * 1e6, rel=1e-4)


def test_batch_mode_bad_row_exits_2(tmp_path, capsys):
    p = tmp_path / "s.csv"
    p.write_text("M,N,K,kernel\n8192,8192,8192,cublas_bf16\n-1,4,4,cublas_bf16\n")
    code, out, err = run(capsys, "roofline", "--gpu", "h200", "--shapes-csv", str(p))
    assert code == 2 and out == "" and "line 3" in err and err.count("\n") == 1


def test_gpu_bench_rejects_bad_passes(capsys, tmp_path):
    code, _, err = run(capsys, "gpu-bench", "--passes", "0", "--out", str(tmp_path))
    assert code == 2 and "--passes must be" in err


def test_incomplete_folder_exits_2_with_what_to_run(tmp_path, capsys):
    src = gpudata.COMMITTED["h200"]
    for part in ("gemm", "copy"):
        (tmp_path / f"{part}.csv").write_text((src / f"{part}.csv").read_text())
    code, _, err = run(capsys, "roofline", "--gpu", str(tmp_path), "--validate")
    assert code == 2 and err.count("\n") == 1
    assert "lacks quant.csv, elementwise.csv, metadata.json" in err and "hwdse gpu-bench --out" in err
