"""The measurement harness' pure parts (no GPU): passes, resumption, configs, random shapes."""

import pytest

from analysis.gpubench import harness
from hwmodel import workloads


def _raw(kernel, M, t, p, check="ok"):
    return {"dtype": "bf16", "kernel": kernel, "M": M, "N": 64, "K": 64, "m_run": M,
            "time_s": t, "ops_per_s": 2 * M * 64 * 64 / t, "bytes_per_s": 1e6 / t, "config": "",
            "rel_err": 0.0, "check": check, "spread": float("nan"), "label": "x",
            "device": "GPU X", "pass": p}


def test_summary_keeps_the_median_and_flags_disagreeing_passes():
    rows = [_raw("k", 16, t, p) for p, t in enumerate([1.0e-5, 1.05e-5, 0.98e-5], 1)]
    rows += [_raw("k", 32, t, p) for p, t in enumerate([1.0e-5, 2.0e-5, 1.0e-5], 1)]
    s = {r["M"]: r for r in harness.summarise(rows)}
    assert s[16]["time_s"] == 1.0e-5 and s[16]["n_passes"] == 3
    assert s[16]["spread"] == pytest.approx((1.05 - 0.98) / 1.0)
    assert s[16]["passes_agree"] is True
    # one slow pass of three: the median ignores it, the flag reports it
    assert s[32]["time_s"] == 1.0e-5 and s[32]["passes_agree"] is False
    assert s[32]["spread"] == pytest.approx(1.0)
    # throughput follows the median time
    assert s[32]["ops_per_s"] == pytest.approx(2 * 32 * 64 * 64 / 1.0e-5)


def test_summary_keeps_a_failed_check_and_the_last_row_of_a_pass():
    rows = [_raw("k", 16, 1e-5, 1), _raw("k", 16, float("nan"), 2, "FAIL"),
            _raw("k", 64, float("nan"), 1, "ERROR x"), _raw("k", 64, 2e-5, 1)]
    s = {r["M"]: r for r in harness.summarise(rows)}
    assert s[16]["check"] == "FAIL" and s[16]["n_passes"] == 1
    assert s[64]["check"] == "ok" and s[64]["time_s"] == 2e-5   # a retried row replaces the error


def test_raw_rows_survive_an_interrupted_write(tmp_path):
    p = tmp_path / "gemm.csv"
    harness._append_raw(p, [_raw("k", 16, 1e-5, 1)])
    harness._append_raw(p, [_raw("k", 32, 2e-5, 1)])
    with open(p, "a") as f:          # a line cut short when the run was killed
        f.write("bf16,k,48,64")
    rows = harness.read_raw(p)
    assert [r["M"] for r in rows] == [16, 32]
    assert harness._key(rows[1]) == ("k", 32, 64, 64, 1)


def test_items_list_every_row_key_once():
    opts = harness.Options(out_dir=None, shapes=[(16, 64, 64, "a"), (32, 64, 64, "b")],
                           kernels=["cublas_bf16", "triton_int8"],
                           random_shapes=[(20, 272, 400, "r0")], random_kernels=["cublas_bf16"],
                           quick=True)
    items = harness._items(opts, harness.PARTS)
    keys = [k for _, _, ks in items for k in ks]
    assert len(keys) == len(set(keys))
    assert ("triton_int8", 32, 64, 64) in keys and ("cublas_bf16", 20, 272, 400) in keys
    assert ("dequant_32x32", 512, 1024, 1) in keys and ("softmax", 4096, 4096, 1) in keys


def test_config_text_round_trips():
    assert harness._parse_config("128x128x8x8x3xTruex2") == (128, 128, 8, 8, 3, True, 2)
    assert harness._parse_config("") is None and harness._parse_config("scales0") is None
    assert harness._parse_config("x".join(map(str, (64, 128, 8, 4, 3)))) == (64, 128, 8, 4, 3)


def test_tuning_rejections_that_are_harmless():
    class OutOfResources(Exception):
        pass
    assert harness._harmless_rejection(OutOfResources("out of resource: shared memory, "
                                                      "Required: 262144, Hardware limit: 232448"))
    assert not harness._harmless_rejection(RuntimeError("illegal memory access"))


def test_commit_from_a_copied_tree(tmp_path, monkeypatch):
    monkeypatch.delenv("HWDSE_GIT_SHA", raising=False)
    assert harness.git_commit(tmp_path)[0] == ""
    (tmp_path / "GIT_SHA").write_text("abc123\n")
    sha, where = harness.git_commit(tmp_path)
    assert sha == "abc123" and "GIT_SHA" in where
    monkeypatch.setenv("HWDSE_GIT_SHA", "def456")
    assert harness.git_commit(tmp_path)[0] == "def456"


def test_out_dir_of_another_gpu_is_refused(tmp_path):
    from hwmodel.errors import DataError
    (tmp_path / "metadata.json").write_text('{"gpu": {"gpu_name": "NVIDIA H100 80GB HBM3"}}')
    harness.check_out_dir(tmp_path, "NVIDIA H100 80GB HBM3")
    with pytest.raises(DataError, match="holds measurements of NVIDIA H100"):
        harness.check_out_dir(tmp_path, "NVIDIA H200")


def test_random_shapes_are_seeded_in_range_and_off_the_grid():
    a = workloads.random_gemm_shapes()
    assert a == workloads.random_gemm_shapes() and len(a) == 40
    grid = {s[:3] for s in workloads.gemm_shapes()}
    fit = {s[:3] for s in workloads.fit_random_shapes()}
    for m, n, k, _ in a:
        assert 16 <= m <= 16384 and 256 <= n <= 16384 and 256 <= k <= 16384
        assert n % 16 == 0 and k % 16 == 0
    assert sum(m <= 64 for m, *_ in a) >= 10       # skinny, decode-like shapes
    assert not ({s[:3] for s in a} & grid) and not ({s[:3] for s in a} & fit)
    assert len(fit) == workloads.FIT_RANDOM_COUNT
