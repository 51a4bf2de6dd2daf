"""Dot-product unit of N: N exact multipliers, an exact adder tree, one accumulation per cycle.

Contract (docs/DESIGN.md, "Accumulators", dot-product unit; golden model
`hwmodel.numerics.dot_unit_accumulate`): each valid cycle takes N operand pairs and does
    float accumulator F:  acc <- round_RNE_F(acc + sum_{i<N} a_i * b_i)
                          the N exact products summed exactly (fixed point at the products' lowest
                          LSB exponent) and added to the accumulator with ONE rounding;
    int accumulator:      acc <- acc + sum_{i<N} a_i * b_i, two's complement, wrap or saturate.
NaN/inf: any NaN product, or +inf and -inf products in the same group, make the group NaN; else any
inf product makes it inf of that sign; a group of only zero products is a zero, -0 only if every
product is -0 (then (-0) + (-0) = -0 as for the MAC); products that cancel exactly give +0.

Ports (default `sync` domain, synchronous reset -> accumulator +0 / 0):
    a, b       In(ArrayLayout(in_fmt.bits, N)): lane i occupies bits [i*bits, (i+1)*bits)
    valid_in   In(1): accumulate this group
    clear      In(1): restart at zero with this group (with valid_in) or to zero (without)
    acc_out    Out(acc bits), valid_out Out(1): valid_out is valid_in delayed by `latency`
Latency = pipeline_stages (registers after the adder tree) + 1 (the accumulator register).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import Format
from rtl.config import AccSpec, MacConfig, MulConfig, ProductShape

# Widest exact adder tree we build: the aligned span of one product grows with the input format's
# exponent range (FP16 inputs: 80 bits; BF16 inputs would need ~520 bits per lane).
MAX_TREE_BITS = 256
MAX_N = 256


@dataclass(frozen=True)
class DotConfig:
    """A dot-product unit: N lanes of in_fmt x in_fmt, adder tree, accumulator `acc`.

    acc: AccSpec or its CLI string (float: 'fp16', 'bf16', 'fp32', eXmY; int: 'int32', 'int32:sat').
    """

    in_fmt: Format
    acc: AccSpec
    n: int = 4
    pipeline_stages: int = 1
    mutant: str | None = None

    def __post_init__(self):
        if not isinstance(self.n, int) or not 1 <= self.n <= MAX_N:
            raise UnsupportedConfig(f"dot-product lanes N must be an int in 1..{MAX_N}, not {self.n!r}")
        if not isinstance(self.pipeline_stages, int) or not 0 <= self.pipeline_stages <= 1:
            raise UnsupportedConfig(f"dot-product pipeline stages must be 0 or 1, "
                                    f"not {self.pipeline_stages!r}")
        # MacConfig validates the format, the accumulator spec and the pairing once for both units.
        mac = MacConfig(self.in_fmt, self.acc, 1, self.mutant)
        object.__setattr__(self, "in_fmt", mac.in_fmt)
        object.__setattr__(self, "acc", mac.acc)
        if mac.acc.kind == "kulisch":
            raise UnsupportedConfig("a dot-product unit with a Kulisch accumulator is not built yet; "
                                    "use a float accumulator (fp16, bf16, fp32) or a MAC unit")
        if not self.mul.is_int and self.tree_lane_bits > MAX_TREE_BITS:
            raise UnsupportedConfig(
                f"the exact adder tree of {mac.in_fmt.name} products needs {self.tree_lane_bits} "
                f"bits per lane, more than {MAX_TREE_BITS}; use a MAC unit for this format")

    @property
    def mul(self) -> MulConfig:
        return MulConfig(self.in_fmt, self.in_fmt)

    @property
    def tree_lane_bits(self) -> int:
        """Bits of one product aligned to the lowest product LSB: sig_width + (exp_max - exp_min)."""
        s = self.mul.product
        return s.sig_width + (s.exp_max - s.exp_min)

    @property
    def tree_width(self) -> int:
        """Signed bits of the exact tree sum: lane magnitude + sign + ceil(log2 N) carries (int
        lanes also get a sign bit, so that unsigned products add as nonnegative terms)."""
        lane = (self.mul.value_width if self.mul.is_int else self.tree_lane_bits) + 1
        return lane + (self.n - 1).bit_length()

    @property
    def sum_shape(self) -> ProductShape | None:
        """Float accumulator: the tree sum on the FpAddRound operand port (sign-magnitude, the
        magnitude of a tree_width-bit two's-complement sum fits tree_width bits). Int: None."""
        if self.acc.kind != "float":
            return None
        lsb = 0 if self.mul.is_int else self.mul.product.exp_min
        return ProductShape.fixed(lsb, self.tree_width)

    @property
    def acc_width(self) -> int:
        return self.acc.fmt.bits

    @property
    def name(self) -> str:
        mut = f"_mut_{self.mutant}" if self.mutant else ""
        acc = self.acc.fmt.name + ("sat" if self.acc.kind == "int" and self.acc.mode == "saturate" else "")
        return f"dot{self.n}_{self.in_fmt.name}_{acc}_p{self.pipeline_stages}{mut}"

    @property
    def latency(self) -> int:
        return self.pipeline_stages + 1

    def create(self) -> "DotUnit":
        """The DotUnit this config describes."""
        return DotUnit(self)


def adder_tree(m: Module, terms: list, width: int, name: str):
    """Balanced tree sum of signed `terms` into a signed(width) Signal (width must hold the sum)."""
    level = 0
    while len(terms) > 1:
        nxt = []
        for i in range(0, len(terms) - 1, 2):
            s = Signal(signed(width), name=f"{name}_l{level}_{i // 2}")
            m.d.comb += s.eq(terms[i] + terms[i + 1])
            nxt.append(s)
        if len(terms) % 2:
            nxt.append(terms[-1])
        terms, level = nxt, level + 1
    out = Signal(signed(width), name=f"{name}_sum")
    m.d.comb += out.eq(terms[0])
    return out


class DotUnit(wiring.Component):
    """See the module docstring. Argument: a DotConfig."""

    def __init__(self, config: DotConfig):
        if not isinstance(config, DotConfig):
            raise UnsupportedConfig(f"DotUnit needs a DotConfig, not {type(config).__name__}")
        self.config = config
        bits = config.in_fmt.bits
        super().__init__({
            "a": In(data.ArrayLayout(unsigned(bits), config.n)),
            "b": In(data.ArrayLayout(unsigned(bits), config.n)),
            "valid_in": In(1),
            "clear": In(1),
            "acc_out": Out(config.acc_width),
            "valid_out": Out(1),
        })

    @property
    def latency(self) -> int:
        return self.config.latency

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        muls = []
        for i in range(cfg.n):
            mul = cfg.mul.create()
            m.submodules[f"mul{i}"] = mul
            m.d.comb += [mul.a.eq(self.a[i]), mul.b.eq(self.b[i])]
            muls.append(mul)
        W = cfg.tree_width
        if cfg.mul.is_int:
            total = adder_tree(m, [mul.value for mul in muls], W, "tree")
            if cfg.acc.kind == "int":
                self._int_acc(m, total)
            else:
                # int products into a float accumulator: the exact integer sum at exponent 0
                smag = Signal(W)
                m.d.comb += smag.eq(Mux(total[-1], -total, total))
                self._round_acc(m, smag, Const(0, 1), Const(0, 1), total[-1], smag == 0)
        else:
            self._float_tree(m, muls, W)
        return m

    # -- pipeline helper: register `sigs` (and valid/clear) pipeline_stages times ----------------
    def _stage(self, m, sigs):
        valid, clear = self.valid_in, self.clear
        for k in range(self.config.pipeline_stages):
            regs = []
            for s in sigs:
                r = Signal.like(s, name=f"{s.name}_p{k}")
                m.d.sync += r.eq(s)
                regs.append(r)
            v, c = Signal(name=f"valid_p{k}"), Signal(name=f"clear_p{k}")
            m.d.sync += [v.eq(valid), c.eq(clear)]
            sigs, valid, clear = regs, v, c
        return sigs, valid, clear

    def _int_acc(self, m, total):
        cfg = self.config
        fmt = cfg.acc.fmt
        (total,), valid, clear = self._stage(m, [total])
        reg = Signal(signed(fmt.bits), init=0)
        base = Mux(clear, 0, reg)
        wide = Signal(signed(max(fmt.bits, len(total)) + 1))   # exact acc + sum, no overflow
        m.d.comb += wide.eq(base + total)
        if cfg.acc.mode == "saturate":
            hi, lo = fmt.max_int, fmt.min_int
            nxt = Mux(wide > hi, hi, Mux(wide < lo, lo, wide))
        else:
            nxt = wide                                          # wraps when truncated to the register
        with m.If(valid):
            m.d.sync += reg.eq(nxt)
        with m.Elif(clear):
            m.d.sync += reg.eq(0)
        vo = Signal()
        m.d.sync += vo.eq(valid)
        m.d.comb += [self.acc_out.eq(reg), self.valid_out.eq(vo)]

    def _float_tree(self, m, muls, W):
        cfg = self.config
        pshape = cfg.mul.product
        span = pshape.exp_max - pshape.exp_min
        lane = cfg.tree_lane_bits
        terms = []
        any_nan, any_pinf, any_ninf = Const(0, 1), Const(0, 1), Const(0, 1)
        all_zero, all_neg = Const(1, 1), Const(1, 1)
        for i, mul in enumerate(muls):
            p = mul.p
            # align to the lowest product LSB: shift left by exp - exp_min in [0, span]
            sh = Signal(max(1, span.bit_length()), name=f"align{i}")
            m.d.comb += sh.eq(p.exp - pshape.exp_min)
            mag = Signal(lane, name=f"aligned{i}")
            finite = ~(p.nan | p.inf)   # a special product's sig is not a value: keep it out
            m.d.comb += mag.eq(Mux(finite, (p.sig << sh)[:lane], 0))
            term = Signal(signed(lane + 1), name=f"term{i}")
            m.d.comb += term.eq(Mux(p.sign, -mag, mag))
            terms.append(term)
            any_nan = any_nan | p.nan
            any_pinf = any_pinf | (p.inf & ~p.sign)
            any_ninf = any_ninf | (p.inf & p.sign)
            all_zero = all_zero & p.zero
            all_neg = all_neg & p.sign
        total = adder_tree(m, terms, W, "tree")
        neg = total[-1]
        smag = Signal(W)                   # |sum| of a W-bit two's-complement value fits W bits
        m.d.comb += smag.eq(Mux(neg, -total, total))
        self._round_acc(
            m, smag, any_nan | (any_pinf & any_ninf), any_pinf | any_ninf,
            # sign: of the inf, of an all-(-0) group, else of the sum (+0 on exact cancellation)
            Mux(any_pinf | any_ninf, any_ninf, Mux(all_zero, all_neg, neg)), smag == 0)

    def _round_acc(self, m, smag, nan, inf, sign, zero):
        """Pipeline the group sum (sign-magnitude + flags), then acc <- round(acc + sum)."""
        from rtl.fpadd import FpAddRound

        cfg = self.config
        g_nan, g_inf, g_sign, g_zero = Signal(), Signal(), Signal(), Signal()
        m.d.comb += [g_nan.eq(nan), g_inf.eq(inf), g_sign.eq(sign), g_zero.eq(zero)]
        (smag, g_nan, g_inf, g_sign, g_zero), valid, clear = self._stage(
            m, [smag, g_nan, g_inf, g_sign, g_zero])

        sshape = cfg.sum_shape
        core = FpAddRound(cfg.acc.fmt, sshape, cfg.mutant if cfg.mutant == "fpacc_rtz" else None)
        m.submodules.add_round = core
        reg = Signal(cfg.acc.fmt.bits, init=0)
        m.d.comb += [
            core.acc.eq(Mux(clear, 0, reg)),
            core.product.sign.eq(g_sign),
            core.product.exp.eq(sshape.exp_min),
            core.product.sig.eq(smag),
            core.product.nan.eq(g_nan),
            core.product.inf.eq(g_inf),
            core.product.zero.eq(g_zero),
        ]
        with m.If(valid):
            m.d.sync += reg.eq(core.result)
        with m.Elif(clear):
            m.d.sync += reg.eq(0)
        vo = Signal()
        m.d.sync += vo.eq(valid)
        m.d.comb += [self.acc_out.eq(reg), self.valid_out.eq(vo)]
