"""MAC unit: exact multiplier + pipeline register(s) + accumulator, from one MacConfig.

Ports (all on the default `sync` domain, synchronous reset):
  a, b        In(in_fmt.bits)     operand codes
  valid_in    In(1)               multiply-accumulate this cycle's operands
  clear       In(1)               start a new accumulation with this cycle's product (travels down
                                  the pipeline with it; clear without valid_in zeroes the register)
  acc_out     Out(config.acc_width)   the accumulator register (int/Kulisch: two's complement;
                                  float: a code of acc.fmt)
  valid_out   Out(1)              high while acc_out shows the accumulation of a product that
                                  entered `config.latency` edges earlier
  Kulisch only: overflow, overflow_neg, nan, pinf, ninf (sticky since the last clear;
              overflow_neg = the first overflow went below the range; docs/DESIGN.md)
  loop_stages k > 1 only: acc_part Out(range(k)), the partial sum acc_out shows; the accumulator
              is then rtl.loopacc.LoopAccumulator (submodule `loopacc`: k interleaved partials)

Submodules, named for the paper's Fig. 3 area split (synthesis reports each):
  mpy       the multiplier and the `pipeline_stages` product registers (with valid/clear)
  alignadd  alignment and addition (float: the whole FpAddRound, incl. normalise and round)
  normacc   the accumulator register and flags
Semantics: the accumulators of rtl/acc.py, fed one exact product per cycle (docs/DESIGN.md).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.acc import KULISCH_FLAGS, _product_in, connect_parts, parts
from rtl.mul import Multiplier

_FIELDS = ("sign", "exp", "sig", "nan", "inf", "zero")


class MpyStage(wiring.Component):
    """Multiplier followed by `stages` registers of (product, valid, clear)."""

    def __init__(self, config: MacConfig):
        self.config = config
        mul = config.mul
        out = {k: v.flip() for k, v in _product_in(config).items()}
        super().__init__({"a": In(mul.fmt_a.bits), "b": In(mul.fmt_b.bits), "valid_in": In(1),
                          "clear_in": In(1), **out, "valid": Out(1), "clear": Out(1)})

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        m.submodules.mul = mul = Multiplier(cfg.mul)
        m.d.comb += [mul.a.eq(self.a), mul.b.eq(self.b)]
        is_int = cfg.mul.is_int
        if is_int:
            cur = {"value": mul.value}
        else:
            cur = {k: getattr(mul.p, k) for k in _FIELDS}
        cur["valid"], cur["clear"] = self.valid_in, self.clear_in
        # a loop-pipelined MAC may move one product register into its accumulator (after the
        # operand's alignment/normalisation): MacConfig.product_registers
        for s in range(getattr(cfg, "product_registers", cfg.pipeline_stages)):
            # valid/clear must reset (registers start at X); the product registers need no
            # reset (nothing reads them while valid is low), which saves a mux per bit
            nxt = {k: Signal.like(v, name=f"pipe{s}_{k}", reset_less=k not in ("valid", "clear"))
                   for k, v in cur.items()}
            for k, v in cur.items():
                m.d.sync += nxt[k].eq(v)
            cur = nxt
        outs = [self.valid.eq(cur["valid"]), self.clear.eq(cur["clear"])]
        if is_int:
            outs.append(self.value.eq(cur["value"]))
        else:
            outs += [getattr(self.p, k).eq(cur[k]) for k in _FIELDS]
        m.d.comb += outs
        return m


class Mac(wiring.Component):
    """Multiply-accumulate unit of `config` (see the module docstring for ports and timing)."""

    def __init__(self, config: MacConfig):
        # duck-typed: rtl.config imports this module (MacConfig.create), so this one cannot
        # import rtl.config back
        if not hasattr(config, "acc_width") or not hasattr(config, "pipeline_stages"):
            raise TypeError(f"Mac needs an rtl.config.MacConfig, not {type(config).__name__}")
        self.config = config
        fmt = config.in_fmt
        members = {"a": In(fmt.bits), "b": In(fmt.bits), "valid_in": In(1), "clear": In(1),
                   "acc_out": Out(config.acc_width), "valid_out": Out(1)}
        if config.acc.kind == "kulisch":
            members.update({k: Out(1) for k in KULISCH_FLAGS})
        if getattr(config, "loop_stages", 1) > 1:
            # which of the interleaved partial sums acc_out shows (rtl/loopacc.py)
            members["acc_part"] = Out(range(config.loop_stages))
        super().__init__(members)

    @property
    def latency(self) -> int:
        return self.config.latency

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        m.submodules.mpy = mpy = MpyStage(cfg)
        if getattr(cfg, "loop_stages", 1) > 1:
            return self._elaborate_loop(m, mpy)
        alignadd, normacc = parts(cfg)
        m.submodules.alignadd = alignadd
        m.submodules.normacc = normacc
        m.d.comb += [mpy.a.eq(self.a), mpy.b.eq(self.b), mpy.valid_in.eq(self.valid_in),
                     mpy.clear_in.eq(self.clear)]
        src = mpy.value if cfg.mul.is_int else mpy.p
        connect_parts(m, alignadd, normacc, src, mpy.valid, mpy.clear)
        m.d.comb += [self.acc_out.eq(normacc.acc), self.valid_out.eq(normacc.valid_out)]
        if normacc.kulisch:
            m.d.comb += [getattr(self, k).eq(getattr(normacc, k)) for k in KULISCH_FLAGS]
        return m

    def _elaborate_loop(self, m, mpy):
        """loop_stages > 1: the multiplier stage feeds a C-slow LoopAccumulator (rtl/loopacc.py)."""
        from rtl.loopacc import LoopAccumulator
        cfg = self.config
        m.submodules.loopacc = acc = LoopAccumulator(cfg)
        m.d.comb += [mpy.a.eq(self.a), mpy.b.eq(self.b), mpy.valid_in.eq(self.valid_in),
                     mpy.clear_in.eq(self.clear), acc.valid.eq(mpy.valid), acc.clear.eq(mpy.clear)]
        if cfg.mul.is_int:
            m.d.comb += acc.value.eq(mpy.value)
        else:
            m.d.comb += [getattr(acc.p, k).eq(getattr(mpy.p, k)) for k in _FIELDS]
        m.d.comb += [self.acc_out.eq(acc.acc), self.valid_out.eq(acc.valid_out),
                     self.acc_part.eq(acc.part)]
        if acc.kulisch:
            m.d.comb += [getattr(self, k).eq(getattr(acc, k)) for k in KULISCH_FLAGS]
        return m
