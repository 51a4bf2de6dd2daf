"""Shapes the RTL generators share: an exact product on a port and a Kulisch register.

Kept apart from the unit configs (rtl/config.py) so that the generators (rtl/mul.py, rtl/acc.py,
rtl/fpadd.py) depend on these shapes only, and the configs can create their generators without an
import cycle.

Public API
    signed_bits(lo, hi) -> int                      fewest two's-complement bits holding [lo, hi]
    scalar_format(fmt, what) -> Format              parse; reject block and fixed-point formats
    ProductShape(sign, exp_width, exp_min, sig_width, exp_max=None)
    ProductShape.of(fa, fb) -> ProductShape         exact float x float product
    ProductShape.fixed(lsb_exp, sig_width)          a sign-magnitude integer at one exponent
    KulischShape.of(fa, fb, guard_bits)             .width .lsb_exp .k .S_a .S_b (widths derived
                                                    once, by hwmodel.accum.kulisch_spec)
"""

from __future__ import annotations

from dataclasses import dataclass

from hwmodel.accum import kulisch_spec
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import BlockFormat, FixedFormat, FloatFormat, Format, IntFormat, parse_format


def signed_bits(lo: int, hi: int) -> int:
    """Fewest two's-complement bits holding every integer in [lo, hi]."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def scalar_format(fmt, what: str) -> Format:
    """Parse `fmt` and reject formats a scalar datapath cannot take."""
    try:
        fmt = parse_format(fmt)
    except FormatError as exc:
        raise UnsupportedConfig(f"{what}: {exc}") from None
    if isinstance(fmt, BlockFormat):
        raise UnsupportedConfig(
            f"{what} must be a scalar format, not the block format {fmt.name!r}: a MAC multiplies "
            f"elements; build it on the element format {fmt.element.name!r} (the shared scale is "
            f"applied once per block, outside the MAC)")
    if isinstance(fmt, FixedFormat):
        raise UnsupportedConfig(
            f"{what} must be an int or float format, not the fixed-point format {fmt.name!r}; "
            f"use int{fmt.bits} (the binary point only rescales the result)")
    return fmt


@dataclass(frozen=True)
class ProductShape:
    """An exact product on a port: value = (-1)^sign * sig * 2^exp, plus nan/inf/zero flags.

    sign      whether the value can be negative (a `sign` bit is present and meaningful)
    exp_width bits of the signed `exp` field
    exp_min   smallest `exp` a nonzero finite value can have (the LSB exponent of the smallest one)
    sig_width bits of the unsigned `sig` field
    exp_max   largest `exp` (default: the largest the field holds)
    """

    sign: bool
    exp_width: int
    exp_min: int
    sig_width: int
    exp_max: int | None = None

    def __post_init__(self):
        if self.exp_max is None:
            object.__setattr__(self, "exp_max", (1 << (self.exp_width - 1)) - 1)
        if self.exp_width < signed_bits(self.exp_min, self.exp_max):
            raise UnsupportedConfig(f"exp_width must hold [{self.exp_min}, {self.exp_max}], "
                                    f"not {self.exp_width!r}")
        if self.sig_width < 1:
            raise UnsupportedConfig(f"sig_width must be >= 1, not {self.sig_width!r}")

    @classmethod
    def of(cls, fa: FloatFormat, fb: FloatFormat) -> "ProductShape":
        """Exact product of two float formats (docs/DESIGN.md, 'Products')."""
        # exp is the exponent of the significand product's LSB: e - man per operand, where e is the
        # unbiased exponent (subnormals sit at emin), so the extremes come from emin/emax.
        lo = (fa.emin - fa.man_bits) + (fb.emin - fb.man_bits)
        hi = (fa.emax - fa.man_bits) + (fb.emax - fb.man_bits)
        return cls(
            sign=fa.signed or fb.signed,
            exp_width=signed_bits(lo, hi),           # signed field holding [lo, hi]
            exp_min=lo,
            sig_width=fa.precision + fb.precision,    # p_a-bit x p_b-bit unsigned product
            exp_max=hi)

    @classmethod
    def fixed(cls, lsb_exp: int, sig_width: int) -> "ProductShape":
        """A sign-magnitude integer of `sig_width` magnitude bits at the one exponent `lsb_exp`
        (e.g. a Kulisch sum of W two's-complement bits: sig_width = W, since |-2^(W-1)| needs W)."""
        return cls(sign=True, exp_width=signed_bits(lsb_exp, lsb_exp), exp_min=lsb_exp,
                   sig_width=sig_width, exp_max=lsb_exp)


@dataclass(frozen=True)
class KulischShape:
    """Kulisch register of paper Fig. 2a / docs/DESIGN.md: W = S_a + S_b - 1 + k + V bits, LSB 2^L.

    The widths are not derived here: `of` takes them from hwmodel.accum.kulisch_spec, the one
    derivation the golden model uses too."""

    S_a: int            # significand bits of a signed operand a (float: man + 2; int: bits)
    S_b: int
    k: int              # exponent span: how far a product's LSB can move
    guard_bits: int     # V
    lsb_exp: int        # L: the register holds acc, meaning acc * 2^L

    @classmethod
    def of(cls, fa: Format, fb: Format, guard_bits: int = 12) -> "KulischShape":
        for f in (fa, fb):
            if isinstance(f, FloatFormat) and (not f.signed or not f.subnormals):
                raise UnsupportedConfig(f"Kulisch accumulation needs signed float inputs with "
                                        f"zero and subnormals, not {f.name!r}")
        spec = kulisch_spec(fa, fb, guard_bits)
        return cls(S_a=spec.sig_bits_a, S_b=spec.sig_bits_b, k=spec.exp_span,
                   guard_bits=spec.guard_bits, lsb_exp=spec.lsb_exp)

    @property
    def product_width(self) -> int:
        """2S-1 bits (S_a + S_b - 1): signed significand product at the lowest exponent."""
        return self.S_a + self.S_b - 1

    @property
    def aligned_width(self) -> int:
        """2S-1+k bits: the widest aligned product (shifted left by up to k)."""
        return self.product_width + self.k

    @property
    def width(self) -> int:
        """W = 2S-1+k+V: the aligned product plus V guard bits (2^V worst-case products)."""
        return self.aligned_width + self.guard_bits
