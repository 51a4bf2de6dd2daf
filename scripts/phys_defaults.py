"""Physical costs of the default designs: ECP5 place-and-route, OSU018 OpenSTA timing and power,
the FO4 estimate and the GE-toggle energy model, with the FO4-vs-STA correlation.

    .venv/bin/python scripts/phys_defaults.py [--out phys_defaults.csv] [--no-energy]

Every figure is measured here by the project's tools (Yosys + nextpnr, Yosys + OpenSTA with
activity from our gate-level simulation, sim.energy's calibrated toggle model); nothing is typed in.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DESIGNS = [("int8", "kulisch"), ("int8", "fp32"), ("float8_e4m3fn", "kulisch"),
           ("float8_e4m3fn", "fp32"), ("float8_e4m3fn", "fp16"), ("int4", "kulisch")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None)
    ap.add_argument("--device", default="ecp5-25k")
    ap.add_argument("--no-energy", action="store_true", help="skip the GE-toggle energy model")
    args = ap.parse_args(argv)
    import numpy as np
    from analysis.commands.sta import measure
    from rtl.fpga import fpga_unit
    from rtl.sta import library_path
    lib = library_path("osu018")
    rows = []
    for fmt, acc in DESIGNS:
        f = fpga_unit(fmt, acc, "mac", args.device)
        row, _ = measure(fmt, acc, "mac", 1, lib, 10.0, None, 2000, 1)
        from rtl.synth import synth_unit
        ge = synth_unit(fmt, acc, "mac", library="ge")
        out = {"format": fmt, "acc": acc, "ge_area": round(ge.area, 1), "ecp5_lut4": f.luts, "ecp5_carry": f.carry,
               "ecp5_ff": f.ffs, "ecp5_dsp": f.dsp, "ecp5_fmax_mhz": round(f.fmax_mhz, 1),
               "osu018_area_um2": row["area_um2"], "osu018_ns": row["critical_path_ns"],
               "fo4_ge": row["delay_fo4_ge"], "osu018_mw_100mhz": round(row["power_mw"], 3),
               "osu018_pj_per_mac": round(row["pj_per_cycle"], 2)}
        if not args.no_energy:
            from sim.energy import mac_energy
            e = mac_energy(fmt, acc, n=2000)
            out["ge_model_pj_per_mac_45nm"] = round(e["pj_per_mac"], 4)
            out["ratio_osu018_over_ge_model"] = round(out["osu018_pj_per_mac"] / e["pj_per_mac"], 1)
        rows.append(out)
        print(out, flush=True)
    ns = np.array([r["osu018_ns"] for r in rows])
    fo4 = np.array([r["fo4_ge"] for r in rows])
    r = float(np.corrcoef(ns, fo4)[0, 1])
    slope = float(np.sum(ns * fo4) / np.sum(fo4 * fo4))
    print(f"FO4 (ge.lib estimate) vs OpenSTA ns (osu018) over {len(rows)} designs: Pearson r = "
          f"{r:.3f}; least-squares through 0: {slope * 1000:.1f} ps per FO4")
    fmax = np.array([rr["ecp5_fmax_mhz"] for rr in rows])
    r2 = float(np.corrcoef(1000 / fmax, ns)[0, 1])
    print(f"ECP5 routed period vs OSU018 ns: Pearson r = {r2:.3f}")
    base = rows[0]
    print(f"ratios to {base['format']} -> {base['acc']} (area: GE, OSU018 um2, ECP5 LUT4 + 2 x carry; "
          f"delay: FO4, OSU018 ns, ECP5 period; energy: GE model, OSU018 pJ)")
    for rr in rows[1:]:
        lut = lambda x: x["ecp5_lut4"] + 2 * x["ecp5_carry"]
        e = (f", energy {rr['ge_model_pj_per_mac_45nm'] / base['ge_model_pj_per_mac_45nm']:.2f} / "
             f"{rr['osu018_pj_per_mac'] / base['osu018_pj_per_mac']:.2f}") if not args.no_energy else ""
        print(f"  {rr['format']} -> {rr['acc']}: area {rr['ge_area'] / base['ge_area']:.2f} / "
              f"{rr['osu018_area_um2'] / base['osu018_area_um2']:.2f} / {lut(rr) / lut(base):.2f}, "
              f"delay {rr['fo4_ge'] / base['fo4_ge']:.2f} / {rr['osu018_ns'] / base['osu018_ns']:.2f} / "
              f"{base['ecp5_fmax_mhz'] / rr['ecp5_fmax_mhz']:.2f}{e}")
    if args.out:
        with open(args.out, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
