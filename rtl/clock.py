"""Designs compared at one clock: the pipeline depth a MAC needs to meet a target clock period.

Where the stages go: in the generators. rtl.mac.Mac puts `pipeline_stages` registers (0..4) on the
multiplier's product, before the accumulator (MacConfig.pipeline_stages); no Yosys/ABC retiming is
run (the project's flow, rtl.synth.flow_script, maps registers where the generator put them). The
first product register cuts the multiplier from the accumulator; further ones only delay the
product, because what is left is the accumulator stage: product register -> align/add/normalise
-> accumulator register, inside the loop acc <- acc + product (one add per cycle), which no
register placement, by hand or by retiming, can cut without changing the accumulator's
architecture (e.g. interleaved partial sums, not generated here). That stage's delay is the
fastest clock a design can meet; a target below it is refused (UnsupportedConfig).

Timing: nanoseconds from OpenSTA with a characterised library (library="osu018" or a Liberty path
with timing tables; rtl.sta), or the Logical-Effort FO4 estimate of rtl.synth (library="ge").

Contract
    ClockPoint: stages, latency (cycles from operands to the accumulator holding the product),
        delay, unit ("ns" | "FO4"), area, area_unit, sequential_area, pipeline_area (the product
        registers' area: sequential area above the stages=0 design), meets
    depth_sweep(in_fmt, acc, library="ge", max_stages=4, cache_dir=None) -> [ClockPoint]
    pipeline_to_clock(in_fmt, acc, target, library="ge", max_stages=4, cache_dir=None)
        -> (ClockPoint chosen, [ClockPoint tried]): the fewest stages whose critical path is
        <= target; UnsupportedConfig naming the loop-bound delay when none is
    fastest_clock(in_fmt, acc, library="ge", ...) -> ClockPoint: the depth with the shortest
        critical path (fewest stages among equals): e.g. the INT8 design's clock for a comparison
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hwmodel.errors import UnsupportedConfig

MAX_STAGES = 4          # MacConfig accepts 0..4 product registers


@dataclass
class ClockPoint:
    in_fmt: str
    acc: str
    stages: int
    latency: int
    delay: float
    unit: str
    area: float
    area_unit: str
    sequential_area: float
    pipeline_area: float
    meets: bool | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _timing_kind(library: str):
    from rtl.sta import has_timing_tables, library_path
    from pathlib import Path
    if str(library) in ("ge", "paper"):
        return "FO4", str(library)
    lib = library_path(library)
    p = Path(lib)
    if p.is_file() and has_timing_tables(p.read_text(errors="replace")):
        return "ns", lib
    raise UnsupportedConfig(f"a target clock needs ge (FO4) or a Liberty with timing tables "
                            f"(osu018), not {library!r}")


def _point(in_fmt, acc, stages: int, unit: str, lib: str, cache_dir) -> ClockPoint:
    from rtl.config import MacConfig
    from rtl.synth import synth_unit
    r = synth_unit(in_fmt, acc, "mac", library=lib, pipeline_stages=stages, cache_dir=cache_dir)
    if unit == "FO4":
        delay = r.delay_fo4
    else:
        from rtl.sta import run_sta
        delay = run_sta(r.netlist, r.top, lib, 1000.0, 0.1, cache_dir=cache_dir).critical_path_ns
    latency = MacConfig(in_fmt, acc, stages).latency
    return ClockPoint(str(in_fmt), str(acc), stages, latency, float(delay), unit, r.area,
                      r.area_unit, r.sequential_area, 0.0)


def depth_sweep(in_fmt, acc, library: str = "ge", max_stages: int = MAX_STAGES,
                cache_dir=None) -> list[ClockPoint]:
    if not isinstance(max_stages, int) or not 0 <= max_stages <= MAX_STAGES:
        raise UnsupportedConfig(f"max_stages must be 0..{MAX_STAGES}, not {max_stages!r}")
    unit, lib = _timing_kind(library)
    pts = [_point(in_fmt, acc, s, unit, lib, cache_dir) for s in range(max_stages + 1)]
    base = pts[0].sequential_area
    for p in pts:
        p.pipeline_area = p.sequential_area - base
    return pts


def pipeline_to_clock(in_fmt, acc, target: float, library: str = "ge",
                      max_stages: int = MAX_STAGES, cache_dir=None):
    """The fewest product-register stages whose critical path meets `target` (ns with a timing
    library, FO4 with ge). Synthesises depths in order and stops at the first that meets."""
    if not (isinstance(target, (int, float)) and target > 0):
        raise UnsupportedConfig(f"target clock must be > 0, not {target!r}")
    unit, lib = _timing_kind(library)
    tried: list[ClockPoint] = []
    for s in range(max_stages + 1):
        p = _point(in_fmt, acc, s, unit, lib, cache_dir)
        p.pipeline_area = p.sequential_area - (tried[0].sequential_area if tried else p.sequential_area)
        p.meets = p.delay <= target
        tried.append(p)
        if p.meets:
            return p, tried
        # a stage that did not shorten the path: the accumulate loop bounds the clock
        if len(tried) >= 2 and p.delay >= tried[-2].delay * 0.999:
            break
    best = min(tried, key=lambda q: q.delay)
    raise UnsupportedConfig(
        f"no pipeline depth 0..{tried[-1].stages} of {best.in_fmt} -> {best.acc} meets "
        f"{target:g} {unit}: its shortest critical path is {best.delay:.2f} {unit} at "
        f"{best.stages} stage(s): the accumulator stage (product register -> align/add/normalise "
        f"-> accumulator, inside the accumulate loop), which product registers cannot cut")


def fastest_clock(in_fmt, acc, library: str = "ge", max_stages: int = 2,
                  cache_dir=None) -> ClockPoint:
    pts = depth_sweep(in_fmt, acc, library, max_stages, cache_dir)
    return min(pts, key=lambda p: (round(p.delay, 6), p.stages))
