"""What kind of unit to build, and the one function that turns a unit description into a config.

A unit is a multiplier alone ("mul"), a multiply-accumulate unit ("mac"), a dot-product unit of N
products per cycle ("dot:N"), an R x C output-stationary MAC array ("array:RxC") or, for block-scaled
formats (hwmodel.formats.BlockFormat), a block-scaled dot-product unit of N element products per
cycle ("bdot:N", rtl.blockdot.BlockDotConfig). `UnitSpec` is
that description as a frozen value with a canonical spelling (`.spec`) that `parse_unit` reads
back: `parse_unit(u.spec) == u`. `unit_config` is the only place that maps a (format,
accumulator, unit) triple to an rtl config; `config.create()` then gives the component.

Block formats: a block format's unit is always a block dot unit. `block_unit(fmt, unit)` (which
`unit_config` and analysis.design.DesignPoint apply) turns "mac" into "bdot:L" with the default
lanes L = min(8, block size) (`default_block_lanes`), so that the same sweep lists (units "mac")
cover scalar and block formats and two spellings of one design are one point; "bdot:N" keeps its
N, which must divide the block size. Any other unit (mul, dot:N, array:RxC) with a block format,
and bdot:N with a scalar format, is an UnsupportedConfig whose one line names the right unit.

Public API
    UnitSpec(kind, n=1, rows=1, cols=1)   kind: mul | mac | dot | array; .spec .macs_per_cycle
                                          .has_accumulator
    parse_unit(x) -> UnitSpec             a UnitSpec, or one of "mul", "mac", "dotN", "dot:N",
                                          "arrayRxC", "array:RxC" (x, X or * between R and C;
                                          case and surrounding blanks ignored)
    block_unit(fmt, unit) -> UnitSpec     the unit a format is built as (block formats: bdot:L)
    default_block_lanes(fmt) -> int       min(8, block size)
    unit_config(in_fmt, acc, unit, pipeline_stages=1)
                                          -> MulConfig | MacConfig | DotConfig | ArrayConfig
                                             | BlockDotConfig
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hwmodel.errors import UnsupportedConfig

KINDS = ("mul", "mac", "dot", "array", "bdot")
MAX_DOT_N = 256        # rtl.dot.MAX_N (kept here so that parsing a spec needs no amaranth import)
MAX_ARRAY_DIM = 64     # rtl.array.MAX_DIM
MAX_BDOT_LANES = 256   # rtl.blockdot.MAX_LANES
DEFAULT_BLOCK_LANES = 8  # element products per cycle of a block dot unit unless asked otherwise

_UNIT_RE = re.compile(r"(mul|mac)|dot:?(\d+)|array:?(\d+)[x*](\d+)|bdot:?(\d+)")


@dataclass(frozen=True)
class UnitSpec:
    """A unit kind and its size: dot and bdot use n (products per cycle; bdot: element products
    per cycle, the lanes), array uses rows x cols; the other sizes stay 1."""

    kind: str
    n: int = 1
    rows: int = 1
    cols: int = 1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UnsupportedConfig(f"unit kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        for what, v in (("n", self.n), ("rows", self.rows), ("cols", self.cols)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise UnsupportedConfig(f"unit {what} must be an int >= 1, not {v!r}")
        if self.kind == "dot":
            if self.n > MAX_DOT_N:
                raise UnsupportedConfig(f"a dot-product unit has 1..{MAX_DOT_N} products per "
                                        f"cycle, not {self.n}")
        elif self.kind == "bdot":
            if self.n > MAX_BDOT_LANES:
                raise UnsupportedConfig(f"a block dot unit has 1..{MAX_BDOT_LANES} lanes, not {self.n}")
        elif self.n != 1:
            raise UnsupportedConfig(f"only a dot unit takes n (a bdot unit: its lanes), not {self.kind} "
                                    f"(n={self.n})")
        if self.kind == "array":
            if self.rows > MAX_ARRAY_DIM or self.cols > MAX_ARRAY_DIM:
                raise UnsupportedConfig(f"an array has 1..{MAX_ARRAY_DIM} rows and columns, not "
                                        f"{self.rows}x{self.cols}")
        elif (self.rows, self.cols) != (1, 1):
            raise UnsupportedConfig(f"only an array unit takes rows x cols, not {self.kind} "
                                    f"({self.rows}x{self.cols})")

    @property
    def spec(self) -> str:
        """Canonical spelling: 'mul', 'mac', 'dot:N', 'array:RxC', 'bdot:N'."""
        if self.kind in ("dot", "bdot"):
            return f"{self.kind}:{self.n}"
        if self.kind == "array":
            return f"array:{self.rows}x{self.cols}"
        return self.kind

    @property
    def macs_per_cycle(self) -> int:
        """Products per cycle: mul and mac 1, dot:N and bdot:N N, array:RxC R*C."""
        return self.n * self.rows * self.cols

    @property
    def has_accumulator(self) -> bool:
        return self.kind != "mul"

    def __str__(self) -> str:
        return self.spec


def parse_unit(x) -> UnitSpec:
    """A UnitSpec from a UnitSpec or a unit string (see the module docstring for the spellings)."""
    if isinstance(x, UnitSpec):
        return x
    s = x.strip().lower() if isinstance(x, str) else None
    m = _UNIT_RE.fullmatch(s) if s is not None and s.isascii() else None
    if not m:
        raise UnsupportedConfig(f"unit must be mul, mac, dot:N (e.g. dot:8), array:RxC (e.g. "
                                f"array:4x4) or bdot:N (block formats, e.g. bdot:8), not {x!r}")
    if m.group(1):
        return UnitSpec(m.group(1))
    if m.group(2):
        return UnitSpec("dot", n=int(m.group(2)))
    if m.group(5):
        return UnitSpec("bdot", n=int(m.group(5)))
    return UnitSpec("array", rows=int(m.group(3)), cols=int(m.group(4)))


def unit_config(in_fmt, acc, unit="mac", pipeline_stages: int = 1):
    """The rtl config of `unit` (a UnitSpec or its string) for input format `in_fmt` and
    accumulator `acc` (an AccSpec or its string; ignored for a mul, which has no accumulator).

    pipeline_stages: product registers of a MAC (0..4; each PE of an array gets the same). A
    dot-product unit has at most one register, after its adder tree, so it gets
    min(pipeline_stages, 1): the same request gives every unit kind its deepest valid pipeline
    up to the number asked for.

    A block format (hwmodel.formats.BlockFormat or its spec) gives a BlockDotConfig of
    `block_unit(in_fmt, unit)` lanes (pipeline_stages does not apply: the unit has its one
    accumulator register); its per-tensor scale (NVFP4's FP32) is applied outside the unit.

    Raises UnsupportedConfig (one line) for a unit, format or accumulator the RTL cannot build."""
    fmt = _format(in_fmt)
    u = block_unit(fmt, unit) if fmt is not None else parse_unit(unit)
    if u.kind == "bdot":
        if fmt is None or not _is_block(fmt):
            raise UnsupportedConfig(f"a bdot:N unit needs a block format (e.g. mxfp8_e4m3, nvfp4), "
                                    f"not {getattr(fmt, 'name', in_fmt)!r}: use mac or dot:N")
        if acc is None:
            raise UnsupportedConfig(f"unit {u.spec} needs an accumulator (fp32, fp16, bf16, or kulisch "
                                    f"for power-of-two scales)")
        from rtl.blockdot import BlockDotConfig
        return BlockDotConfig.of(fmt, acc=acc, lanes=u.n)
    from rtl.config import MacConfig, MulConfig
    if u.kind == "mul":
        return MulConfig(in_fmt)
    if acc is None:
        raise UnsupportedConfig(f"unit {u.spec} needs an accumulator (kulisch, int32, fp16, bf16, "
                                f"fp32, ...)")
    if u.kind == "mac":
        return MacConfig(in_fmt, acc, pipeline_stages)
    if u.kind == "dot":
        from rtl.dot import DotConfig
        stages = min(pipeline_stages, 1) if isinstance(pipeline_stages, int) else pipeline_stages
        return DotConfig(in_fmt, acc, u.n, stages)
    from rtl.array import ArrayConfig
    return ArrayConfig(in_fmt, acc, u.rows, u.cols, pipeline_stages)


def _format(x):
    """x as a Format where it parses (None where it does not: the configs raise their own error)."""
    from hwmodel.errors import FormatError
    from hwmodel.formats import parse_format
    try:
        return parse_format(x)
    except (FormatError, TypeError):
        return None


def _is_block(fmt) -> bool:
    from hwmodel.formats import BlockFormat
    return isinstance(fmt, BlockFormat)


def default_block_lanes(fmt) -> int:
    """Element products per cycle of a block format's dot unit unless asked: min(8, block size)."""
    return min(DEFAULT_BLOCK_LANES, fmt.block_size)


def block_unit(fmt, unit="mac") -> UnitSpec:
    """The unit `fmt` is built as: for a block format, "mac" -> bdot:min(8, block size) and
    bdot:N as given (N must divide the block size); any other unit kind with a block format is an
    UnsupportedConfig naming bdot:N. A scalar format keeps parse_unit(unit)."""
    u = parse_unit(unit)
    f = _format(fmt)
    if f is None or not _is_block(f):
        return u
    if u.kind == "mac":
        return UnitSpec("bdot", n=default_block_lanes(f))
    if u.kind != "bdot":
        raise UnsupportedConfig(f"a block format ({f.name}) is built as a block dot unit: unit must be "
                                f"mac or bdot:N with N dividing its block size {f.block_size}, not "
                                f"{u.spec!r}")
    if f.block_size % u.n:
        raise UnsupportedConfig(f"block size must be a multiple of the lanes, not {f.block_size} "
                                f"({f.name}) with {u.spec}")
    return u
