"""Reference arithmetic units for the energy model's calibration against Horowitz (ISSCC 2014).

Horowitz's table gives the energy of an 8/32-bit integer add and multiply and an FP16/FP32 add and
multiply at 45 nm; sim/horowitz.py synthesises these units, simulates them gate by gate and
compares. Each is a combinational wiring.Component with ports a, b (operand codes) and y:
    int_adder(bits)        y = a + b, two's complement, wrapping to `bits` bits
    int_multiplier(bits)   y = a * b, signed, the full 2*bits-bit product (or the low bits)
    fp_adder(f)            y = round_RNE_f(a + b), IEEE specials (rtl.fpadd.FpAddRound)
    fp_multiplier(f)       y = round_RNE_f(a * b), IEEE specials: an exact significand product
                           rounded by rtl.fpadd.FpAddRound with a +0 addend
REFERENCE_UNITS maps Horowitz's operation names (int8_add, ..., fp32_mul) to builders;
reference_unit(op) builds one.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import FloatFormat, parse_format
from rtl.config import ProductShape
from rtl.fpadd import FpAddRound


class IntAdd(wiring.Component):
    """Combinational bits-bit two's-complement adder, result wraps to `bits` bits."""

    def __init__(self, bits: int):
        self.bits = bits
        super().__init__({"a": In(bits), "b": In(bits), "y": Out(bits)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(self.a + self.b)
        return m


class IntMul(wiring.Component):
    """Combinational signed bits x bits multiplier; 2*bits-bit product (full) or the low `bits`."""

    def __init__(self, bits: int, full: bool = True):
        self.bits = bits
        super().__init__({"a": In(bits), "b": In(bits), "y": Out(2 * bits if full else bits)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(self.a.as_signed() * self.b.as_signed())
        return m


def int_adder(bits: int) -> IntAdd:
    return IntAdd(bits)


def int_multiplier(bits: int, full: bool = True) -> IntMul:
    return IntMul(bits, full)


def fp_fields(code, f: FloatFormat):
    """(sign, exp, sig, nan, inf, zero) of an IEEE-style code as amaranth values:
    value = (-1)^sign * sig * 2^exp, exp = unbiased exponent of the LSB (subnormals at emin)."""
    M, E = f.man_bits, f.exp_bits
    man, ex, sign = code[:M], code[M:M + E], code[M + E]
    allones = ex == (1 << E) - 1
    sub = ex == 0
    # LSB exponent: (e - bias) - M for normals, emin - M for subnormals; widen e by one zero bit
    # so that the subtraction is signed.
    exp = Mux(sub, f.emin - M, Cat(ex, Const(0, 1)).as_signed() - (f.bias + M))
    sig = Cat(man, ~sub)                       # hidden bit 1 unless subnormal
    return sign, exp, sig, allones & (man != 0), allones & (man == 0), sub & (man == 0)


class FpAdd(wiring.Component):
    """Combinational IEEE add a + b with one RNE rounding: rtl.fpadd.FpAddRound with b on its
    product port (the verified accumulator core)."""

    def __init__(self, f: FloatFormat):
        self.fmt = f
        lo, hi = f.emin - f.man_bits, f.emax - f.man_bits     # LSB exponents of b's codes
        width = max(lo.bit_length(), hi.bit_length()) + 1     # signed field holding [lo, hi]
        self.shape = ProductShape(sign=True, exp_width=width, exp_min=lo, sig_width=f.precision,
                                  exp_max=hi)
        super().__init__({"a": In(f.bits), "b": In(f.bits), "y": Out(f.bits)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = FpAddRound(self.fmt, self.shape)
        s, e, sig, nan, inf, zero = fp_fields(self.b, self.fmt)
        m.d.comb += [core.acc.eq(self.a), core.product.sign.eq(s), core.product.exp.eq(e),
                     core.product.sig.eq(sig), core.product.nan.eq(nan),
                     core.product.inf.eq(inf), core.product.zero.eq(zero),
                     self.y.eq(core.result)]
        return m


class FpMul(wiring.Component):
    """Combinational IEEE multiply a * b with one RNE rounding: an exact significand product
    (p x p unsigned, exponents added, IEEE specials) rounded by rtl.fpadd.FpAddRound with acc = +0
    (Yosys removes the constant-zero addend's logic)."""

    def __init__(self, f: FloatFormat):
        self.fmt = f
        self.shape = ProductShape.of(f, f)
        super().__init__({"a": In(f.bits), "b": In(f.bits), "y": Out(f.bits)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = FpAddRound(self.fmt, self.shape)
        sa, ea, ma, na, ia, za = fp_fields(self.a, self.fmt)
        sb, eb, mb, nb, ib, zb = fp_fields(self.b, self.fmt)
        m.d.comb += [core.acc.eq(0), core.product.sign.eq(sa ^ sb),
                     core.product.exp.eq(ea + eb), core.product.sig.eq(ma * mb),
                     # NaN if either is NaN or 0 x inf (IEEE).
                     core.product.nan.eq(na | nb | (ia & zb) | (ib & za)),
                     core.product.inf.eq((ia | ib) & ~(na | nb)),
                     core.product.zero.eq(za | zb),
                     self.y.eq(core.result)]
        return m


def fp_adder(f: FloatFormat) -> FpAdd:
    return FpAdd(f)


def fp_multiplier(f: FloatFormat) -> FpMul:
    return FpMul(f)


REFERENCE_UNITS = {
    "int8_add": lambda: IntAdd(8),
    "int8_mul": lambda: IntMul(8),
    "int32_add": lambda: IntAdd(32),
    "int32_mul": lambda: IntMul(32),
    "fp16_add": lambda: FpAdd(parse_format("fp16")),
    "fp16_mul": lambda: FpMul(parse_format("fp16")),
    "fp32_add": lambda: FpAdd(parse_format("fp32")),
    "fp32_mul": lambda: FpMul(parse_format("fp32")),
}


def reference_unit(op: str) -> wiring.Component:
    """The reference unit for one of Horowitz's operations (REFERENCE_UNITS)."""
    if op not in REFERENCE_UNITS:
        raise UnsupportedConfig(f"reference operation must be one of {', '.join(REFERENCE_UNITS)}, "
                                f"not {op!r}")
    return REFERENCE_UNITS[op]()
