"""Exact multipliers: `Multiplier(MulConfig)` for any int or float format pair.

Contract (docs/DESIGN.md, "Products" and "RTL product port"):
  * int x int: `value` = a * b, full width (a.bits + b.bits), signed if either operand is signed;
  * float x float: the port `p` (signature `product_signature(shape)`) carries
        sign  = sign_a XOR sign_b (also for zeros; meaningless for NaN)
        exp   = (e_a - man_a) + (e_b - man_b), e the unbiased exponent, subnormals at emin
        sig   = sig_a * sig_b (hidden bit included; 0 for a zero operand)
        nan   = either is NaN, or 0 x inf
        inf   = either is inf and the product is not NaN
        zero  = either is zero and the product is neither NaN nor inf
    so that value = (-1)^sign * sig * 2^exp exactly. Special codes follow the format's
    NanEncoding: IEEE (all-ones exponent: inf / NaN), fn (S.1..1.1..1 NaN, no inf), fnuz (the
    negative-zero code is the NaN, no inf), none (all finite).
The multiplier is combinational (latency 0).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwmodel.formats import FloatFormat, NanEncoding
from rtl.shape import ProductShape


def product_signature(shape: ProductShape) -> wiring.Signature:
    """The product port (as seen from the producer: all members Out)."""
    return wiring.Signature({
        "sign": Out(1),
        "exp": Out(signed(shape.exp_width)),
        "sig": Out(unsigned(shape.sig_width)),
        "nan": Out(1),
        "inf": Out(1),
        "zero": Out(1),
    })


class FloatOperand:
    """Combinational field extraction of one float code (hardware decode, no rounding).

    Attributes after `elaborate_into(m, code)`: sign, nan, inf, zero (1 bit), sig (precision
    bits, hidden bit included), eeff (unsigned biased exponent with subnormals read as 1, so that
    e_unbiased = eeff - bias)."""

    def __init__(self, fmt: FloatFormat, prefix: str):
        self.fmt = fmt
        p = prefix
        self.sign = Signal(name=f"{p}_sign")
        self.nan = Signal(name=f"{p}_nan")
        self.inf = Signal(name=f"{p}_inf")
        self.zero = Signal(name=f"{p}_zero")
        self.sig = Signal(fmt.precision, name=f"{p}_sig")
        # exp_bits wide: subnormals read as field 1 (their exponent is emin = 1 - bias)
        self.eeff = Signal(max(fmt.exp_bits, 1), name=f"{p}_eeff")

    def elaborate_into(self, m: Module, code) -> None:
        f = self.fmt
        M, E = f.man_bits, f.exp_bits
        man = code[:M] if M else Const(0, 1)
        ef = code[M:M + E]
        sign = code[f.bits - 1] if f.signed else Const(0, 1)
        e_ones = ef == (1 << E) - 1
        m_zero = man == 0
        m_ones = man == (1 << M) - 1 if M else Const(1, 1)
        m.d.comb += self.sign.eq(sign)
        if f.nan is NanEncoding.IEEE:
            m.d.comb += [self.nan.eq(e_ones & ~m_zero), self.inf.eq(e_ones & m_zero)]
        elif f.nan is NanEncoding.ALL_ONES:
            m.d.comb += self.nan.eq(e_ones & m_ones)
        elif f.nan is NanEncoding.NEG_ZERO:
            m.d.comb += self.nan.eq(code == (1 << (f.bits - 1)))
        # NONE: no special codes
        if f.subnormals:
            e_zero = ef == 0
            hidden = ~e_zero
            # the fnuz NaN code also has e = 0, m = 0: it is NaN, not zero
            m.d.comb += [self.zero.eq(e_zero & m_zero & ~self.nan),
                         self.eeff.eq(Mux(e_zero, 1, ef))]
        else:
            hidden = Const(1, 1)   # field 0 is an ordinary binade: no zero exists
            m.d.comb += self.eeff.eq(ef)
        m.d.comb += self.sig.eq(Cat(man, hidden) if M else hidden)


class Multiplier(wiring.Component):
    """Exact combinational multiplier of `config.fmt_a` x `config.fmt_b` (see module docstring).

    Ports: a (fmt_a.bits), b (fmt_b.bits) in; int x int: `value` out; float x float: `p` out
    (product_signature(config.product))."""

    def __init__(self, config: MulConfig):
        # duck-typed: rtl.config imports this module (MulConfig.create), so this one cannot
        # import rtl.config back
        if not hasattr(config, "fmt_a") or not hasattr(config, "is_int"):
            raise TypeError(f"Multiplier needs an rtl.config.MulConfig, not {type(config).__name__}")
        self.config = config
        members = {"a": In(config.fmt_a.bits), "b": In(config.fmt_b.bits)}
        if config.is_int:
            shape = signed(config.value_width) if config.value_signed else unsigned(config.value_width)
            members["value"] = Out(shape)
        else:
            members["p"] = Out(product_signature(config.product))
        super().__init__(members)

    @property
    def latency(self) -> int:
        return 0

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        fa, fb = cfg.fmt_a, cfg.fmt_b
        if cfg.is_int:
            a = self.a.as_signed() if fa.signed else self.a
            b = self.b.as_signed() if fb.signed else self.b
            m.d.comb += self.value.eq(a * b)
            return m
        oa, ob = FloatOperand(fa, "a"), FloatOperand(fb, "b")
        oa.elaborate_into(m, self.a)
        ob.elaborate_into(m, self.b)
        nan = oa.nan | ob.nan | (oa.inf & ob.zero) | (oa.zero & ob.inf)
        inf = (oa.inf | ob.inf) & ~nan
        shape = cfg.product
        # exp = (eeff_a - bias_a - man_a) + (eeff_b - bias_b - man_b): one unsigned add of the
        # fields plus a constant, so synthesis needs a single (E+1)-bit adder and a constant offset.
        offset = -(fa.bias + fa.man_bits) - (fb.bias + fb.man_bits)
        esum = Signal(max(fa.exp_bits, fb.exp_bits) + 1)
        m.d.comb += [
            esum.eq(oa.eeff + ob.eeff),
            self.p.sign.eq(oa.sign ^ ob.sign),
            self.p.exp.eq(esum + offset),
            self.p.sig.eq(oa.sig * ob.sig),
            self.p.nan.eq(nan),
            self.p.inf.eq(inf),
            self.p.zero.eq((oa.zero | ob.zero) & ~nan & ~inf),
        ]
        return m
