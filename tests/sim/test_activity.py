"""sim.activity: per-pin toggle rates from gate-level simulation, handed to OpenSTA's power."""

import os
import re

import numpy as np
import pytest


def need_sta():
    from rtl.sta import sta_available
    why = sta_available()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI installs the STA tier (.ci/run), yet: {why}")
        pytest.skip(why)


@pytest.mark.sim
@pytest.mark.synth
def test_simulated_activity_of_int8_mac(tmp_path):
    need_sta()
    from rtl.sta import library_path, run_sta
    from rtl.synth import synth_unit
    from sim.activity import mac_activity
    lib = library_path("osu018")
    r = synth_unit("int8", "kulisch", library=lib, cache_dir=tmp_path)
    n, dl = 1024, 64
    act = mac_activity("int8", "kulisch", r.netlist, r.top, lib, n=n, dot_length=dl,
                       cache_dir=tmp_path)
    assert act.cycles == n and "1024 MACs" in act.source
    # a cell input wired straight to the `clear` port toggles as the port does: high for one
    # cycle every dot_length products, i.e. 2 transitions per dot_length cycles
    m = re.search(r"^\s*\S+\s+(\S+)\s*\((?:\s*\.\w+\([^)]*\),?)*?\s*\.(\w+)\(clear\)", r.netlist, re.M)
    assert m, "no cell reads the clear port directly"
    rate = act.pins[f"{m.group(1)}/{m.group(2)}"]
    assert abs(rate - 2 / dl) <= 2 / n
    # every cell pin of the netlist got a rate, and they are toggles per cycle
    n_inst = len(re.findall(r"^\s*[A-Z][A-Z0-9]*X\d\s+\S+\s*\($", r.netlist, re.M))
    assert len({p.split("/")[0] for p in act.pins}) == n_inst
    # zero-delay: a data net changes at most once per cycle; a register's clock pin twice
    assert all(0 <= v <= 1.0 + 1e-9 for p, v in act.pins.items() if not p.endswith("/CLK"))
    clk = [v for p, v in act.pins.items() if p.endswith("/CLK")]
    assert clk and all(abs(v - 2) <= 2 / n for v in clk)
    # operands: 8 bits each of a and b, plus valid_in and clear
    assert set(act.ports) >= {f"a[{i}]" for i in range(8)} | {"valid_in", "clear"}
    assert act.ports["valid_in"] == pytest.approx(1 / n)   # rises once after reset, then held
    sim = run_sta(r.netlist, r.top, lib, 10.0, pin_activity=act.pins, port_activity=act.ports,
                  activity_source=act.source, cache_dir=tmp_path)
    idle = run_sta(r.netlist, r.top, lib, 10.0, 0.0,
                   pin_activity={k: 0.0 for k in act.pins}, port_activity={k: 0.0 for k in act.ports},
                   activity_source="idle", cache_dir=tmp_path)
    assert sim.power_mw > idle.power_mw and idle.switching_mw == 0.0
    assert sim.activity == act.source
    again = mac_activity("int8", "kulisch", r.netlist, r.top, lib, n=n, dot_length=dl,
                         cache_dir=tmp_path)
    assert again.pins == act.pins
