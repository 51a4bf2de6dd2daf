"""`hwdse sta`: OpenSTA critical path and power of one unit mapped to a characterised Liberty."""

from __future__ import annotations

import sys

HELP = "static timing (ns) and power (mW) of a unit with OpenSTA and a characterised library"
DESCRIPTION = """\
Synthesise one unit with the project's Yosys flow mapped to a characterised Liberty library
(default osu018: OSU 0.18 um cells from Debian's qflow-tech-osu018), then run OpenSTA (Debian's
opensta) for the critical path in ns and report_power for power in mW at the stated clock. The
per-pin switching activity comes from our own gate-level simulation of the same netlist (Verilator,
zero-delay, the energy model's operand stream) for a MAC, or a stated toggle rate (--activity 0.1).
The Logical-Effort FO4 estimate of the same unit (ge.lib) is printed beside the STA figure.

  hwdse sta int8 --acc kulisch                       OSU018, 10 ns clock, simulated activity
  hwdse sta float8_e4m3fn --acc fp32 --clock 20
  hwdse sta int8 --acc kulisch --activity 0.1        a stated activity on every net
  hwdse sta e4m3 --acc fp32 --library my_pdk.lib     any Liberty with timing and power tables

Needs: apt-get install opensta qflow-tech-osu018 (optional tier; everything else works without).
Timing is pre-layout: typical corner, ideal clock, no wire or output load.
"""


def add_arguments(parser) -> None:
    parser.add_argument("format", metavar="FORMAT", help="input format (e.g. int8, e4m3, bf16)")
    parser.add_argument("--acc", default=None, metavar="ACC",
                        help="accumulator: kulisch[:V], intN[:sat], fp16, bf16, fp32 (mac/dot)")
    parser.add_argument("--unit", default="mac", metavar="mac|mul|dot:N",
                        help="what to build (default mac)")
    parser.add_argument("--library", default="osu018", metavar="osu018|PATH",
                        help="characterised Liberty library (default osu018)")
    parser.add_argument("--clock", type=float, default=10.0, metavar="NS",
                        help="clock period in ns for the timing check and the power (default 10)")
    parser.add_argument("--activity", default="sim", metavar="sim|RATE",
                        help="sim (gate-level simulation, MAC only; default) or toggles per cycle "
                             "on every net, e.g. 0.1")
    parser.add_argument("--cycles", type=int, default=2000, metavar="N",
                        help="simulated MACs for --activity sim (default 2000)")
    parser.add_argument("--pipeline", type=int, default=1, metavar="P",
                        help="product pipeline registers of a MAC (default 1)")
    parser.add_argument("--energy", action="store_true",
                        help="also the GE-toggle energy model (sim/energy.py) of the same MAC and "
                             "the ratio of OpenSTA's energy per cycle to it")
    parser.add_argument("--target", type=float, default=None, metavar="NS",
                        help="instead: the fewest product-register stages (0..4) a MAC needs to "
                             "meet this clock period, with latency and register area (rtl.clock)")
    parser.add_argument("--csv", action="store_true", help="print one CSV row with a header")
    parser.add_argument("--no-cache", action="store_true", help="rerun the tools even if cached")


def _activity_arg(text: str, kind: str):
    from hwmodel.errors import UnsupportedConfig
    if text == "sim":
        if kind != "mac":
            raise UnsupportedConfig("--activity sim needs --unit mac (the simulated operand "
                                    "stream drives a MAC); give a rate such as --activity 0.1")
        return None
    try:
        rate = float(text)
    except ValueError:
        raise UnsupportedConfig(f"--activity must be sim or a toggle rate 0..2, not {text!r}") from None
    if not 0 <= rate <= 2:
        raise UnsupportedConfig(f"--activity must be sim or a toggle rate 0..2, not {text!r}")
    return rate


def run(args) -> int:
    from hwmodel.errors import UnsupportedConfig
    from rtl.fpga import parse_unit_arg
    from rtl.sta import check_timing_library, library_path, sta_binary

    from analysis.commands.rtl import check_unit_options
    from rtl.unit import parse_unit

    kind, n = parse_unit_arg(args.unit)
    check_unit_options(parse_unit(args.unit), args.acc, args.pipeline)   # as `hwdse rtl` checks them
    if not args.clock > 0:
        raise UnsupportedConfig(f"--clock must be a period > 0 ns, not {args.clock:g}")
    if args.cycles < 16:
        raise UnsupportedConfig(f"--cycles must be >= 16, not {args.cycles}")
    rate = _activity_arg(args.activity, kind)
    # everything the tier needs is checked before any synthesis runs
    sta_binary()
    lib = library_path(args.library)
    from pathlib import Path
    from hwmodel.errors import DataError
    p = Path(lib)
    if not p.is_file():
        raise DataError(f"library must be osu018 or an existing Liberty file, not {args.library!r}")
    check_timing_library(p.read_text(errors="replace"), p)

    if args.target is not None:
        return _target(args, kind, lib)
    if args.energy and (kind != "mac" or args.pipeline != 1):
        raise UnsupportedConfig("--energy compares a MAC with one product register (the energy "
                                "model's design): use --unit mac --pipeline 1")
    row, lines = measure(args.format, args.acc, kind, n, lib, args.clock, rate, args.cycles,
                         args.pipeline, not args.no_cache)
    if args.energy:
        from sim.energy import mac_energy
        e = mac_energy(args.format, args.acc, n=args.cycles)
        row["ge_model_pj_per_mac"] = round(e["pj_per_mac"], 5)
        row["ratio_sta_over_ge_model"] = round(row["pj_per_cycle"] / e["pj_per_mac"], 2)
        lines.insert(-1, f"  GE-toggle energy model of the same MAC (sim/energy.py, {e['library']}, "
                         f"calibrated on Horowitz 45 nm): {e['pj_per_mac']:.4f} pJ per MAC; "
                         f"OpenSTA/model = {row['ratio_sta_over_ge_model']:.1f} (0.18 um 1.8 V "
                         f"cells against a 45 nm calibration)")
    if args.csv:
        import csv
        w = csv.DictWriter(sys.stdout, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
        return 0
    print("\n".join(lines))
    return 0


def _target(args, kind: str, lib: str) -> int:
    from hwmodel.errors import UnsupportedConfig
    from rtl.clock import pipeline_to_clock
    if kind != "mac":
        raise UnsupportedConfig("--target applies to --unit mac (its product registers are the stages)")
    if not args.target > 0:
        raise UnsupportedConfig(f"--target must be a period > 0 ns, not {args.target:g}")
    chosen, tried = pipeline_to_clock(args.format, args.acc, args.target, lib)
    rows = [p.to_dict() for p in tried]
    if args.csv:
        import csv
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        return 0
    for p in tried:
        print(f"  {p.stages} product register stage(s): critical path {p.delay:.3f} {p.unit}, "
              f"latency {p.latency} cycles, area {p.area:.0f} {p.area_unit} (pipeline registers "
              f"{p.pipeline_area:.0f}){'  <- meets' if p.meets else ''}")
    print(f"{args.format} -> {args.acc} meets {args.target:g} ns with {chosen.stages} product "
          f"register stage(s) (stages placed by the generator, no retiming)")
    return 0


def measure(fmt, acc, kind: str, n: int, lib: str, clock_ns: float, rate, cycles: int,
            pipeline: int, use_cache: bool = True, synth=None) -> tuple[dict, list[str]]:
    """OpenSTA timing and power of one unit: (flat row, printed lines). `rate` None: activity
    from gate-level simulation (MAC); else toggles per cycle on every net. `synth`: the unit's
    SynthResult on `lib` if already at hand."""
    from rtl.sta import run_sta
    from rtl.synth import synth_unit
    acc_ = acc or "kulisch"
    r = synth or synth_unit(fmt, acc_, unit=kind, n=n, library=lib, pipeline_stages=pipeline,
                            use_cache=use_cache)
    if rate is None:
        from sim.activity import mac_activity
        act = mac_activity(fmt, acc_, r.netlist, r.top, lib, n=cycles)
        s = run_sta(r.netlist, r.top, lib, clock_ns, pin_activity=act.pins,
                    port_activity=act.ports, activity_source=act.source, use_cache=use_cache)
        act_text = f"{act.source}; mean {act.mean_output_toggle_rate:.3f} toggles per cell output per cycle"
    else:
        s = run_sta(r.netlist, r.top, lib, clock_ns, rate, use_cache=use_cache)
        act_text = s.activity
    fo4 = synth_unit(fmt, acc_, unit=kind, n=n, library="ge", pipeline_stages=pipeline,
                     use_cache=use_cache)
    row = {"format": fmt, "acc": acc or "", "unit": kind if kind != "dot" else f"dot:{n}",
           "library": s.library, f"area_{r.area_unit}": round(r.area, 1), "n_cells": r.n_cells,
           "critical_path_ns": round(s.critical_path_ns, 4), "fmax_mhz": round(s.fmax_mhz, 1),
           "path_cells": s.path_cells,
           "delay_fo4_ge": None if fo4.delay_fo4 is None else round(fo4.delay_fo4, 2),
           "clock_ns": s.clock_ns, "power_mw": round(s.power_mw, 5),
           "internal_mw": round(s.internal_mw, 5), "switching_mw": round(s.switching_mw, 5),
           "leakage_mw": round(s.leakage_mw, 8), "pj_per_cycle": round(s.pj_per_cycle, 4),
           "activity": act_text, "sta": s.sta_version, "netlist_sha256": s.netlist_sha256[:16],
           "library_sha256": s.library_sha256[:16]}
    lines = [f"{r.top} mapped to {s.library}: {r.area:.0f} {r.area_unit}, {r.n_cells} cells",
             f"  critical path (OpenSTA): {s.critical_path_ns:.3f} ns ({s.fmax_mhz:.0f} MHz), "
             f"{s.path_cells} cells, {s.startpoint} -> {s.endpoint}"]
    if fo4.delay_fo4 is not None:
        lines.append(f"  FO4 estimate of the same unit (ge.lib, Logical Effort, no wires): "
                     f"{fo4.delay_fo4:.1f} FO4, {fo4.logic_depth} cells")
    lines += [f"  power (OpenSTA report_power) at {1000 / s.clock_ns:g} MHz: {s.power_mw:.3f} mW "
              f"(internal {s.internal_mw:.3f}, switching {s.switching_mw:.3f}, leakage "
              f"{s.leakage_mw * 1e3:.3f} uW) = {s.pj_per_cycle:.2f} pJ per cycle"
              + ("" if s.slack_ns >= 0 else f" (the design misses this clock: energy per cycle "
                 f"is the comparable figure)"),
              f"  activity: {act_text}",
              f"  source: {s.source}{' (cached)' if s.from_cache else ''}; synthesis {r.source}"]
    return row, lines


def synth_hook(args, r) -> list[str]:
    """Lines `hwdse synth` prints after a run on a characterised library (osu018 or a user
    Liberty with timing tables): OpenSTA's critical path and power at 100 MHz, or why not."""
    from pathlib import Path
    from hwmodel.errors import HwdseError
    from rtl.sta import has_timing_tables, library_path, sta_binary
    try:
        lib = library_path(args.library)
        if not has_timing_tables(Path(lib).read_text(errors="replace")):
            return []
        sta_binary()
    except HwdseError as exc:
        return [f"  timing/power: n/a ({exc})"]
    except OSError:
        return []
    rate = None if args.unit == "mac" else 0.1
    _, lines = measure(args.format, args.acc, args.unit, args.n or 1, lib, 10.0, rate, 2000,
                       args.pipeline, not args.no_cache, synth=r)
    return lines[1:]
