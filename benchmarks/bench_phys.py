"""Benchmark of the physical-cost tiers: one FPGA point and one STA + power point.

    .venv/bin/python benchmarks/bench_phys.py [--format int8] [--acc kulisch] [--device ecp5-25k]

FPGA point = Yosys synth_ecp5 + nextpnr place-and-route of one MAC (rtl.fpga.fpga_unit).
  cold: first run in this process (yowasp compiles or loads its WebAssembly modules);
  warm: the same point again with the result cache bypassed (both tools really run). Goal < 15 s.
STA + power point = Yosys mapping to OSU018, gate-level simulation of 2000 MACs for per-pin
activity, OpenSTA report_checks + report_power (analysis.commands.sta.measure).
  cold: a fresh cache directory (synthesis, Verilator build, simulation, OpenSTA);
  warm: netlist and Verilator model built, a new operand stream simulated and OpenSTA rerun
  (result caches bypassed for the activity and STA). Goal < 10 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", default="int8")
    ap.add_argument("--acc", default="kulisch")
    ap.add_argument("--device", default="ecp5-25k")
    ap.add_argument("--skip-sta", action="store_true", help="only the FPGA point")
    args = ap.parse_args(argv)

    from rtl.fpga import fpga_unit

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_phys_") as tmp:
        cache = Path(tmp)
        t0 = time.perf_counter()
        r = fpga_unit(args.format, args.acc, "mac", args.device, cache_dir=cache, use_cache=False)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = fpga_unit(args.format, args.acc, "mac", args.device, cache_dir=cache, use_cache=False)
        warm = time.perf_counter() - t0
        print(f"FPGA point {r.top} on {r.device}: {r.luts} LUT4 + {r.carry} carry, {r.ffs} FF, "
              f"{r.dsp} DSP, Fmax {r.fmax_mhz:.1f} MHz")
        print(f"  cold {cold:.1f} s, warm {warm:.1f} s (goal < 15 s warm)")

        if args.skip_sta:
            return 0
        from rtl.sta import library_path, run_sta, sta_available
        why = sta_available()
        if why:
            print(f"STA + power point: skipped ({why})")
            return 0
        os.environ["HWDSE_CACHE_DIR"] = str(cache)
        from analysis.commands.sta import measure
        from rtl.synth import synth_unit
        from sim.activity import mac_activity
        lib = library_path("osu018")
        t0 = time.perf_counter()
        row, _ = measure(args.format, args.acc, "mac", 1, lib, 10.0, None, 2000, 1)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = synth_unit(args.format, args.acc, library=lib)               # cached netlist
        act = mac_activity(args.format, args.acc, s.netlist, s.top, lib, n=2000, seed=1)
        st = run_sta(s.netlist, s.top, lib, 10.0, pin_activity=act.pins, port_activity=act.ports,
                     activity_source=act.source, use_cache=False)
        warm = time.perf_counter() - t0
        print(f"STA + power point {s.top} on osu018: {st.critical_path_ns:.3f} ns, "
              f"{st.power_mw:.3f} mW at 100 MHz (simulated activity)")
        print(f"  cold {cold:.1f} s, warm {warm:.1f} s (goal < 10 s warm; warm = new operand "
              f"stream on the built model + OpenSTA)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
