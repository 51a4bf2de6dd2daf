"""hwdse whatif: the one-page report with a fake evaluator (fast), and every bad-input path."""

from __future__ import annotations

import json
import socket

import pytest

from analysis.cli import main
from analysis.config import Config
from analysis.design import acc_spec
from analysis.whatif import run_whatif
from hwmodel.accum import parse_acc
from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import parse_format
from tests.analysis.fakes import FakeEvaluator

NEW = parse_format("fp(e=2,m=1,bias=1,nan=none)").name
KUL, FP32 = acc_spec(parse_acc("kulisch")), acc_spec(parse_acc("fp32"))


def test_whatif_page_with_fake_evaluator(tmp_path):
    res = run_whatif("fp(e=2,m=1,bias=1,nan=none)", "fp32", out=tmp_path / "w", cache_dir=tmp_path / "c",
                     evaluator=FakeEvaluator(), progress=False, jobs=1)
    df = res["sweep"]
    # new format x fp32, plus int8 and e4m3 x (kulisch, fp32)
    assert sorted(df.point_id) == sorted([
        f"{NEW}/{FP32}/mac/p1/ge", f"int8/{KUL}/mac/p1/ge", f"int8/{FP32}/mac/p1/ge",
        f"float8_e4m3fn/{KUL}/mac/p1/ge", f"float8_e4m3fn/{FP32}/mac/p1/ge"])
    assert res["new_ok"]
    md = (tmp_path / "w" / "whatif.md").read_text()
    # Fake areas: bits^2*10 + acc term: new 4*4*10+32 = 192; int8/kulisch 640+112 = 752 -> 0.26x
    assert "Area relative to int8 with kulisch accumulation: **0.26x**" in md
    assert "Workload speedup over INT8 with Kulisch accumulation" in md
    # the iso-area figure, shown under the findings and in its section
    assert (tmp_path / "w" / "whatif.html").read_text().count("data:image/png;base64,") == 2
    meta = json.loads((tmp_path / "w" / "whatif.metadata.json").read_text())
    assert meta["whatif_format"] == NEW
    assert (tmp_path / "w" / "sweep.parquet").exists()


def test_whatif_failed_new_point_is_reported(tmp_path):
    res = run_whatif("e3m4", "fp32", out=tmp_path / "w", cache_dir=tmp_path / "c",
                     evaluator=FakeEvaluator(fail_formats=("float8_e3m4",)), progress=False, jobs=1)
    assert not res["new_ok"]
    md = (tmp_path / "w" / "whatif.md").read_text()
    assert "status: **failed** (UnsupportedConfig: fake design failure for float8_e3m4)" in md


def test_budget_too_small_for_one_unit(tmp_path):
    cfg = Config()
    cfg.isoarea.budget_ge = 100.0  # the smallest fake design is 192 GE
    with pytest.raises(UnsupportedConfig, match="budget_ge must hold at least one unit"):
        run_whatif("fp(e=2,m=1,bias=1,nan=none)", "fp32", config=cfg, out=tmp_path / "w",
                   cache_dir=tmp_path / "c", evaluator=FakeEvaluator(), progress=False, jobs=1)
    # The sweep's results were kept: a rerun reads them back from the cache.
    cfg.isoarea.budget_ge = 1e6
    res = run_whatif("fp(e=2,m=1,bias=1,nan=none)", "fp32", config=cfg, out=tmp_path / "w",
                     cache_dir=tmp_path / "c", evaluator=FakeEvaluator(), progress=False, jobs=1)
    assert res["sweep"]["cached"].all()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv,msg", [
    (["fp(e=0,m=3)"], "hwdse whatif: error:"),
    (["nonsense_format"], "hwdse whatif: error:"),
    (["e3m4", "--budget-ge", "0"], "budget_ge must be a positive finite number, not 0.0"),
    (["e3m4", "--budget-ge=-1e6"], "budget_ge must be a positive finite number, not -1000000.0"),
    (["e3m4", "--bandwidth-gb-s", "0"], "bandwidth_gb_s must be a positive finite number"),
    (["e3m4", "--budget-ge", "1", "--budget-mm2", "1"], "not both"),
    (["e3m4", "--jobs", "0"], "--jobs must be a positive integer, not 0"),
    (["e3m4", "--scheduler", "localhost:8786"], "must be an address like tcp://HOST:PORT"),
    ([], "a format must be given"),
])
def test_whatif_bad_input_exit_2(tmp_path, capsys, argv, msg):
    rc = main(["whatif", *argv, "--out", str(tmp_path / "w"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert msg in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "w" / "whatif.md").exists()


def test_whatif_scheduler_that_does_not_answer(tmp_path, capsys):
    rc = main(["whatif", "e3m4", "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "does not answer" in err


@pytest.mark.parametrize("text,msg", [
    ("[whatif\nformat='e3m4'", "malformed TOML"),
    ("[whatif]\nformat='e3m4'\ncolour=1", "unknown key 'colour' in [whatif]; allowed keys: format, acc, compare"),
    ("[isoarea]\nbudget_ge=-5.0", "budget_ge must be a positive finite number, not -5.0"),
])
def test_whatif_bad_config_exit_2(tmp_path, capsys, text, msg):
    p = tmp_path / "c.toml"
    p.write_text(text)
    rc = main(["whatif", "e3m4", "--config", str(p), "--out", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err, err


def test_whatif_acc_spelling_is_normalised(tmp_path):
    res = run_whatif("e3m4", "FP32", out=tmp_path / "w", cache_dir=tmp_path / "c",
                     evaluator=FakeEvaluator(), progress=False, jobs=1)
    md = (tmp_path / "w" / "whatif.md").read_text()
    assert f"accumulator `{FP32}`" in md and "Area relative to int8 with kulisch accumulation" in md


def test_whatif_failed_design_stays_cached_until_retry_failed(tmp_path):
    kw = dict(out=tmp_path / "w", cache_dir=tmp_path / "c", progress=False, jobs=1)
    assert not run_whatif("e3m4", "fp32", evaluator=FakeEvaluator(fail_formats=("e3m4",)), **kw)["new_ok"]
    # The design's own failure is the cached answer...
    assert not run_whatif("e3m4", "fp32", evaluator=FakeEvaluator(), **kw)["new_ok"]
    # ...until asked to evaluate failed points again.
    assert run_whatif("e3m4", "fp32", evaluator=FakeEvaluator(), retry_failed=True, **kw)["new_ok"]


def test_whatif_environment_failure_is_evaluated_again(tmp_path):
    kw = dict(out=tmp_path / "w", cache_dir=tmp_path / "c", progress=False, jobs=1)
    assert not run_whatif("e3m4", "fp32", evaluator=FakeEvaluator(env_fail_formats=("e3m4",)), **kw)["new_ok"]
    assert run_whatif("e3m4", "fp32", evaluator=FakeEvaluator(), **kw)["new_ok"]


@pytest.mark.parametrize("argv", [["whatif", "e3m4", "--retry-failed"], ["report", "--only", "pareto", "--retry-failed"],
                                  ["sweep", "--formats", "int8", "--acc", "fp32", "--retry-failed"]])
def test_retry_failed_reaches_the_sweep(tmp_path, monkeypatch, argv):
    from analysis import engine, reportsweep, whatif

    class Stop(Exception):
        pass

    seen = []

    def capture(*a, retry_failed=False, **k):
        seen.append(retry_failed)
        raise Stop

    for mod in (engine, whatif, reportsweep):
        monkeypatch.setattr(mod, "run_sweep", capture)
    if argv[0] == "report":  # the section's failure is caught by the report: look at what was asked
        main([*argv, "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    else:
        with pytest.raises(Stop):
            main([*argv, "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    assert seen == [True]


def test_whatif_format_whose_name_is_not_its_spec(tmp_path):
    """fp(e=4,m=3,subnormals=0) is displayed as float8_e4m3_nosub; the what-if carries the object,
    so nothing parses that name again (it once failed with 'unknown format')."""
    res = run_whatif("fp(e=4,m=3,subnormals=0)", "fp32", out=tmp_path / "w", cache_dir=tmp_path / "c",
                     evaluator=FakeEvaluator(), progress=False, jobs=1)
    fmt = parse_format("fp(e=4,m=3,subnormals=0)")
    assert res["new_ok"]
    new = res["sweep"][res["sweep"].in_fmt_spec == fmt.spec]
    assert len(new) == 1 and parse_format(new.in_fmt_spec.iloc[0]) == fmt
    meta = json.loads((tmp_path / "w" / "whatif.metadata.json").read_text())
    assert meta["canonical_spec"] == fmt.spec and meta["format_spec"] == "fp(e=4,m=3,subnormals=0)"
    # The iso-area workload model read the format back from its spec: 8 bits per element.
    assert "Workload speedup over INT8" in (tmp_path / "w" / "whatif.md").read_text()
