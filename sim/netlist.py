"""Synthesis of a component to a gate-level netlist that sim/toggles.py can simulate.

synthesize(component, name, library="ge", cache_dir=None) -> Netlist: the project's Yosys flow
(rtl.synth, cached there) mapped onto a Liberty library, plus the library's cells read for
simulation (sim.gatelevel.read_liberty), the ports, provenance (Yosys version, script, library and
netlist hashes) and, where the flow gives it, the same mapped cells before `flatten` (so that each
cell's instance path names its part: mpy / alignadd / normacc).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hwmodel.cache import ResultCache, cache_key
from hwmodel.errors import ToolFailed
from sim.gatelevel import LibCell, read_liberty


@dataclass
class Netlist:
    name: str                     # top module name
    verilog: str                  # flat mapped gate-level Verilog
    library: str                  # library name ("ge", "paper") or path
    liberty_text: str
    cells: dict[str, LibCell]
    inputs: list[tuple[str, int]]
    outputs: list[tuple[str, int]]
    provenance: dict = field(default_factory=dict)
    area_unit: str = "ge"        # the library's area unit: ge | gates | um2
    hier_verilog: str = ""       # the same mapped cells before flattening ("" if unavailable)

    @property
    def sim_verilog(self) -> str:
        """What is simulated: the hierarchical netlist where we have it (same cells as the flat
        one, and each cell's path names its part: mpy / alignadd / normacc), else the flat one."""
        return self.hier_verilog or self.verilog

    @property
    def netlist_hash(self) -> str:
        return hashlib.sha256(self.verilog.encode()).hexdigest()[:16]

    @property
    def cell_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in re.finditer(r"^\s*(\S+)\s+\S+\s*\($", self.verilog, re.M):
            if m.group(1) in self.cells:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        return counts

    @property
    def area(self) -> float:
        return float(sum(self.cells[c].area * n for c, n in self.cell_counts.items()))


_PORT = re.compile(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?(?:\[(\d+):(\d+)\]\s+)?(\\?\S+?)\s*;", re.M)


def _ports(verilog: str, top: str):
    m = re.search(rf"^module\s+\\?{re.escape(top)}\s*\(", verilog, re.M)
    body = verilog[m.start():] if m else verilog
    body = body[:body.find("endmodule")]
    ins, outs = [], []
    for d, hi, lo, name in _PORT.findall(body):
        w = abs(int(hi) - int(lo)) + 1 if hi else 1
        (ins if d == "input" else outs).append((name.lstrip("\\"), w))
    return ins, outs


def synthesize(component, name: str, library: str = "ge", cache_dir: Path | None = None) -> Netlist:
    """Synthesise an amaranth component to a flat netlist mapped onto `library` with the project's
    Yosys flow (rtl.synth.synthesize, cached there), plus the Liberty cells for simulation.

    Raises ToolFailed when Yosys or ABC fails or the netlist has no library cells, DataError for a
    missing or malformed library.
    """
    from rtl import synth as rsynth
    lib = rsynth.resolve_library(library)
    cells = read_liberty(lib.text, str(lib.path))
    res = rsynth.synthesize(component, lib, top=name, cache_dir=cache_dir)
    verilog = res.netlist
    if not verilog or not any(re.search(rf"^\s*{re.escape(c)}\s", verilog, re.M) for c in cells):
        raise ToolFailed(f"synthesis of {name} produced no cells of {lib.path.name}: ABC output missing?")
    ins, outs = _ports(verilog, name)
    prov = {"yosys_version": res.yosys_version, "library_sha256": res.library_sha256[:16],
            "script_sha256": res.script_sha256[:16], "netlist_sha256": res.netlist_sha256[:16]}
    hier = _hierarchical_netlist(component, name, lib, cache_dir)
    return Netlist(name, verilog, lib.name, lib.text, cells, ins, outs, prov, lib.unit, hier)


def _hierarchical_netlist(component, name: str, lib, cache_dir) -> str:
    """The project's flow script with the mapped netlist also written before `flatten` (mapping
    happens per module before it, so the cells are the ones the flat netlist has). Cached by
    content hash. Returns "" if the flow cannot give it (the flat netlist is then simulated and
    no per-part split is reported)."""
    from amaranth.back import rtlil
    from rtl import synth as rsynth
    try:
        rtl = rtlil.convert(component, name=name)
        script = rsynth.flow_script(name)
        if "\nflatten\n" not in script:
            return ""
        script = script.replace("\nflatten\n", "\nwrite_verilog -noattr netlist_hier.v\nflatten\n", 1)
        key = cache_key("hier", rtl, script, lib.text, rsynth.yosys_version())
        cache = ResultCache(cache_dir, namespace="energy_hier")
        hit = cache.get(key)
        if hit is not None:
            return hit["verilog"]
        with tempfile.TemporaryDirectory(prefix="hwdse_hier_") as tmp:
            w = Path(tmp)
            (w / "design.il").write_text(rtl)
            (w / "cells.lib").write_text(lib.text)
            (w / "flow.ys").write_text(script)
            rsynth._run_yosys(w, lib.name)
            text = (w / "netlist_hier.v").read_text()
        cache.put(key, {"verilog": text})
        return text
    except (TypeError, AttributeError, OSError, ToolFailed):
        return ""
