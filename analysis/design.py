"""Design points: what one evaluation is about, as objects with canonical specs.

A design point is input format x accumulator x unit (mac, dot:N, array:RxC; block formats: bdot:N)
x pipeline depth x cell library. A block format's "mac" is its block dot unit, bdot:min(8, block
size) (rtl.unit.block_unit), so that one unit list covers scalar and block formats. It holds the parsed objects (`hwmodel.formats.Format`, `hwmodel.accum.AccSpec`,
`rtl.unit.UnitSpec`) and never a display name that a later stage would have to parse again; two spellings
of one design (`fp32` / `float32`, `e4m3` / `float8_e4m3fn`) are one point with one cache key,
because the key is built from the canonical specs (`key_fields`).

A `SweepSpec` is the cartesian product of lists of user strings (a TOML [sweep] table or the
command line); `points()` parses them into distinct DesignPoints, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hwmodel.accum import AccSpec, parse_acc
from hwmodel.errors import FormatError, UnsupportedConfig
from hwmodel.formats import Format, parse_format
from rtl.unit import UnitSpec, block_unit, parse_unit

# The columns that identify a point in a sweep table (the rest of a row are metrics).
# in_fmt is the format's display name, in_fmt_spec its canonical spec (parse_format(spec) == format),
# acc the accumulator's canonical spec, unit the unit's canonical spec.
POINT_COLUMNS = ["point_id", "in_fmt", "in_fmt_spec", "acc", "unit", "pipeline_stages", "library"]


# ----------------------------------------------------------------------------------------------
# Units
# ----------------------------------------------------------------------------------------------

# The units a sweep evaluates: a multiplier alone has no accumulator to verify, cost or measure.
SWEEP_UNIT_KINDS = ("mac", "dot", "array", "bdot")


def sweep_unit(unit, fmt=None) -> UnitSpec:
    """The unit of a design point (rtl.unit.parse_unit): mac, dot:N, array:RxC, or for a block
    format `fmt` its block dot unit (rtl.unit.block_unit: mac -> bdot:min(8, block size))."""
    u = parse_unit(unit)
    if u.kind not in SWEEP_UNIT_KINDS:
        raise UnsupportedConfig(f"a sweep unit must be mac, dot:N (e.g. dot:4), array:RxC (e.g. "
                                f"array:2x2) or bdot:N (block formats), not {u.spec!r}")
    if fmt is not None:
        u = block_unit(fmt, u)
        if u.kind == "bdot" and not hasattr(fmt, "block_size"):
            raise UnsupportedConfig(f"a bdot:N unit needs a block format (e.g. mxfp8_e4m3, nvfp4), "
                                    f"not {fmt.name!r}: use mac, dot:N or array:RxC")
    return u


def unit_macs(unit) -> int:
    """Multiply-accumulates per cycle of a unit (a UnitSpec or its spec): mac 1, dot:N N, array:RxC
    R*C, bdot:N N (element products)."""
    return parse_unit(unit).macs_per_cycle


# ----------------------------------------------------------------------------------------------
# Canonical specs
# ----------------------------------------------------------------------------------------------

def format_spec(fmt: Format) -> str:
    """The canonical spec of a format: parse_format(format_spec(f)) == f."""
    return fmt.spec


def acc_spec(acc: AccSpec) -> str:
    """The canonical spec of an accumulator: parse_acc(acc_spec(a)) == a ('kulisch:12', 'float32')."""
    return acc.spec


# ----------------------------------------------------------------------------------------------
# Design points
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DesignPoint:
    """One design: input format, accumulator, unit, pipeline registers, cell library (objects)."""

    in_fmt: Format
    acc: AccSpec
    unit: UnitSpec = UnitSpec("mac")
    pipeline_stages: int = 1
    library: str = "ge"

    @classmethod
    def make(cls, in_fmt, acc, unit="mac", pipeline_stages=1, library="ge") -> "DesignPoint":
        """Parse and validate: strings or objects for the format, accumulator and unit."""
        fmt = parse_format(in_fmt)
        if not isinstance(pipeline_stages, int) or isinstance(pipeline_stages, bool) or pipeline_stages < 0:
            raise UnsupportedConfig(f"pipeline_stages must be an integer >= 0, not {pipeline_stages!r}")
        if not isinstance(acc, AccSpec) and not str(acc).strip():
            raise UnsupportedConfig("acc must be an accumulator spec (kulisch, kulisch:V, int32, fp16, "
                                    "bf16, fp32 or a float format), not ''")
        try:
            a = parse_acc(acc)
        except FormatError as exc:
            raise FormatError(f"accumulator {acc!r}: {exc}") from None
        return cls(fmt, a, sweep_unit(unit, fmt), pipeline_stages, str(library))

    def key_fields(self) -> dict:
        """What identifies the design in a cache key: canonical specs only."""
        return {"in_fmt": format_spec(self.in_fmt), "acc": acc_spec(self.acc), "unit": self.unit.spec,
                "pipeline_stages": self.pipeline_stages, "library": self.library}

    def as_dict(self) -> dict:
        """The identifying columns of a table row (POINT_COLUMNS without point_id)."""
        return {"in_fmt": self.in_fmt.name, "in_fmt_spec": format_spec(self.in_fmt),
                "acc": acc_spec(self.acc), "unit": self.unit.spec,
                "pipeline_stages": self.pipeline_stages, "library": self.library}

    @property
    def point_id(self) -> str:
        """Readable id: int8/kulisch/mac/p1/ge (format name, accumulator spec, unit, depth, library)."""
        return f"{self.in_fmt.name}/{acc_spec(self.acc)}/{self.unit.spec}/p{self.pipeline_stages}/{self.library}"


@dataclass
class SweepSpec:
    """The cartesian product of the listed choices (configs in TOML parse into this)."""

    formats: list[str]
    accumulators: list[str]
    units: list[str] = field(default_factory=lambda: ["mac"])
    pipeline_stages: list[int] = field(default_factory=lambda: [1])
    libraries: list[str] = field(default_factory=lambda: ["ge"])

    def points(self) -> list[DesignPoint]:
        pts = []
        for f in self.formats:
            for a in self.accumulators:
                for u in self.units:
                    for p in self.pipeline_stages:
                        for lib in self.libraries:
                            pts.append(DesignPoint.make(f, a, u, p, lib))
        # Keep order, drop duplicates (two spellings of one design).
        return list(dict.fromkeys(pts))


def default_spec(quick: bool = False) -> SweepSpec:
    """The report's default sweep, sized for < 15 min cold on 2 cores for the whole report: a
    point costs ~30-70 s cold (two Verilator builds: the cocotb bench and the gate-level energy
    run; synthesis ~1-3 s), so 12 points take ~6 min on 2 workers. Six formats spanning 4 to 8
    bits, integer and float, with the paper's two accumulator kinds (Kulisch, FP32); the paper
    section covers FP16 accumulation. Quick (tests): the two formats the paper compares."""
    if quick:
        return SweepSpec(formats=["int8", "float8_e4m3fn"], accumulators=["kulisch", "fp32"])
    return SweepSpec(
        formats=["int4", "int8", "float8_e4m3fn", "float8_e5m2", "float6_e2m3fn", "float4_e2m1fn"],
        accumulators=["kulisch", "fp32"])


def split_list(text: str | None) -> list[str] | None:
    """Split a command-line list on its top-level commas only: 'fp(e=3,m=4,bias=7),int8' ->
    ['fp(e=3,m=4,bias=7)', 'int8']. Unbalanced parentheses are a FormatError."""
    if not text:
        return None
    items, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise FormatError(f"unbalanced ')' in the list {text!r}")
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise FormatError(f"unbalanced '(' in the list {text!r}")
    items.append("".join(cur))
    return [x.strip() for x in items if x.strip()] or None
