"""rtl.sta (OpenSTA timing and power with a characterised Liberty) and `hwdse sta`.

The tier is optional for users: where OpenSTA or the OSU018 library is missing, these tests skip
with the install command as reason, except in CI (CI=true), where .ci/run installs both and a
missing package fails the test."""

import csv
import io
import os
import re
from pathlib import Path

import pytest

from analysis import cli
from hwmodel.errors import DataError, ToolNotFound


def need_sta():
    from rtl.sta import sta_available
    why = sta_available()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI installs the STA tier (.ci/run), yet: {why}")
        pytest.skip(why)


def chain(n: int) -> str:
    """A register, n INVX1 in a chain, a register: a path whose delay grows by n inverters."""
    lines = ["module chain(clk, d, q);", "  input clk;", "  input d;", "  output q;"]
    lines += [f"  wire n{i};" for i in range(n + 1)]
    lines.append("  DFFPOSX1 r0 (.CLK(clk), .D(d), .Q(n0));")
    lines += [f"  INVX1 i{i} (.A(n{i}), .Y(n{i + 1}));" for i in range(n)]
    lines.append(f"  DFFPOSX1 r1 (.CLK(clk), .D(n{n}), .Q(q));")
    return "\n".join(lines + ["endmodule", ""])


def liberty_pin_cap(cell: str, pin: str) -> float:
    from rtl.sta import library_path
    text = Path(library_path("osu018")).read_text()
    body = text[text.index(f"cell ({cell})"):]
    m = re.search(rf"pin\({pin}\)\s*\{{[^}}]*?\bcapacitance : ([\d.]+);", body)
    return float(m.group(1))


def test_missing_library_names_the_install_command(monkeypatch, tmp_path):
    from rtl import sta
    monkeypatch.setitem(sta.NAMED_LIBRARIES, "osu018", tmp_path / "absent.lib")
    with pytest.raises(DataError, match="apt-get install opensta qflow-tech-osu018"):
        sta.library_path("osu018")
    assert sta.library_path("my.lib") == "my.lib"          # other specs pass through


def test_missing_opensta_exit_2_before_synthesis(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))              # no `sta` anywhere
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path / "cache"))
    from rtl import sta
    with pytest.raises(ToolNotFound, match="apt-get install opensta"):
        sta.sta_binary()
    assert cli.main(["sta", "int8", "--acc", "kulisch"]) == 2
    err = capsys.readouterr().err.strip()
    assert "apt-get install opensta qflow-tech-osu018" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "cache").exists()               # nothing ran, nothing cached


def test_liberty_without_timing_tables_is_refused():
    from rtl.sta import check_timing_library
    from rtl.synth import BUILTIN
    with pytest.raises(DataError, match="no timing tables"):
        check_timing_library(BUILTIN["ge"].read_text(), BUILTIN["ge"])


@pytest.mark.parametrize("argv,msg", [
    (["sta", "int8", "--acc", "kulisch", "--library", "paper"], "osu018 or an existing Liberty"),
    (["sta", "int8", "--acc", "kulisch", "--library", "rtl/lib/ge.lib"], "no timing tables"),
    (["sta", "int8", "--acc", "kulisch", "--activity", "lots"], "--activity must be"),
    (["sta", "int8", "--acc", "kulisch", "--activity", "3"], "--activity must be"),
    (["sta", "e4m3", "--unit", "mul"], "--activity sim needs --unit mac"),
    (["sta", "int8", "--acc", "kulisch", "--clock", "0"], "--clock must be"),
    (["sta", "e4m3", "--unit", "mul", "--activity", "0.1", "--energy"], "--energy compares a MAC"),
])
def test_bad_input_one_line_exit_2(argv, msg, capsys):
    need_sta()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1, err


def test_chain_delay_is_linear_in_stages_and_switching_is_half_cv2af(tmp_path):
    need_sta()
    from rtl.sta import run_sta
    r = {n: run_sta(chain(n), "chain", "osu018", 5.0, 0.4, cache_dir=tmp_path) for n in (4, 8, 12)}
    assert r[4].path_cells == 4 + 2 and r[12].path_cells == 12 + 2   # the two registers too
    step1 = r[8].critical_path_ns - r[4].critical_path_ns
    step2 = r[12].critical_path_ns - r[8].critical_path_ns
    # four more identical stages (each INVX1 driving one INVX1) add the same delay each time
    assert step1 > 0 and abs(step2 - step1) < 0.01 * step1
    # 0.18 um: an inverter driving one inverter is tens of ps, far from 1 ns
    assert 0.01 < step1 / 4 < 0.2
    # four more nets, each loaded by one INVX1 input: 0.5 C V^2 * (toggles per cycle) * f
    c_pf, vdd, f_hz = liberty_pin_cap("INVX1", "A"), 1.8, 1e9 / 5.0
    expect_mw = 4 * 0.5 * c_pf * 1e-12 * vdd ** 2 * 0.4 * f_hz * 1e3
    got = r[8].switching_mw - r[4].switching_mw
    assert abs(got / expect_mw - 1) < 0.01, (got, expect_mw)


def test_zero_activity_leaves_only_the_clock(tmp_path):
    need_sta()
    from rtl.sta import run_sta
    pins = {f"i{i}/{p}": 0.0 for i in range(4) for p in ("A", "Y")}
    pins.update({f"r{i}/{p}": 0.0 for i in range(2) for p in ("D", "Q")})
    z = run_sta(chain(4), "chain", "osu018", 10.0, 0.0, pin_activity=pins,
                port_activity={"d": 0.0}, activity_source="none", cache_dir=tmp_path)
    busy = run_sta(chain(4), "chain", "osu018", 10.0, 0.5, cache_dir=tmp_path)
    assert z.switching_mw == 0.0
    # what remains is the registers' clock-pin internal power, the same in both runs
    assert 0 < z.internal_mw < busy.internal_mw and z.power_mw < busy.power_mw


@pytest.mark.synth
def test_sta_csv_int8_mac_beside_fo4(capsys, monkeypatch, tmp_path):
    need_sta()
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path))
    assert cli.main(["sta", "int8", "--acc", "kulisch", "--activity", "0.1", "--csv"]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    ns, fo4 = float(row["critical_path_ns"]), float(row["delay_fo4_ge"])
    # a 27-bit accumulate after a registered 8x8 product, in 0.18 um: a few ns
    assert 1 < ns < 20
    # FO4 of 0.18 um CMOS is roughly 60-120 ps (about 0.5 ns per um of drawn length); the
    # Logical-Effort estimate ignores the real cells' sizes, so allow 40-200 ps
    assert 0.04 < ns / fo4 < 0.2, (ns, fo4)
    assert float(row["power_mw"]) > 0 and "stated" in row["activity"]
    assert row["sta"].startswith("OpenSTA")


def test_synth_named_library_missing_exit_2(monkeypatch, capsys, tmp_path):
    from rtl import sta
    monkeypatch.setitem(sta.NAMED_LIBRARIES, "osu018", tmp_path / "absent.lib")
    assert cli.main(["synth", "int8", "--acc", "kulisch", "--library", "osu018"]) == 2
    err = capsys.readouterr().err.strip()
    assert "apt-get install opensta qflow-tech-osu018" in err and len(err.splitlines()) == 1


@pytest.mark.synth
@pytest.mark.sim
def test_synth_osu018_prints_sta_ns_and_mw(capsys, monkeypatch, tmp_path):
    need_sta()
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path))
    assert cli.main(["synth", "int8", "--acc", "kulisch", "--library", "osu018"]) == 0
    out = capsys.readouterr().out
    assert "um2" in out
    ns = float(re.search(r"critical path \(OpenSTA\): ([\d.]+) ns", out).group(1))
    mw = float(re.search(r"at 100 MHz: ([\d.]+) mW", out).group(1))
    assert 1 < ns < 20 and 0 < mw < 100
    assert "gate-level simulation" in out and "FO4" in out


@pytest.mark.synth
def test_sta_target_reports_depth_or_refuses_below_the_loop(capsys, monkeypatch, tmp_path):
    need_sta()
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path))
    assert cli.main(["sta", "int8", "--acc", "kulisch", "--target", "1000", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["stages"] for r in rows] == ["0"] and rows[0]["meets"] == "True"
    ns0 = float(rows[0]["delay"])
    # half the unpipelined path is below the 27-bit accumulate loop: no depth meets it
    assert cli.main(["sta", "int8", "--acc", "kulisch", "--target", f"{ns0 / 2:.3f}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "accumulate loop" in err and len(err.splitlines()) == 1
