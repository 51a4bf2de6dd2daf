"""Input checked before work: every bad input below ends with one line on stderr and exit 2 before
any stage runs (no sweep, no section, nothing written)."""

from __future__ import annotations

import pytest

from analysis import checks
from analysis.cli import main
from analysis.design import split_list
from hwmodel.errors import DataError, FormatError


@pytest.fixture
def paths(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    busy = tmp_path / "busy"  # an output folder whose output files are folders
    for name in ("sweep.csv", "whatif.md", "report.md"):
        (busy / name).mkdir(parents=True)
    return {"file": str(a_file), "under_file": str(a_file / "sub"), "proc": "/proc/hwdse-no-such/out",
            "busy": str(busy), "tmp": tmp_path}


def _bad_config(tmp_path, name, text):
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return str(p)


CASES = [
    # (command line, where {key} is filled from the paths fixture, expected message)
    ("sweep --formats int8 --acc fp32 --out {file}", "--out must be a folder, not the file"),
    ("sweep --formats int8 --acc fp32 --out {under_file}", "is a file, not a folder"),
    ("sweep --formats int8 --acc fp32 --out {proc}", "--out must be a folder this process can write"),
    ("sweep --formats int8 --acc fp32 --out {busy}", "must be a file to write, not a folder"),
    ("sweep --formats int8 --acc fp32 --cache-dir {file}", "--cache-dir must be a folder, not the file"),
    ("sweep --formats int8 --acc bogus", "bogus"),
    ("sweep --formats int8 --acc kulisch:x", "Kulisch guard bits"),
    ("sweep --formats int8 --acc fp32 --library {tmp}/missing.lib", "existing Liberty file"),
    ("whatif e3m4 --acc fp32 --out {file}", "--out must be a folder, not the file"),
    ("whatif e3m4 --acc fp32 --out {proc}", "--out must be a folder this process can write"),
    ("whatif e3m4 --acc nonsense", "nonsense"),
    ("whatif e4m3 --acc int32", "an int accumulator needs int inputs"),
    ("whatif e3m4 --acc fp32 --budget-mm2 5", "a budget in mm^2 needs a Liberty library"),
    ("whatif e3m4 --acc fp32 --cache-dir {file}", "--cache-dir must be a folder, not the file"),
    ("report --only isoarea --out {file}", "--out must be a folder, not the file"),
    ("report --only isoarea --out {proc}", "--out must be a folder this process can write"),
    ("report --only isoarea --out {busy}", "must be a file to write, not a folder"),
    ("report --only isoarea --cache-dir {file}", "--cache-dir must be a folder, not the file"),
    ("report --only isoarea --config {mm2}", "a budget in mm^2 needs a Liberty library"),
    ("report --only isoarea --config {nolib}", "existing Liberty file"),
    ("report --only isoarea --config {badacc}", "bogus"),
]


@pytest.mark.parametrize("cmd,msg", CASES)
def test_bad_input_exits_2_before_any_work(paths, capsys, monkeypatch, cmd, msg):
    tmp = paths["tmp"]
    paths = {**paths, "mm2": _bad_config(tmp, "mm2", "[isoarea]\nbudget_mm2 = 5.0\n"),
             "nolib": _bad_config(tmp, "nolib", "[sweep]\nformats=['int8']\naccumulators=['fp32']\n"
                                       f"libraries=['{tmp}/missing.lib']\n"),
             "badacc": _bad_config(tmp, "badacc", "[sweep]\nformats=['int8']\naccumulators=['bogus']\n")}
    # Any evaluation would be work done before the check: make it impossible.
    from analysis import engine, report, whatif
    for mod in (engine, whatif):
        monkeypatch.setattr(mod, "run_sweep", lambda *a, **k: pytest.fail("a sweep ran before the check"))
    monkeypatch.setattr(report, "run_sections", lambda *a, **k: pytest.fail("a section ran before the check"))
    argv = cmd.format(**paths).split()
    if "--out" not in argv:
        argv += ["--out", str(tmp / "o")]
    if "--cache-dir" not in argv:
        argv += ["--cache-dir", str(tmp / "c")]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert msg in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_output_dir_is_created_and_probed(tmp_path):
    out = tmp_path / "a" / "b"
    assert checks.output_dir(out) == out and out.is_dir() and list(out.iterdir()) == []


def test_output_dir_failure_removes_what_it_created(tmp_path, monkeypatch):
    import pathlib
    real = pathlib.Path.write_bytes

    def refuse(self, data):
        if self.name.startswith(".hwdse-write-test"):
            raise PermissionError(13, "Permission denied")
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", refuse)
    with pytest.raises(DataError, match="Permission denied"):
        checks.output_dir(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()


def test_output_file(tmp_path):
    with pytest.raises(DataError, match="must be a file to write, not the folder"):
        checks.output_file(tmp_path)
    assert checks.output_file(tmp_path / "d" / "m.v") == tmp_path / "d" / "m.v"


@pytest.mark.parametrize("text,items", [
    ("fp(e=3,m=4,bias=7),int8", ["fp(e=3,m=4,bias=7)", "int8"]),
    (" int8 , e4m3 ,", ["int8", "e4m3"]),
    ("mx(e2m1,block=32),fp(e=2,m=1,bias=1,nan=none)", ["mx(e2m1,block=32)", "fp(e=2,m=1,bias=1,nan=none)"]),
    ("kulisch:12,fp32", ["kulisch:12", "fp32"]),
])
def test_split_list_on_top_level_commas(text, items):
    assert split_list(text) == items


@pytest.mark.parametrize("text", ["fp(e=3,m=4", "int8),e4m3"])
def test_split_list_unbalanced(text):
    with pytest.raises(FormatError, match="unbalanced"):
        split_list(text)
