"""Floating-point accumulator: a register of float format F plus `FpAddRound`, one product a cycle.

Contract (docs/DESIGN.md, "Accumulators", floating point): acc <- round_RNE_F(acc + p), the exact
sum rounded once per addition, subnormals kept, overflow -> +-inf, NaN/inf/zero-sign rules of
`rtl.fpadd`. The golden model is `hwmodel.numerics.acc_float(products, F)`.

Ports (all synchronous to the default `sync` domain; reset -> +0):
    product   In(rtl.mul.product_signature(shape)): the exact product (connect a Multiplier's `p`)
    valid     In(1): add `product` at this clock edge
    clear     In(1): restart at +0 at this clock edge. With `valid` also high, the new
              accumulation starts with this product: acc <- round(+0 + product)
    acc_out   Out(F.bits): the register (the sum of every product accepted so far)
Latency 1: a product sampled at edge t shows in `acc_out` after edge t.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import FloatFormat, parse_format
from rtl.shape import ProductShape
from rtl.fpadd import MUTANTS, FpAddRound, check_acc_format
from rtl.mul import product_signature


@dataclass(frozen=True)
class FpAccConfig:
    """A stand-alone FloatAccumulator (for its bench and for costing): accumulator format, the
    product shape it accepts and a label naming where the products come from.

    FpAccConfig.for_inputs("e4m3", "fp16"): products of two e4m3 codes;
    FpAccConfig.for_fixed(lsb_exp, width, "fp32"): a sign-magnitude fixed-point operand (a Kulisch
    or adder-tree sum of `width` magnitude bits at 2^lsb_exp).
    """

    acc_fmt: FloatFormat
    shape: ProductShape
    label: str
    mutant: str | None = None

    def __post_init__(self):
        try:
            fmt = parse_format(self.acc_fmt)
        except FormatError as exc:
            raise UnsupportedConfig(f"float accumulator format: {exc}") from None
        object.__setattr__(self, "acc_fmt", check_acc_format(fmt))
        if self.mutant not in MUTANTS:
            raise UnsupportedConfig(f"FloatAccumulator mutant must be one of {MUTANTS}, "
                                    f"not {self.mutant!r}")

    @classmethod
    def for_inputs(cls, in_fmt, acc_fmt, mutant: str | None = None) -> "FpAccConfig":
        from rtl.config import MulConfig
        mul = MulConfig(in_fmt, in_fmt)
        if mul.is_int:
            raise UnsupportedConfig(f"FpAccConfig.for_inputs takes a float input format, not "
                                    f"{mul.fmt_a.name!r}; use FpAccConfig.for_fixed(0, bits, ...)")
        return cls(acc_fmt, mul.product, mul.fmt_a.name, mutant)

    @classmethod
    def for_fixed(cls, lsb_exp: int, width: int, acc_fmt, mutant: str | None = None) -> "FpAccConfig":
        return cls(acc_fmt, ProductShape.fixed(lsb_exp, width), f"fix{width}l{lsb_exp}".replace("-", "m"),
                   mutant)

    @property
    def name(self) -> str:
        mut = f"_mut_{self.mutant}" if self.mutant else ""
        return f"fpacc_{self.label}_{self.acc_fmt.name}{mut}"

    @property
    def latency(self) -> int:
        return 1

    def create(self) -> "FloatAccumulator":
        """The FloatAccumulator this config describes."""
        return FloatAccumulator(self.acc_fmt, self.shape, self.mutant)


class FloatAccumulator(wiring.Component):
    """Register + FpAddRound (see module docstring). Arguments: acc_fmt (IEEE-style float F),
    shape (rtl.config.ProductShape of the product), mutant (None or "fpacc_rtz")."""

    def __init__(self, acc_fmt: FloatFormat, shape, mutant: str | None = None):
        self.fmt = check_acc_format(acc_fmt)
        self.shape = shape
        self.mutant = mutant
        self.core = FpAddRound(acc_fmt, shape, mutant)   # validates the mutant name
        super().__init__({
            "product": In(product_signature(shape)),
            "valid": In(1),
            "clear": In(1),
            "acc_out": Out(acc_fmt.bits),
        })

    @property
    def latency(self) -> int:
        return 1

    def elaborate(self, platform):
        m = Module()
        m.submodules.add_round = core = self.core
        reg = Signal(self.fmt.bits, init=0)       # +0 after reset
        wiring.connect(m, wiring.flipped(self.product), core.product)
        # clear and valid together: the addend is +0 instead of the register
        m.d.comb += core.acc.eq(Mux(self.clear, 0, reg))
        with m.If(self.valid):
            m.d.sync += reg.eq(core.result)
        with m.Elif(self.clear):
            m.d.sync += reg.eq(0)
        m.d.comb += self.acc_out.eq(reg)
        return m
