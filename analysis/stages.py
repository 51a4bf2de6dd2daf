"""The real evaluation chain of a design point: numerics quality, verification, synthesis, energy.

`ChainEvaluator(stages)` is an evaluator for `analysis.engine.run_sweep`: it runs the named stage
functions `stage_<name>(point, seed, quick, cache_dir) -> dict` in order, each through the layer
that owns the work (hwmodel.numerics, sim.runner, rtl.synth, sim.energy), and merges their metrics.
A stage that fails adds `<stage>_error`; the point is `failed` with the first stage's reason (a
verification mismatch fails it too) and a `failure_kind` (analysis.outcome): `environment` when
any stage failed for a reason of the environment (a missing or broken tool), else `design`.

The point arrives as objects (analysis.design.DesignPoint: Format, AccSpec, unit); the stages hand
them on to the configs as they are, never as names to parse again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Sequence

from hwmodel.errors import UnsupportedConfig

from analysis.design import DesignPoint
from analysis.outcome import DESIGN, ENVIRONMENT, failure_kind, one_line

STAGES = ("quality", "verify", "synth", "energy")
# Stages a sweep runs only when asked (--stages ...,fpga): FPGA place-and-route on FPGA_DEVICE.
OPTIONAL_STAGES = ("fpga",)
FPGA_DEVICE, FPGA_FREQ_MHZ = "ecp5-25k", 100.0


# Source trees whose content decides a chain result (the analysis layer only assembles them).
_FINGERPRINT_GLOBS = ("hwmodel/*.py", "hwmodel/data/**/*", "rtl/*.py", "rtl/lib/*", "sim/*.py",
                      "analysis/stages.py")  # this file holds the stage functions


def code_fingerprint() -> str:
    """SHA-256 (16 hex digits) over the files the chain runs: hwmodel/, rtl/, sim/ and the stage
    functions in this file."""
    if not hasattr(code_fingerprint, "_value"):
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        files = sorted({p for g in _FINGERPRINT_GLOBS for p in root.glob(g) if p.is_file()})
        for p in files:
            if "__pycache__" in p.parts:
                continue
            h.update(str(p.relative_to(root)).encode() + b"\0")
            h.update(p.read_bytes())
        code_fingerprint._value = h.hexdigest()[:16]
    return code_fingerprint._value


class ChainEvaluator:
    """Evaluate a point through the other layers: numerics quality (hwmodel), verification by
    the cocotb bench (sim.runner), area/delay by Yosys (rtl.synth), energy by gate-level toggle
    counting (sim.energy). Each stage that fails adds `<stage>_error`; the point is `failed`
    with the first stage's reason (a verification mismatch fails it too) and its failure_kind,
    and the metrics of the stages that worked are kept."""

    cache_id = "chain-evaluator-v2"

    def __init__(self, stages: Sequence[str] = STAGES, cache_dir: Path | str | None = None):
        allowed = STAGES + OPTIONAL_STAGES
        bad = [s for s in stages if s not in allowed]
        if bad:
            raise UnsupportedConfig(f"stages must be among {', '.join(allowed)}, not {bad[0]!r}")
        self.stages = tuple(stages)
        # Where synthesis and energy keep their own caches; not part of the result's identity.
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        # The code behind the numbers is part of a result's identity: a change to the RTL
        # generators, benches, golden model or flows must not be answered from an old entry.
        self.cache_id = f"chain-evaluator-v2:{'+'.join(self.stages)}:{code_fingerprint()}"

    def __call__(self, point: DesignPoint, seed: int, quick: bool) -> dict:
        out: dict[str, Any] = {}
        reasons, kinds = [], []
        for stage in self.stages:
            fn = globals()[f"stage_{stage}"]
            t0 = time.perf_counter()
            try:
                out.update(fn(point, seed, quick, self.cache_dir))
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001
                out[f"{stage}_error"] = one_line(exc)
                reasons.append(f"{stage}: {one_line(exc)}")
                kinds.append(failure_kind(exc))
            out[f"{stage}_time_s"] = round(time.perf_counter() - t0, 3)
        if out.get("verified") is False:  # a verification mismatch: the design's own failure
            reasons.insert(0, f"verify: the cocotb bench failed ({out.get('verify_detail', '')})")
            kinds.append(DESIGN)
        if reasons:
            out["status"] = "failed"
            out["reason"] = reasons[0]
            # A stage the environment broke leaves the design's result incomplete: not cached as such.
            out["failure_kind"] = ENVIRONMENT if ENVIRONMENT in kinds else DESIGN
        return out

    def __getstate__(self):
        return {"stages": self.stages, "cache_id": self.cache_id, "cache_dir": self.cache_dir}

    def __setstate__(self, state):
        self.__dict__.update(state)


# Sample sizes of the quality stage: (quantisation samples, dot-product length).
_QUALITY_N = {False: (65536, 4096), True: (4096, 512)}


def stage_quality(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Numerical quality of the input format and the accumulator (golden model, hwmodel.numerics).

    sqnr_db / sqnr_t3_db: signal-to-quantisation-noise ratio (dB) of N(0,1) and Student-t (nu=3)
    samples quantised per tensor (absmax scaled to the format's largest value, RNE, saturating).
    dot_rel_err: median over lanes of |computed - exact| / sum|a_i b_i| of length-L dot products of
    N(0,1) vectors (ints scaled absmax -> max int; floats unscaled) accumulated sequentially with the point's accumulator
    (hwmodel.numerics.dot); exact = math.fsum of the exact products."""
    import math

    import numpy as np

    from hwmodel import numerics
    from hwmodel.formats import IntFormat

    fmt = point.in_fmt
    if point.unit.kind == "bdot":
        return _block_quality(point, seed, quick)
    n, length = _QUALITY_N[bool(quick)]
    rng = np.random.default_rng(seed)
    out = {}
    fmax = float(getattr(fmt, "max_value", None) or fmt.max_normal)
    for col, x in (("sqnr_db", rng.standard_normal(n)), ("sqnr_t3_db", rng.standard_t(3, n))):
        scale = fmax / np.max(np.abs(x))
        q = numerics.decode(fmt, numerics.encode(fmt, x * scale, saturate=True)) / scale
        err = float(np.sum((x - q) ** 2))
        out[col] = float("inf") if err == 0 else 10 * math.log10(float(np.sum(x ** 2)) / err)
    lanes = 4 if quick else 16
    a, b = rng.standard_normal((lanes, length)), rng.standard_normal((lanes, length))
    # Integers need a scale to use their range (absmax -> max int); floats take N(0,1) as it is
    # (a power-of-two scale changes nothing but the exponent), so products are O(1) and the error
    # measured is the accumulator's rounding, not an overflow of its range.
    if isinstance(fmt, IntFormat):
        a, b = a * fmax / np.max(np.abs(a)), b * fmax / np.max(np.abs(b))
    codes_a = numerics.encode(fmt, a, saturate=True)
    codes_b = numerics.encode(fmt, b, saturate=True)
    products = numerics.mul_exact(fmt, codes_a, fmt, codes_b)
    # Exact reference: fsum of the exact float64 products, per lane.
    exact = np.array([math.fsum(row) for row in products.tolist()])
    got = numerics.dot(fmt, codes_a, fmt, codes_b, acc=point.acc)
    denom = np.sum(np.abs(products), axis=-1)
    out["dot_rel_err"] = float(np.median(np.abs(got - exact) / denom))
    out["dot_length"] = length
    out["quality_source"] = "our golden model (hwmodel.numerics), seeded samples"
    return out


def _block_quality(point: DesignPoint, seed: int, quick: bool) -> dict:
    """stage_quality's columns for a block format (golden numerics, hwmodel.blockscaled).

    sqnr_db / sqnr_t3_db: SQNR of N(0,1) and Student-t (nu=3) samples block-quantised by the
    format's own scale rule (hwmodel.blockscaled.quantize_blocks / dequantize_blocks); 2-D blocks quantise
    tiles of block_rows rows. dot_rel_err: median over lanes of |computed - exact| / sum|a_i b_i|
    of length-L dot products of block-quantised N(0,1) vectors, computed by the block dot golden
    model (hwmodel.blockscaled.block_dot: exact block sums, one rounding per block into the
    accumulator; per-tensor scales applied after, hwmodel.blockscaled.apply_tensor_scales);
    exact = math.fsum of the products of the dequantised elements."""
    import math
    from types import SimpleNamespace

    import numpy as np

    from hwmodel import blockscaled as BS
    from hwmodel import quality as Q

    fmt = point.in_fmt
    n, length = _QUALITY_N[bool(quick)]
    bs, rows = fmt.block_size, int(getattr(fmt, "block_rows", 1) or 1)
    length = max(bs, (length // bs) * bs)
    rng = np.random.default_rng(seed)
    out = {}
    cols = max(bs, (n // rows // bs) * bs)
    for col, dist in (("sqnr_db", "gaussian"), ("sqnr_t3_db", "student_t3")):
        x = Q.sample(dist, (rows, cols), rng)
        q = BS.dequantize_blocks(fmt, BS.quantize_blocks(fmt, x))
        out[col] = float(Q.error_metrics(x, q)["sqnr_db"])
    lanes = 4 if quick else 16
    # 1-D blocks along the dot axis (a 2-D tile's scale is shared along this axis the same way).
    line = SimpleNamespace(element=fmt.element, scale=fmt.scale, block_size=bs, rule=fmt.rule,
                              tensor_scale=fmt.tensor_scale) if rows > 1 else fmt
    a, b = rng.standard_normal((lanes, length)), rng.standard_normal((lanes, length))
    got = np.empty(lanes)
    exact = np.empty(lanes)
    denom = np.empty(lanes)
    for i in range(lanes):
        qa, qb = BS.quantize_blocks(line, a[i]), BS.quantize_blocks(line, b[i])
        va, vb = BS.dequantize_blocks(line, qa), BS.dequantize_blocks(line, qb)
        prods = va * vb
        exact[i] = math.fsum(prods.tolist())
        denom[i] = float(np.sum(np.abs(prods)))
        v = BS.block_dot(line, qa, line, qb, point.acc)
        got[i] = float(BS.apply_tensor_scales(v, qa.tensor_scale, qb.tensor_scale, point.acc))
    out["dot_rel_err"] = float(np.median(np.abs(got - exact) / denom))
    out["dot_length"] = length
    out["quality_source"] = ("our golden model (hwmodel.blockscaled, hwmodel.quality), seeded samples, "
                             "block-quantised by the format's scale rule")
    return out


# The cocotb bench of each unit kind a sweep evaluates (bdot: its one unit test of the module).
_BENCHES = {"mac": "sim.bench_mac", "dot": "sim.bench_dot", "array": "sim.bench_array",
            "bdot": "sim.bench_blockdot"}
_TESTCASE = {"bdot": "blockdot_matches_golden"}


def stage_verify(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Run the unit's cocotb bench against the golden model (sim.runner.run_bench).
    verified=False on a mismatch (the chain then marks the point failed); tool errors raise."""
    from rtl.unit import unit_config
    from sim.runner import BenchFailed, run_bench

    env = {"HWDSE_SEED": str(12345 + seed), "HWDSE_RANDOM": "2000" if quick else "20000",
           "HWDSE_DOTS": "12" if quick else "60"}
    config = unit_config(point.in_fmt, point.acc, point.unit, point.pipeline_stages)
    bench = _BENCHES[point.unit.kind]
    try:
        res = run_bench(config, bench, extra_env=env, testcase=_TESTCASE.get(point.unit.kind))
    except BenchFailed as exc:
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        detail = " | ".join(lines[:3])
        m = re.search(r"log: (\S+)", detail)
        if m and os.path.exists(m.group(1)):
            # The first error line of the simulation log says why (a mismatch or a bench error).
            for ln in Path(m.group(1)).read_text(errors="replace").splitlines():
                if re.search(r"(Error|mismatch|FAIL)\b", ln) and "TESTS=" not in ln:
                    first = ln.strip()[:300]
                    if first not in detail:
                        detail = first + " | " + detail
                    break
        return {"verified": False, "verify_detail": detail[:500]}
    return {"verified": True, "verify_tests": int(res.tests), "simulator": res.simulator,
            "verify_detail": f"{res.tests} cocotb tests passed ({res.simulator}, seed {12345 + seed}, "
                             + (f"{env['HWDSE_DOTS']} random dots besides all pairs and corners)"
                                if point.unit.kind == "bdot" else f"{env['HWDSE_RANDOM']} random pairs)")}


def stage_synth(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Synthesise the unit with Yosys (rtl.synth.synth_unit) in the point's library: area in the
    library's unit (area_gates | area_ge | area_um2), per-part areas, depth, FO4 delay, provenance."""
    from rtl.synth import synth_unit

    # rtl.unit.unit_config(...).create(), synthesised: the one way every unit kind is built.
    r = synth_unit(point.in_fmt, point.acc, point.unit, library=point.library,
                   pipeline_stages=point.pipeline_stages, cache_dir=cache_dir)
    unit = r.area_unit
    out = {f"area_{unit}": float(r.area), f"seq_area_{unit}": float(r.sequential_area),
           "n_cells": int(r.n_cells), "logic_depth": int(r.logic_depth),
           "delay_fo4": None if r.delay_fo4 is None else float(r.delay_fo4),
           "synth_source": r.source, "netlist_sha256": r.netlist_sha256}
    if point.unit.kind == "bdot":
        # Per element product (the lanes), split into multipliers / adder tree / scale path /
        # accumulator / control (rtl.blockdot.split_area over the unit's submodules).
        from rtl.blockdot import split_area
        lanes = point.unit.n
        parts = split_area(r.area_by_part or {})
        hier = sum(parts.values()) or float("nan")
        out[f"area_per_product_{unit}"] = float(r.area) / lanes
        for part, area in parts.items():
            out[f"area_{part}_per_product_{unit}"] = float(area) / lanes
        out["scale_path_share"] = parts["scale_path"] / hier
        return out
    for part, area in (r.area_by_part or {}).items():
        out[f"area_{part}_{unit}"] = float(area)
    return out


def stage_fpga(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Place and route the unit on FPGA_DEVICE with the project's Yosys and nextpnr
    (rtl.fpga.fpga_unit, cached by content hash like synthesis): LUT4, carry, FF, DSP, BRAM and the
    routed Fmax. Arrays are refused by the FPGA tier (a failed stage with its reason)."""
    from rtl.fpga import fpga_unit

    r = fpga_unit(point.in_fmt, point.acc, point.unit.spec, FPGA_DEVICE, FPGA_FREQ_MHZ,
                  pipeline_stages=point.pipeline_stages, cache_dir=cache_dir)
    return {"fpga_device": r.device, "fpga_lut4": int(r.luts), "fpga_carry": int(r.carry),
            "fpga_ff": int(r.ffs), "fpga_dsp": int(r.dsp), "fpga_bram": int(r.bram),
            "fpga_fmax_mhz": None if r.fmax_mhz is None else float(r.fmax_mhz),
            "fpga_source": r.source, "fpga_netlist_sha256": r.netlist_sha256}


def stage_energy(point: DesignPoint, seed: int, quick: bool, cache_dir=None) -> dict:
    """Energy per multiply-accumulate (pJ) of a MAC from gate-level toggle counting of its
    synthesised netlist under Gaussian operands (sim.energy.mac_energy); of a block dot unit per
    element product, with its parts, under block-quantised Gaussian operands
    (sim.energy.block_energy); other units get an `energy_note` instead of a value (not a failure)."""
    from sim import energy

    kw = {"cache_dir": Path(cache_dir)} if cache_dir else {}
    if point.unit.kind == "bdot":
        from rtl.unit import unit_config
        why = energy.block_ports_unsupported(unit_config(point.in_fmt, point.acc, point.unit))
        if why:  # not measurable by this simulator: no value, and not a failure of the design
            return {"energy_note": f"not measured: {why}"}
        res = energy.block_energy(point.in_fmt, point.acc, lanes=point.unit.n, dist="gaussian",
                                  n_blocks=64 if quick else 256, library=point.library, seed=seed, **kw)
        out = {"energy_pj": float(res["pj_per_product"]), "energy_source": res["source"]}
        out.update({f"energy_{p}_pj": float(res[f"pj_per_product_{p}"])
                    for p in res["parts"]})
        return out
    if point.unit.kind != "mac" or point.pipeline_stages != 1:
        # Not applicable (sim.energy measures single-stage MACs): no value, and not a failure.
        return {"energy_note": f"not measured: sim.energy.mac_energy covers mac units with 1 "
                               f"pipeline stage, not {point.unit.spec} p{point.pipeline_stages}"}
    res = energy.mac_energy(point.in_fmt, point.acc, dist="gaussian", n=512 if quick else 4096,
                            library=point.library, seed=seed, **kw)
    src = res.get("source") or res.get("provenance") or "our gate-level simulation (sim.energy.mac_energy)"
    return {"energy_pj": float(res["pj_per_mac"]),
            "energy_source": src if isinstance(src, str) else json.dumps(src, default=str)[:300]}
