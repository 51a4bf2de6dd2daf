"""Data-dependent energy per operation from gate-level simulation of synthesised netlists.

Flow (one design): amaranth component -> the project's Yosys flow (rtl.synth) mapped onto a
Liberty library -> gate-level Verilog (the pre-flatten netlist, so each cell's path names its
part) -> Verilator model with cell models generated from the Liberty functions (sim/gatelevel.py)
-> operand stream after reset -> toggles per cell output pin (SAIF) -> hwmodel.energy's
weighted-toggle model -> pJ per operation.

Public API:
    synthesize(component, name, library="ge", cache_dir=None) -> Netlist
    simulate(netlist, stimulus: dict[port -> codes per cycle], cache_dir) -> SimResult
    operation_energy(op, library, n, seed, cache_dir) -> dict   (Horowitz reference designs)
    calibration(library="ge", cache_dir, n, seed) -> Calibration (k: pJ per area-unit toggle)
    horowitz_comparison(library="ge", cache_dir, n, seed, operations=None) -> DataFrame
    mac_energy(in_fmt, acc, dist, n=4096, library="ge", seed=0, cache_dir) -> dict
        pj_per_mac, pj_per_mac_<part>, toggles_per_mac, zero_operand_fraction, provenance ...
    energy_table(configs, dists, n, library, seed, cache_dir, jobs) -> DataFrame
    operand_codes(fmt, dist, n, rng, amax=None) -> codes

Results are cached by content hash (netlist, library, stimulus spec, FLOW_VERSION) in
hwmodel.cache.ResultCache (atomic writes); Verilator models are built in a private directory and
renamed into place, so an interrupted run leaves no half-built model or corrupt entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel import energy as emodel
from hwmodel.cache import ResultCache, cache_key, default_cache_dir
from hwmodel.errors import ToolFailed, UnsupportedConfig
from hwmodel.formats import FloatFormat, parse_format
from sim.gatelevel import GateSim, LibCell, read_liberty

# Bump when the simulation or the energy arithmetic changes: it is part of every cache key.
FLOW_VERSION = "energy-4"
# Bump when sim/gatelevel.py's cell models, harness or Verilator flags change.
GATESIM_VERSION = "gatesim-2"
DEFAULT_CACHE = default_cache_dir()
LIBRARIES = ("paper", "ge")


# ----------------------------------------------------------------------------------------------
# Synthesis
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Simulation with cache
# ----------------------------------------------------------------------------------------------

@dataclass
class SimResult:
    n_ops: int
    toggles: pd.DataFrame          # columns: part (submodule of the top, or "top"), cell,
                                   # instances, toggles (summed over the cells' output pins)
    outputs: dict[str, np.ndarray]  # per output port (<= 64 bits), one code per cycle
    sim_time_s: float
    build_time_s: float


def _cache(cache_dir) -> ResultCache:
    return ResultCache(cache_dir, namespace="energy")


def _key(*parts) -> str:
    return cache_key(FLOW_VERSION, *[json.dumps(p, sort_keys=True, default=str) if not isinstance(p, str)
                                     else p for p in parts])


def _clock_reset(netlist: Netlist):
    names = {p for p, _ in netlist.inputs}
    return ("clk" if "clk" in names else None), ("rst" if "rst" in names else None)


def build_sim(netlist: Netlist, cache_dir: Path = DEFAULT_CACHE) -> GateSim:
    """The Verilator model of a netlist, built once per (netlist, library) under cache_dir."""
    clock, reset = _clock_reset(netlist)
    # Keyed by what the model is built from (not FLOW_VERSION, which covers post-processing).
    h = cache_key(GATESIM_VERSION, netlist.sim_verilog, netlist.liberty_text)
    build = Path(cache_dir) / "verilator" / h[:24]
    if not (build / "obj" / "Vtop").exists():
        # Build in a private directory, then rename: a concurrent or interrupted build never
        # leaves a half-built model at the final path.
        tmp = Path(tempfile.mkdtemp(dir=Path(cache_dir).mkdir(parents=True, exist_ok=True) or cache_dir,
                                    prefix="vbuild_"))
        GateSim(netlist.sim_verilog, netlist.name, netlist.cells, netlist.inputs, netlist.outputs,
                clock, reset, tmp)
        build.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, build)
        except OSError:  # another process won the race; use its model
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return GateSim(netlist.sim_verilog, netlist.name, netlist.cells, netlist.inputs, netlist.outputs,
                   clock, reset, build)


def simulate(netlist: Netlist, stimulus: dict[str, np.ndarray], cache_dir: Path = DEFAULT_CACHE,
             n_reset: int = 2) -> SimResult:
    """Drive `stimulus` (port -> codes per cycle; ports left out are held at 0) after reset.

    Returns toggles per cell type over the measured cycles only and the output codes.
    """
    t0 = time.perf_counter()
    gs = build_sim(netlist, cache_dir)
    t1 = time.perf_counter()
    unknown = sorted(set(stimulus) - {p for p, _ in gs.inputs})
    if unknown:
        raise UnsupportedConfig(f"stimulus ports must be inputs of {netlist.name} "
                                f"({', '.join(p for p, _ in gs.inputs)}), not {unknown}")
    n = len(next(iter(stimulus.values())))
    cols = []
    for p, w in gs.inputs:
        v = np.asarray(stimulus.get(p, np.zeros(n)), dtype=np.int64).astype(np.uint64)
        cols.append(v & np.uint64((1 << w) - 1 if w < 64 else 0xFFFFFFFFFFFFFFFF))
    out, tog = gs.run(np.stack(cols, 1), n_reset=n_reset)
    t2 = time.perf_counter()
    per_cell: dict[tuple[str, str], list[int]] = {}
    for inst, typ in gs._instances.items():
        pins = tog.get(inst)
        if pins is None:
            raise ToolFailed(f"SAIF has no toggle record for cell instance {inst} of {netlist.name}")
        count = sum(pins.get(p, 0) for p, _ in netlist.cells[typ].outputs)
        part = inst.split("/")[0] if "/" in inst else "top"
        acc = per_cell.setdefault((part, typ), [0, 0])
        acc[0] += 1
        acc[1] += count
    df = pd.DataFrame([{"part": k[0], "cell": k[1], "instances": v[0], "toggles": v[1]}
                       for k, v in sorted(per_cell.items())])
    outputs = {p: out[:, i] for i, (p, _) in enumerate(gs.outputs)}
    return SimResult(n, df, outputs, t2 - t1, t1 - t0)


def weights_for(netlist: Netlist) -> tuple[dict[str, float], str]:
    c = netlist.cells
    return emodel.cell_weights({k: v.area for k, v in c.items()},
                               {k: len(v.outputs) for k, v in c.items()},
                               {k: v.internal_energy for k, v in c.items()})


# ----------------------------------------------------------------------------------------------
# Reference designs for the Horowitz comparison
# ----------------------------------------------------------------------------------------------

def int_adder(bits: int):
    """Combinational bits-bit two's-complement adder, result wraps to `bits` bits."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class IntAdd(wiring.Component):
        def __init__(self):
            super().__init__({"a": In(bits), "b": In(bits), "y": Out(bits)})

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.y.eq(self.a + self.b)
            return m
    return IntAdd()


def int_multiplier(bits: int, full: bool = True):
    """Combinational signed bits x bits multiplier; 2*bits-bit product (full) or the low `bits`."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    ow = 2 * bits if full else bits

    class IntMul(wiring.Component):
        def __init__(self):
            super().__init__({"a": In(bits), "b": In(bits), "y": Out(ow)})

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.y.eq(self.a.as_signed() * self.b.as_signed())
            return m
    return IntMul()


def _fp_fields(code, f: FloatFormat):
    """(sign, exp, sig, nan, inf, zero) of an IEEE-style code as amaranth values:
    value = (-1)^sign * sig * 2^exp, exp = unbiased exponent of the LSB (subnormals at emin)."""
    from amaranth.hdl import Cat, Const, Mux
    M, E = f.man_bits, f.exp_bits
    man, ex, sign = code[:M], code[M:M + E], code[M + E]
    allones = ex == (1 << E) - 1
    sub = ex == 0
    # LSB exponent: (e - bias) - M for normals, emin - M for subnormals; widen e by one zero bit
    # so that the subtraction is signed.
    exp = Mux(sub, f.emin - M, Cat(ex, Const(0, 1)).as_signed() - (f.bias + M))
    sig = Cat(man, ~sub)                       # hidden bit 1 unless subnormal
    return sign, exp, sig, allones & (man != 0), allones & (man == 0), sub & (man == 0)


def fp_adder(f: FloatFormat):
    """Combinational IEEE add a + b with one RNE rounding: rtl.fpadd.FpAddRound with b on its
    product port (the FP helper's verified core)."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out
    from rtl.config import ProductShape
    from rtl.fpadd import FpAddRound

    lo, hi = f.emin - f.man_bits, f.emax - f.man_bits
    width = max(lo.bit_length(), hi.bit_length()) + 1   # signed field holding [lo, hi]
    shape = ProductShape(sign=True, exp_width=width, exp_min=lo, sig_width=f.precision, exp_max=hi)

    class FpAdd(wiring.Component):
        def __init__(self):
            super().__init__({"a": In(f.bits), "b": In(f.bits), "y": Out(f.bits)})

        def elaborate(self, platform):
            m = Module()
            m.submodules.core = core = FpAddRound(f, shape)
            s, e, sig, nan, inf, zero = _fp_fields(self.b, f)
            m.d.comb += [core.acc.eq(self.a), core.product.sign.eq(s), core.product.exp.eq(e),
                         core.product.sig.eq(sig), core.product.nan.eq(nan),
                         core.product.inf.eq(inf), core.product.zero.eq(zero),
                         self.y.eq(core.result)]
            return m
    return FpAdd()


def fp_multiplier(f: FloatFormat):
    """Combinational IEEE multiply a * b with one RNE rounding: an exact significand product
    (p x p unsigned, exponents added, IEEE specials) rounded by rtl.fpadd.FpAddRound with acc = +0
    (Yosys removes the constant-zero addend's logic)."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out
    from rtl.config import ProductShape
    from rtl.fpadd import FpAddRound

    shape = ProductShape.of(f, f)

    class FpMul(wiring.Component):
        def __init__(self):
            super().__init__({"a": In(f.bits), "b": In(f.bits), "y": Out(f.bits)})

        def elaborate(self, platform):
            m = Module()
            m.submodules.core = core = FpAddRound(f, shape)
            sa, ea, ma, na, ia, za = _fp_fields(self.a, f)
            sb, eb, mb, nb, ib, zb = _fp_fields(self.b, f)
            m.d.comb += [core.acc.eq(0), core.product.sign.eq(sa ^ sb),
                         core.product.exp.eq(ea + eb), core.product.sig.eq(ma * mb),
                         # NaN if either is NaN or 0 x inf (IEEE).
                         core.product.nan.eq(na | nb | (ia & zb) | (ib & za)),
                         core.product.inf.eq((ia | ib) & ~(na | nb)),
                         core.product.zero.eq(za | zb),
                         self.y.eq(core.result)]
            return m
    return FpMul()


# (operation of the Horowitz table, builder, golden function of (a, b) codes or None)
def _reference_designs():
    fp16, fp32 = parse_format("fp16"), parse_format("fp32")
    return {
        "int8_add": lambda: int_adder(8),
        "int8_mul": lambda: int_multiplier(8),
        "int32_add": lambda: int_adder(32),
        "int32_mul": lambda: int_multiplier(32),
        "fp16_add": lambda: fp_adder(fp16),
        "fp16_mul": lambda: fp_multiplier(fp16),
        "fp32_add": lambda: fp_adder(fp32),
        "fp32_mul": lambda: fp_multiplier(fp32),
    }


def _golden(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Expected output codes of a reference design: exact integer arithmetic (adds wrap to the
    operand width, multiplies keep the full 2N-bit product), numpy's IEEE arithmetic for floats
    (correctly rounded: float16 ops are done in float32, exact enough to round once more safely)."""
    kind, o = op.split("_")
    bits = int(re.sub(r"\D", "", kind))
    if kind.startswith("int"):
        def signed(c):
            return [int(x) - ((int(x) >> (bits - 1)) << bits) for x in c]
        mask = (1 << (2 * bits if o == "mul" else bits)) - 1
        r = [(x + y if o == "add" else x * y) & mask for x, y in zip(signed(a), signed(b))]
        return np.array(r, dtype=np.uint64)
    ft, it = (np.float16, np.uint16) if bits == 16 else (np.float32, np.uint32)
    fa, fb = a.astype(it).view(ft), b.astype(it).view(ft)
    with np.errstate(all="ignore"):
        r = fa + fb if o == "add" else fa * fb
    return r.view(it).astype(np.uint64)


def random_operands(op: str, n: int, rng: np.random.Generator):
    """Uniformly random operand codes: every code for integers; finite codes for floats."""
    kind = op.split("_")[0]
    bits = int(re.sub(r"\D", "", kind))
    if kind.startswith("int"):
        return (rng.integers(0, 1 << bits, n, dtype=np.uint64), rng.integers(0, 1 << bits, n, dtype=np.uint64))
    f = parse_format(kind)
    out = []
    for _ in range(2):
        c = rng.integers(0, 1 << bits, n, dtype=np.uint64)
        ex = (c >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)
        c = np.where(ex == (1 << f.exp_bits) - 1, c ^ np.uint64(1 << f.man_bits), c)  # no inf/NaN
        out.append(c)
    return out[0], out[1]


def operation_energy(op: str, library: str = "ge", n: int = 2000, seed: int = 0,
                     cache_dir: Path = DEFAULT_CACHE) -> dict:
    """Weighted toggles per operation of one reference design under random operands (cached).

    Returns a dict: operation, weighted_toggles_per_op, weight_unit, n, seed, mismatches (gate-
    level outputs that differ from numpy's IEEE/integer result), cells, area, netlist hash, ...
    """
    designs = _reference_designs()
    if op not in designs:
        raise UnsupportedConfig(f"reference operation must be one of {', '.join(designs)}, not {op!r}")
    netlist = synthesize(designs[op](), f"ref_{op}", library, cache_dir)
    key = _key("op", op, netlist.verilog, netlist.liberty_text, n, seed)
    hit = _cache(cache_dir).get(key)
    if hit is not None:
        return hit
    rng = np.random.default_rng(seed)
    a, b = random_operands(op, n, rng)
    res = simulate(netlist, {"a": a, "b": b}, cache_dir)
    weights, unit = weights_for(netlist)
    wt = emodel.weighted_toggles(res.toggles, weights)
    y = res.outputs["y"]
    exp = _golden(op, a, b)
    if op.startswith("fp"):
        bits = int(op[2:4])
        f = parse_format(op.split("_")[0])
        yn = ((y >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)) == (1 << f.exp_bits) - 1
        yn &= (y & np.uint64((1 << f.man_bits) - 1)) != 0
        en = ((exp >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)) == (1 << f.exp_bits) - 1
        en &= (exp & np.uint64((1 << f.man_bits) - 1)) != 0
        mism = int(np.sum((y != exp) & ~(yn & en)))  # NaN compared by class
    else:
        mism = int(np.sum(y != exp))
    out = {"operation": op, "library": library, "n": n, "seed": seed,
           "weighted_toggles_per_op": wt / n, "weight_unit": unit, "area_unit": netlist.area_unit,
           "mismatches": mism,
           "cells": int(res.toggles["instances"].sum()), "area": netlist.area,
           "netlist_sha256": netlist.netlist_hash, **netlist.provenance,
           "sim_time_s": res.sim_time_s, "source": "our gate-level simulation (Yosys + Verilator)"}
    if mism:
        raise ToolFailed(f"gate-level {op} disagrees with the golden result on {mism} of {n} vectors")
    _cache(cache_dir).put(key, out)
    return out


@dataclass
class Calibration:
    library: str
    k_pj: float                 # pJ per weighted toggle (per GE toggle for area weights)
    weight_unit: str
    weighted_toggles_per_op: float
    n: int
    seed: int


def calibration(library: str = "ge", cache_dir: Path = DEFAULT_CACHE, n: int = 2000,
                seed: int = 0) -> Calibration:
    """THE one constant: k such that our signed 8x8 multiplier costs Horowitz's 0.2 pJ."""
    r = operation_energy(emodel.CALIBRATION_OPERATION, library, n, seed, cache_dir)
    unit = r["area_unit"] if r["weight_unit"] == "area" else "internal_power"
    return Calibration(library, emodel.calibrate(r["weighted_toggles_per_op"]), unit,
                       r["weighted_toggles_per_op"], n, seed)


def horowitz_comparison(library: str = "ge", cache_dir: Path = DEFAULT_CACHE, n: int = 2000,
                        seed: int = 0, operations=None) -> pd.DataFrame:
    """Our energy per operation, calibrated once on the 8-bit multiply, beside Horowitz 2014."""
    cal = calibration(library, cache_dir, n, seed)
    ops = operations or list(_reference_designs())
    rows = {op: operation_energy(op, library, n, seed, cache_dir) for op in ops}
    df = emodel.comparison_table({op: cal.k_pj * r["weighted_toggles_per_op"] for op, r in rows.items()})
    df["area"] = [rows[op]["area"] for op in df["operation"]]
    df["area_unit"] = [rows[op]["area_unit"] for op in df["operation"]]
    df["weighted_toggles_per_op"] = [rows[op]["weighted_toggles_per_op"] for op in df["operation"]]
    df["k_pj_per_toggle"] = cal.k_pj
    df["weight_unit"] = cal.weight_unit
    df["library"] = library
    return df


# ----------------------------------------------------------------------------------------------
# MAC units under operand distributions
# ----------------------------------------------------------------------------------------------

def _nonfinite(cfg, outputs) -> float | None:
    """Fraction of cycles whose float accumulator holds inf/NaN (None for int/Kulisch)."""
    if cfg.acc.kind != "float" or "acc_out" not in outputs:
        return None
    F = cfg.acc.fmt
    e = (outputs["acc_out"] >> np.uint64(F.man_bits)) & np.uint64((1 << F.exp_bits) - 1)
    return float(np.mean(e == (1 << F.exp_bits) - 1))


DOT_LENGTH = 256   # products per accumulation between clears (one output of a GEMM with K = 256)


def operand_codes(fmt, dist: str, n: int, rng: np.random.Generator, amax: float | None = None) -> np.ndarray:
    """n codes of `fmt` drawn from `dist` (hwmodel.energy.sample), absmax-scaled per tensor to
    `amax` (default: the format's largest finite value) and quantised with hwmodel.numerics.encode
    (RNE, saturating)."""
    from hwmodel.numerics import encode
    f = parse_format(fmt) if isinstance(fmt, str) else fmt
    x = emodel.sample(dist, n, rng)
    top = f.max_normal if isinstance(f, FloatFormat) else f.max_value
    top = min(top, amax) if amax else top
    return np.asarray(encode(f, emodel.scale_to_format(x, top), saturate=True), dtype=np.uint64)


def operand_amax(cfg, dot_length: int) -> float:
    """Largest operand magnitude for a MAC stream: the format's maximum, lowered for a float
    accumulator so that dot_length products of that size cannot overflow it (an overflowed
    accumulator sticks at inf and stops toggling, which would fake a low energy)."""
    f = cfg.mul.fmt_a
    top = f.max_normal if isinstance(f, FloatFormat) else f.max_value
    if cfg.acc.kind == "float":
        top = min(top, float(np.sqrt(cfg.acc.fmt.max_normal / dot_length)))
    return top


def mac_energy(in_fmt, acc, dist: str = "gaussian", n: int = 4096, library: str = "ge",
               seed: int = 0, cache_dir: Path = DEFAULT_CACHE, dot_length: int = DOT_LENGTH,
               n_cal: int = 2000) -> dict:
    """pJ per MAC of rtl.mac.Mac(MacConfig(in_fmt, acc)) under a stream of n MACs whose operands
    (a and b independently) are drawn from `dist`; the accumulator is cleared every `dot_length`
    products. Energy = k * weighted toggles / n, with k from `calibration(library)` (the one
    constant). Cached by content hash of netlist, library, stimulus spec and flow version.

    Returns a dict with format, acc, dist, n, seed, pj_per_mac, weighted_toggles_per_mac,
    k_pj_per_toggle, area, cells, toggle_rate (output toggles per cell per MAC) and provenance.
    """
    from rtl.config import MacConfig
    from rtl.mac import Mac

    d = emodel.check_distribution(dist)
    if not isinstance(n, int) or n < 16:
        raise UnsupportedConfig(f"number of MACs n must be an int >= 16, not {n!r}")
    cfg = MacConfig(in_fmt, acc)
    f = cfg.mul.fmt_a
    netlist = synthesize(Mac(cfg), cfg.name, library, cache_dir)
    cal = calibration(library, cache_dir, n_cal, seed)
    key = _key("mac", netlist.verilog, netlist.liberty_text, d, n, seed, dot_length)
    hit = _cache(cache_dir).get(key)
    if hit is None:
        rng = np.random.default_rng(seed)
        amax = operand_amax(cfg, dot_length)
        a, b = operand_codes(f, d, n, rng, amax), operand_codes(f, d, n, rng, amax)
        clear = (np.arange(n) % dot_length == 0).astype(np.uint64)
        res = simulate(netlist, {"a": a, "b": b, "valid_in": np.ones(n, np.uint64), "clear": clear},
                       cache_dir)
        weights, unit = weights_for(netlist)
        wt = emodel.weighted_toggles(res.toggles, weights)
        by_part = {f"weighted_toggles_per_mac_{part}": emodel.weighted_toggles(g, weights) / n
                   for part, g in res.toggles.groupby("part")}
        hit = {"weighted_toggles_per_mac": wt / n, "weight_unit": unit, **by_part,
               "toggles_per_mac": float(res.toggles["toggles"].sum()) / n,
               "cells": int(res.toggles["instances"].sum()),
               "zero_operand_fraction": float(np.mean((a & np.uint64((1 << (f.bits - 1)) - 1)) == 0)),
               "operand_amax": amax, "acc_nonfinite_fraction": _nonfinite(cfg, res.outputs),
               "sim_time_s": res.sim_time_s}
        _cache(cache_dir).put(key, hit)
    out = {"format": f.name, "acc": cfg.acc_name, "config": cfg.name, "dist": d, "n": n,
           "seed": seed, "dot_length": dot_length, "library": netlist.library,
           "pj_per_mac": cal.k_pj * hit["weighted_toggles_per_mac"],
           **{"pj_per_mac_" + k.removeprefix("weighted_toggles_per_mac_"): cal.k_pj * v
              for k, v in hit.items() if k.startswith("weighted_toggles_per_mac_")},
           "k_pj_per_toggle": cal.k_pj, "area": netlist.area, "area_unit": netlist.area_unit, **hit,
           "netlist_sha256": netlist.netlist_hash, **netlist.provenance,
           "source": "our gate-level simulation (Yosys + Verilator, zero-delay), calibrated once "
                     "on Horowitz's 8-bit multiply (0.2 pJ, 45 nm)"}
    return out


# The section's configurations: (input format, accumulator). The FP8-vs-INT8 paper's INT8 / FP8
# points plus INT4, FP6, FP4 and BF16 inputs, with fixed-point (Kulisch) and float accumulators.
REPORT_CONFIGS = [("int8", "kulisch"), ("int8", "fp32"), ("int4", "kulisch"),
                  ("float8_e4m3fn", "kulisch"), ("float8_e4m3fn", "fp16"), ("float8_e4m3fn", "fp32"),
                  ("float8_e5m2", "fp16"), ("float8_e5m2", "fp32"), ("float6_e2m3fn", "kulisch"),
                  ("float4_e2m1fn", "kulisch"), ("bf16", "fp32")]
QUICK_CONFIGS = [("int8", "kulisch")]


def energy_table(configs=REPORT_CONFIGS, dists=emodel.DISTRIBUTIONS, n: int = 4096,
                 library: str = "ge", seed: int = 0, cache_dir: Path = DEFAULT_CACHE,
                 jobs: int = 2, n_cal: int = 2000) -> pd.DataFrame:
    """mac_energy for every (format, acc) x distribution: one row per point. Configurations run
    `jobs` at a time (the work is in Yosys/Verilator subprocesses). A configuration that cannot be
    built or simulated yields rows with `error` set instead of stopping the table."""
    from concurrent.futures import ThreadPoolExecutor

    calibration(library, cache_dir, n_cal, seed)   # once, before the threads need it

    def one(cfg):
        rows = []
        for d in dists:
            try:
                rows.append(mac_energy(cfg[0], cfg[1], d, n=n, library=library, seed=seed,
                                       cache_dir=cache_dir, n_cal=n_cal))
            except Exception as exc:  # noqa: BLE001 - reported in the table, not swallowed
                rows.append({"format": cfg[0], "acc": cfg[1], "dist": d,
                             "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"})
        return rows

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        rows = [r for rs in ex.map(one, configs) for r in rs]
    return pd.DataFrame(rows)
