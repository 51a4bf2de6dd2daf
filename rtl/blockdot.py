"""Block-scaled dot-product unit: `lanes` element products a cycle, exact block sum, scale, accumulate.

Contract (golden model `hwmodel.blockscaled.block_dot_steps`, whose docstring states it): for
operands in block formats (elements elem_a / elem_b, one scale code per block of `block_size`
elements along the dot axis),
    S_j = sum of the block's element products      exact (fixed point at the products' lowest LSB)
    V_j = S_j * sa_j * sb_j                        exact (power-of-two scales: an exponent add;
                                                   float scales: a small significand multiplier)
    float accumulator F:  acc <- RN_F(acc + V_j), ONE rounding per block (rtl.fpadd.FpAddRound)
    Kulisch:              acc <- acc + V_j in a W-bit two's-complement register (power-of-two
                          scales; W and the LSB from hwmodel.blockscaled.block_kulisch_spec),
                          sticky nan / pinf / ninf / overflow / overflow_neg flags
with the specials of the golden model (a NaN scale code makes its block NaN, NaN / inf products,
inf x zero scale = NaN).

Timing: a block takes beats = block_size / lanes valid cycles (`valid_in` high); lane i of beat t
carries elements t * lanes + i of the block. The scale codes `sa`, `sb` are sampled on the beat
that ends a block (the unit counts beats itself). `clear` with `valid_in` starts a new dot
product with this beat (the accumulator restarts at zero); `clear` alone zeroes the accumulator
and the beat count. With `valid_in` low nothing changes (idle cycles may fall anywhere, also in the
middle of a block). `valid_out` rises for one cycle `latency` (= 1) clock edges after the beat
that ends a block, with `acc_out` holding the accumulation through that block.

Ports (default `sync` domain, synchronous reset -> accumulator 0, beat count 0):
    a, b        In(ArrayLayout(elem bits, lanes))
    sa, sb      In(scale bits)
    valid_in, clear  In(1)
    acc_out     Out(F.bits) (float) or Out(signed(W)) (Kulisch); valid_out Out(1)
    Kulisch only: nan, pinf, ninf, overflow, overflow_neg Out(1)
Submodules (they name the parts of a synthesis split): mul0..mul{lanes-1} the element
multipliers, `tree` the aligned adder tree and the block-sum register, `scale` the scale path
(exponent adder; shifter for Kulisch; significand multipliers for float scales), `acc` the
accumulator (float: FpAddRound + register; Kulisch: adder + register + flags).

BlockDotArrayConfig(unit, rows, cols, skew=False).create() is an R x C output-stationary array of
these units (BlockDotArray): broadcast row / column operands by default, or (skew=True) a systolic
array with input skew, forwarding registers and a drain port like rtl.array.MacArray;
`split_area` sums a unit's synthesis areas into PARTS.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwmodel import blockscaled as BS
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import FixedFormat, FloatFormat, IntFormat, parse_format, parse_scale
from hwmodel.numerics import AccSpec, parse_acc
from rtl.config import MulConfig
from rtl.shape import ProductShape, signed_bits
from rtl.mul import FloatOperand, Multiplier, product_signature

# The deliberately wrong variants that prove the block bench can fail (as rtl.config.MUTANTS).
BLOCKDOT_MUTANTS = {
    "scale_carry": "the scale path's exponent adder drops its carry (the sum of the two scale "
                   "exponent fields wraps at the width of one field)",
    "shift_msb": "the Kulisch shifter lacks its largest stage (the top bit of the shift distance "
                 "is ignored, so shifts of 2^(bits-1) or more come out short)",
}
MAX_LANES = 256
# The parts of a synthesis split (rtl.synth's area_by_part keys -> part): see `split_area`.
PARTS = ("multipliers", "adder_tree", "scale_path", "accumulator", "control")
# The Kulisch block register's sticky flags, in port order.
KULISCH_FLAGS = ("nan", "pinf", "ninf", "overflow", "overflow_neg")


def split_area(area_by_part: dict) -> dict:
    """A BlockDotUnit's submodule areas summed into PARTS: mul* -> multipliers, tree -> adder_tree,
    scale -> scale_path, acc -> accumulator, the top's own cells (beat counter) -> control."""
    out = dict.fromkeys(PARTS, 0.0)
    names = {"tree": "adder_tree", "scale": "scale_path", "acc": "accumulator"}
    for name, a in area_by_part.items():
        base = name.split("$")[0]          # amaranth may suffix a submodule name that is taken
        part = "multipliers" if base.startswith("mul") else names.get(base, "control")
        out[part] += a
    return out
MAX_KULISCH_BITS = 1200


def _scale_bits(s) -> int:
    return s.bits


def _elem(fmt, what):
    try:
        f = parse_format(fmt)
    except FormatError as exc:
        raise UnsupportedConfig(f"{what}: {exc}") from None
    if not isinstance(f, (IntFormat, FixedFormat, FloatFormat)):
        raise UnsupportedConfig(f"{what} must be a scalar int, fixed or float format, not {f.name!r}")
    return f


def _scale(fmt, what):
    if BS._is_pow2_class(fmt):
        return fmt
    try:
        f = parse_scale(fmt)
    except FormatError as exc:
        raise UnsupportedConfig(f"{what}: {exc}") from None
    if not isinstance(f, FloatFormat) and not BS._is_pow2_class(f):
        raise UnsupportedConfig(f"{what} must be a float format (e8m0, ue4m3, bf16, fp32) or a "
                                f"power-of-two shift, not {f.name!r}")
    return f


def _mul_fmt(f):
    """The multiplier's view of an element: fixed point multiplies as the integer of its code."""
    return IntFormat(f.bits, f.signed) if isinstance(f, FixedFormat) else f


@dataclass(frozen=True)
class BlockDotConfig:
    """A block-scaled dot-product unit (see the module docstring).

    elem_a, elem_b: element formats (elem_b None: as elem_a); scale_a, scale_b: scale formats
    (scale_b None: as scale_a); block_size along the dot axis; lanes element products a cycle
    (block_size must be a multiple of lanes); acc: float (fp32, fp16, bf16) or Kulisch (power-of-two
    scales only); mutant: None or a key of BLOCKDOT_MUTANTS.
    """

    elem_a: object
    scale_a: object
    block_size: int = 32
    lanes: int = 8
    acc: AccSpec = "fp32"
    elem_b: object = None
    scale_b: object = None
    mutant: str | None = None

    def __post_init__(self):
        ea = _elem(self.elem_a, "block element format a")
        eb = ea if self.elem_b is None else _elem(self.elem_b, "block element format b")
        sa = _scale(self.scale_a, "block scale format a")
        sb = sa if self.scale_b is None else _scale(self.scale_b, "block scale format b")
        for k, v in (("elem_a", ea), ("elem_b", eb), ("scale_a", sa), ("scale_b", sb)):
            object.__setattr__(self, k, v)
        if isinstance(ea, FloatFormat) != isinstance(eb, FloatFormat):
            raise UnsupportedConfig(f"block elements must be both int/fixed or both float, not "
                                    f"{ea.name!r} x {eb.name!r}")
        for what, v, hi in (("block size", self.block_size, 65536), ("lanes", self.lanes, MAX_LANES)):
            if not isinstance(v, int) or not 1 <= v <= hi:
                raise UnsupportedConfig(f"{what} must be an int in 1..{hi}, not {v!r}")
        if self.block_size % self.lanes:
            raise UnsupportedConfig(f"block size must be a multiple of the lanes, not "
                                    f"{self.block_size} with {self.lanes} lanes")
        acc = self.acc if isinstance(self.acc, AccSpec) else parse_acc(self.acc)
        object.__setattr__(self, "acc", acc)
        if self.mutant is not None and self.mutant not in BLOCKDOT_MUTANTS:
            raise UnsupportedConfig(f"mutant must be one of {sorted(BLOCKDOT_MUTANTS)}, not "
                                    f"{self.mutant!r}")
        if self.mutant == "shift_msb" and acc.kind != "kulisch":
            raise UnsupportedConfig("mutant 'shift_msb' needs a Kulisch accumulator (only its "
                                    f"scale path has a shifter), not {acc.name!r}")
        if acc.kind == "float":
            from rtl.fpadd import check_acc_format
            check_acc_format(acc.fmt)
        elif acc.kind == "kulisch":
            k = self.kulisch                  # raises for scales that are not powers of two
            if k.width > MAX_KULISCH_BITS:
                raise UnsupportedConfig(f"the Kulisch register of this block format needs "
                                        f"{k.width} bits, more than {MAX_KULISCH_BITS}")
        else:
            raise UnsupportedConfig(f"a block dot unit accumulates into fp32/fp16/bf16 or kulisch, "
                                    f"not {acc.name!r}")
        for s in (sa, sb):
            if isinstance(s, FloatFormat) and s.precision > 24:
                raise UnsupportedConfig(f"scale {s.name} has {s.precision} significand bits; the "
                                        "scale multiplier takes at most 24 (fp32)")

    @classmethod
    def of(cls, fmt_a, fmt_b=None, acc="fp32", lanes: int = 8, mutant=None) -> "BlockDotConfig":
        """From block formats (hwmodel.formats.BlockFormat or its spec string)."""
        fa = parse_format(fmt_a) if isinstance(fmt_a, str) else fmt_a
        fb = fa if fmt_b is None else (parse_format(fmt_b) if isinstance(fmt_b, str) else fmt_b)
        for f in (fa, fb):
            if not hasattr(f, "block_size"):
                raise UnsupportedConfig(f"a block dot unit needs block formats, not {f.name!r}")
        if fa.block_size != fb.block_size:
            raise UnsupportedConfig(f"both operands need one block size, not {fa.block_size} and "
                                    f"{fb.block_size}")
        return cls(fa.element, fa.scale, fa.block_size, lanes, acc, fb.element, fb.scale, mutant)

    # -- the golden model's view -------------------------------------------------------------
    @property
    def golden_a(self):
        """An object with the block-format fields hwmodel.blockscaled reads (element, scale,
        block_size), for the golden model of this unit."""
        return SimpleNamespace(element=self.elem_a, scale=self.scale_a, block_size=self.block_size)

    @property
    def golden_b(self):
        return SimpleNamespace(element=self.elem_b, scale=self.scale_b, block_size=self.block_size)

    # -- derived widths ----------------------------------------------------------------------
    @property
    def mul(self) -> MulConfig:
        return MulConfig(_mul_fmt(self.elem_a), _mul_fmt(self.elem_b))

    @property
    def beats(self) -> int:
        return self.block_size // self.lanes

    @property
    def elem_lsb(self) -> int:
        """Exponent of the LSB of the aligned products (the lowest product LSB)."""
        return BS._elem_lsb(self.elem_a) + BS._elem_lsb(self.elem_b)

    @property
    def lane_bits(self) -> int:
        """Magnitude bits of one aligned product: int: a.bits + b.bits (signed value port);
        float: sig_width + (exp_max - exp_min), the widest product shifted to the lowest LSB."""
        if self.mul.is_int:
            return self.mul.value_width
        s = self.mul.product
        return s.sig_width + (s.exp_max - s.exp_min)

    @property
    def sum_bits(self) -> int:
        """Signed bits of the block sum S (hwmodel.blockscaled.block_sum_bits: the one derivation)."""
        return BS.block_sum_bits(self.elem_a, self.elem_b, self.block_size)

    @property
    def scale_pow2(self) -> bool:
        return BS.is_pow2_scale(self.scale_a) and BS.is_pow2_scale(self.scale_b)

    def _lsb_range(self, s) -> tuple[int, int]:
        """Range of the scale's LSB exponent (value = sig * 2^lsb)."""
        if BS.is_pow2_scale(s):
            return BS.pow2_scale_range(s)
        return s.emin - s.man_bits, s.emax - s.man_bits

    @property
    def scale_sig_bits(self) -> int:
        """Bits of the scale significand product (0 extra bits for power-of-two scales)."""
        bits = 0
        for s in (self.scale_a, self.scale_b):
            if not BS.is_pow2_scale(s):
                bits += s.precision
        return bits

    @property
    def value_shape(self) -> ProductShape:
        """The block value V = |S| * sig_a * sig_b * 2^exp on the FpAddRound operand port."""
        (la, ha), (lb, hb) = self._lsb_range(self.scale_a), self._lsb_range(self.scale_b)
        lo, hi = self.elem_lsb + la + lb, self.elem_lsb + ha + hb
        # |S| of a sum_bits-bit two's-complement value fits sum_bits bits
        return ProductShape(True, signed_bits(lo, hi), lo, self.sum_bits + self.scale_sig_bits, hi)

    @property
    def kulisch(self) -> BS.BlockKulischSpec:
        return BS.block_kulisch_spec(self.golden_a, self.golden_b, self.acc.guard_bits)

    @property
    def acc_width(self) -> int:
        return self.kulisch.width if self.acc.kind == "kulisch" else self.acc.fmt.bits

    @property
    def name(self) -> str:
        def sname(s):
            return s.name
        parts = [f"bdot{self.lanes}", self.elem_a.name]
        if self.elem_b != self.elem_a:
            parts.append(self.elem_b.name)
        parts.append(sname(self.scale_a))
        if self.scale_b != self.scale_a:
            parts.append(sname(self.scale_b))
        acc = self.kulisch.name if self.acc.kind == "kulisch" else self.acc.fmt.name
        parts += [f"k{self.block_size}", acc]
        if self.mutant:
            parts.append(f"mut_{self.mutant}")
        return "_".join(parts)

    @property
    def latency(self) -> int:
        """Clock edges from the beat that ends a block to acc_out showing it: the acc register."""
        return 1

    def create(self) -> "BlockDotUnit":
        return BlockDotUnit(self)


@dataclass(frozen=True)
class BlockReadoutConfig:
    """The read-out of a Kulisch block dot unit's register: acc * 2^lsb_exp (unit.kulisch) and the
    five sticky flags rounded once, to nearest even, into the float format out_fmt
    (rtl.acc.KulischReadout, combinational; golden hwmodel.accum.kulisch_to_float with the
    unit's hwmodel.blockscaled.BlockKulischSpec)."""

    unit: BlockDotConfig
    out_fmt: object = "fp32"

    def __post_init__(self):
        if not isinstance(self.unit, BlockDotConfig) or self.unit.acc.kind != "kulisch":
            raise UnsupportedConfig(f"a block read-out needs a Kulisch BlockDotConfig, not "
                                    f"{self.unit!r}")
        from rtl.fpadd import check_acc_format
        try:
            out = parse_format(self.out_fmt)
        except FormatError as exc:
            raise UnsupportedConfig(f"block read-out format: {exc}") from None
        object.__setattr__(self, "out_fmt", check_acc_format(out))

    @property
    def kulisch(self) -> BS.BlockKulischSpec:
        return self.unit.kulisch

    @property
    def name(self) -> str:
        return f"bread_{self.unit.name}_{self.out_fmt.name}"

    @property
    def latency(self) -> int:
        return 0     # combinational

    def create(self):
        from rtl.acc import KulischReadout
        k = self.kulisch
        return KulischReadout(k.width, k.lsb_exp, self.out_fmt)


# ---------------------------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------------------------
class BlockSum(wiring.Component):
    """Aligned adder tree of one beat's products plus the block-sum register.

    total = (first ? 0 : held sum) + sum of this beat's aligned products (exact, signed sum_bits);
    nan / pinf / ninf likewise over the block so far. `load` stores total and the flags."""

    def __init__(self, config: BlockDotConfig):
        self.config = config
        cfg = config
        members = {"first": In(1), "load": In(1),
                   "total": Out(signed(cfg.sum_bits)), "nan": Out(1), "pinf": Out(1), "ninf": Out(1)}
        for i in range(cfg.lanes):
            if cfg.mul.is_int:
                members[f"v{i}"] = In(signed(cfg.mul.value_width) if cfg.mul.value_signed
                                      else unsigned(cfg.mul.value_width))
            else:
                members[f"p{i}"] = In(product_signature(cfg.mul.product))
        super().__init__(members)

    def elaborate(self, platform):
        from rtl.dot import adder_tree
        m = Module()
        cfg = self.config
        W = cfg.sum_bits
        terms = []
        nan, pinf, ninf = Const(0, 1), Const(0, 1), Const(0, 1)
        if cfg.mul.is_int:
            terms = [getattr(self, f"v{i}") for i in range(cfg.lanes)]
        else:
            shape = cfg.mul.product
            span = shape.exp_max - shape.exp_min
            lane = cfg.lane_bits
            for i in range(cfg.lanes):
                p = getattr(self, f"p{i}")
                sh = Signal(max(1, span.bit_length()), name=f"align{i}")
                m.d.comb += sh.eq(p.exp - shape.exp_min)
                mag = Signal(lane, name=f"aligned{i}")
                finite = ~(p.nan | p.inf)          # a special product's sig is not a value
                m.d.comb += mag.eq(Mux(finite, (p.sig << sh)[:lane], 0))
                term = Signal(signed(lane + 1), name=f"term{i}")
                m.d.comb += term.eq(Mux(p.sign, -mag, mag))
                terms.append(term)
                nan = nan | p.nan
                pinf = pinf | (p.inf & ~p.sign)
                ninf = ninf | (p.inf & p.sign)
        group = adder_tree(m, terms, W, "tree")
        held = Signal(signed(W))
        h_nan, h_pinf, h_ninf = Signal(), Signal(), Signal()
        m.d.comb += [
            self.total.eq(Mux(self.first, 0, held) + group),
            self.nan.eq((~self.first & h_nan) | nan),
            self.pinf.eq((~self.first & h_pinf) | pinf),
            self.ninf.eq((~self.first & h_ninf) | ninf),
        ]
        with m.If(self.load):
            m.d.sync += [held.eq(self.total), h_nan.eq(self.nan), h_pinf.eq(self.pinf),
                         h_ninf.eq(self.ninf)]
        return m


class _ScaleDecode:
    """Fields of one scale code: sig (power of two: none), lsb exponent field, nan, zero, sign."""

    def __init__(self, m: Module, scale, code, prefix: str):
        self.pow2_class = BS._is_pow2_class(scale)
        if self.pow2_class:
            # a two's-complement exponent: value 2^code
            self.eraw = code.as_signed()
            self.offset = 0
            self.nan = Const(0, 1)
            self.zero = Const(0, 1)
            self.sign = Const(0, 1)
            self.sig = None
            return
        op = FloatOperand(scale, prefix)
        op.elaborate_into(m, code)
        # lsb exponent = eeff - bias - man_bits: the field plus a constant
        self.eraw = op.eeff
        self.offset = -(scale.bias + scale.man_bits)
        self.nan, self.zero, self.sign = op.nan, op.zero, op.sign
        self.sig = None if BS.is_pow2_scale(scale) else op.sig


class ScalePath(wiring.Component):
    """Block sum x scales: exponent adder; significand multiplier for float scales; Kulisch shifter.

    Float accumulator: `v` (product_signature(config.value_shape)) = S * sa * sb with flags.
    Kulisch: `aligned` = S << (ka + kb - kmin_a - kmin_b) (signed), and nan / pinf / ninf."""

    def __init__(self, config: BlockDotConfig):
        self.config = config
        cfg = config
        members = {"total": In(signed(cfg.sum_bits)), "nan_in": In(1), "pinf_in": In(1),
                   "ninf_in": In(1), "sa": In(_scale_bits(cfg.scale_a)),
                   "sb": In(_scale_bits(cfg.scale_b))}
        if cfg.acc.kind == "kulisch":
            k = cfg.kulisch
            members.update({"aligned": Out(signed(k.sum_bits + k.shift_span)), "nan": Out(1),
                            "pinf": Out(1), "ninf": Out(1)})
        else:
            members["v"] = Out(product_signature(cfg.value_shape))
        super().__init__(members)

    def _exp_sum(self, m, A, B, width):
        """A.eraw + B.eraw (the exponent adder), `width` bits; the mutant drops the carry."""
        esum = Signal(signed(width + 1) if A.pow2_class or B.pow2_class else width, name="esum")
        m.d.comb += esum.eq(A.eraw + B.eraw)
        if self.config.mutant == "scale_carry":
            cut = max(len(A.eraw), len(B.eraw))
            wrapped = Signal(signed(cut) if A.pow2_class else cut, name="esum_mut")
            m.d.comb += wrapped.eq(esum[:cut])
            return wrapped
        return esum

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        A = _ScaleDecode(m, cfg.scale_a, self.sa, "sa")
        B = _ScaleDecode(m, cfg.scale_b, self.sb, "sb")
        width = max(len(A.eraw), len(B.eraw)) + 1
        esum = self._exp_sum(m, A, B, width)
        block_inf = self.pinf_in | self.ninf_in
        szero = A.zero | B.zero
        nan = self.nan_in | (self.pinf_in & self.ninf_in) | A.nan | B.nan | (block_inf & szero)
        inf = block_inf & ~nan
        neg_scale = A.sign ^ B.sign
        S = self.total
        if cfg.acc.kind == "kulisch":
            k = cfg.kulisch
            (la, _), (lb, _) = cfg._lsb_range(cfg.scale_a), cfg._lsb_range(cfg.scale_b)
            # shift distance ka + kb - kmin_a - kmin_b in [0, shift_span]
            shift = Signal(range(k.shift_span + 1), name="shift")
            m.d.comb += shift.eq(esum + (A.offset + B.offset) - (la + lb))
            used = shift
            if cfg.mutant == "shift_msb" and len(shift) > 1:
                used = shift[:-1]
            aligned = Signal(signed(k.sum_bits + k.shift_span), name="shifted")
            m.d.comb += aligned.eq(Mux(nan | inf, 0, S << used))
            m.d.comb += [self.aligned.eq(aligned), self.nan.eq(nan),
                         self.pinf.eq(inf & ~self.ninf_in), self.ninf.eq(inf & self.ninf_in)]
            return m
        vs = cfg.value_shape
        mag = Signal(cfg.sum_bits, name="smag")
        m.d.comb += mag.eq(Mux(S[-1], -S, S))
        sig = mag
        for op in (A, B):
            if op.sig is not None:
                prod = Signal(len(sig) + len(op.sig), name=f"ssig{len(sig)}")
                m.d.comb += prod.eq(sig * op.sig)     # the scale multiplier
                sig = prod
        # exponent = element LSB + lsb_a + lsb_b = esum + constants
        exp = Signal(signed(vs.exp_width), name="vexp")
        m.d.comb += exp.eq(esum + (A.offset + B.offset + cfg.elem_lsb))
        m.d.comb += [
            self.v.sig.eq(Mux(nan | inf, 0, sig)),
            self.v.exp.eq(exp),
            self.v.nan.eq(nan),
            self.v.inf.eq(inf),
            self.v.sign.eq(Mux(inf, self.ninf_in, S[-1]) ^ neg_scale),
            self.v.zero.eq(~nan & ~inf & ((mag == 0) | szero)),
        ]
        return m


class KulischBlockAcc(wiring.Component):
    """W-bit register: acc <- wrap_W((clear ? 0 : acc) + aligned) on `valid`; sticky flags;
    overflow_neg keeps the direction of the first overflow since the last clear."""

    def __init__(self, config: BlockDotConfig):
        self.config = config
        k = config.kulisch
        super().__init__({"aligned": In(signed(k.sum_bits + k.shift_span)), "nan_in": In(1),
                          "pinf_in": In(1), "ninf_in": In(1), "valid": In(1), "clear": In(1),
                          "acc": Out(signed(k.width)), "nan": Out(1), "pinf": Out(1),
                          "ninf": Out(1), "overflow": Out(1), "overflow_neg": Out(1)})

    def elaborate(self, platform):
        m = Module()
        W = self.config.kulisch.width
        reg = Signal(signed(W))
        flags = {k: Signal(name=f"{k}_q") for k in KULISCH_FLAGS}
        base = Mux(self.clear, 0, reg)
        full = Signal(signed(W + 1))           # the exact sum of the register and the addend
        m.d.comb += full.eq(base + self.aligned)
        ovf = full[W] != full[W - 1]
        keep = {k: Mux(self.clear, 0, v) for k, v in flags.items()}
        with m.If(self.valid):
            m.d.sync += [reg.eq(full[:W]),
                         flags["nan"].eq(keep["nan"] | self.nan_in),
                         flags["pinf"].eq(keep["pinf"] | self.pinf_in),
                         flags["ninf"].eq(keep["ninf"] | self.ninf_in),
                         flags["overflow"].eq(keep["overflow"] | ovf),
                         flags["overflow_neg"].eq(Mux(keep["overflow"], keep["overflow_neg"],
                                                      ovf & full[W]))]
        with m.Elif(self.clear):
            m.d.sync += [reg.eq(0)] + [v.eq(0) for v in flags.values()]
        m.d.comb += [self.acc.eq(reg)] + [getattr(self, k).eq(v) for k, v in flags.items()]
        return m


# ---------------------------------------------------------------------------------------------
# The unit
# ---------------------------------------------------------------------------------------------
class BlockDotUnit(wiring.Component):
    """See the module docstring. Argument: a BlockDotConfig."""

    def __init__(self, config: BlockDotConfig):
        if not isinstance(config, BlockDotConfig):
            raise UnsupportedConfig(f"BlockDotUnit needs a BlockDotConfig, not {type(config).__name__}")
        self.config = config
        cfg = config
        members = {
            "a": In(data.ArrayLayout(unsigned(cfg.elem_a.bits), cfg.lanes)),
            "b": In(data.ArrayLayout(unsigned(cfg.elem_b.bits), cfg.lanes)),
            "sa": In(_scale_bits(cfg.scale_a)),
            "sb": In(_scale_bits(cfg.scale_b)),
            "valid_in": In(1),
            "clear": In(1),
            "valid_out": Out(1),
        }
        if cfg.acc.kind == "kulisch":
            members["acc_out"] = Out(signed(cfg.acc_width))
            members.update({k: Out(1) for k in KULISCH_FLAGS})
        else:
            members["acc_out"] = Out(cfg.acc_width)
        super().__init__(members)

    @property
    def latency(self) -> int:
        return self.config.latency

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        m.submodules.tree = tree = BlockSum(cfg)
        for i in range(cfg.lanes):
            mul = Multiplier(cfg.mul)
            m.submodules[f"mul{i}"] = mul
            m.d.comb += [mul.a.eq(self.a[i]), mul.b.eq(self.b[i])]
            if cfg.mul.is_int:
                m.d.comb += getattr(tree, f"v{i}").eq(mul.value)
            else:
                dst = getattr(tree, f"p{i}")
                m.d.comb += [getattr(dst, k).eq(getattr(mul.p, k))
                             for k in ("sign", "exp", "sig", "nan", "inf", "zero")]
        # beat counter: which beat of the block this valid cycle is (clear restarts at beat 0)
        beats = cfg.beats
        beat = Signal(range(max(beats, 2)))
        cur = Mux(self.clear, 0, beat)
        last = cur == beats - 1
        with m.If(self.valid_in):
            m.d.sync += beat.eq(Mux(last, 0, cur + 1))
        with m.Elif(self.clear):
            m.d.sync += beat.eq(0)
        m.d.comb += [tree.first.eq(cur == 0), tree.load.eq(self.valid_in & ~last)]

        m.submodules.scale = scale = ScalePath(cfg)
        m.d.comb += [scale.total.eq(tree.total), scale.nan_in.eq(tree.nan),
                     scale.pinf_in.eq(tree.pinf), scale.ninf_in.eq(tree.ninf),
                     scale.sa.eq(self.sa), scale.sb.eq(self.sb)]
        block_end = self.valid_in & last
        if cfg.acc.kind == "kulisch":
            m.submodules.acc = acc = KulischBlockAcc(cfg)
            m.d.comb += [acc.aligned.eq(scale.aligned), acc.nan_in.eq(scale.nan),
                         acc.pinf_in.eq(scale.pinf), acc.ninf_in.eq(scale.ninf),
                         acc.valid.eq(block_end), acc.clear.eq(self.clear),
                         self.acc_out.eq(acc.acc)]
            m.d.comb += [getattr(self, k).eq(getattr(acc, k))
                         for k in KULISCH_FLAGS]
        else:
            from rtl.fpacc import FloatAccumulator
            m.submodules.acc = acc = FloatAccumulator(cfg.acc.fmt, cfg.value_shape)
            wiring.connect(m, scale.v, acc.product)
            # valid & clear mid-block: the accumulator restarts at zero now (clear without valid)
            m.d.comb += [acc.valid.eq(block_end), acc.clear.eq(self.clear),
                         self.acc_out.eq(acc.acc_out)]
        vo = Signal()
        m.d.sync += vo.eq(block_end)
        m.d.comb += self.valid_out.eq(vo)
        return m


# ---------------------------------------------------------------------------------------------
# R x C array
# ---------------------------------------------------------------------------------------------
MAX_ARRAY_DIM = 64
# The deliberately wrong systolic array that proves its bench can fail.
BLOCKDOT_ARRAY_MUTANTS = {
    "no_south_register": "column operands reach the next row in the same cycle (the forwarding "
                         "register between rows is missing), so rows below 0 pair beats out of step",
}


@dataclass(frozen=True)
class BlockDotArrayConfig:
    """An R x C output-stationary array of block dot units: PE (i, j) accumulates the block dot of
    row operand i and column operand j (each PE a BlockDotUnit of `unit`, same contract).

    skew False (the default): operands broadcast to a row / column of PEs in the cycle they
    arrive, every PE's accumulator is an output (BlockDotArray's docstring). skew True: an
    output-stationary systolic array like rtl.array.MacArray - row i's operands, scales, valid
    and clear are delayed by i registers and column j's by j, then move one PE per cycle (row
    operands east, column operands south), so PE (i, j) sees each beat i + j cycles after it
    entered; the results leave through a drain port, one row per cycle.

    Broadcast stays the default: the sweep, synthesis and export build it, and its cost per
    element product is the unit's (analysis.arrays.block_array_area), while skew adds its
    registers; the GE area model does not price the long broadcast wires that skew avoids."""

    unit: BlockDotConfig
    rows: int = 2
    cols: int = 2
    skew: bool = False
    mutant: str | None = None

    def __post_init__(self):
        if not isinstance(self.unit, BlockDotConfig):
            raise UnsupportedConfig(f"a block dot array needs a BlockDotConfig, not {self.unit!r}")
        for what, v in (("rows", self.rows), ("cols", self.cols)):
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_ARRAY_DIM:
                raise UnsupportedConfig(f"array {what} must be an int in 1..{MAX_ARRAY_DIM}, not {v!r}")
        if not isinstance(self.skew, bool):
            raise UnsupportedConfig(f"array skew must be True or False, not {self.skew!r}")
        if self.mutant is not None and (self.mutant not in BLOCKDOT_ARRAY_MUTANTS or not self.skew):
            raise UnsupportedConfig(f"array mutant must be one of {sorted(BLOCKDOT_ARRAY_MUTANTS)} "
                                    f"(with skew=True), not {self.mutant!r}")

    @property
    def name(self) -> str:
        mut = f"_mut_{self.mutant}" if self.mutant else ""
        return f"barray{self.rows}x{self.cols}{'_skew' if self.skew else ''}{mut}_{self.unit.name}"

    @property
    def latency(self) -> int:
        """Broadcast: the unit's latency (edges from a block's last beat to every PE showing it).
        Skew: edges from the last beat being sampled until every PE holds its final result:
        (R - 1) + (C - 1) register hops + the unit's latency (as rtl.array.ArrayConfig)."""
        if self.skew:
            return (self.rows - 1) + (self.cols - 1) + self.unit.latency
        return self.unit.latency

    def create(self) -> "BlockDotArray":
        return BlockDotArray(self)


class BlockDotArray(wiring.Component):
    """R x C BlockDotUnits; the protocol on the inputs is the unit's (module docstring), with
    `lanes` elements of every row and column operand per beat:
        a In(R x lanes elements), sa In(R scale codes), b In(C x lanes), sb In(C), valid_in, clear

    Broadcast (config.skew False): row operand i (`a[i]`, `sa[i]`) goes to every PE of row i,
    column operand j (`b[j]`, `sb[j]`) to every PE of column j; valid_in and clear go to all.
    acc_out[i][j] is PE (i, j)'s accumulator; Kulisch flags likewise (nan[i][j], ...); valid_out
    as the unit's.

    Skew (config.skew True, output-stationary systolic like rtl.array.MacArray): the driver
    presents each beat unskewed; the array delays row i's a / sa / valid / clear by i registers
    and column j's b / sb by j, then forwards them one PE per cycle (east / south), so PE (i, j)
    takes every beat exactly i + j cycles after it entered. `latency` edges after the last beat of
    a dot is sampled every PE holds its result; pulse `drain` then: row r appears on c_row (C
    accumulators) with c_index = r and c_valid high r + 1 edges after the pulse is sampled;
    Kulisch flags on c_nan, c_pinf, c_ninf, c_overflow, c_overflow_neg (one bit per column).
    No acc_out / valid_out in this mode."""

    def __init__(self, config: BlockDotArrayConfig):
        self.config = config
        u, R, C = config.unit, config.rows, config.cols
        ea = data.ArrayLayout(unsigned(u.elem_a.bits), u.lanes)
        eb = data.ArrayLayout(unsigned(u.elem_b.bits), u.lanes)
        acc_shape = signed(u.acc_width) if u.acc.kind == "kulisch" else unsigned(u.acc_width)
        members = {
            "a": In(data.ArrayLayout(ea, R)), "sa": In(data.ArrayLayout(unsigned(u.scale_a.bits), R)),
            "b": In(data.ArrayLayout(eb, C)), "sb": In(data.ArrayLayout(unsigned(u.scale_b.bits), C)),
            "valid_in": In(1), "clear": In(1),
        }
        kulisch = u.acc.kind == "kulisch"
        if config.skew:
            members.update({"drain": In(1), "c_row": Out(data.ArrayLayout(acc_shape, C)),
                            "c_index": Out(range(R)), "c_valid": Out(1)})
            if kulisch:
                members.update({f"c_{k}": Out(data.ArrayLayout(1, C)) for k in KULISCH_FLAGS})
        else:
            members.update({"valid_out": Out(1),
                            "acc_out": Out(data.ArrayLayout(data.ArrayLayout(acc_shape, C), R))})
            if kulisch:
                members.update({k: Out(data.ArrayLayout(data.ArrayLayout(1, C), R))
                                for k in KULISCH_FLAGS})
        super().__init__(members)

    @property
    def latency(self) -> int:
        return self.config.latency

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        if cfg.skew:
            return self._systolic(m)
        kulisch = cfg.unit.acc.kind == "kulisch"
        for i in range(cfg.rows):
            for j in range(cfg.cols):
                pe = BlockDotUnit(cfg.unit)
                m.submodules[f"pe_{i}_{j}"] = pe
                m.d.comb += [pe.a.eq(self.a[i]), pe.sa.eq(self.sa[i]), pe.b.eq(self.b[j]),
                             pe.sb.eq(self.sb[j]), pe.valid_in.eq(self.valid_in),
                             pe.clear.eq(self.clear), self.acc_out[i][j].eq(pe.acc_out)]
                if kulisch:
                    m.d.comb += [getattr(self, k)[i][j].eq(getattr(pe, k)) for k in KULISCH_FLAGS]
                if i == 0 and j == 0:
                    m.d.comb += self.valid_out.eq(pe.valid_out)
        return m

    def _systolic(self, m):
        cfg = self.config
        R, C = cfg.rows, cfg.cols
        kulisch = cfg.unit.acc.kind == "kulisch"

        from rtl.array import delay_line, row_drain

        def delay(sig, n, name):
            return delay_line(m, sig, n, name)

        # input skew: row i (a, sa, valid, clear) by i cycles, column j (b, sb) by j cycles
        west = [tuple(delay(sig, i, f"skew_{n}{i}") for n, sig in
                      (("a", self.a[i]), ("sa", self.sa[i]), ("v", self.valid_in), ("c", self.clear)))
                for i in range(R)]
        north = [tuple(delay(sig, j, f"skew_{n}{j}") for n, sig in
                       (("b", self.b[j]), ("sb", self.sb[j])))
                 for j in range(C)]
        pes = [[None] * C for _ in range(R)]
        for i in range(R):
            a, sa, v, c = west[i]
            below = []
            for j in range(C):
                b, sb = north[j]
                pe = BlockDotUnit(cfg.unit)
                m.submodules[f"pe_{i}_{j}"] = pe
                m.d.comb += [pe.a.eq(a), pe.sa.eq(sa), pe.valid_in.eq(v), pe.clear.eq(c),
                             pe.b.eq(b), pe.sb.eq(sb)]
                pes[i][j] = pe
                # forwarding registers: row operands east, column operands south, one PE a cycle
                if j + 1 < C:
                    a, sa, v, c = (delay(a, 1, f"a_{i}_{j}"), delay(sa, 1, f"sa_{i}_{j}"),
                                   delay(v, 1, f"v_{i}_{j}"), delay(c, 1, f"c_{i}_{j}"))
                if cfg.mutant == "no_south_register":
                    below.append((b, sb))
                else:
                    below.append((delay(b, 1, f"b_{i}_{j}"), delay(sb, 1, f"sb_{i}_{j}"))
                                 if i + 1 < R else None)
            north = below

        # drain: a row counter walks rows 0..R-1 after a drain pulse (as rtl.array.MacArray)
        idx, active = row_drain(m, self.drain, R)
        with m.Switch(idx):
            for i in range(R):
                with m.Case(i):
                    m.d.comb += [self.c_row[j].eq(pes[i][j].acc_out) for j in range(C)]
                    if kulisch:
                        m.d.comb += [getattr(self, f"c_{k}")[j].eq(getattr(pes[i][j], k))
                                     for k in KULISCH_FLAGS for j in range(C)]
        m.d.comb += [self.c_index.eq(idx), self.c_valid.eq(active)]
        return m
