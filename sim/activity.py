"""Per-pin switching activity of a mapped netlist from our own gate-level simulation.

The same Verilator + SAIF flow as the energy model (sim/gatelevel.py, sim/energy.py), run on the
flat netlist that static timing reads, so every cell pin's toggle count can be handed to OpenSTA's
power analysis (rtl.sta.run_sta(pin_activity=..., port_activity=...)).

Public API
    Activity: pin -> toggles per cycle ("inst/PIN"), input port bit -> toggles per cycle ("a[3]"),
              cycles, source (a sentence naming the stimulus)
    netlist_activity(netlist_v, top, liberty, stimulus, *, label, cache_dir) -> Activity
    mac_stimulus(in_fmt, acc, n=2000, seed=0, dist="gaussian", dot_length=DOT_LENGTH) -> dict
        the operand stream of sim.energy.mac_energy (a and b drawn independently from `dist`,
        valid every cycle, the accumulator cleared every dot_length products)
    mac_activity(in_fmt, acc, netlist_v, top, liberty, n=2000, seed=0, dist="gaussian", ...)

Toggle rates are zero-delay (cycle-based): glitches are not counted, so dynamic power from them
is a lower bound on what a timed simulation would give. Duty (fraction of time high) is not
recorded by the SAIF reader; OpenSTA is given 0.5.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from hwmodel.cache import ResultCache, cache_key
from hwmodel.errors import DataError, UnsupportedConfig
from sim.gatelevel import read_liberty

ACTIVITY_VERSION = "activity-1"


@dataclass
class Activity:
    pins: dict = field(repr=False)         # "inst/PIN" -> toggles per cycle
    ports: dict = field(repr=False)        # "port[bit]" -> toggles per cycle (inputs)
    cycles: int
    source: str
    mean_output_toggle_rate: float = 0.0   # mean over cell output pins

    def to_dict(self) -> dict:
        return asdict(self)


def _port_bit_rates(stimulus: dict, widths: dict) -> dict:
    out = {}
    for port, codes in stimulus.items():
        w = widths.get(port)
        if w is None:
            continue
        v = np.concatenate([[0], np.asarray(codes, dtype=np.int64)]).astype(np.uint64)
        flips = v[1:] ^ v[:-1]
        n = len(v) - 1
        for b in range(w):
            rate = float(((flips >> np.uint64(b)) & np.uint64(1)).sum()) / n
            out[f"{port}[{b}]" if w > 1 else port] = rate
    return out


def netlist_activity(netlist_v: str, top: str, liberty, stimulus: dict, *, label: str = "",
                     cache_dir=None) -> Activity:
    """Simulate `stimulus` (port -> codes per cycle) on the flat netlist; toggles per cycle."""
    from sim.netlist import Netlist, _ports
    from sim.toggles import DEFAULT_CACHE, build_sim
    path = Path(liberty)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise DataError(f"{path}: cannot read Liberty file ({exc.strerror})") from None
    n = len(next(iter(stimulus.values())))
    if n < 2:
        raise UnsupportedConfig(f"activity needs at least 2 cycles of stimulus, not {n}")
    stim_hash = cache_key(*[p + ":" + np.asarray(v, dtype=np.int64).tobytes().hex()
                            for p, v in sorted(stimulus.items())])
    key = cache_key(ACTIVITY_VERSION, netlist_v, text, top, stim_hash, label)
    cache = ResultCache(cache_dir, namespace="activity")
    hit = cache.get(key)
    if hit is not None:
        return Activity(**hit)
    cells = read_liberty(text, str(path))
    used = set(re.findall(r"^\s*(\S+)\s+\S+\s*\($", netlist_v, re.M)) & set(cells)
    sub = {k: cells[k] for k in used}
    ins, outs = _ports(netlist_v, top)
    nl = Netlist(top, netlist_v, path.stem, text, sub, ins, outs, {}, "um2", "")
    names = {p for p, _ in ins}
    gs = build_sim(nl, Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE, trace="all")  # input pins too
    unknown = sorted(set(stimulus) - {p for p, _ in gs.inputs})
    if unknown:
        raise UnsupportedConfig(f"stimulus ports must be inputs of {top}, not {unknown}")
    cols = []
    for p, w in gs.inputs:
        v = np.asarray(stimulus.get(p, np.zeros(n)), dtype=np.int64).astype(np.uint64)
        cols.append(v & np.uint64((1 << w) - 1 if w < 64 else 0xFFFFFFFFFFFFFFFF))
    _, tog = gs.run(np.stack(cols, 1), n_reset=2)
    pins, out_rates = {}, []
    for inst, typ in gs._instances.items():
        c = sub[typ]
        lib_pins = set(c.inputs) | {p for p, _ in c.outputs}
        outs_c = {p for p, _ in c.outputs}
        for pin, count in tog.get(inst, {}).items():
            if pin in lib_pins:
                pins[f"{inst}/{pin}"] = count / n
                if pin in outs_c:
                    out_rates.append(count / n)
    widths = {p: w for p, w in ins if p in names}
    ports = _port_bit_rates({p: stimulus[p] for p in stimulus}, widths)
    act = Activity(pins, ports, n, label or f"gate-level simulation of {n} cycles",
                   float(np.mean(out_rates)) if out_rates else 0.0)
    cache.put(key, act.to_dict())
    return act


def mac_stimulus(in_fmt, acc, n: int = 2000, seed: int = 0, dist: str = "gaussian",
                 dot_length: int | None = None) -> dict:
    from hwmodel import energy as emodel
    from rtl.config import MacConfig
    from sim.energy import DOT_LENGTH, operand_amax, operand_codes
    d = emodel.check_distribution(dist)
    if not isinstance(n, int) or n < 16:
        raise UnsupportedConfig(f"number of cycles n must be an int >= 16, not {n!r}")
    dl = dot_length or DOT_LENGTH
    cfg = MacConfig(in_fmt, acc)
    f = cfg.mul.fmt_a
    rng = np.random.default_rng(seed)
    amax = operand_amax(cfg, dl)
    a, b = operand_codes(f, d, n, rng, amax), operand_codes(f, d, n, rng, amax)
    clear = (np.arange(n) % dl == 0).astype(np.int64)
    return {"a": np.asarray(a, dtype=np.int64), "b": np.asarray(b, dtype=np.int64),
            "valid_in": np.ones(n, np.int64), "clear": clear}


def mac_activity(in_fmt, acc, netlist_v: str, top: str, liberty, n: int = 2000, seed: int = 0,
                 dist: str = "gaussian", dot_length: int | None = None, cache_dir=None) -> Activity:
    from sim.energy import DOT_LENGTH
    dl = dot_length or DOT_LENGTH
    stim = mac_stimulus(in_fmt, acc, n, seed, dist, dl)
    label = (f"gate-level simulation (Verilator, zero-delay) of {n} MACs, {dist} operands, "
             f"seed {seed}, cleared every {dl} products")
    return netlist_activity(netlist_v, top, liberty, stim, label=label, cache_dir=cache_dir)


def activity_json(act: Activity) -> str:
    return json.dumps(act.to_dict(), sort_keys=True)
