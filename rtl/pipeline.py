"""Pipelining a MAC until it meets a target clock: the cheapest (pipeline_stages, loop_stages).

Registers are placed by the generators (no Yosys/ABC retiming). `pipeline_stages` product
registers follow the multiplier (feed-forward; stacked there, a second one shortens no path),
except that with loop_stages > 1 one or two of them move in front of the accumulation loop, behind
the Kulisch alignment / float operand normalisation and the sign conversion (MacConfig.loop_pre).
`loop_stages` registers sit in the accumulation loop (C-slow, rtl/loopacc.py): k interleaved
partial sums, a different summation order (hwmodel.interleave). Every candidate is synthesised
with rtl.synth (cached) and timed by rtl.timing's FO4 estimate on the mapped netlist; the area
counts every register (the synthesised netlist holds them).

Contract
    meet_clock(in_fmt, acc, unit="mac", target_fo4=None, target_ns=None, library="paper",
               max_pipeline=2, max_loop=MAX_LOOP_STAGES, cache_dir=None, timer=None) -> ClockResult
        the smallest-area MAC whose longest path is <= target_fo4 among loop_stages 1..max_loop
        (the first k that meets it) and pipeline_stages 0..max_pipeline. Float accumulators: the
        k - 1 loop-register places are searched greedily (rtl.config.DEFAULT_LOOP_CUTS[k] and
        each one-cut extension of the best set for k - 1, at max_pipeline product registers).
        Raises UnsupportedConfig (one line) when no depth within the limits meets the target
        ("a target clock no pipelining can meet ..., best X FO4"), for a unit other than "mac",
        for a bad target, or target_ns without `timer`.
        target_ns: compare timer(SynthResult) (ns; e.g. OpenSTA on the netlist mapped to a
        characterised `library`) instead of the FO4 estimate; result.delay_ns, target_ns set.
    fastest_clock(in_fmt="int8", acc="kulisch", ..., max_pipeline=2, max_loop=4) -> ClockResult
        the smallest longest path the design reaches within the limits (ties: least area).
    ClockResult: in_fmt, acc, unit (canonical specs), target_fo4, pipeline_stages, loop_stages,
        loop_cuts, latency, area, area_unit, register_area (all flip-flop cells of the netlist),
        pipeline_register_area (register area above the unpipelined design's, p=0 k=1),
        delay_fo4, logic_depth, config_name, summation ("sequential" | "interleaved:k"),
        tried [(p, k, cuts, delay, area)] (delay in FO4, or ns with target_ns), target_ns,
        delay_ns, .to_dict().
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

from hwmodel.errors import UnsupportedConfig

MAX_PIPELINE = 4


@dataclass
class ClockResult:
    in_fmt: str
    acc: str
    unit: str
    target_fo4: float | None
    pipeline_stages: int
    loop_stages: int
    loop_cuts: tuple
    latency: int
    area: float
    area_unit: str
    register_area: float
    pipeline_register_area: float
    delay_fo4: float
    logic_depth: int
    config_name: str
    summation: str
    tried: list = field(default_factory=list)
    target_ns: float | None = None
    delay_ns: float | None = None      # the timer's critical path (target_ns searches only)

    def to_dict(self) -> dict:
        return asdict(self)


def _synth(in_fmt, acc, p, k, library, cache_dir, cuts=None):
    from rtl.config import MacConfig
    from rtl.synth import synthesize
    cfg = MacConfig(in_fmt, acc, p, loop_stages=k, loop_cuts=cuts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design = cfg.create()
    return cfg, synthesize(design, library, cache_dir=cache_dir)


def _cut_sets(k: int, prev: tuple | None) -> list:
    """Float loop cut sets tried for k loop stages: the default set and every extension by one
    cut of the best set found for k - 1 (a greedy search over rtl.fpadd.CUTS)."""
    from rtl.config import DEFAULT_LOOP_CUTS
    from rtl.fpadd import CUTS
    sets = [DEFAULT_LOOP_CUTS[k]]
    if prev is not None:
        for c in CUTS:
            if c not in prev:
                ext = tuple(x for x in CUTS if x in prev or x == c)
                if ext not in sets:
                    sets.append(ext)
    return sets


def _check(unit, max_pipeline, max_loop):
    from rtl.config import MAX_LOOP_STAGES
    from rtl.unit import parse_unit
    u = parse_unit(unit)
    if u.kind != "mac":
        raise UnsupportedConfig(f"pipelining to a target clock is implemented for a mac unit, not "
                                f"{u.spec}")
    if not isinstance(max_pipeline, int) or not 0 <= max_pipeline <= MAX_PIPELINE:
        raise UnsupportedConfig(f"max_pipeline must be an int in 0..{MAX_PIPELINE}, not {max_pipeline!r}")
    if not isinstance(max_loop, int) or not 1 <= max_loop <= MAX_LOOP_STAGES:
        raise UnsupportedConfig(f"max_loop must be an int in 1..{MAX_LOOP_STAGES}, not {max_loop!r}")
    return u


def _acc_spec(a) -> str:
    """The accumulator's canonical spec (AccSpec.spec where it exists, else the CLI spelling)."""
    if hasattr(a, "spec"):
        return a.spec
    if a.kind == "kulisch":
        return f"kulisch:{a.guard_bits}"
    return a.fmt.name + (":sat" if a.mode == "saturate" else "")


def _result(in_fmt, acc, u, target, cfg, r, base_seq, tried) -> ClockResult:
    return ClockResult(
        in_fmt=getattr(cfg.in_fmt, "spec", cfg.in_fmt.name), acc=_acc_spec(cfg.acc), unit=u.spec,
        target_fo4=None if target is None else float(target),
        pipeline_stages=cfg.pipeline_stages, loop_stages=cfg.loop_stages, loop_cuts=cfg.cuts,
        latency=cfg.latency, area=r.area, area_unit=r.area_unit, register_area=r.sequential_area,
        pipeline_register_area=r.sequential_area - base_seq, delay_fo4=r.delay_fo4,
        logic_depth=r.logic_depth, config_name=cfg.name,
        summation="sequential" if cfg.loop_stages == 1 else f"interleaved:{cfg.loop_stages}",
        tried=tried)


def meet_clock(in_fmt, acc, unit="mac", target_fo4=None, target_ns=None, library="paper", *,
               max_pipeline: int = 2, max_loop: int | None = None, cache_dir=None,
               timer=None) -> ClockResult:
    """The cheapest MAC of (in_fmt, acc) whose longest path is <= the target (see the module
    docstring)."""
    from rtl.config import MAX_LOOP_STAGES
    max_loop = MAX_LOOP_STAGES if max_loop is None else max_loop
    u = _check(unit, max_pipeline, max_loop)
    if (target_fo4 is None) == (target_ns is None):
        raise UnsupportedConfig("give one target clock: target_fo4 (FO4 estimate) or target_ns "
                                "(with a timer)")
    target = target_fo4 if target_ns is None else target_ns
    what = "target_fo4" if target_ns is None else "target_ns"
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 0:
        raise UnsupportedConfig(f"{what} must be a number > 0, not {target!r}")
    if target_ns is not None and not callable(timer):
        raise UnsupportedConfig("a target clock in ns needs a timer: a function of a SynthResult "
                                "giving its critical path in ns (static timing of the netlist "
                                "mapped to a characterised library)")
    unit_name = "FO4" if target_ns is None else "ns"

    def delay_of(r):
        return r.delay_fo4 if target_ns is None else float(timer(r))
    from hwmodel.accum import parse_acc
    is_float = parse_acc(acc).kind == "float"
    tried = []
    base_seq = None
    prev_cuts = None
    for k in range(1, max_loop + 1):
        found = []
        # k = 1 and Kulisch: one structure per k. Float, k > 1: the cut places are searched at
        # the deepest product pipeline, then the meeting sets are tried with fewer product registers
        sets = _cut_sets(k, prev_cuts) if (is_float and k > 1) else [None]
        evaluated = []
        stop = False
        for cuts in sets:
            for p in (range(0, max_pipeline + 1) if cuts is None else [max_pipeline]):
                try:
                    cfg, r = _synth(in_fmt, acc, p, k, library, cache_dir, cuts)
                except UnsupportedConfig:
                    if k == 1:
                        raise
                    stop = True      # e.g. an int accumulator: no loop stages
                    break
                if base_seq is None:
                    base_seq = r.sequential_area     # p = 0, k = 1: the unpipelined design
                if r.delay_fo4 is None and target_ns is None:
                    raise UnsupportedConfig(f"library {library} has no FO4 delays: a target clock "
                                            f"in FO4 needs a built-in library")
                d = delay_of(r)
                tried.append((p, k, cfg.cuts, round(d, 4), r.area))
                evaluated.append((d, r.area, cfg))
                if d <= target:
                    found.append((r.area, p, cfg, r))
            if stop:
                break
        if stop:
            break
        if is_float and k > 1:
            prev_cuts = min(evaluated, key=lambda x: (x[0], x[1]))[2].cuts
            for _, p0, cfg0, _ in list(found):
                for p in range(0, p0):
                    cfg, r = _synth(in_fmt, acc, p, k, library, cache_dir, cfg0.cuts)
                    d = delay_of(r)
                    tried.append((p, k, cfg.cuts, round(d, 4), r.area))
                    if d <= target:
                        found.append((r.area, p, cfg, r))
        if found:
            _, _, cfg, r = min(found, key=lambda x: (x[0], x[1]))
            res = _result(in_fmt, acc, u, target_fo4, cfg, r, base_seq, tried)
            if target_ns is not None:
                res.target_ns, res.delay_ns = float(target_ns), delay_of(r)
            return res
    best = min(t[3] for t in tried)
    raise UnsupportedConfig(f"a target clock no pipelining can meet: {target:.4g} {unit_name} for "
                            f"{in_fmt} -> {acc} (best {best:.4g} {unit_name} with up to {max_pipeline} product "
                            f"and {max_loop} loop registers)")


def fastest_clock(in_fmt="int8", acc="kulisch", unit="mac", library="paper", *,
                  max_pipeline: int = 2, max_loop: int = 4, cache_dir=None) -> ClockResult:
    """The shortest FO4 longest path (ties: least area) of the MAC within the limits."""
    u = _check(unit, max_pipeline, max_loop)
    tried, cands = [], []
    base_seq = None
    for k in range(1, max_loop + 1):
        for p in range(0, max_pipeline + 1):
            try:
                cfg, r = _synth(in_fmt, acc, p, k, library, cache_dir)
            except UnsupportedConfig:
                if k == 1:
                    raise
                break
            if base_seq is None:
                base_seq = r.sequential_area
            if r.delay_fo4 is None:
                raise UnsupportedConfig(f"library {library} has no FO4 delays")
            tried.append((p, k, cfg.cuts, round(r.delay_fo4, 2), r.area))
            cands.append((round(r.delay_fo4, 6), r.area, cfg, r))
    _, _, cfg, r = min(cands, key=lambda x: (x[0], x[1]))
    return _result(in_fmt, acc, u, None, cfg, r, base_seq, tried)
