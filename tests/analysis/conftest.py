"""Tests of this layer time the one-clock comparison with an arithmetic stand-in for synthesis
(tests.analysis.fakes.fake_depth_sweep, no interleaved-loop search), except tests marked synth or slow, which run Yosys."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fake_clock(request, monkeypatch):
    if request.node.get_closest_marker("synth") or request.node.get_closest_marker("slow"):
        return
    from analysis import oneclock
    from tests.analysis.fakes import fake_depth_sweep
    monkeypatch.setattr(oneclock, "_depth_sweep", fake_depth_sweep)
    # no interleaved-loop search unless a test asks for one (tests.analysis.fakes.fake_meet_clock)
    monkeypatch.setattr(oneclock, "_meet_clock_hook", lambda: None)
