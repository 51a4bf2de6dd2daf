"""MAC array: an R x C output-stationary systolic array of MAC units (rtl.mac.Mac) with streams.

Contract (docs/DESIGN.md, "Array RxC, output stationary"; golden model `hwmodel.numerics.gemm`):
after a tile has been streamed in, PE (i, j) holds C[i][j] = the MAC accumulation of
A[i][k] * B[k][j] for k = 0..K-1 in order, with the MAC unit's semantics (float: one rounding per
product; int: wrap/saturate; Kulisch: the raw register).

Streams (default `sync` domain, synchronous reset):
    a_col     In(ArrayLayout(in bits, R)): column k of A (row i in lane i) ...
    b_row     In(ArrayLayout(in bits, C)): ... together with row k of B (column j in lane j)
    valid_in  In(1): a_col/b_row carry step k of the tile this cycle
    clear     In(1): with valid_in, step k is the first of a new tile (k = 0); every PE restarts
    drain     In(1): start emitting the results, one row per cycle, rows 0..R-1
    c_row     Out(ArrayLayout(acc bits, C)), c_index Out(row index), c_valid Out(1)
The driver presents the tile unskewed (A[:, k] and B[k, :] in the same cycle, K consecutive or
gapped valid cycles); the array skews it internally: row i's operands and its valid/clear are
delayed by i registers, column j's by j, and they then move one PE per cycle (A to the right with
valid/clear, B downward), so PE (i, j) sees step k exactly i + j cycles after it entered.
`latency` = edges from the last step's valid_in being sampled until every PE holds its final
result: (R - 1) + (C - 1) register hops + the MAC's latency. Pulse `drain` at or after that edge;
row r appears on c_row with c_valid high r + 1 edges after the drain pulse is sampled.

For synthesis of large arrays, shared_pe_rtlil(config) writes the same circuit with one PE module
(ArrayPE) instanced R x C times (MacArray(config, pe_module=...)), so that rtl.synth.synthesize_hier
maps the PE once.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import ClockSignal, Elaboratable, Instance, Module, ResetSignal, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwmodel.errors import UnsupportedConfig
from hwmodel.formats import Format
from rtl.config import AccSpec, MacConfig

MAX_DIM = 64   # rows and columns; an 8x8 array is the usual size, 64x64 is already a TPU-class tile


@dataclass(frozen=True)
class ArrayConfig:
    """R x C array of MacConfig(in_fmt, acc, pipeline_stages, mutant) processing elements."""

    in_fmt: Format
    acc: AccSpec
    rows: int = 8
    cols: int = 8
    pipeline_stages: int = 1
    mutant: str | None = None

    def __post_init__(self):
        for what, v in (("rows", self.rows), ("cols", self.cols)):
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_DIM:
                raise UnsupportedConfig(f"array {what} must be an int in 1..{MAX_DIM}, not {v!r}")
        mac = MacConfig(self.in_fmt, self.acc, self.pipeline_stages, self.mutant)
        object.__setattr__(self, "in_fmt", mac.in_fmt)
        object.__setattr__(self, "acc", mac.acc)

    @property
    def mac(self) -> MacConfig:
        return MacConfig(self.in_fmt, self.acc, self.pipeline_stages, self.mutant)

    @property
    def name(self) -> str:
        return f"array{self.rows}x{self.cols}_{self.mac.name[len('mac_'):]}"

    @property
    def acc_width(self) -> int:
        return self.mac.acc_width

    @property
    def latency(self) -> int:
        """Edges from the last step being sampled to every PE holding its final result."""
        return (self.rows - 1) + (self.cols - 1) + self.mac.latency

    def create(self) -> "MacArray":
        """The MacArray this config describes."""
        return MacArray(self)



def delay_line(m: Module, sig, n: int, name: str):
    """`sig` delayed by n registers `{name}_d0..` in m's sync domain (control bits reset to 0:
    registers start at X in gate-level simulation)."""
    for s in range(n):
        r = Signal.like(sig, name=f"{name}_d{s}")
        m.d.sync += r.eq(sig)
        sig = r
    return sig


def row_drain(m: Module, drain, rows: int):
    """The drain counter of an output-stationary array: a pulse on `drain` starts `idx` walking
    rows 0..rows-1, one a cycle, while `active` is high. Returns (idx, active); the caller muxes
    row idx onto its outputs."""
    idx = Signal(range(rows), name="idx")
    active = Signal(name="active")
    with m.If(drain):
        m.d.sync += [active.eq(1), idx.eq(0)]
    with m.Elif(active):
        with m.If(idx == rows - 1):
            m.d.sync += active.eq(0)
        with m.Else():
            m.d.sync += idx.eq(idx + 1)
    return idx, active

class MacArray(wiring.Component):
    """See the module docstring. Argument: an ArrayConfig.

    pe_module: None (default) builds every PE inline (amaranth then emits one module per PE);
    a module name makes every PE an instance of that one module, which the caller supplies
    (shared_pe_rtlil does, with ArrayPE): the same circuit, one PE definition for synthesis."""

    def __init__(self, config: ArrayConfig, pe_module: str | None = None):
        if not isinstance(config, ArrayConfig):
            raise UnsupportedConfig(f"MacArray needs an ArrayConfig, not {type(config).__name__}")
        self.config = config
        self.pe_module = pe_module
        R, C, bits = config.rows, config.cols, config.in_fmt.bits
        super().__init__({
            "a_col": In(data.ArrayLayout(unsigned(bits), R)),
            "b_row": In(data.ArrayLayout(unsigned(bits), C)),
            "valid_in": In(1),
            "clear": In(1),
            "drain": In(1),
            "c_row": Out(data.ArrayLayout(unsigned(config.acc_width), C)),
            "c_index": Out(range(R)),
            "c_valid": Out(1),
        })

    @property
    def latency(self) -> int:
        return self.config.latency

    def elaborate(self, platform):

        m = Module()
        cfg = self.config
        R, C, bits = cfg.rows, cfg.cols, cfg.in_fmt.bits

        def delay(sig, n, name):
            return delay_line(m, sig, n, name)

        # input skew: row i (a, valid, clear) by i cycles, column j (b) by j cycles
        a_west = [delay(self.a_col[i], i, f"skew_a{i}") for i in range(R)]
        v_west = [delay(self.valid_in, i, f"skew_v{i}") for i in range(R)]
        c_west = [delay(self.clear, i, f"skew_c{i}") for i in range(R)]
        b_north = [delay(self.b_row[j], j, f"skew_b{j}") for j in range(C)]

        accs = [[None] * C for _ in range(R)]
        b_in = list(b_north)                  # what enters row i from above, per column
        for i in range(R):
            a, v, c = a_west[i], v_west[i], c_west[i]
            b_out = []
            for j in range(C):
                if self.pe_module is None:
                    pe = cfg.mac.create()
                    m.submodules[f"pe_{i}_{j}"] = pe
                    m.d.comb += [pe.a.eq(a), pe.b.eq(b_in[j]), pe.valid_in.eq(v), pe.clear.eq(c)]
                    accs[i][j] = pe.acc_out
                else:
                    acc = Signal(cfg.acc_width, name=f"acc_{i}_{j}")
                    m.submodules[f"pe_{i}_{j}"] = Instance(
                        self.pe_module, i_clk=ClockSignal(), i_rst=ResetSignal(), i_a=a,
                        i_b=b_in[j], i_valid_in=v, i_clear=c, o_acc_out=acc)
                    accs[i][j] = acc
                # forward one PE per cycle: a/valid/clear to the east, b to the south
                if j + 1 < C:
                    a, v, c = (delay(a, 1, f"a_{i}_{j}"), delay(v, 1, f"v_{i}_{j}"),
                               delay(c, 1, f"c_{i}_{j}"))
                b_out.append(delay(b_in[j], 1, f"b_{i}_{j}") if i + 1 < R else None)
            b_in = b_out

        # drain: a row counter walks rows 0..R-1 after a drain pulse
        idx, active = row_drain(m, self.drain, R)
        with m.Switch(idx):
            for i in range(R):
                with m.Case(i):
                    m.d.comb += [self.c_row[j].eq(accs[i][j]) for j in range(C)]
        m.d.comb += [self.c_index.eq(idx), self.c_valid.eq(active)]
        return m


class ArrayPE(Elaboratable):
    """One processing element as the array uses it: a Mac (MacConfig) with only the ports the
    array connects (a, b, valid_in, clear in; acc_out out), so its unused outputs (valid_out,
    the flags) are pruned exactly as they are when amaranth builds the PE inline."""

    def __init__(self, mac_config: MacConfig):
        self.mac_config = mac_config
        bits = mac_config.in_fmt.bits
        self.a = Signal(bits, name="a")
        self.b = Signal(bits, name="b")
        self.valid_in = Signal(name="valid_in")
        self.clear = Signal(name="clear")
        self.acc_out = Signal(mac_config.acc_width, name="acc_out")

    @property
    def ports(self) -> list:
        return [self.a, self.b, self.valid_in, self.clear, self.acc_out]

    def elaborate(self, platform):
        m = Module()
        m.submodules.mac = mac = self.mac_config.create()
        m.d.comb += [mac.a.eq(self.a), mac.b.eq(self.b), mac.valid_in.eq(self.valid_in),
                     mac.clear.eq(self.clear), self.acc_out.eq(mac.acc_out)]
        return m


def shared_pe_rtlil(config: ArrayConfig) -> tuple[str, str]:
    """(RTLIL text, top module name) of the array with one shared PE module: the top (MacArray
    with pe_module) instantiates `pe_<MAC name>` R x C times, and that module (ArrayPE) is
    converted once and appended. Same circuit as MacArray(config); source-location attributes
    dropped. The PE's name (and so its text) does not depend on R and C: every array size
    hands the synthesis flow the same PE."""
    import re
    import warnings

    from amaranth.back import rtlil
    top = config.name
    pe_name = f"pe_{config.mac.name}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = rtlil.convert(MacArray(config, pe_module=pe_name), name=top)
        pe = ArrayPE(config.mac)
        pe_text = rtlil.convert(pe, name=pe_name, ports=pe.ports)
    # one top per design: the PE's conversion marks its own module as a top
    pe_text = re.sub(r"^attribute \\top 1\n", "", pe_text, flags=re.M)
    text = arr + pe_text
    return re.sub(r"^[ \t]*attribute \\src .*\n", "", text, flags=re.M), top
