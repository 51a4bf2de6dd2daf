"""Frozen configurations of the RTL generators: what a unit computes and how it is built.

Every generator in rtl/ takes exactly one of these objects. A config's `name` is stamped into the
Verilog module name and the simulation build directory; `latency` (where it has one) is the number
of clock edges from an operand being sampled to its effect showing on the outputs, so that benches
never hard-code cycle counts.

Widths derived here and in rtl/shape.py (product fields, Kulisch register) follow docs/DESIGN.md; each one is commented
with why it is as wide as it is. Unsupported pairings raise `hwmodel.errors.UnsupportedConfig` with a
one-line message naming the constraint.

Every config has `.create()` (the amaranth `lib/crc` Parameters.create() pattern): the
wiring.Component it describes. The generators import the shapes (rtl/shape.py), never this module,
so that `create()` can import them without a cycle. rtl.unit.unit_config turns a unit description
(format, accumulator, "mac" | "mul" | "dot:N" | "array:RxC") into one of these configs.

Public API
    ProductShape, KulischShape                      re-exported from rtl.shape
    MulConfig(fmt_a, fmt_b)                         .name .is_int .product .value_width .value_signed
                                                    .latency .create() -> rtl.mul.Multiplier
    AccSpec / parse_acc                             from hwmodel.accum (kind, fmt, guard_bits, mode)
    MacConfig(in_fmt, acc, pipeline_stages=1, mutant=None, loop_stages=1, loop_cuts=None)
                                                    .name .latency .mul .kulisch .acc_width
                                                    .cuts (float loop: FpAddRound cut names)
                                                    .create() -> rtl.mac.Mac
    ReadoutConfig(in_fmt, out_fmt, guard_bits=12)   Kulisch register -> float (RNE), .kulisch
                                                    .create() -> rtl.acc.KulischReadout
    MUTANTS                                         deliberately wrong variants for the benches
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import FloatFormat, Format, IntFormat, NanEncoding
from rtl.shape import KulischShape, ProductShape, scalar_format, signed_bits  # noqa: F401

# The golden model owns the accumulator spec (docs/DESIGN.md, "Configs and names").
from hwmodel.accum import AccSpec, parse_acc  # noqa: E402


# The deliberately wrong RTL variants that prove the benches can fail (the mutation check).
# Key: what the generator does wrong. Generators that do not know a mutant ignore it; the bench test
# for each mutant expects a failure.
MUTANTS = {
    "kulisch_shift": "Kulisch alignment shifts by one position too few for exponents above the minimum",
    "fpacc_rtz": "float accumulator truncates (round toward zero) instead of RNE",
}


@dataclass(frozen=True)
class MulConfig:
    """An exact multiplier of fmt_a x fmt_b (both int or both float)."""

    fmt_a: Format
    fmt_b: Format | None = None   # None: same as fmt_a

    def __post_init__(self):
        a = scalar_format(self.fmt_a, "multiplier operand a")
        b = a if self.fmt_b is None else scalar_format(self.fmt_b, "multiplier operand b")
        object.__setattr__(self, "fmt_a", a)
        object.__setattr__(self, "fmt_b", b)
        if isinstance(a, IntFormat) != isinstance(b, IntFormat):
            raise UnsupportedConfig(
                f"multiplier operands must be both int or both float, not {a.name!r} x {b.name!r}")

    @property
    def name(self) -> str:
        if self.fmt_a == self.fmt_b:
            return f"mul_{self.fmt_a.name}"
        return f"mul_{self.fmt_a.name}_{self.fmt_b.name}"

    @property
    def is_int(self) -> bool:
        return isinstance(self.fmt_a, IntFormat)

    @property
    def product(self) -> ProductShape | None:
        """Float x float: the product port's shape. Int x int: None (a `value` port instead)."""
        return None if self.is_int else ProductShape.of(self.fmt_a, self.fmt_b)

    @property
    def value_signed(self) -> bool:
        return self.is_int and (self.fmt_a.signed or self.fmt_b.signed)

    @property
    def value_width(self) -> int | None:
        """Int x int: bits of the `value` port, a.bits + b.bits (holds every product: for signed
        operands -2^(a-1) * -2^(b-1) = 2^(a+b-2) needs a+b bits; unsigned products fit a+b bits)."""
        return self.fmt_a.bits + self.fmt_b.bits if self.is_int else None

    @property
    def latency(self) -> int:
        return 0   # combinational

    def create(self):
        """The rtl.mul.Multiplier this config describes."""
        from rtl.mul import Multiplier
        return Multiplier(self)


# Accumulation-loop registers (C-slow pipelining, rtl/loopacc.py): at most this many, and for a float
# accumulator the default places of the k - 1 registers inside the adder (names of rtl.fpadd.CUTS,
# chosen to split FpAddRound's longest path roughly evenly; rtl.pipeline searches other sets).
MAX_LOOP_STAGES = 8
DEFAULT_LOOP_CUTS = {
    1: (),
    2: ("abs",),
    3: ("addmid", "norm"),
    4: ("align", "abs", "norm"),
    5: ("align", "addmid", "abs", "norm"),
    6: ("align", "addmid", "add", "abs", "norm"),
    7: ("swap", "align", "addmid", "add", "abs", "norm"),
    8: ("swap", "align", "addmid", "add", "abs", "norm", "round"),
}


@dataclass(frozen=True)
class MacConfig:
    """A MAC unit: multiplier (in_fmt x in_fmt), `pipeline_stages` product registers, accumulator.

    acc: an AccSpec or its CLI string ('kulisch', 'kulisch:V', 'int32', 'int32:sat', 'fp16', ...).
    mutant: None, or a key of MUTANTS (a deliberately wrong variant for the mutation check).
    loop_stages: registers in the accumulation loop (1..MAX_LOOP_STAGES; 1 = one accumulator
        register, today's unit). k > 1 is C-slow pipelining (rtl/loopacc.py): the loop holds k
        interleaved partial sums, product t after a clear going to partial t mod k, and the unit
        shows the k partials in turn (port acc_part); their combination is the documented final
        step of hwmodel.interleave. Kulisch and float accumulators only.
    loop_cuts: float accumulators: the k-1 places (names of rtl.fpadd.CUTS) of the loop registers
        inside the adder; None = DEFAULT_LOOP_CUTS[k]. Kulisch: must be None (the carry chain is
        cut into k equal slices).
    With k > 1 and pipeline_stages >= 2, one or two of the product registers move into the
    accumulator, in front of its loop (loop_pre): still feed-forward registers, so the latency
    stays pipeline_stages + loop_stages.
    """

    in_fmt: Format
    acc: AccSpec
    pipeline_stages: int = 1
    mutant: str | None = None
    loop_stages: int = 1
    loop_cuts: tuple | None = None

    def __post_init__(self):
        fmt = scalar_format(self.in_fmt, "MAC input format")
        object.__setattr__(self, "in_fmt", fmt)
        acc = self.acc
        if not isinstance(acc, AccSpec):
            acc = parse_acc(acc)
        object.__setattr__(self, "acc", acc)
        if not isinstance(self.pipeline_stages, int) or not 0 <= self.pipeline_stages <= 4:
            raise UnsupportedConfig(f"pipeline stages must be an int in 0..4, not {self.pipeline_stages!r}")
        if self.mutant is not None and self.mutant not in MUTANTS:
            raise UnsupportedConfig(f"mutant must be one of {sorted(MUTANTS)}, not {self.mutant!r}")
        kind = acc.kind
        k = self.loop_stages
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_LOOP_STAGES:
            raise UnsupportedConfig(f"loop stages must be an int in 1..{MAX_LOOP_STAGES}, not {k!r}")
        if k > 1 and kind not in ("kulisch", "float"):
            raise UnsupportedConfig(f"loop stages > 1 (interleaved partial sums) need a kulisch or "
                                    f"float accumulator, not {getattr(acc, 'spec', acc)}")
        if self.loop_cuts is not None:
            from rtl.fpadd import CUTS
            cuts = tuple(self.loop_cuts)
            if kind != "float" or any(c not in CUTS for c in cuts) or len(set(cuts)) != len(cuts) \
                    or len(cuts) != k - 1:
                raise UnsupportedConfig(f"loop cuts are {k - 1} distinct names of {CUTS} for a float "
                                        f"accumulator with {k} loop stages, not {self.loop_cuts!r}")
            object.__setattr__(self, "loop_cuts", tuple(c for c in CUTS if c in cuts))
        if kind == "int":
            if not isinstance(fmt, IntFormat):
                raise UnsupportedConfig(
                    f"an int accumulator needs int inputs, not {fmt.name!r}; use kulisch or a float "
                    f"accumulator for float inputs")
            if not isinstance(acc.fmt, IntFormat) or not acc.fmt.signed:
                raise UnsupportedConfig(f"an int accumulator must be a signed intN, not {acc.fmt!r}")
            need = self.mul.value_width
            if acc.fmt.bits < need:
                raise UnsupportedConfig(
                    f"int accumulator must be at least as wide as the {need}-bit product of "
                    f"{fmt.name} x {fmt.name}, not {acc.fmt.name}")
            if acc.mode not in ("wrap", "saturate"):
                raise UnsupportedConfig(f"int accumulator mode must be wrap or saturate, not {acc.mode!r}")
        elif kind == "kulisch":
            KulischShape.of(fmt, fmt, acc.guard_bits)  # validates guard bits
        elif kind == "float":
            f = acc.fmt
            if not isinstance(f, FloatFormat) or not f.signed or f.nan is not NanEncoding.IEEE \
                    or not f.subnormals:
                raise UnsupportedConfig(
                    f"a float accumulator must be a signed IEEE-style float with inf/NaN and "
                    f"subnormals (fp16, bf16, fp32, eXmY), not {getattr(f, 'name', f)!r}")
        else:
            raise UnsupportedConfig(f"accumulator kind must be int, kulisch or float, not {kind!r}")

    @property
    def mul(self) -> MulConfig:
        return MulConfig(self.in_fmt, self.in_fmt)

    @property
    def kulisch(self) -> KulischShape | None:
        if self.acc.kind != "kulisch":
            return None
        return KulischShape.of(self.in_fmt, self.in_fmt, self.acc.guard_bits)

    @property
    def acc_name(self) -> str:
        acc = self.acc
        if acc.kind == "kulisch":
            return f"kulisch{self.kulisch.width}"
        if acc.kind == "int":
            return acc.fmt.name + ("sat" if acc.mode == "saturate" else "")
        return acc.fmt.name

    @property
    def name(self) -> str:
        mut = f"_mut_{self.mutant}" if self.mutant else ""
        loop = ""
        if self.loop_stages > 1:
            loop = f"_l{self.loop_stages}"
            if self.acc.kind == "float" and self.cuts != DEFAULT_LOOP_CUTS[self.loop_stages]:
                from rtl.fpadd import CUTS
                loop += "c" + "".join(str(CUTS.index(c)) for c in self.cuts)
        return f"mac_{self.in_fmt.name}_{self.acc_name}_p{self.pipeline_stages}{loop}{mut}"

    @property
    def loop_pre(self) -> int:
        """Product registers moved into a loop-pipelined MAC's accumulator (loop_stages > 1):
        pipeline_stages 2 -> 1 (after the operand's alignment (Kulisch) or normalisation (float)),
        3 or 4 -> 2 (another after the sign conversion in front of that); else 0
        (rtl/loopacc.py). The rest stay right after the multiplier."""
        return min(self.pipeline_stages - 1, 2) if self.loop_stages > 1 and self.pipeline_stages >= 2 else 0

    @property
    def product_registers(self) -> int:
        """Registers right after the multiplier: pipeline_stages - loop_pre."""
        return self.pipeline_stages - self.loop_pre

    @property
    def cuts(self) -> tuple:
        """Float accumulator: the FpAddRound cut names of the loop registers (() for k = 1)."""
        if self.acc.kind != "float" or self.loop_stages == 1:
            return ()
        return self.loop_cuts if self.loop_cuts is not None else DEFAULT_LOOP_CUTS[self.loop_stages]

    @property
    def acc_width(self) -> int:
        """Bits of `acc_out`: the int/Kulisch register, or the float accumulator's code."""
        if self.acc.kind == "kulisch":
            return self.kulisch.width
        return self.acc.fmt.bits

    @property
    def latency(self) -> int:
        """Clock edges from (a, b, valid_in) being sampled to acc_out/valid_out showing the
        accumulation of that product: the pipeline registers plus the accumulator loop's
        registers (1, or loop_stages with interleaved partial sums)."""
        return self.pipeline_stages + self.loop_stages

    def create(self):
        """The rtl.mac.Mac this config describes."""
        from rtl.mac import Mac
        return Mac(self)


@dataclass(frozen=True)
class ReadoutConfig:
    """Kulisch read-out: the Kulisch register of in_fmt x in_fmt products (guard_bits V) rounded
    once (RNE) to the float format out_fmt (rtl.acc.KulischReadout; golden kulisch_to_float)."""

    in_fmt: Format
    out_fmt: Format
    guard_bits: int = 12

    def __post_init__(self):
        object.__setattr__(self, "in_fmt", scalar_format(self.in_fmt, "Kulisch read-out input format"))
        out = scalar_format(self.out_fmt, "Kulisch read-out format")
        if not isinstance(out, FloatFormat) or out.nan is not NanEncoding.IEEE or not out.signed:
            raise UnsupportedConfig(f"Kulisch read-out format must be a signed IEEE-style float "
                                    f"(fp16, bf16, fp32, eXmY), not {out.name!r}")
        object.__setattr__(self, "out_fmt", out)

    @property
    def kulisch(self) -> KulischShape:
        return KulischShape.of(self.in_fmt, self.in_fmt, self.guard_bits)

    @property
    def name(self) -> str:
        return f"kread_{self.in_fmt.name}_kulisch{self.kulisch.width}_{self.out_fmt.name}"

    @property
    def latency(self) -> int:
        return 0   # combinational

    def create(self):
        """The rtl.acc.KulischReadout this config describes."""
        from rtl.acc import KulischReadout
        k = self.kulisch
        return KulischReadout(k.width, k.lsb_exp, self.out_fmt)


AnyConfig = Union[MulConfig, MacConfig, ReadoutConfig]
