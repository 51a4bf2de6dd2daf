"""sim.testbench without a simulator: where pauses fall, and how a state that did not hold during
a pause is reported (the simulator runs are in test_protocol.py and the bench tests)."""

import numpy as np
import pytest

from sim.testbench import MAX_PAUSE, Hold, StreamRun, Testbench


class _Dut:
    """A stand-in top handle: attribute access is all Testbench.__init__ does with it."""


def _tb(seed=0, **kw):
    return Testbench(_Dut(), clock=None, seed=seed, **kw)


def test_pauses_are_seeded_bounded_and_one_follows_the_last_item():
    a, b = _tb(7).pause_lengths(5000), _tb(7).pause_lengths(5000)
    assert np.array_equal(a, b)                                  # same seed, same pauses
    assert not np.array_equal(a, _tb(8).pause_lengths(5000))
    assert a[-1] >= 1 and a.min() == 0 and a.max() <= MAX_PAUSE
    rate = np.count_nonzero(a[:-1]) / (a.size - 1)
    assert 1 / 96 < rate < 1 / 24                                # about PAUSE_RATE = 1/48
    assert _tb(pause_rate=0.0).pause_lengths(100)[:-1].sum() == 0


@pytest.mark.parametrize("bad", [dict(pause_rate=1.0), dict(pause_rate=-0.1), dict(max_pause=0)])
def test_bad_pause_settings_are_rejected(bad):
    with pytest.raises(ValueError, match="pause_rate must be in"):
        _tb(**bad)


def _run(*holds):
    return StreamRun(n_items=10, n_cycles=20, values={}, valid_out=None, holds=list(holds))


def test_a_held_state_gives_no_message():
    run = _run(Hold(3, 2, True, {"acc_out": [5, 5, 5]}, [1, 0, 0]),
               Hold(9, 1, False, {"acc_out": [7, 7]}, [1, 0]))
    assert run.hold_failures("mac_x") == []
    assert run.pauses_inside == 1 and run.idle_cycles == 3


def test_a_changed_output_or_a_high_valid_out_is_reported_with_its_operands():
    run = _run(Hold(3, 2, True, {"acc_out": [5, 6, 6]}, [1, 0, 0]),
               Hold(6, 1, False, {"acc_out": [7, 7]}, [1, 1]),
               Hold(8, 1, True, {"acc_out": [0x1F, 0x1F]}, []))
    msgs = run.hold_failures("mac_x", lambda i: f"a=0x{i:x}")
    assert len(msgs) == 2
    assert msgs[0].startswith("mac_x: 2-cycle pause") and "inside an accumulation after item 3" in msgs[0]
    assert "(a=0x3)" in msgs[0] and "acc_out ['0x5', '0x6', '0x6'] (expected 0x5 to hold)" in msgs[0]
    assert "between accumulations after item 6" in msgs[1] and "valid_out [1, 1]" in msgs[1]


def test_many_failures_are_summarised():
    run = _run(*[Hold(i, 1, True, {"acc_out": [i, i + 1]}) for i in range(20)])
    msgs = run.hold_failures("u", limit=3)
    assert len(msgs) == 4 and msgs[-1] == "u: ... 20 pauses in all where the state did not hold"
