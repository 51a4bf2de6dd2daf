"""Designs compared at one clock (analysis.oneclock) with the arithmetic stand-in for synthesis
(tests.analysis.fakes.fake_depth_sweep: multiplier 2 x bits FO4; accumulate loop 20 FO4 for an
integer into Kulisch, 30 for a float into Kulisch, 60 into a float accumulator; area = FakeEvaluator's
+ 10 GE per stage above one), and once with Yosys (synth)."""

from __future__ import annotations

import pytest

from analysis import oneclock
from analysis.cli import main
from analysis.config import FO4_PS_45NM, Config, IsoAreaConfig
from analysis.whatif import run_whatif
from hwmodel.errors import UnsupportedConfig
from tests.analysis.fakes import FakeEvaluator

NEW = "fp(e=2,m=1,bias=1,nan=none)"


def _run(tmp_path, **iso):
    cfg = Config()
    for k, v in iso.items():
        setattr(cfg.isoarea, k, v)
    return run_whatif(NEW, "fp32", config=cfg, out=tmp_path / "w", cache_dir=tmp_path / "c",
                      evaluator=FakeEvaluator(), progress=False, jobs=1)


def _iso_table(res):
    [sec] = [s for s in res["sections"] if s.key == "isoarea"]
    return sec, sec.tables[0].frame.set_index(["in_fmt", "acc"])


def test_default_clock_is_int8_kulisch_fastest(tmp_path):
    res = _run(tmp_path)
    sec, t = _iso_table(res)
    # INT8 into Kulisch: p0 = 16 + 20 = 36 FO4, p1 = 20 FO4 -> the target is 20 FO4, met at 1 stage.
    assert "**All designs at one clock: 20 FO4**" in sec.intro and "int8 into kulisch:12" in sec.intro
    ref = t.loc[("int8", "kulisch:12")]
    assert bool(ref["meets_clock"]) and ref["pipeline_stages"] == 1 and ref["latency_cycles"] == 2
    assert ref["clock_ghz"] == pytest.approx(1e3 / (20 * FO4_PS_45NM))
    assert ref["units"] == int(1e8 // (8 * 8 * 10 + 112))
    # Every float accumulator's loop (60 FO4) and FP8 into Kulisch (30 FO4) miss it: each runs at
    # the clock it reaches, said in the table and the intro.
    for key, loop in ((("int8", "float32"), 60), (("float8_e4m3fn", "kulisch:12"), 30),
                      (("float8_e4m3fn", "float32"), 60)):
        assert not bool(t.loc[key, "meets_clock"])
        assert t.loc[key, "clock_ghz"] == pytest.approx(1e3 / (loop * FO4_PS_45NM))
        assert "accumulate loop" in t.loc[key, "limited_by"]
    assert "cannot meet it at any depth" in sec.intro
    # the plan table shows every depth tried
    plan = sec.tables[1].frame.set_index(["in_fmt", "acc"])
    assert plan.loc[("int8", "kulisch:12"), "depths_tried"] == "p0: 36, p1: 20, p2: 20"


def test_clock_fo4_set_by_user(tmp_path):
    sec, t = _iso_table(_run(tmp_path, clock_fo4=40.0))
    assert "**All designs at one clock: 40 FO4** (~" in sec.intro and "set with --clock-fo4" in sec.intro
    # INT8/Kulisch meets 40 FO4 with no register (p0 36 FO4): area 10 GE smaller, latency 1 cycle
    ref = t.loc[("int8", "kulisch:12")]
    assert ref["pipeline_stages"] == 0 and ref["latency_cycles"] == 1 and ref["unit_area_ge"] == 752 - 10
    # FP8 into Kulisch meets it at one stage (loop 30 FO4), at 40 FO4 (not its own 30)
    fp8 = t.loc[("float8_e4m3fn", "kulisch:12")]
    assert bool(fp8["meets_clock"]) and fp8["pipeline_stages"] == 1
    assert fp8["clock_ghz"] == pytest.approx(1e3 / (40 * FO4_PS_45NM))


def test_unpipelined_keeps_each_designs_own_clock(tmp_path):
    sec, t = _iso_table(_run(tmp_path, unpipelined=True))
    assert "Unpipelined comparison" in sec.intro and "meets_clock" not in t
    # FakeEvaluator: delay_ns = 0.1 x bits -> int8 at 0.8 ns, area 752 GE
    assert t.loc[("int8", "kulisch:12"), "clock_ghz"] == pytest.approx(1 / 0.8)


@pytest.mark.parametrize("argv,msg", [
    (["--clock-fo4", "-3"], "--clock-fo4 must be a positive finite number"),
    (["--clock-fo4", "30", "--clock-ns", "2"], "give --clock-fo4 or --clock-ns, not both"),
    (["--clock-ns", "2"], "--clock-ns needs a Liberty with timing tables"),
    (["--unpipelined", "--clock-fo4", "30"], "--unpipelined compares each design at its own clock"),
])
def test_clock_options_bad_input_exit_2(tmp_path, capsys, argv, msg):
    rc = main(["whatif", "e3m4", "--acc", "fp32", "--out", str(tmp_path / "w"),
               "--cache-dir", str(tmp_path / "c"), *argv])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1
    assert not (tmp_path / "w" / "whatif.md").exists()   # refused before any work


def test_resolve_target_rejects_bad_values():
    with pytest.raises(UnsupportedConfig, match="positive finite"):
        oneclock.resolve_target("ge", clock_fo4=float("inf"))
    t = oneclock.resolve_target("ge", clock_fo4=55)
    assert t.period == 55 and t.unit == "FO4" and t.reference is None


@pytest.mark.synth
def test_real_int8_kulisch_clock_and_fp32_refusal(tmp_path):
    """With Yosys: INT8 into Kulisch is fastest at one product register (the register cuts the
    multiplier off: p1 shorter than p0, p2 no shorter), and FP8 into FP32 cannot reach that clock."""
    t = oneclock.resolve_target("ge", cache_dir=tmp_path)
    plan = oneclock.at_clock([("int8", "kulisch"), ("e4m3", "fp32")], t, cache_dir=tmp_path, interleave=False)
    plan = plan.set_index("in_fmt")
    tried = [float(x.split(": ")[1]) for x in plan.loc["int8", "depths_tried"].split(", ")]
    assert tried[1] < tried[0] and tried[2] >= tried[1] * 0.999 and t.period == pytest.approx(tried[1], rel=1e-3)
    assert not bool(plan.loc["float8_e4m3fn", "meets_clock"])
    assert plan.loc["float8_e4m3fn", "critical_path_fo4"] > 2 * t.period


def test_interleaved_loops_when_product_registers_cannot(tmp_path, monkeypatch):
    from tests.analysis.fakes import fake_meet_clock
    monkeypatch.setattr(oneclock, "_meet_clock_hook", lambda: fake_meet_clock)
    sec, t = _iso_table(_run(tmp_path))
    # target 20 FO4: FP32 loops (60 FO4) need k = 3 partial sums, FP8 into Kulisch (30) k = 2
    for key, k in ((("int8", "float32"), 3), (("float8_e4m3fn", "kulisch:12"), 2), (("float8_e4m3fn", "float32"), 3)):
        r = t.loc[key]
        assert bool(r["meets_clock"]) and r["latency_cycles"] == 1 + k and r["summation"] == f"interleaved:{k}"
        assert r["clock_ghz"] == pytest.approx(1e3 / (20 * FO4_PS_45NM))
    assert t.loc[("int8", "float32"), "unit_area_ge"] == 8 * 8 * 10 + 32 + 20 * 2
    assert "meet it only with interleaved partial sums" in sec.intro
    # a clock too fast even for 4 partial sums: refused by the search, shown at the clock it reaches
    sec, t = _iso_table(_run(tmp_path / "b", clock_fo4=12.0))
    r = t.loc[("float8_e4m3fn", "float32")]
    assert not bool(r["meets_clock"]) and "interleaved loops cannot meet it either" in r["limited_by"]
    assert r["clock_ghz"] == pytest.approx(1e3 / (60 * FO4_PS_45NM))


def test_interleave_off_in_config(tmp_path, monkeypatch):
    from tests.analysis.fakes import fake_meet_clock
    monkeypatch.setattr(oneclock, "_meet_clock_hook", lambda: fake_meet_clock)
    sec, t = _iso_table(_run(tmp_path, interleave=False))
    assert not bool(t.loc[("int8", "float32"), "meets_clock"])


def test_cli_options_reach_the_config(tmp_path, monkeypatch):
    import analysis.whatif as wmod
    seen = {}

    def capture(*a, config=None, **k):
        seen["iso"] = config.isoarea
        raise UnsupportedConfig("stop here")
    monkeypatch.setattr(wmod, "run_whatif", capture)
    assert main(["whatif", "e3m4", "--unpipelined", "--out", str(tmp_path / "w")]) == 2
    assert seen["iso"].unpipelined and seen["iso"].clock_fo4 is None
    assert main(["whatif", "e3m4", "--clock-fo4", "90", "--out", str(tmp_path / "w")]) == 2
    assert seen["iso"].clock_fo4 == 90.0 and not seen["iso"].unpipelined


def test_config_keys_typed():
    from analysis.config import parse_config
    from hwmodel.errors import DataError
    cfg = parse_config({"isoarea": {"clock_fo4": 90, "unpipelined": False, "interleave": False}})
    assert cfg.isoarea.clock_fo4 == 90.0 and cfg.isoarea.interleave is False
    with pytest.raises(DataError, match="isoarea.unpipelined must be true or false"):
        parse_config({"isoarea": {"unpipelined": "yes"}})
