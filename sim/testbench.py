"""The one cocotb testbench helper that every bench in sim/ drives its unit through.

As cocotbext-axi's stream drivers do, one object owns the clock, the reset and the valid
protocol, so that a bench only says what goes in and what to compare:

    tb = Testbench(dut, latency=cfg.latency, seed=seed)
    await tb.reset()
    run = await tb.stream({"a": A, "b": B, "clear": clear}, outputs=["acc_out"], read=ends)
    run.values["acc_out"][i]          # the output `latency` edges after item i went in
    msgs += run.hold_failures(cfg.name, describe)

Protocol (every clocked unit of rtl/: rtl/mac.py, rtl/fpacc.py, rtl/dot.py, rtl/array.py):
inputs change just after a falling edge and are sampled at the next rising edge; with `valid`
high the unit takes this cycle's operands; with `valid` low it keeps its state (accumulator and
flags) whatever its data inputs carry. The result of an item driven in cycle c shows after the
falling edge of cycle c + latency.

Pauses: after an item, at seeded random positions (inside accumulations as well as between
them, at least one inside when an accumulation has two items or more), the stream stops for
1..max_pause idle cycles: valid low, clear low, every other input
driven with random bits (garbage that a unit ignoring valid would take in). A pause always follows
the last item. During the pause after item p the outputs are sampled every cycle, from item p's
result (cycle c_p + latency) until the cycle before the next item's result could show; each
output must keep item p's value throughout, and valid_out, where the unit has one, must be low
after the first sample. `StreamRun.hold_failures` turns violations into messages.

Combinational units (rtl/mul.py, the Kulisch read-out of rtl/acc.py) have no clock and no valid:
`Testbench(dut, clock=None)` and `apply` drive one vector per settle time and sample the outputs;
at seeded positions the inputs are held for a few more settle times and the outputs sampled
again, which must give the same values (nothing arrives, nothing may change).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

PAUSE_RATE = 1 / 48     # chance of a pause after each item (~2% of the stream's cycles idle)
MAX_PAUSE = 6           # idle cycles of one pause: 1..MAX_PAUSE, uniform
SETTLE_NS = 1           # combinational settle time per vector


@dataclass
class Hold:
    """One pause: the outputs sampled from item `item`'s result to the end of the pause."""

    item: int                              # the item whose result must hold
    cycles: int                            # idle cycles of the pause
    inside: bool                           # the next item continues the same accumulation
    samples: dict[str, list[int]] = field(default_factory=dict)   # per output: cycles + 1 samples
    valid_out: list[int] = field(default_factory=list)            # valid_out per sample, if any


@dataclass
class StreamRun:
    """What `Testbench.stream` saw."""

    n_items: int
    n_cycles: int                           # cycles driven, pauses included
    values: dict[str, list]                 # per output, per item: value read, or None if unread
    valid_out: list | None                  # per item: valid_out at the read (None: no such port)
    holds: list[Hold]

    @property
    def pauses_inside(self) -> int:
        """Pauses in the middle of an accumulation (the next item has no clear)."""
        return sum(h.inside for h in self.holds)

    @property
    def idle_cycles(self) -> int:
        return sum(h.cycles for h in self.holds)

    def hold_failures(self, name: str, describe: Callable[[int], str] | None = None,
                      limit: int = 8) -> list[str]:
        """One message per pause during which an output changed or valid_out was high.
        describe(item) names the operands that led to the held value (config, operands)."""
        msgs, n_bad = [], 0
        for h in self.holds:
            bad = []
            for port, s in h.samples.items():
                if any(v != s[0] for v in s):
                    bad.append(f"{port} {[hex(v) for v in s]} (expected {s[0]:#x} to hold)")
            if any(h.valid_out[1:]):
                bad.append(f"valid_out {h.valid_out} (expected 1 then 0 while nothing arrives)")
            if bad:
                n_bad += 1
                if len(msgs) < limit:
                    where = "inside an accumulation" if h.inside else "between accumulations"
                    what = f" ({describe(h.item)})" if describe else ""
                    msgs.append(f"{name}: {h.cycles}-cycle pause (valid low, garbage on the data "
                                f"inputs) {where} after item {h.item}{what}: RTL {'; '.join(bad)}")
        if n_bad > len(msgs):
            msgs.append(f"{name}: ... {n_bad} pauses in all where the state did not hold")
        return msgs


def _as_ints(col) -> list[int]:
    if isinstance(col, np.ndarray):
        return [int(x) for x in col.tolist()]
    return [int(x) for x in col]


class Testbench:
    """Clock, reset, the valid protocol and seeded pauses for one DUT (see the module docstring).

    dut:       the cocotb top handle
    latency:   edges from an item being sampled to its result showing (the config's `latency`)
    seed:      seeds the pause positions and the garbage driven during pauses
    clock, reset, valid, clear, valid_out: port names; None where the unit has no such port
               (clock=None: a combinational unit, driven with `apply`)
    """

    __test__ = False    # not a pytest test class, whatever its name says

    def __init__(self, dut, *, latency: int = 0, seed: int = 0, clock: str | None = "clk",
                 reset: str | None = "rst", valid: str | None = "valid_in",
                 clear: str | None = "clear", valid_out: str | None = "valid_out",
                 period_ns: int = 10, pause_rate: float = PAUSE_RATE, max_pause: int = MAX_PAUSE):
        if not 0 <= pause_rate < 1 or max_pause < 1:
            raise ValueError(f"pause_rate must be in [0, 1) and max_pause >= 1, not "
                             f"{pause_rate!r}, {max_pause!r}")
        self.dut = dut
        self.latency = int(latency)
        # random streams of their own, so that the bench's operand draws from `seed` are the
        # same with and without pauses
        self.rng = np.random.default_rng([seed, 0x7E57])    # pause positions and lengths
        self.garbage = random.Random(seed ^ 0x9A4BA6E)      # bits driven during pauses
        self.clock = getattr(dut, clock) if clock else None
        self.reset_port = getattr(dut, reset) if reset and clock else None
        self.valid = getattr(dut, valid) if valid and clock else None
        self.clear = clear if clock else None
        self.valid_out = getattr(dut, valid_out) if valid_out and clock and hasattr(dut, valid_out) else None
        self.period_ns = period_ns
        self.pause_rate = pause_rate
        self.max_pause = max_pause
        self._started = False

    # -----------------------------------------------------------------------------------------
    # Clocked units
    # -----------------------------------------------------------------------------------------
    async def reset(self, cycles: int = 2, hold_low: Sequence[str] = ()) -> None:
        """Start the clock, hold reset for `cycles` falling edges with valid, clear and
        `hold_low` low, then release it (the next edge is the first that can take an item)."""
        import cocotb
        from cocotb.clock import Clock
        from cocotb.triggers import FallingEdge

        if self.clock is None:
            raise RuntimeError("reset() needs a clocked unit; combinational units use apply()")
        if not self._started:
            cocotb.start_soon(Clock(self.clock, self.period_ns, "ns").start())
            self._started = True
        low = [self.valid] if self.valid is not None else []
        if self.clear:
            low.append(getattr(self.dut, self.clear))
        low += [getattr(self.dut, n) for n in hold_low]
        for h in low:
            h.value = 0
        if self.reset_port is not None:
            self.reset_port.value = 1
        for _ in range(cycles):
            await FallingEdge(self.clock)
        if self.reset_port is not None:
            self.reset_port.value = 0

    async def wait(self, cycles: int = 1) -> None:
        """Let `cycles` falling edges pass, inputs unchanged."""
        from cocotb.triggers import FallingEdge
        for _ in range(cycles):
            await FallingEdge(self.clock)

    def pause_lengths(self, n_items: int) -> np.ndarray:
        """Idle cycles after each item (0: none); the last item is always followed by a pause."""
        n = int(n_items)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        lens = np.where(self.rng.random(n) < self.pause_rate,
                        self.rng.integers(1, self.max_pause + 1, n), 0)
        lens[-1] = int(self.rng.integers(1, self.max_pause + 1))
        return lens.astype(np.int64)

    async def stream(self, inputs: Mapping[str, Sequence[int]], outputs: Sequence[str] = (),
                     read=None) -> StreamRun:
        """Drive one item per cycle with valid high, pausing after items as the module docstring
        says, and sample `outputs` `latency` cycles after each item selected by `read` (None:
        every item; else a bool mask or item indices) and every cycle of every pause.

        inputs: port name -> one code per item (non-negative; signed fields in two's complement);
        the clear input (if any) is held low during pauses, every other input gets random bits.
        Returns with the last pause over and valid low.
        """
        from cocotb.triggers import FallingEdge

        if self.clock is None:
            raise RuntimeError("stream() needs a clocked unit; combinational units use apply()")
        cols = {k: _as_ints(v) for k, v in inputs.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise ValueError(f"every input needs one code per item, got lengths {sorted(lengths)}")
        n = lengths.pop()
        lat = self.latency
        pauses = self.pause_lengths(n)
        clear_col = cols.get(self.clear) if self.clear else None
        # short streams: make sure at least one pause falls inside an accumulation, if any has
        # two items or more
        gaps = np.arange(n - 1)
        if clear_col is not None:
            gaps = gaps[np.asarray(clear_col[1:], dtype=np.int64) == 0]
        if gaps.size and not pauses[gaps].any():
            pauses[int(self.rng.choice(gaps))] = int(self.rng.integers(1, self.max_pause + 1))

        # cycle -> item (>= 0) or idle (-1)
        sched: list[int] = []
        item_cycle = np.zeros(n, dtype=np.int64)
        holds: list[Hold] = []
        hold_first: list[int] = []
        for i, p in enumerate(pauses.tolist()):
            item_cycle[i] = len(sched)
            sched.append(i)
            if p:
                inside = i + 1 < n and not (clear_col is not None and clear_col[i + 1])
                holds.append(Hold(i, p, inside, {o: [] for o in outputs}))
                hold_first.append(len(sched) - 1 + lat)
                sched.extend([-1] * p)
        if read is None:
            read_items = range(n)
        else:
            r = np.asarray(read)
            read_items = np.flatnonzero(r).tolist() if r.dtype == bool else r.astype(np.int64).tolist()
        reads: dict[int, list] = {}
        for i in read_items:
            reads.setdefault(int(item_cycle[i]) + lat, []).append(i)
        for k, (h, c0) in enumerate(zip(holds, hold_first)):
            for j in range(h.cycles + 1):
                reads.setdefault(c0 + j, []).append((k, j))

        values: dict[str, list] = {o: [None] * n for o in outputs}
        vo_item = [None] * n if self.valid_out is not None else None
        out_h = [getattr(self.dut, o) for o in outputs]
        in_names = list(cols)
        in_h = [getattr(self.dut, k) for k in in_names]
        in_cols = [cols[k] for k in in_names]
        widths = [len(h) for h in in_h]
        is_clear = [k == self.clear for k in in_names]
        last: list = [None] * len(in_h)
        hv, hvo, clk = self.valid, self.valid_out, self.clock
        g = self.garbage
        vstate = None
        S = len(sched)
        for c in range(S + lat):
            await FallingEdge(clk)
            tags = reads.get(c)
            if tags is not None:
                vals = [int(h.value) for h in out_h]
                vo = int(hvo.value) if hvo is not None else None
                for tag in tags:
                    if isinstance(tag, tuple):
                        h = holds[tag[0]]
                        for o, v in zip(outputs, vals):
                            h.samples[o].append(v)
                        if vo is not None:
                            h.valid_out.append(vo)
                    else:
                        for o, v in zip(outputs, vals):
                            values[o][tag] = v
                        if vo_item is not None:
                            vo_item[tag] = vo
            if c >= S:
                continue
            i = sched[c]
            if i >= 0:
                if vstate != 1:
                    hv.value = vstate = 1
                for k, h in enumerate(in_h):
                    v = in_cols[k][i]
                    if v != last[k]:
                        h.value = last[k] = v
            else:
                if vstate != 0:
                    hv.value = vstate = 0
                for k, h in enumerate(in_h):
                    v = 0 if is_clear[k] else g.getrandbits(widths[k])
                    if v != last[k]:
                        h.value = last[k] = v
        return StreamRun(n, S, values, vo_item, holds)

    # -----------------------------------------------------------------------------------------
    # Combinational units
    # -----------------------------------------------------------------------------------------
    async def apply(self, inputs: Mapping[str, Sequence[int]], outputs: Sequence[str],
                    settle_ns: int = SETTLE_NS, dtype=np.uint64) -> tuple[dict[str, np.ndarray], StreamRun]:
        """Drive one vector per settle time and sample `outputs` after it; at seeded positions
        hold the vector 1..max_pause more settle times and sample again (the values must hold).
        Returns (per output, one value per vector) and a StreamRun whose holds record the pauses."""
        from cocotb.triggers import Timer

        cols = {k: _as_ints(v) for k, v in inputs.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise ValueError(f"every input needs one code per vector, got lengths {sorted(lengths)}")
        n = lengths.pop()
        pauses = self.pause_lengths(n).tolist()
        in_h = [getattr(self.dut, k) for k in cols]
        in_cols = list(cols.values())
        out_h = [getattr(self.dut, o) for o in outputs]
        got = {o: np.zeros(n, dtype=dtype) for o in outputs}
        got_cols = [got[o] for o in outputs]
        last: list = [None] * len(in_h)
        holds: list[Hold] = []
        cycles = 0
        for i in range(n):
            for k, h in enumerate(in_h):
                v = in_cols[k][i]
                if v != last[k]:
                    h.value = last[k] = v
            await Timer(settle_ns, "ns")
            vals = [int(h.value) for h in out_h]
            for col, v in zip(got_cols, vals):
                col[i] = v
            cycles += 1
            p = pauses[i]
            if p:
                hold = Hold(i, p, False, {o: [v] for o, v in zip(outputs, vals)})
                for _ in range(p):
                    await Timer(settle_ns, "ns")
                    for o, h in zip(outputs, out_h):
                        hold.samples[o].append(int(h.value))
                cycles += p
                holds.append(hold)
        return got, StreamRun(n, cycles, {}, None, holds)
