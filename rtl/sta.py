"""Static timing and power of a mapped netlist with OpenSTA and a characterised Liberty library.

OpenSTA is Debian's `opensta` package (the `sta` binary); the library we name is OSU 0.18 um from
Debian's `qflow-tech-osu018` (NLDM timing and internal-power tables; GPL, so installed, never
vendored). Both are optional: without them this tier raises ToolNotFound / DataError naming
`apt-get install opensta qflow-tech-osu018`.

Contract
    NAMED_LIBRARIES: name -> Liberty path of an installed characterised library ("osu018")
    library_path(spec) -> str      "osu018" -> its installed Liberty path (DataError naming the
                                   install command when absent); any other spec unchanged. The hook
                                   for rtl's library resolver.
    sta_available() -> str | None  None when OpenSTA and the OSU018 Liberty are installed, else
                                   the reason (with the install command)
    has_timing_tables(text) -> bool; check_timing_library(text, path): DataError unless it has
    run_sta(netlist_v, top, liberty, clock_ns=10.0, activity=0.1, *, pin_activity=None,
            port_activity=None, activity_source=None, cache_dir=None, use_cache=True) -> StaResult
        critical path = clock period - worst setup slack (inputs and outputs constrained at 0 ns
        against the clock, so register-to-register, input-to-register and register-to-output
        paths all count, as in rtl.synth's FO4 walk); power from report_power at 1/clock_ns with
        `activity` toggles per clock cycle on every pin (duty 0.5), or per cell pin from
        `pin_activity` ({"inst/PIN": toggles per cycle}, set with sta::set_power_pin_activity) and
        per input port bit from `port_activity` ({"a[3]": toggles per cycle}).

Timing is typical corner, ideal clock, zero input slew and no wire load or output load (no
placement): a pre-layout figure for comparing designs, not sign-off.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from hwmodel.cache import ResultCache, cache_key
from hwmodel.errors import DataError, ToolFailed, ToolNotFound, UnsupportedConfig

FLOW_VERSION = "sta-1"     # bump when the scripts or the parsing below change
from rtl.liberty import INSTALL, NAMED_LIBRARIES, library_path  # noqa: E402,F401  (named libraries resolve in one place)


def sta_binary() -> str:
    exe = shutil.which("sta")
    if not exe:
        raise ToolNotFound(f"OpenSTA (the `sta` binary) is not installed: {INSTALL}")
    return exe


def sta_available() -> str | None:
    try:
        sta_binary()
        library_path("osu018")
    except (ToolNotFound, DataError) as exc:
        return str(exc)
    return None


@lru_cache(maxsize=1)
def sta_version() -> str:
    exe = sta_binary()
    try:
        v = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolFailed(f"OpenSTA at {exe} does not run ({exc})") from None
    deb = ""
    if shutil.which("dpkg-query"):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "opensta"], capture_output=True,
                           text=True)
        deb = f" (Debian {r.stdout.strip()})" if r.returncode == 0 and r.stdout.strip() else ""
    return f"OpenSTA {v or 'unknown'}{deb}"


_TIMING = re.compile(r"\b(cell_rise|cell_fall|rise_transition|fall_transition)\s*\(")


def has_timing_tables(text: str) -> bool:
    return bool(_TIMING.search(text))


def check_timing_library(text: str, path) -> None:
    if not has_timing_tables(text):
        raise DataError(f"{path}: Liberty library has no timing tables (cell_rise/cell_fall); "
                        f"OpenSTA timing needs a characterised library such as osu018 ({INSTALL})")


@dataclass
class StaResult:
    top: str
    library: str
    library_sha256: str
    clock_ns: float
    critical_path_ns: float         # clock_ns - worst setup slack
    slack_ns: float
    startpoint: str
    endpoint: str
    path_cells: int                 # cells on the critical path, launch/capture registers included
    power_mw: float                 # total at 1/clock_ns
    internal_mw: float
    switching_mw: float
    leakage_mw: float
    activity: str                   # what toggle rates the power used, in words
    sta_version: str
    netlist_sha256: str
    flow_version: str = FLOW_VERSION
    time_s: float = 0.0
    from_cache: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def fmax_mhz(self) -> float:
        return 1000.0 / self.critical_path_ns if self.critical_path_ns > 0 else float("inf")

    @property
    def pj_per_cycle(self) -> float:
        """Energy per clock cycle (one MAC per cycle for a MAC): P / f."""
        return self.power_mw * self.clock_ns

    @property
    def source(self) -> str:
        return (f"our static timing and power ({self.sta_version}, library {self.library} sha256 "
                f"{self.library_sha256[:12]}, netlist sha256 {self.netlist_sha256[:12]})")


def sta_netlist(netlist_v: str) -> str:
    """Yosys' Verilog made readable by OpenSTA 2.0 (whose parser rejects `wire signed`)."""
    return re.sub(r"^(\s*(?:wire|input|output|reg))\s+signed\s", r"\1 ", netlist_v, flags=re.M)


def _port_names(netlist_v: str, top: str) -> tuple[set, bool]:
    m = re.search(rf"^module\s+\\?{re.escape(top)}\s*\((.*?)\);", netlist_v, re.M | re.S)
    if not m:
        raise UnsupportedConfig(f"netlist has no module {top}")
    names = {p.strip().lstrip("\\") for p in m.group(1).split(",")}
    return names, "clk" in names


def _tcl_quote(s: str) -> str:
    if re.search(r"[{}\\\s]", s):
        raise UnsupportedConfig(f"pin name {s!r} cannot be passed to OpenSTA")
    return "{" + s + "}"


def activity_tcl(pin_activity: dict | None, port_activity: dict | None) -> str:
    lines = []
    for pin, a in sorted((pin_activity or {}).items()):
        lines.append(f"pa {_tcl_quote(pin)} {a:.6g}")
    for port, a in sorted((port_activity or {}).items()):
        lines.append(f"po {_tcl_quote(port)} {a:.6g}")
    return "\n".join(lines) + "\n"


def sta_script(top: str, clock_ns: float, clocked: bool, activity: float, act_file: bool) -> str:
    clk = ("create_clock -name clk -period {p} [get_ports clk]\n"
           "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]\n"
           if clocked else
           "create_clock -name vclk -period {p}\nset_input_delay 0 -clock vclk [all_inputs]\n")
    out = "set_output_delay 0 -clock {c} [all_outputs]\n".format(c="clk" if clocked else "vclk")
    return "".join([
        "read_liberty cells.lib\n",
        "read_verilog netlist.v\n",
        f"link_design {top}\n",
        clk.format(p=f"{clock_ns:g}"), out,
        "puts \"@@CHECKS\"\n",
        "report_checks -path_delay max -format full -digits 4\n",
        # a global activity overrides per-pin ones in OpenSTA 2.0: set it only without them
        "" if act_file else f"set_power_activity -global -activity {activity:g} -duty 0.5\n",
        f"set_power_activity -input -activity {activity:g} -duty 0.5\n",
        ("proc pa {p a} { sta::set_power_pin_activity [get_pins $p] $a 0.5 }\n"
         "proc po {p a} { sta::set_power_input_port_activity [get_ports $p] $a 0.5 }\n"
         "source activity.tcl\n") if act_file else "",
        "puts \"@@POWER\"\n",
        "report_power -digits 6\n",
        "exit\n",
    ])


_SLACK = re.compile(r"^\s*(-?[\d.]+)\s+slack \((MET|VIOLATED)\)", re.M)
_POWER_TOTAL = re.compile(r"^Total\s+([-\d.eE+]+)\s+([-\d.eE+]+)\s+([-\d.eE+]+)\s+([-\d.eE+]+)", re.M)
_PATH_LINE = re.compile(r"^\s*-?[\d.]+\s+-?[\d.]+\s+[v^]\s+(\S+)/(\S+) \((\w+)\)", re.M)


def run_sta(netlist_v: str, top: str, liberty, clock_ns: float = 10.0, activity: float = 0.1, *,
            pin_activity: dict | None = None, port_activity: dict | None = None,
            activity_source: str | None = None, cache_dir=None, use_cache: bool = True,
            timeout_s: float = 300) -> StaResult:
    """OpenSTA timing and power of a Liberty-mapped netlist (see the module docstring)."""
    if not (isinstance(clock_ns, (int, float)) and 0 < clock_ns <= 1e6):
        raise UnsupportedConfig(f"clock period must be > 0 ns, not {clock_ns!r}")
    if not (isinstance(activity, (int, float)) and 0 <= activity <= 2):
        raise UnsupportedConfig(f"activity must be 0..2 toggles per cycle, not {activity!r}")
    exe = sta_binary()
    lpath = Path(library_path(liberty))
    try:
        lib_text = lpath.read_text(errors="replace")
    except OSError as exc:
        raise DataError(f"{lpath}: cannot read Liberty file ({exc.strerror})") from None
    check_timing_library(lib_text, lpath)
    net = sta_netlist(netlist_v)
    _, clocked = _port_names(net, top)
    act = activity_tcl(pin_activity, port_activity) if (pin_activity or port_activity) else ""
    script = sta_script(top, clock_ns, clocked, activity, bool(act))
    version = sta_version()
    key = cache_key(net, lib_text, script, act, version, FLOW_VERSION, activity_source or "")
    cache = ResultCache(cache_dir, namespace="sta")
    if use_cache:
        hit = cache.get(key)
        if hit is not None:
            hit["from_cache"] = True
            return StaResult(**hit)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwdse_sta_") as tmp:
        w = Path(tmp)
        (w / "netlist.v").write_text(net)
        os.symlink(lpath.resolve(), w / "cells.lib")
        (w / "run.tcl").write_text(script)
        if act:
            (w / "activity.tcl").write_text(act)
        try:
            p = subprocess.run([exe, "-no_init", "-no_splash", "-exit", "run.tcl"], cwd=w,
                               capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ToolFailed(f"OpenSTA did not finish within {timeout_s:.0f} s") from None
    out = p.stdout + p.stderr
    errors = [ln.strip() for ln in out.splitlines() if ln.startswith("Error")]
    if p.returncode != 0 or errors:
        raise ToolFailed(f"OpenSTA failed on {top}: " + ("; ".join(errors[:3]) or f"exit {p.returncode}"))
    checks = out.split("@@CHECKS", 1)[-1].split("@@POWER", 1)[0]
    power = out.split("@@POWER", 1)[-1]
    ms, mp = _SLACK.search(checks), _POWER_TOTAL.search(power)
    if not ms or not mp:
        raise ToolFailed(f"OpenSTA printed no {'slack' if not ms else 'power total'} for {top} "
                         f"(no constrained path?)")
    slack = float(ms.group(1))
    sp = re.search(r"^Startpoint: (\S+)", checks, re.M)
    ep = re.search(r"^Endpoint: (\S+)", checks, re.M)
    internal, switching, leakage, total = (float(x) * 1e3 for x in mp.groups())   # W -> mW
    res = StaResult(
        top=top, library=lpath.stem, library_sha256=hashlib.sha256(lib_text.encode()).hexdigest(),
        clock_ns=float(clock_ns), critical_path_ns=float(clock_ns) - slack, slack_ns=slack,
        startpoint=sp.group(1) if sp else "", endpoint=ep.group(1) if ep else "",
        path_cells=len({m[0] for m in _PATH_LINE.findall(checks.split("data arrival time")[0])}), power_mw=total, internal_mw=internal,
        switching_mw=switching, leakage_mw=leakage,
        activity=activity_source or f"{activity:g} toggles per cycle on every net (stated, not simulated)",
        sta_version=version, netlist_sha256=hashlib.sha256(netlist_v.encode()).hexdigest(),
        time_s=time.perf_counter() - t0)
    if use_cache:
        cache.put(key, res.to_dict())
    return res
