"""rtl.clock: the pipeline depth a MAC needs to meet a target clock (stages in the generator)."""

import pytest

from hwmodel.errors import UnsupportedConfig


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("clockcache")


@pytest.fixture(scope="module")
def int8_sweep(cache_dir):
    from rtl.clock import depth_sweep
    return depth_sweep("int8", "kulisch", "ge", max_stages=2, cache_dir=cache_dir)


@pytest.mark.synth
def test_product_register_cuts_the_multiplier_then_the_loop_bounds_the_clock(int8_sweep):
    p0, p1, p2 = int8_sweep
    assert [p.stages for p in int8_sweep] == [0, 1, 2]
    assert [p.latency for p in int8_sweep] == [1, 2, 3]
    assert p1.delay < p0.delay                      # multiplier and adder no longer in series
    assert p2.delay == pytest.approx(p1.delay)       # the accumulate loop is what is left
    # every stage adds the same product register: area grows by equal steps, all of it sequential
    assert p1.pipeline_area > 0 and p2.pipeline_area == pytest.approx(2 * p1.pipeline_area)
    assert p2.area - p1.area == pytest.approx(p1.area - p0.area, rel=0.02)
    # the register holds the 16-bit signed product of two int8 operands (plus its valid bit)
    from rtl.synth import cell_table
    t = cell_table()
    dff = min(a for c, a in zip(t["cell"], t["area_ge"]) if c.startswith("DFF"))
    assert 16 <= p1.pipeline_area / dff <= 20


@pytest.mark.synth
def test_pipeline_to_clock_picks_the_fewest_stages(int8_sweep, cache_dir):
    from rtl.clock import pipeline_to_clock
    p0, p1, _ = int8_sweep
    chosen, tried = pipeline_to_clock("int8", "kulisch", p0.delay + 0.1, "ge", cache_dir=cache_dir)
    assert chosen.stages == 0 and len(tried) == 1 and chosen.meets
    mid = (p0.delay + p1.delay) / 2
    chosen, tried = pipeline_to_clock("int8", "kulisch", mid, "ge", cache_dir=cache_dir)
    assert chosen.stages == 1 and chosen.latency == 2 and chosen.pipeline_area > 0
    assert [t.meets for t in tried] == [False, True]


@pytest.mark.synth
def test_a_clock_below_the_accumulate_loop_is_refused(int8_sweep, cache_dir):
    from rtl.clock import pipeline_to_clock
    with pytest.raises(UnsupportedConfig, match="accumulate loop"):
        pipeline_to_clock("int8", "kulisch", int8_sweep[1].delay * 0.5, "ge", cache_dir=cache_dir)


def test_bad_arguments():
    from rtl.clock import depth_sweep, pipeline_to_clock
    with pytest.raises(UnsupportedConfig, match="target clock must be"):
        pipeline_to_clock("int8", "kulisch", 0, "ge")
    with pytest.raises(UnsupportedConfig, match="max_stages"):
        depth_sweep("int8", "kulisch", "ge", max_stages=9)
