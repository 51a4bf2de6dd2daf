"""Test doubles for the sweep engine (never imported by the tool itself)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from hwmodel.errors import ToolNotFound, UnsupportedConfig
from hwmodel.formats import parse_format


def fake_acc_bits(acc) -> int:
    """The fake's accumulator term: the accumulator format's width, or 100 + guard bits for Kulisch."""
    return 100 + acc.guard_bits if acc.kind == "kulisch" else acc.fmt.bits


@dataclass(frozen=True)
class FakeEvaluator:
    """A cheap stand-in evaluator for tests and benchmarks of the engine itself; its numbers are
    arithmetic on the format's bit width (area_ge = bits^2 * 10 + fake_acc_bits(acc), delay_ns =
    0.1 * bits) and mean nothing about hardware.

    fail_formats: formats whose points fail as a design would (UnsupportedConfig: cached);
    env_fail_formats: formats whose points fail as a missing tool would (ToolNotFound: retried);
    kill_marker: the first evaluation of kill_format (when the marker file does not exist yet)
    creates the marker and kills its own process (a dying worker); count_dir: each evaluation
    touches a file there named <pid>-<ns> (tests count them, and find the worker pids);
    delay_s: sleep per point; child_sleep_s: run `sleep` for that long in a child process per
    point (a stand-in for a simulator the evaluation starts)."""

    delay_s: float = 0.0
    fail_formats: tuple[str, ...] = ()
    env_fail_formats: tuple[str, ...] = ()
    kill_marker: str | None = None
    kill_format: str | None = None
    count_dir: str | None = None
    child_sleep_s: float = 0.0

    cache_id = "fake-evaluator-v1"

    @staticmethod
    def _is(point, names) -> bool:
        return any(parse_format(n) == point.in_fmt for n in names)

    def __call__(self, point, seed: int, quick: bool) -> dict:
        if self.count_dir:
            d = Path(self.count_dir)
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{os.getpid()}-{time.monotonic_ns()}").write_text(point.point_id)
        if self.kill_marker and self.kill_format and self._is(point, [self.kill_format]) \
                and not os.path.exists(self.kill_marker):
            Path(self.kill_marker).write_text("killed")
            os._exit(17)
        if self.child_sleep_s:
            import subprocess
            subprocess.run(["sleep", str(self.child_sleep_s)], check=False)
        if self.delay_s:
            time.sleep(self.delay_s)
        if self._is(point, self.fail_formats):
            raise UnsupportedConfig(f"fake design failure for {point.in_fmt.name}")
        if self._is(point, self.env_fail_formats):
            raise ToolNotFound(f"fake missing tool for {point.in_fmt.name}")
        bits = point.in_fmt.bits
        return {"area_ge": float(bits * bits * 10 + fake_acc_bits(point.acc)), "delay_ns": 0.1 * bits,
                "seed_echo": seed}


def fake_depth_sweep(fmt, acc, library="ge", max_stages=2, cache_dir=None):
    """A stand-in for rtl.clock.depth_sweep (arithmetic, no synthesis): the multiplier takes
    2 x bits FO4 and the accumulate loop 20 FO4 for an integer format into Kulisch, 30 for a float
    into Kulisch and 60 into a float accumulator; product register s >= 1 cuts the multiplier off.
    Area: FakeEvaluator's (one stage) + 10 GE per stage above one."""
    from rtl.clock import ClockPoint
    bits = fmt.bits
    loop = (20.0 if fmt.kind == "int" else 30.0) if acc.kind == "kulisch" else 60.0
    base = float(bits * bits * 10 + fake_acc_bits(acc))
    return [ClockPoint(fmt.name, acc.spec, s, s + 1, (2.0 * bits + loop) if s == 0 else loop, "FO4",
                       base + 10.0 * (s - 1), "ge", 50.0 + 10 * s, 10.0 * s) for s in range(max_stages + 1)]


def fake_meet_clock(fmt, acc, target_fo4=None, library="ge", cache_dir=None, **_):
    """A stand-in for rtl.pipeline.meet_clock: k interleaved partial sums divide the accumulate loop
    of fake_depth_sweep by k (k = ceil(loop / target), at most 4; more is refused), each loop stage
    adding 20 GE; one product register; latency 1 + k."""
    import math
    from types import SimpleNamespace
    loop = fake_depth_sweep(fmt, acc, library, 1)[1].delay
    k = math.ceil(loop / target_fo4)
    if k > 4:
        raise UnsupportedConfig(f"a target clock no pipelining can meet: {target_fo4} FO4, best {loop / 4} FO4")
    base = float(fmt.bits * fmt.bits * 10 + fake_acc_bits(acc))
    return SimpleNamespace(pipeline_stages=1, loop_stages=k, latency=1 + k, delay_fo4=loop / k,
                           area=base + 20.0 * (k - 1), area_unit="ge", pipeline_register_area=10.0 + 20 * (k - 1),
                           summation=f"interleaved:{k}")
