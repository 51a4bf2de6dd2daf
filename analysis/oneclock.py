"""Designs compared at one clock: every design pipelined to the same target clock period.

The iso-area comparison used to clock each design at its own single-stage critical path, so a
format's "speedup" measured how long its unpipelined accumulator was. Here every design gets the
fewest product registers (rtl.clock: registers placed by the generator, no retiming) whose
critical path meets one target period; the area of the design at that depth (its pipeline
registers included: synthesis counts them) and its latency in cycles go into the tables. A design
that no depth makes meet the target is kept, marked `meets_clock = False`, and clocked at the
shortest period it does reach (its accumulate loop: product register -> align/add/normalise ->
accumulator), which the tables say.

The target is, unless given (`clock_fo4` with ge, `clock_ns` with a Liberty that has timing
tables), the fastest clock the reference design (INT8 into the Kulisch register) meets within the
same depth limit: `resolve_target`. `unpipelined=True` keeps the old comparison (each design at
its own single-stage path: the sweep's rows unchanged).

Interleaved loops: a design that product registers cannot bring to the target is asked
`rtl.pipeline.meet_clock` (k interleaved partial sums in the accumulate loop: a different summation
order) for the smallest design that meets it; its depth, latency and area replace the refusal and
the table says so (`loop_stages`, `summation`). `interleave=False` (config `interleave = false`)
skips that search and shows such a design at the clock it reaches. The target itself is the
reference's fastest clock with product registers only (sequential accumulation: the MAC as built).

Contract
    resolve_target(library="ge", clock_fo4=None, clock_ns=None, reference=("int8", "kulisch"),
                   max_stages=2, cache_dir=None) -> ClockTarget
    at_clock(designs, target, library="ge", max_stages=2, cache_dir=None) -> DataFrame
        one row per (format, accumulator): in_fmt, in_fmt_spec, acc, pipeline_stages,
        latency_cycles, critical_path_<u>, clock_period_<u>, meets_clock, area_<a>,
        pipeline_area_<a>, limited_by, depths_tried, summation
    apply_to_sweep(df, plan_rows, target, fo4_ps) -> DataFrame: the sweep's rows (quality, energy,
        verification) with area, delay and depth replaced by the one-clock design's
    block_at_clock(rows, target, library="ge", cache_dir=None) -> DataFrame: at_clock's columns for
        block-format rows (plan_sweep sends them here)

Block formats (block dot units, rtl.blockdot) have one build with no pipeline registers: the
multipliers, adder tree, scale path and accumulator sit in one cycle. Such a unit meets the target
when its critical path does; otherwise it is kept at its own path (meets_clock False, limited_by
BLOCK_LOOP), never shown at a clock it does not reach, and no interleaved-loop search applies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from hwmodel.errors import UnsupportedConfig

REFERENCE = ("int8", "kulisch")
MAX_STAGES = 2     # product registers tried: beyond the first they only delay the product (rtl.clock)


@dataclass(frozen=True)
class ClockTarget:
    """The one clock every design is compared at."""

    period: float      # in `unit`
    unit: str          # "FO4" (ge: Logical-Effort estimate) or "ns" (OpenSTA with a Liberty)
    how: str           # a sentence: where the period comes from
    reference: str | None = None   # "int8/kulisch:12" when the period is the reference's fastest

    def describe(self) -> str:
        return f"{self.period:.4g} {self.unit} ({self.how})"


def _check_positive(name: str, v) -> None:
    if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool)
                              and v > 0 and math.isfinite(v)):
        raise UnsupportedConfig(f"{name} must be a positive finite number, not {v!r}")


def timing_unit(library: str) -> str:
    """FO4 for ge/paper, ns for a Liberty with timing tables (rtl.clock decides; UnsupportedConfig otherwise)."""
    from rtl.clock import _timing_kind
    return _timing_kind(library)[0]


def resolve_target(library: str = "ge", clock_fo4: float | None = None, clock_ns: float | None = None,
                   reference=REFERENCE, max_stages: int = MAX_STAGES, cache_dir=None) -> ClockTarget:
    """The target period: the one given, else the fastest clock the reference design meets."""
    _check_positive("--clock-fo4", clock_fo4)
    _check_positive("--clock-ns", clock_ns)
    if clock_fo4 is not None and clock_ns is not None:
        raise UnsupportedConfig("give --clock-fo4 or --clock-ns, not both")
    unit = timing_unit(library)
    if clock_fo4 is not None:
        if unit != "FO4":
            raise UnsupportedConfig(f"--clock-fo4 needs the ge library (FO4 estimate); {library!r} is timed "
                                    f"in ns: give --clock-ns")
        return ClockTarget(float(clock_fo4), "FO4", "set with --clock-fo4")
    if clock_ns is not None:
        if unit != "ns":
            raise UnsupportedConfig(f"--clock-ns needs a Liberty with timing tables (library osu018), not "
                                    f"{library!r}: give --clock-fo4 with ge")
        return ClockTarget(float(clock_ns), "ns", "set with --clock-ns")
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    f, a = parse_format(reference[0]), parse_acc(reference[1])
    # rtl.clock.fastest_clock's choice: the shortest path, the fewest stages among equals
    p = min(_depth_sweep(f, a, library, max_stages, cache_dir), key=lambda q: (round(q.delay, 6), q.stages))
    ref = f"{f.name}/{a.spec}"
    return ClockTarget(float(p.delay), unit,
                       f"the fastest clock {f.name} into {a.spec} meets with product registers ({p.stages}) and "
                       f"sequential accumulation",
                       ref)


def _depth_sweep(fmt, acc, library, max_stages, cache_dir):
    """rtl.clock.depth_sweep: each depth 0..max_stages synthesised (cached) and timed."""
    from rtl.clock import depth_sweep
    return depth_sweep(fmt, acc, library, max_stages, cache_dir)


def _limit(pts, chosen, meets: bool) -> str:
    """What sets the chosen depth's critical path, from the depths tried: the accumulate loop when
    adding product registers no longer shortens the path, else the multiplier path in front."""
    loop = min(p.delay for p in pts)
    at_loop = chosen.delay <= loop * 1.001
    if not meets:
        return "accumulate loop: add/normalise -> accumulator in one cycle, product registers cannot cut it"
    if chosen.stages == 0:
        return "multiplier and accumulator in one cycle (meets without registers)"
    return "accumulate loop" if at_loop else "multiplier path in front of the accumulator"


def _meet_clock_hook():
    """rtl.pipeline.meet_clock (interleaved accumulation loops) when it can be imported, else None."""
    try:
        from rtl.pipeline import meet_clock
    except Exception:  # noqa: BLE001 - the hook is optional: without it a design is shown as missing
        return None
    return meet_clock


def _meet(job):
    """One interleaved-loop search (runs in a worker): (row index, ClockResult | error line)."""
    i, fmt, acc, period, library, cache_dir = job
    try:
        return i, _meet_clock_hook()(fmt, acc, target_fo4=period, library=library, cache_dir=cache_dir)
    except UnsupportedConfig as exc:
        return i, str(exc).splitlines()[0][:200]


def at_clock(designs, target: ClockTarget, library: str = "ge", max_stages: int = MAX_STAGES,
             cache_dir=None, interleave: bool = True, jobs: int = 1) -> pd.DataFrame:
    """Each (format, accumulator) at the fewest product registers that meet `target` (see module).
    interleave: a design that misses asks rtl.pipeline.meet_clock for interleaved loop stages
    (when it exists; FO4 targets), on `jobs` worker processes."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    u = target.unit.lower()
    rows, designs_obj = [], []
    for fmt, acc in dict.fromkeys((parse_format(f), parse_acc(a)) for f, a in designs):
        pts = _depth_sweep(fmt, acc, library, max_stages, cache_dir)
        meeting = [p for p in pts if p.delay <= target.period * (1 + 1e-9)]
        meets = bool(meeting)
        chosen = meeting[0] if meets else min(pts, key=lambda p: (round(p.delay, 6), p.stages))
        rows.append({"in_fmt": fmt.name, "in_fmt_spec": fmt.spec, "acc": acc.spec,
                     "pipeline_stages": chosen.stages, "loop_stages": 1, "latency_cycles": chosen.latency,
                     f"critical_path_{u}": chosen.delay,
                     f"clock_period_{u}": target.period if meets else chosen.delay,
                     "meets_clock": meets, f"area_{chosen.area_unit}": chosen.area,
                     f"pipeline_area_{chosen.area_unit}": chosen.pipeline_area,
                     "limited_by": _limit(pts, chosen, meets),
                     "depths_tried": ", ".join(f"p{p.stages}: {p.delay:.4g}" for p in pts),
                     "summation": "sequential"})
        designs_obj.append((fmt, acc))
    hook = _meet_clock_hook() if interleave and u == "fo4" else None
    todo = [(i, f, a, target.period, library, cache_dir) for i, (f, a) in enumerate(designs_obj)
            if not rows[i]["meets_clock"]]
    if hook is not None and todo:
        if jobs > 1 and len(todo) > 1:
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as ex:
                results = list(ex.map(_meet, todo))
        else:
            results = [_meet(j) for j in todo]
        for i, r in results:
            row = rows[i]
            if isinstance(r, str):
                row["limited_by"] += f"; interleaved loops cannot meet it either ({r})"
                continue
            row.update({"pipeline_stages": int(r.pipeline_stages), "loop_stages": int(r.loop_stages),
                        "latency_cycles": int(r.latency), f"critical_path_{u}": float(r.delay_fo4),
                        f"clock_period_{u}": target.period, "meets_clock": True,
                        f"area_{r.area_unit}": float(r.area),
                        f"pipeline_area_{r.area_unit}": float(r.pipeline_register_area),
                        "limited_by": f"target clock, met with {r.loop_stages} interleaved partial sums "
                                      f"in the accumulate loop (rtl.pipeline.meet_clock; sequential: "
                                      f"{row[f'critical_path_{u}']:.4g} {target.unit})",
                        "summation": str(r.summation)})
    return pd.DataFrame(rows)


def apply_to_sweep(df: pd.DataFrame, plan: pd.DataFrame, target: ClockTarget,
                   area_col: str = "area_ge") -> pd.DataFrame:
    """The sweep's rows for the planned designs with the one-clock depth, area and clock in place of
    the single-stage ones (quality, energy and verification stay the sweep's, measured at the sweep's
    depth: `measured_at_stages` says which). The clock goes in delay_fo4 / delay_ns, which
    analysis.isoarea turns into the clock."""
    u = target.unit.lower()
    base = df.drop_duplicates(["in_fmt_spec", "acc"]).set_index(["in_fmt_spec", "acc"])
    out = []
    for _, p in plan.iterrows():
        key = (p["in_fmt_spec"], p["acc"])
        if key not in base.index:
            continue
        r = base.loc[key].to_dict()
        r["in_fmt_spec"], r["acc"] = key
        r["measured_at_stages"] = int(r.get("pipeline_stages", 1))
        if int(p["pipeline_stages"]) != r["measured_at_stages"] or int(p.get("loop_stages", 1) or 1) > 1:
            r["verified"] = None  # the sweep's bench ran the swept design, not this deeper one
        for c in ("pipeline_stages", "loop_stages", "latency_cycles", "meets_clock", "limited_by", "summation",
                  f"critical_path_{u}", f"clock_period_{u}"):
            r[c] = p[c]
        if area_col in p:
            r[area_col] = p[area_col]
        if u == "fo4":
            r["delay_fo4"] = p["clock_period_fo4"]
            r.pop("delay_ns", None)
        else:
            r["delay_ns"] = p["clock_period_ns"]
            r.pop("delay_fo4", None)
        out.append(r)
    return pd.DataFrame(out)


def plan_sweep(df: pd.DataFrame, iso, library: str = "ge", cache_dir=None,
               max_stages: int = MAX_STAGES, jobs: int = 1):
    """The sweep's rows as the iso-area model should see them under `iso` (IsoAreaConfig):
    (rows, target, plan). unpipelined: (df, None, None), every design at its own path."""
    if getattr(iso, "unpipelined", False):
        if getattr(iso, "clock_fo4", None) is not None or getattr(iso, "clock_ns", None) is not None:
            raise UnsupportedConfig("--unpipelined compares each design at its own clock: give it "
                                    "without --clock-fo4 / --clock-ns")
        return df, None, None
    target = resolve_target(library, getattr(iso, "clock_fo4", None), getattr(iso, "clock_ns", None),
                            max_stages=max_stages, cache_dir=cache_dir)
    df = canonical(df)
    area_col = "area_ge" if target.unit == "FO4" else "area_um2"
    ok = df[pd.to_numeric(df.get(area_col, pd.Series(dtype=float)), errors="coerce") > 0]
    if ok.empty:
        raise UnsupportedConfig(f"no design point has a synthesised {area_col} to put at one clock")
    blk = ok["in_fmt_spec"].map(is_block_spec).astype(bool)
    plans = []
    if (~blk).any():
        plans.append(at_clock(list(zip(ok.loc[~blk, "in_fmt_spec"], ok.loc[~blk, "acc"])), target, library,
                              max_stages, cache_dir, interleave=getattr(iso, "interleave", True), jobs=jobs))
    if blk.any():
        plans.append(block_at_clock(ok[blk], target, library, cache_dir))
    plan = pd.concat(plans, ignore_index=True) if len(plans) > 1 else plans[0]
    return apply_to_sweep(df, plan, target, area_col), target, plan


def is_block_spec(spec) -> bool:
    """Whether a canonical format spec is a block-scaled format (built as a block dot unit)."""
    from hwmodel.formats import BlockFormat, parse_format
    try:
        return isinstance(parse_format(spec), BlockFormat)
    except Exception:  # noqa: BLE001 - a spec that does not parse is no block format
        return False


# Why a block dot unit's clock is its own single-cycle path (rtl.blockdot: latency 1).
BLOCK_LOOP = ("block dot unit: multipliers, adder tree, scale path and accumulator in one cycle; "
              "rtl.blockdot has no pipeline registers to cut it")


def _block_delay(fmt, acc, unit, library, cache_dir) -> tuple[float, float]:
    """(critical path, area) of a block dot unit as built: FO4 from the synthesis with ge, ns from
    OpenSTA with a timing library (rtl.synth.synth_unit, cached like the sweep's synthesis)."""
    from rtl.synth import synth_unit
    unit_kind, lib = timing_unit(library), library
    r = synth_unit(fmt, acc, unit, library=lib, cache_dir=cache_dir)
    if unit_kind == "FO4":
        return float(r.delay_fo4), float(r.area)
    from rtl.clock import _timing_kind
    from rtl.sta import run_sta
    path = _timing_kind(library)[1]
    return float(run_sta(r.netlist, r.top, path, 1000.0, 0.1, cache_dir=cache_dir).critical_path_ns), float(r.area)


def block_at_clock(rows: pd.DataFrame, target: ClockTarget, library: str = "ge", cache_dir=None) -> pd.DataFrame:
    """The plan rows (as at_clock's) of block-format sweep rows. A block dot unit (rtl.blockdot) has
    one build, with no pipeline registers: it meets the target when its single-cycle critical path
    does, else it runs at that path's clock (meets_clock False, limited_by BLOCK_LOOP); no
    interleaved-loop search applies. FO4 targets take the path from the sweep row's synthesis
    (delay_fo4, the same netlist); ns targets, or rows without it, synthesise (cached) and time it."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    from rtl.unit import parse_unit, unit_config
    u = target.unit.lower()
    out = []
    for _, r in rows.drop_duplicates(["in_fmt_spec", "acc"]).iterrows():
        fmt, acc = parse_format(r["in_fmt_spec"]), parse_acc(r["acc"])
        unit = parse_unit(r["unit"]) if "unit" in r and isinstance(r["unit"], str) else "mac"
        d = pd.to_numeric(r.get("delay_fo4"), errors="coerce") if target.unit == "FO4" else float("nan")
        area_col = "area_ge" if target.unit == "FO4" else "area_um2"
        area = pd.to_numeric(r.get(area_col), errors="coerce")
        if not (d > 0) or not (area > 0):
            d, area = _block_delay(fmt, acc, unit, library, cache_dir)
        d, area = float(d), float(area)
        meets = d <= target.period * (1 + 1e-9)
        stages = int(r.get("pipeline_stages", 1))
        cfg = unit_config(fmt, acc, unit, stages)
        summ = ("per block: exact block sum, exact into the Kulisch register" if acc.kind == "kulisch"
                else "per block: exact block sum, one rounding per block")
        out.append({"in_fmt": fmt.name, "in_fmt_spec": fmt.spec, "acc": acc.spec,
                    "pipeline_stages": stages, "loop_stages": 1, "latency_cycles": int(cfg.latency),
                    f"critical_path_{u}": d, f"clock_period_{u}": target.period if meets else d,
                    "meets_clock": bool(meets), area_col: area, f"pipeline_area_{area_col[5:]}": 0.0,
                    "limited_by": ("block dot unit in one cycle (meets without registers)" if meets
                                   else BLOCK_LOOP),
                    "depths_tried": f"{getattr(unit, 'spec', unit)} as built: {d:.4g}",
                    "summation": summ})
    return pd.DataFrame(out)


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with in_fmt_spec (from the display name when a table lacks it) and canonical
    accumulator specs, so one design has one key."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    df = df.copy()
    if "in_fmt_spec" not in df:
        df["in_fmt_spec"] = df["in_fmt"].map(lambda n: parse_format(n).spec)
    df["acc"] = df["acc"].map(lambda a: parse_acc(a).spec)
    return df


def fo4_for(target: ClockTarget | None, fo4_ps: float) -> float | None:
    """The FO4 delay analysis.isoarea needs: fo4_ps with FO4 timing, None with ns."""
    return fo4_ps if target is None or target.unit == "FO4" else None


def clock_sentence(target: ClockTarget | None, plan: pd.DataFrame | None, fo4_ps: float,
                   max_stages: int = MAX_STAGES) -> str:
    """One paragraph saying which clock the designs are compared at, and which cannot meet it."""
    if target is None:
        return ("**Unpipelined comparison** (`--unpipelined`): each design at its own single-stage "
                "critical path, so a long accumulator sets a slow clock.")
    ns = target.period * fo4_ps / 1e3 if target.unit == "FO4" else target.period
    s = (f"**All designs at one clock: {target.period:.4g} {target.unit}** (~{1e3 / ns:.0f} MHz"
         + (f" at {fo4_ps:g} ps per FO4" if target.unit == "FO4" else "") + f"): {target.how}. "
         f"Each design has the fewest product registers (0..{max_stages}, placed by the generator, no "
         f"retiming) that meet it; its area counts those registers and `latency_cycles` the cycles "
         f"from operands to accumulator.")
    if plan is not None and len(plan):
        u = target.unit.lower()
        miss = plan[~plan["meets_clock"].astype(bool)]
        inter = plan[plan["meets_clock"].astype(bool) & (plan.get("loop_stages", 1) > 1)]
        if len(inter):
            names = ", ".join(f"{r.in_fmt}/{r.acc} ({r.loop_stages} partial sums, {r.latency_cycles} cycles)"
                              for r in inter.itertuples())
            s += (f" {len(inter)} of {len(plan)} designs meet it only with interleaved partial sums in the "
                  f"accumulate loop (rtl.pipeline.meet_clock; a different summation order from the "
                  f"sequential one the quality figures use): {names}.")
        blk = miss["limited_by"] == BLOCK_LOOP if "limited_by" in miss else pd.Series(False, index=miss.index)
        bmiss, miss = miss[blk], miss[~blk]
        if len(miss):
            names = ", ".join(f"{r.in_fmt}/{r.acc} ({getattr(r, 'critical_path_' + u):.4g} {target.unit})"
                              for r in miss.itertuples())
            s += (f" {len(miss)} of {len(plan)} designs cannot meet it at any depth tried and run at the "
                  f"clock they reach, set by their accumulate loop: {names}.")
        if len(bmiss):
            names = ", ".join(f"{r.in_fmt}/{r.acc} ({getattr(r, 'critical_path_' + u):.4g} {target.unit})"
                              for r in bmiss.itertuples())
            s += (f" {len(bmiss)} of {len(plan)} designs are block dot units, which the generator builds in one "
                  f"cycle with no pipeline registers (rtl.blockdot): they miss it and run at their own clock: "
                  f"{names}.")
        if not len(miss) and not len(bmiss) and not len(inter):
            s += f" Every one of the {len(plan)} designs meets it with product registers."
    return s
