"""A C-slow accumulator: k registers in the accumulation loop, k interleaved partial sums.

An accumulator's loop (register -> add -> register) cannot be pipelined without changing what it
computes: with k registers in the loop (MacConfig.loop_stages = k > 1), k additions are in flight
at once, each on its own partial sum. The loop turns every clock cycle (it has no enable): the
slot entering the adder at cycle t after a clear (the clear's cycle is t = 0) belongs to partial
t mod k; a cycle without a product (valid low) adds the identity (float: -0, for which
A + (-0) = A for every A incl. -0; Kulisch: 0). The k partials are combined outside the unit
(hwmodel.interleave documents the order and the number of roundings).

With pipeline_stages >= 2 product registers move here (MacConfig.loop_pre, 1 or 2): the first
after the Kulisch alignment shift or the float operand's normalisation, the second (with 3 or
more stages) before them, after the sign conversion (Kulisch: signed significand; int product
into a float loop: sign-magnitude), all in front of the loop.

Where the registers go:
  float    FpAddRound(cuts=config.cuts): k - 1 registers at named places inside the add-and-round
           (rtl.fpadd.CUTS), plus the accumulator register.
  Kulisch  the W+1-bit addition (register + aligned product, overflow bit) is cut into k slices of
           about equal width; each slice adds with the carry of the one below, registered between
           slices together with the not yet added upper bits; plus the accumulator register.
  int      not supported (MacConfig rejects it).

Ports (like rtl.acc's accumulators, plus `part`):
  product  int inputs: `value`; float inputs: `p`
  valid    this cycle's product is added (into the partial entering now)
  clear    start a new accumulation: this slot and the next k - 1 slots enter with a +0 partial
           (so every partial restarts), flags restart; with valid the product is the first added
  acc      the accumulator register: the partial that left the adder at the last edge
  part     which partial `acc` shows (0 = the one that took the clearing cycle's slot)
  valid_out  high while `acc` shows a partial that a product entered k edges earlier
  Kulisch: overflow, overflow_neg, nan, pinf, ninf, sticky since the clear; overflow is set when
           an addition into a partial leaves the W-bit range; overflow_neg: the first such
           addition (in the order they leave the adder) was below the range.
Reading an accumulation: the last product enters at edge t; the k partials show on `acc` at the
edges t+1 .. t+k (each once, tagged by `part`), the flags are final at edge t+k. A following
clear may enter at t+1: the old partials are already in the loop and leave it unchanged.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.acc import KULISCH_FLAGS, _product_in, kulisch_operand
from rtl.shape import ProductShape


def _reg(m: Module, values, name: str) -> list:
    """Each value through one register without reset (a feed-forward pipeline register)."""
    regs = [Signal.like(Value.cast(x), name=f"{name}_{i}", reset_less=True) for i, x in enumerate(values)]
    m.d.sync += [r.eq(x) for r, x in zip(regs, values)]
    return regs


def _delay(m: Module, v, n: int, name: str):
    """v through n registers (reset to 0)."""
    for i in range(n):
        r = Signal.like(v, name=f"{name}_d{i}")
        m.d.sync += r.eq(v)
        v = r
    return v


class LoopAccumulator(wiring.Component):
    """The C-slow accumulator of a MacConfig with loop_stages > 1 (see the module docstring)."""

    def __init__(self, config):
        self.config = config
        k = config.loop_stages
        members = {**_product_in(config), "valid": In(1), "clear": In(1),
                   "acc": Out(config.acc_width), "valid_out": Out(1), "part": Out(range(k))}
        self.kulisch = config.acc.kind == "kulisch"
        if self.kulisch:
            members.update({f: Out(1) for f in KULISCH_FLAGS})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        k = cfg.loop_stages
        W = cfg.acc_width
        reg = Signal(W)                                 # the accumulator register, reset +0
        # loop_pre: the product is aligned/normalised one edge before it meets the accumulator;
        # the loop's control sees valid and clear that edge later too
        pre = cfg.loop_pre
        valid = _delay(m, self.valid, pre, "pre_valid")
        clear = _delay(m, self.clear, pre, "pre_clear")
        # clear window: the clearing slot and the next k - 1 enter with a +0 partial
        left = Signal(range(k))
        m.d.sync += left.eq(Mux(clear, k - 1, Mux(left != 0, left - 1, 0)))
        zero_in = clear | (left != 0)
        # partial index of the entering slot
        cnt = Signal(range(k))
        part_in = Mux(clear, 0, cnt)
        m.d.sync += cnt.eq(Mux(part_in == k - 1, 0, part_in + 1))
        if self.kulisch:
            result, extra = self._kulisch(m, Mux(zero_in, 0, reg.as_signed()))
        else:
            result, extra = self._float(m, Mux(zero_in, 0, reg)), {}
        m.d.sync += reg.eq(result)
        # what travels beside the data to the loop's output (k - 1 internal stages)
        vd = _delay(m, valid, k - 1, "valid")
        cd = _delay(m, clear, k - 1, "clear")
        pd = _delay(m, part_in, k - 1, "part")
        vo = Signal()
        po = Signal(range(k))
        m.d.sync += [vo.eq(vd), po.eq(pd)]
        m.d.comb += [self.acc.eq(reg), self.valid_out.eq(vo), self.part.eq(po)]
        if self.kulisch:
            self._flags(m, vd, cd, extra)
        return m

    # -- float: FpAddRound with k - 1 cuts ------------------------------------------------------
    def _float(self, m, base):
        from rtl.fpadd import FpAddRound
        cfg = self.config
        mutant = cfg.mutant if cfg.mutant == "fpacc_rtz" else None
        if cfg.mul.is_int:
            # the integer product as sign-magnitude |v| * 2^0 (as rtl.acc.FloatAlignAdd)
            w = cfg.mul.value_width
            core = FpAddRound(cfg.acc.fmt, ProductShape.fixed(0, w), mutant=mutant, cuts=cfg.cuts,
                              operand_reg=cfg.loop_pre >= 1)
            v = self.value
            neg = v[w - 1] if cfg.mul.value_signed else Const(0, 1)
            f = {"sign": neg, "exp": 0, "sig": Mux(neg, -v, v), "nan": 0, "inf": 0, "zero": v == 0}
        else:
            core = FpAddRound(cfg.acc.fmt, cfg.mul.product, mutant=mutant, cuts=cfg.cuts,
                              operand_reg=cfg.loop_pre >= 1)
            f = {x: getattr(self.p, x) for x in ("sign", "exp", "sig", "nan", "inf", "zero")}
        m.submodules.fpadd = core
        v = self.valid
        # no product: add -0 (the identity for every accumulator value, -0 included)
        f = {**f, "sign": Mux(v, f["sign"], 1), "zero": ~v | f["zero"], "nan": v & f["nan"],
             "inf": v & f["inf"]}
        if cfg.loop_pre >= 2:
            # a feed-forward register after the int product's sign-magnitude conversion
            f = dict(zip(f, _reg(m, list(f.values()), "conv")))
        m.d.comb += [getattr(core.product, x).eq(val) for x, val in f.items()]
        m.d.comb += core.acc.eq(base)
        return core.result

    # -- Kulisch: the carry chain in k slices ----------------------------------------------------
    def _kulisch(self, m, base):
        cfg = self.config
        K = cfg.kulisch
        W = K.width
        k = cfg.loop_stages
        v = self.valid
        if cfg.mul.is_int:
            aligned = Mux(v, self.value, 0)
            nan = pinf = ninf = Const(0, 1)
            if cfg.loop_pre >= 2:
                aligned = _reg(m, [aligned], "conv")[0]     # nothing to convert: a plain register
        else:
            p = self.p
            ssig, shift = kulisch_operand(m, cfg, p)   # as rtl.acc.KulischAlignAdd
            drop = p.nan | p.inf | ~v
            nan, pinf, ninf = v & p.nan, v & p.inf & ~p.sign, v & p.inf & p.sign
            if cfg.loop_pre >= 2:
                # a feed-forward register after the signed significand, before the shift
                ssig, shift, drop, nan, pinf, ninf = _reg(m, [ssig, shift, drop, nan, pinf, ninf], "conv")
            aligned = Signal(signed(K.aligned_width))
            m.d.comb += aligned.eq(Mux(drop, 0, ssig << shift))
        if cfg.loop_pre:
            # the feed-forward register after the alignment
            aligned, nan, pinf, ninf = _reg(m, [aligned, nan, pinf, ninf], "pre")
        # both operands sign-extended to W + 1 bits (the exact sum and its overflow bit)
        a_x = Signal(W + 1)
        b_x = Signal(W + 1)
        m.d.comb += [a_x.eq(base), b_x.eq(aligned)]   # both signed: sign-extended
        bounds = [round(i * (W + 1) / k) for i in range(k + 1)]
        done = []            # slices added so far (registered as they pass the cuts)
        carry = Const(0, 1)
        a_rest, b_rest = a_x, b_x
        flags = (nan, pinf, ninf)
        for i in range(k):
            w = bounds[i + 1] - bounds[i]
            s = Signal(w + 1, name=f"slice{i}")
            m.d.comb += s.eq(a_rest[:w] + b_rest[:w] + carry)
            done.append(s[:w])
            carry = s[w]
            a_rest, b_rest = a_rest[w:], b_rest[w:]
            if i < k - 1:
                # the loop register between slice i and i + 1
                regs = [Signal.like(x, name=f"cut{i}_{j}", reset_less=True)
                        for j, x in enumerate(done + [carry, a_rest, b_rest, *flags])]
                vals = done + [carry, a_rest, b_rest, *flags]
                m.d.sync += [r.eq(x) for r, x in zip(regs, vals)]
                n = len(done)
                done, carry, a_rest, b_rest = regs[:n], regs[n], regs[n + 1], regs[n + 2]
                flags = tuple(regs[n + 3:])
        full = Cat(*done)
        ovf = full[W] != full[W - 1]
        return full[:W], {"ovf": ovf, "ovf_neg": full[W], "nan": flags[0], "pinf": flags[1],
                          "ninf": flags[2]}

    def _flags(self, m, vd, cd, x):
        """Sticky Kulisch flags at the loop's output (rtl.acc.AccRegister's rules, with the valid
        and clear of the slot leaving the adder)."""
        for out, key in (("overflow", "ovf"), ("nan", "nan"), ("pinf", "pinf"), ("ninf", "ninf")):
            flag = Signal(name=f"{out}_q")
            m.d.comb += getattr(self, out).eq(flag)
            keep = Mux(cd, 0, flag)
            with m.If(vd):
                m.d.sync += flag.eq(keep | x[key])
            with m.Elif(cd):
                m.d.sync += flag.eq(0)
        first_neg = Signal()
        m.d.comb += self.overflow_neg.eq(first_neg)
        was = Mux(cd, 0, self.overflow)
        with m.If(vd):
            with m.If(~was & x["ovf"]):
                m.d.sync += first_neg.eq(x["ovf_neg"])
            with m.Elif(cd):
                m.d.sync += first_neg.eq(0)
        with m.Elif(cd):
            m.d.sync += first_neg.eq(0)
