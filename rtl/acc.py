"""Accumulators that add one exact product per cycle: integer, Kulisch, float; Kulisch read-out.

Each accumulator is split the way the FP8-vs-INT8 paper's Fig. 3 splits its area:
  `alignadd`  combinational: (clear ? 0 : acc) + align(product), overflow/special detection
  `normacc`   the accumulator register and its sticky flags (plus, for floats, nothing else: the
              float normalise/round lives inside rtl.fpadd.FpAddRound, i.e. in `alignadd`)
`parts(config)` returns the two so that rtl.mac.Mac can instantiate them as its own submodules;
the classes below wrap the same two parts into one component with these ports:

  product in   int inputs: `value` (signed, config.mul.value_width bits);
               float inputs: `p` (rtl.mul.product_signature(config.mul.product)).
  valid  in    add this cycle's product.
  clear  in    start a new accumulation: acc <- 0 (+ this cycle's product when valid), flags <- 0.
  acc    out   the register: int/Kulisch two's complement W bits, float: a code of acc.fmt.
  Kulisch only: overflow, overflow_neg, nan, pinf, ninf (sticky since the last clear;
               overflow_neg: the first overflow went below the range).

Contracts (docs/DESIGN.md, "Accumulators"):
  int      acc <- wrap_W(acc + p) or clamp_W(acc + p) (mode "saturate"), W = acc.fmt.bits.
  Kulisch  acc <- wrap_W(acc + p * 2^-L), W = 2S-1+k+V, L = the lowest product exponent;
           `overflow` sets when an addition's exact result leaves [-2^(W-1), 2^(W-1)-1];
           NaN products set `nan`, +inf `pinf`, -inf `ninf`, and add nothing to the register.
  float    acc <- round_RNE_F(acc + p) (rtl.fpadd.FpAddRound, one rounding); starts at +0.
The register updates on the `sync` clock edge; synchronous reset clears everything (registers
start at X in gate-level simulation, so apply reset).

KulischReadout(W, L, F) rounds a Kulisch sum (with flags) to float format F once, RNE, using the
FP helper's FpAddRound with acc = +0 (the `kulisch_to_float` contract).
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import UnsupportedConfig
from rtl.shape import ProductShape
from rtl.mul import product_signature


# Sticky flags of a Kulisch accumulator (docs/DESIGN.md; hwmodel.accum.KulischResult's fields)
KULISCH_FLAGS = ("overflow", "overflow_neg", "nan", "pinf", "ninf")


def _product_in(config: MacConfig) -> dict:
    mul = config.mul
    if mul.is_int:
        return {"value": In(signed(mul.value_width) if mul.value_signed else unsigned(mul.value_width))}
    return {"p": In(product_signature(mul.product))}


# ---------------------------------------------------------------------------------------------
# alignadd parts (combinational)
# ---------------------------------------------------------------------------------------------
class IntAlignAdd(wiring.Component):
    """sum = wrap/clamp(acc_in + value), with acc_in = clear ? 0 : acc (W-bit two's complement)."""

    def __init__(self, config: MacConfig):
        self.config = config
        W = config.acc.fmt.bits
        super().__init__({**_product_in(config), "acc": In(signed(W)), "clear": In(1),
                          "sum": Out(signed(W))})

    def elaborate(self, platform):
        m = Module()
        W = self.config.acc.fmt.bits
        base = Mux(self.clear, 0, self.acc)
        # W+1 bits: the exact sum of two W-bit operands (the product is never wider than W)
        full = Signal(signed(W + 1))
        m.d.comb += full.eq(base + self.value)
        if self.config.acc.mode == "saturate":
            hi, lo = (1 << (W - 1)) - 1, -(1 << (W - 1))
            over = full[W] != full[W - 1]
            m.d.comb += self.sum.eq(Mux(over, Mux(full[W], lo, hi), full[:W]))
        else:
            m.d.comb += self.sum.eq(full[:W])
        return m


def kulisch_operand(m: Module, cfg: MacConfig, p):
    """The Kulisch alignment's two inputs from a float product p: the signed significand and the
    left-shift distance exp - L (Fig. 2a). Shared by KulischAlignAdd and rtl.loopacc."""
    shape: ProductShape = cfg.mul.product
    # signed significand: sig has 2*precision = 2S-2 bits, +1 sign bit = 2S-1 bits
    ssig = Signal(signed(cfg.kulisch.product_width))
    m.d.comb += ssig.eq(Mux(p.sign, -p.sig, p.sig))
    # shift distance exp - L in [0, k]: bits enough for k
    shift = Signal(range(cfg.kulisch.k + 1))
    m.d.comb += shift.eq(p.exp - shape.exp_min)
    if cfg.mutant == "kulisch_shift":
        # deliberately wrong (mutation check): one position short above the minimum exponent
        shift_used = Signal.like(shift)
        m.d.comb += shift_used.eq(Mux(shift != 0, shift - 1, 0))
        shift = shift_used
    return ssig, shift


class KulischAlignAdd(wiring.Component):
    """sum = wrap_W(acc_in + aligned product), ovf = the exact sum left the W-bit range.

    Float products: the signed significand (2S-1 bits) is shifted left by exp - L in [0, k]
    (paper Fig. 2a's widening left shift), giving the 2S-1+k-bit aligned product. NaN/inf products
    add 0 and raise their flag outputs. Int products are already at L = 0: no shift."""

    def __init__(self, config: MacConfig):
        self.config = config
        W = config.kulisch.width
        super().__init__({**_product_in(config), "acc": In(signed(W)), "clear": In(1),
                          "sum": Out(signed(W)), "ovf": Out(1), "ovf_neg": Out(1),
                          "nan": Out(1), "pinf": Out(1), "ninf": Out(1)})

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        K = cfg.kulisch
        W = K.width
        base = Mux(self.clear, 0, self.acc)
        if cfg.mul.is_int:
            aligned = self.value
        else:
            p = self.p
            ssig, shift = kulisch_operand(m, cfg, p)
            special = p.nan | p.inf
            # 2S-1+k bits: the widest aligned product
            aligned = Signal(signed(K.aligned_width))
            m.d.comb += aligned.eq(Mux(special, 0, ssig << shift))
            m.d.comb += [self.nan.eq(p.nan),
                         self.pinf.eq(p.inf & ~p.sign),
                         self.ninf.eq(p.inf & p.sign)]
        # W+1 bits: exact sum of the W-bit register and the (narrower) aligned product
        full = Signal(signed(W + 1))
        m.d.comb += [full.eq(base + aligned),
                     self.sum.eq(full[:W]),
                     self.ovf.eq(full[W] != full[W - 1]),
                     # the exact sum's sign: below the range when it overflows negative
                     self.ovf_neg.eq(full[W])]
        return m


class FloatAlignAdd(wiring.Component):
    """result = round_RNE_F((clear ? +0 : acc) + p) through rtl.fpadd.FpAddRound."""

    def __init__(self, config: MacConfig):
        self.config = config
        F = config.acc.fmt
        super().__init__({**_product_in(config), "acc": In(F.bits), "clear": In(1),
                          "sum": Out(F.bits)})

    def elaborate(self, platform):
        try:
            from rtl.fpadd import FpAddRound
        except ImportError as exc:  # pragma: no cover - rtl/fpadd.py is the FP helper's part
            raise UnsupportedConfig(f"a float accumulator needs rtl/fpadd.py ({exc})") from None
        m = Module()
        cfg = self.config
        mutant = cfg.mutant if cfg.mutant == "fpacc_rtz" else None
        if cfg.mul.is_int:
            # an integer product is the sign-magnitude value |v| * 2^0: a+b magnitude bits hold
            # every |a*b| (at most 2^(a+b-2) signed, < 2^(a+b) unsigned)
            w = cfg.mul.value_width
            core = FpAddRound(cfg.acc.fmt, ProductShape.fixed(0, w), mutant=mutant)
            v = self.value
            neg = v[w - 1] if cfg.mul.value_signed else Const(0, 1)
            fields = {"sign": neg, "exp": 0, "sig": Mux(neg, -v, v), "nan": 0, "inf": 0,
                      "zero": v == 0}
        else:
            core = FpAddRound(cfg.acc.fmt, cfg.mul.product, mutant=mutant)
            fields = {k: getattr(self.p, k) for k in ("sign", "exp", "sig", "nan", "inf", "zero")}
        m.submodules.fpadd = core
        m.d.comb += [core.acc.eq(Mux(self.clear, 0, self.acc)), self.sum.eq(core.result)]
        m.d.comb += [getattr(core.product, k).eq(v) for k, v in fields.items()]
        return m


# ---------------------------------------------------------------------------------------------
# normacc part (the register)
# ---------------------------------------------------------------------------------------------
class AccRegister(wiring.Component):
    """The accumulator register and its sticky flags (Kulisch: overflow, nan, pinf, ninf).

    On a clock edge: clear & ~valid -> acc <- 0, flags <- 0; valid -> acc <- sum, flags <-
    (clear ? 0 : flags) | this addition's flags; otherwise hold. `valid_out` is valid delayed one
    edge: high while `acc` shows a newly added product."""

    def __init__(self, width: int, kulisch: bool):
        self.width = width
        self.kulisch = kulisch
        members = {"sum": In(width), "valid": In(1), "clear": In(1),
                   "acc": Out(width), "valid_out": Out(1)}
        if kulisch:
            members.update({f"{k}_in": In(1) for k in ("ovf", "ovf_neg", "nan", "pinf", "ninf")})
            members.update({k: Out(1) for k in KULISCH_FLAGS})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        reg = Signal(self.width)
        vo = Signal()
        m.d.comb += [self.acc.eq(reg), self.valid_out.eq(vo)]
        m.d.sync += vo.eq(self.valid)
        with m.If(self.valid):
            m.d.sync += reg.eq(self.sum)
        with m.Elif(self.clear):
            m.d.sync += reg.eq(0)
        if self.kulisch:
            pairs = [("overflow", "ovf_in"), ("nan", "nan_in"), ("pinf", "pinf_in"), ("ninf", "ninf_in")]
            for out, inp in pairs:
                flag = Signal(name=f"{out}_q")
                m.d.comb += getattr(self, out).eq(flag)
                keep = Mux(self.clear, 0, flag)
                with m.If(self.valid):
                    m.d.sync += flag.eq(keep | getattr(self, inp))
                with m.Elif(self.clear):
                    m.d.sync += flag.eq(0)
            # overflow_neg: the direction of the FIRST overflow since the clear (golden contract)
            first_neg = Signal()
            m.d.comb += self.overflow_neg.eq(first_neg)
            was = Mux(self.clear, 0, self.overflow)
            with m.If(self.valid):
                with m.If(~was & self.ovf_in):
                    m.d.sync += first_neg.eq(self.ovf_neg_in)
                with m.Elif(self.clear):
                    m.d.sync += first_neg.eq(0)
            with m.Elif(self.clear):
                m.d.sync += first_neg.eq(0)
        return m


def parts(config: MacConfig) -> tuple[wiring.Component, AccRegister]:
    """(alignadd, normacc) for the accumulator of `config`."""
    kind = config.acc.kind
    if kind == "int":
        return IntAlignAdd(config), AccRegister(config.acc.fmt.bits, kulisch=False)
    if kind == "kulisch":
        return KulischAlignAdd(config), AccRegister(config.kulisch.width, kulisch=True)
    return FloatAlignAdd(config), AccRegister(config.acc.fmt.bits, kulisch=False)


def connect_parts(m: Module, alignadd, normacc, product_src, valid, clear) -> None:
    """Wire alignadd/normacc together with a product source (a `value` Signal or a `p` interface)."""
    comb = [alignadd.acc.eq(normacc.acc), alignadd.clear.eq(clear),
            normacc.sum.eq(alignadd.sum), normacc.valid.eq(valid), normacc.clear.eq(clear)]
    if hasattr(alignadd, "value"):
        comb.append(alignadd.value.eq(product_src))
    else:
        comb += [getattr(alignadd.p, k).eq(getattr(product_src, k))
                 for k in ("sign", "exp", "sig", "nan", "inf", "zero")]
    if normacc.kulisch:
        comb += [normacc.ovf_in.eq(alignadd.ovf), normacc.ovf_neg_in.eq(alignadd.ovf_neg)]
        if hasattr(alignadd, "nan"):
            comb += [normacc.nan_in.eq(alignadd.nan), normacc.pinf_in.eq(alignadd.pinf),
                     normacc.ninf_in.eq(alignadd.ninf)]
    m.d.comb += comb


class _Accumulator(wiring.Component):
    def __init__(self, config: MacConfig, kind: str):
        if config.acc.kind != kind:
            raise UnsupportedConfig(f"{type(self).__name__} needs a {kind} accumulator spec, "
                                    f"not {config.acc.kind!r}")
        self.config = config
        members = {**_product_in(config), "valid": In(1), "clear": In(1),
                   "acc": Out(config.acc_width), "valid_out": Out(1)}
        if kind == "kulisch":
            members.update({k: Out(1) for k in KULISCH_FLAGS})
        super().__init__(members)

    @property
    def latency(self) -> int:
        return 1

    def elaborate(self, platform):
        m = Module()
        alignadd, normacc = parts(self.config)
        m.submodules.alignadd = alignadd
        m.submodules.normacc = normacc
        src = self.value if hasattr(self, "value") else self.p
        connect_parts(m, alignadd, normacc, src, self.valid, self.clear)
        m.d.comb += [self.acc.eq(normacc.acc), self.valid_out.eq(normacc.valid_out)]
        if normacc.kulisch:
            m.d.comb += [getattr(self, k).eq(getattr(normacc, k)) for k in KULISCH_FLAGS]
        return m


class IntAccumulator(_Accumulator):
    """Two's-complement accumulator, wrap or saturate (config.acc: kind 'int')."""

    def __init__(self, config: MacConfig):
        super().__init__(config, "int")


class KulischAccumulator(_Accumulator):
    """Exact fixed-point accumulator of paper Fig. 2a (config.acc: kind 'kulisch')."""

    def __init__(self, config: MacConfig):
        super().__init__(config, "kulisch")


class FloatAccumulatorUnit(_Accumulator):
    """acc <- round_RNE_F(acc + p) (config.acc: kind 'float'), built on rtl.fpadd.FpAddRound."""

    def __init__(self, config: MacConfig):
        super().__init__(config, "float")


# ---------------------------------------------------------------------------------------------
# Kulisch read-out
# ---------------------------------------------------------------------------------------------
class KulischReadout(wiring.Component):
    """Combinational: code = kulisch_to_float(acc, L, flags, F): acc * 2^L rounded once (RNE).

    NaN if nan or (pinf and ninf); ±inf if one inf flag; overflow -> inf signed as the first
    overflow (overflow_neg); a zero sum reads +0.
    Ports: acc In(signed(W)), overflow/overflow_neg/nan/pinf/ninf In(1), code Out(F.bits)."""

    def __init__(self, width: int, lsb_exp: int, fmt):
        from rtl.fpadd import check_acc_format
        self.width, self.lsb_exp, self.fmt = width, lsb_exp, check_acc_format(fmt)
        super().__init__({"acc": In(signed(width)), "overflow": In(1), "overflow_neg": In(1), "nan": In(1),
                          "pinf": In(1), "ninf": In(1), "code": Out(self.fmt.bits)})

    def elaborate(self, platform):
        from rtl.fpadd import FpAddRound
        m = Module()
        W = self.width
        # |acc| needs W bits: |-2^(W-1)| = 2^(W-1)
        shape = ProductShape.fixed(self.lsb_exp, W)
        core = FpAddRound(self.fmt, shape)
        m.submodules.round = core
        neg = self.acc[W - 1]
        mag = Signal(W)
        m.d.comb += mag.eq(Mux(neg, -self.acc, self.acc))
        nan = self.nan | (self.pinf & self.ninf)
        inf = ~nan & (self.pinf | self.ninf | self.overflow)
        inf_neg = Mux(self.pinf | self.ninf, self.ninf, self.overflow_neg)
        m.d.comb += [core.acc.eq(0),
                     core.product.sign.eq(Mux(inf, inf_neg, neg)),
                     core.product.exp.eq(self.lsb_exp),
                     core.product.sig.eq(mag),
                     core.product.nan.eq(nan),
                     core.product.inf.eq(inf),
                     core.product.zero.eq(~nan & ~inf & (self.acc == 0)),
                     self.code.eq(core.result)]
        return m
