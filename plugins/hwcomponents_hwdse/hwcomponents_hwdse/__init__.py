"""hwcomponents models of hwdse's MACs and array processing elements, per number format.

hwcomponents imports every installed package named `hwcomponents_*` and uses its non-abstract
ComponentModel subclasses. The numbers come from `hwdse_models.json` beside this file, written by
`hwdse export --to hwcomponents`: Yosys synthesis (area), gate-level simulation of the netlist
under Gaussian operands (energy per MAC), and cell leakage of the mapped netlist where the library
has it. Units follow hwcomponents: area in m^2, energy in J, leakage in W, latency in s.

Components:
    hwdse_mac       attributes: format (e.g. "int8", "float8_e4m3fn", "e4m3"), accumulator
                    ("kulisch", "fp32", ...); actions: compute (= mac), read/write (0: the
                    operands arrive on wires), leak
    hwdse_array_pe  one processing element of an R x C output-stationary array (the array's
                    area / (R*C): skew, forwarding and drain registers included); attributes:
                    format, accumulator, rows, cols (default: the largest exported array);
                    actions as hwdse_mac
Each instance has `.provenance` (a dict: tool versions, library, netlist hash, energy flow).
"""

from __future__ import annotations

import json
from pathlib import Path

from hwcomponents import ActionCost, ComponentModel, action

DATA = Path(__file__).with_name("hwdse_models.json")


def _load() -> dict:
    return json.loads(DATA.read_text())


def _key(s) -> str:
    return str(s).strip().lower().replace("-", "_")


def _find(kind: str, fmt: str, acc: str, rows: int | None = 1, cols: int | None = 1) -> dict:
    """The exported record; rows/cols None: the largest exported array of that design."""
    data = _load()
    f, a = _key(fmt), _key(acc)
    cands = [r for r in data["models"] if r["kind"] == kind
             and (rows is None or r["rows"] == int(rows)) and (cols is None or r["cols"] == int(cols))]
    for r in sorted(cands, key=lambda r: -r["rows"] * r["cols"]):
        if f in r["format_aliases"] and a in r["acc_aliases"]:
            return r
    have = sorted({f"{r['format']}/{r['acc']}" + (f" {r['rows']}x{r['cols']}" if kind != "mac" else "")
                   for r in data["models"] if r["kind"] == kind})
    raise ValueError(f"hwdse has no {kind} for format {fmt!r}, accumulator {acc!r}"
                     f"{'' if kind == 'mac' else f', {rows}x{cols} (None: any)'}; exported: {', '.join(have)} "
                     f"(re-run `hwdse export --to hwcomponents` with more designs)")


class _HwdseUnit(ComponentModel):
    """Shared body: one exported record -> area, leakage, energy per MAC."""

    priority = 0.9        # measured for this exact format: preferred over generic MAC models

    def _init_from(self, rec: dict, global_meta: dict):
        self.record = rec
        self.format = rec["format"]
        self.accumulator = rec["acc"]
        self.provenance = {**global_meta, **rec["provenance"]}
        self._energy_j = rec["energy_pj_per_mac"] * 1e-12
        # one MAC per cycle at the clock its critical path allows (1 ns when none was estimated)
        self._clock_s = rec["delay_ns"] * 1e-9 if rec.get("delay_ns") else 1e-9
        super().__init__(area=rec["area_um2"] * 1e-12, leak_power=rec["leak_power_w"])
        self.logger.info(f"hwdse {rec['kind']} {rec['format']}/{rec['acc']}: "
                         f"{rec['energy_pj_per_mac']:.4g} pJ/MAC, {rec['area_um2']:.4g} um^2; "
                         f"{self.provenance.get('energy_source', '')}")

    def _cost(self) -> ActionCost:
        return ActionCost(energy=self._energy_j, latency=self._clock_s, throughput=1 / self._clock_s)

    @action
    def compute(self) -> ActionCost:
        """One multiply-accumulate (J, s, MACs/s)."""
        return self._cost()

    @action
    def mac(self) -> ActionCost:
        """Alias of compute."""
        return self._cost()

    @action
    def read(self) -> ActionCost:
        """Operands arrive on wires: the MAC's own energy covers them."""
        return ActionCost(energy=0.0, latency=0.0, throughput=float("inf"))

    @action
    def write(self) -> ActionCost:
        """See read."""
        return ActionCost(energy=0.0, latency=0.0, throughput=float("inf"))


class HwdseMAC(_HwdseUnit):
    """hwdse's synthesised MAC for one input format and accumulator (45 nm GE flow)."""

    component_name = ["hwdse_mac", "HwdseMAC"]

    def __init__(self, format: str, accumulator: str = "kulisch"):
        data = _load()
        self._init_from(_find("mac", format, accumulator), data["meta"])


class HwdseArrayPE(_HwdseUnit):
    """One PE of hwdse's R x C output-stationary array: array area and energy per MAC / (R*C)."""

    component_name = ["hwdse_array_pe", "HwdseArrayPE"]

    def __init__(self, format: str, accumulator: str = "kulisch", rows: int | None = None,
                 cols: int | None = None):
        data = _load()
        self._init_from(_find("array_pe", format, accumulator, rows, cols), data["meta"])


__all__ = ["HwdseMAC", "HwdseArrayPE"]
