"""Liberty libraries: the one reader, the built-in area libraries and their cell table.

Contract
    read_liberty(text, path) -> dict[name, LibCell]: the cells of a Liberty library with their
        area, pins, output `function`s, flip-flop/latch groups and (where present) a scalar
        internal switching energy. A tokenising reader of Liberty's group syntax (comments, quoted
        strings, line continuations); DataError (one line, naming the file) when malformed. The
        synthesis flow (rtl.synth) and the gate-level simulator (sim.gatelevel) both use it.
    resolve_library(spec) -> Library: "paper" | "ge" | a path to a user Liberty file (areas in
        um^2), checked to have the cells ABC and dfflibmap need (a buffer, an inverter, a 2-input
        gate, a flip-flop) before any Yosys run.
    cell_table() -> DataFrame: rtl/lib/cells.csv with area_ge and delay_fo4 derived.
    builtin_library_texts() / write_builtin_libraries(): paper.lib and ge.lib are generated from
        cells.csv, never edited by hand.

Areas are in the library's unit: "gates" for paper.lib (the FP8-vs-INT8 paper's Appendix-B
equivalent gates), "ge" for ge.lib (NAND2 equivalents, Nangate 45 nm ratios), "um2" for a user
PDK library.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwmodel.errors import DataError

LIB_DIR = Path(__file__).parent / "lib"
CELLS_CSV = LIB_DIR / "cells.csv"
BUILTIN = {"paper": LIB_DIR / "paper.lib", "ge": LIB_DIR / "ge.lib"}
NAND2_UM2 = 0.798          # Nangate 45 nm NAND2_X1: the gate equivalent of ge.lib
_TAU_PER_FO4 = 5.0         # an inverter driving four copies of itself: d = g*h + p = 4 + 1


# ---------------------------------------------------------------------------------------------
# Reading Liberty
# ---------------------------------------------------------------------------------------------
_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|\\\n|"(?:[^"\\]|\\.)*"|[(){}:;,]|[^\s(){}:;,"]+', re.S)


@dataclass
class _Group:
    kind: str
    args: list[str]
    attrs: dict[str, str] = field(default_factory=dict)
    complex: dict[str, list[str]] = field(default_factory=dict)
    groups: list["_Group"] = field(default_factory=list)


def _tokens(text: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(text):
        t = m.group(0)
        if t[0].isspace() or t.startswith("/*") or t.startswith("//") or t == "\\\n":
            continue
        out.append(t)
    return out


def _unquote(t: str) -> str:
    """A quoted string's text, with line continuations (backslash-newline) removed."""
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return t[1:-1].replace("\\\n", "")
    return t


def _parse_groups(tokens: list[str], path: str) -> _Group:
    pos = 0

    def fail(msg):
        raise DataError(f"Liberty file {path}: {msg} near token {pos} ({' '.join(tokens[pos:pos+6])!r})")

    def parse_body(group: _Group):
        nonlocal pos
        while pos < len(tokens):
            t = tokens[pos]
            if t == "}":
                pos += 1
                return
            name = t
            pos += 1
            if pos >= len(tokens):
                fail("unexpected end of file")
            if tokens[pos] == ":":
                pos += 1
                vals = []
                while pos < len(tokens) and tokens[pos] not in (";", "}"):
                    vals.append(tokens[pos])
                    pos += 1
                if pos < len(tokens) and tokens[pos] == ";":
                    pos += 1
                group.attrs[name] = _unquote(" ".join(vals))
            elif tokens[pos] == "(":
                pos += 1
                args = []
                while pos < len(tokens) and tokens[pos] != ")":
                    if tokens[pos] != ",":
                        args.append(_unquote(tokens[pos]))
                    pos += 1
                pos += 1  # ')'
                if pos < len(tokens) and tokens[pos] == "{":
                    pos += 1
                    sub = _Group(name, args)
                    parse_body(sub)
                    group.groups.append(sub)
                else:
                    if pos < len(tokens) and tokens[pos] == ";":
                        pos += 1
                    group.complex[name] = args
            else:
                fail(f"expected ':' or '(' after {name!r}")
        if group.kind != "<root>":
            fail(f"unterminated group {group.kind}")

    root = _Group("<root>", [])
    parse_body(root)
    return root


@dataclass(frozen=True)
class LibCell:
    """One Liberty cell as the simulator and the energy model need it."""

    name: str
    area: float                          # in the library's area unit (GE for our libraries)
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]  # (pin, Liberty function); function "" for a state pin
    ff: tuple | None = None              # (iq, iqn, clocked_on, next_state, clear, preset)
    latch: tuple | None = None           # (iq, iqn, enable, data_in)
    internal_energy: float | None = None  # mean rise/fall internal energy per output toggle

    @property
    def sequential(self) -> bool:
        return self.ff is not None or self.latch is not None


def _mean_power(group: _Group) -> float | None:
    vals = []
    for g in group.groups:
        if g.kind in ("rise_power", "fall_power", "power"):
            for v in g.complex.get("values", []):
                vals += [float(x) for x in v.replace("\\", "").split(",") if x.strip()]
    return float(np.mean(vals)) if vals else None


def read_liberty(text: str, path: str = "<liberty>") -> dict[str, LibCell]:
    """Parse the cells of a Liberty library (see module docstring). Raises DataError if malformed:
    no `library (...)` group, no cells, a cell without a numeric area, unbalanced groups."""
    if not re.search(r"\blibrary\s*\(", text):
        raise DataError(f"Liberty file {path}: not a Liberty file, it must contain a library(...) "
                        f"group, found none")
    root = _parse_groups(_tokens(text), path)
    libs = [g for g in root.groups if g.kind == "library"]
    if not libs:
        raise DataError(f"Liberty file {path}: not a Liberty file, it must contain a library(...) "
                        f"group, found none")
    cells = {}
    for c in libs[0].groups:
        if c.kind != "cell" or not c.args:
            continue
        inputs, outputs, energies = [], [], []
        ff = latch = None
        for g in c.groups:
            if g.kind == "pin":
                d = g.attrs.get("direction")
                for pin in g.args:
                    if d == "input":
                        inputs.append(pin)
                    elif d == "output":
                        outputs.append((pin, g.attrs.get("function", "")))
                for ip in g.groups:
                    if ip.kind == "internal_power":
                        e = _mean_power(ip)
                        if e is not None:
                            energies.append(e)
            elif g.kind == "ff":
                ff = (g.args[0], g.args[1] if len(g.args) > 1 else "", g.attrs.get("clocked_on", ""),
                      g.attrs.get("next_state", ""), g.attrs.get("clear", ""), g.attrs.get("preset", ""))
            elif g.kind == "latch":
                latch = (g.args[0], g.args[1] if len(g.args) > 1 else "", g.attrs.get("enable", ""),
                         g.attrs.get("data_in", ""))
        if "area" not in c.attrs:
            raise DataError(f"Liberty file {path}: cell {c.args[0]} has no area")
        try:
            area = float(c.attrs["area"])
        except ValueError:
            raise DataError(f"Liberty file {path}: cell {c.args[0]} area must be a number, "
                            f"not {c.attrs.get('area')!r}") from None
        cells[c.args[0]] = LibCell(c.args[0], area, tuple(inputs), tuple(outputs), ff, latch,
                                   float(np.mean(energies)) if energies else None)
    if not cells:
        raise DataError(f"Liberty file {path} must define at least one cell, found none")
    return cells


# ---------------------------------------------------------------------------------------------
# Libraries for synthesis
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Library:
    name: str                      # "paper", "ge" or the user file's stem
    path: Path
    text: str = field(repr=False)
    unit: str                      # "gates" | "ge" | "um2"
    cell_area: dict                # cell name -> area in `unit`
    cell_delay_fo4: dict | None    # cell name -> delay (FO4) for built-ins, None for user libs
    seq_cells: frozenset = frozenset()   # cells with an ff/latch group
    cells: dict = field(default_factory=dict, repr=False, compare=False)  # name -> LibCell

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def cell_table():
    """rtl/lib/cells.csv as a DataFrame (cell, function, paper_gates, area_um2, area_ge,
    delay_fo4, source ...). delay_fo4 = (g*4 + p)/5 from Logical Effort at fan-out 4.
    Switching energy per toggle: none of our sources gives one; the paper's assumption (energy
    proportional to gate count) makes area_ge the documented proxy for ge.lib."""
    import pandas as pd
    df = pd.read_csv(CELLS_CSV)
    if df["source"].isna().any():
        raise DataError(f"{CELLS_CSV}: every cell needs a source")
    df["area_ge"] = df["area_um2"] / NAND2_UM2     # NaN for paper-only cells (AO21, OA21)
    df["delay_fo4"] = (df["g_logical_effort"] * 4 + df["p_parasitic"]) / _TAU_PER_FO4
    return df


def _liberty_text(name: str, area_of: dict, rows: list[dict], comment: str) -> str:
    out = [f"/* {comment} */", f"/* Generated by rtl/liberty.py write_builtin_libraries() from "
           f"rtl/lib/cells.csv; do not edit. */",
           f"library ({name}) {{", "  delay_model : table_lookup;", '  time_unit : "1ns";',
           "  capacitive_load_unit (1,ff);"]
    for r in rows:
        cell, fn, area = r["cell"], r["function"], area_of[r["cell"]]
        out.append(f"  cell ({cell}) {{")
        out.append(f"    area : {area:.6g};")
        if cell == "DFF":
            out += ['    ff (IQ, IQN) { clocked_on : "C"; next_state : "D"; }',
                    "    pin (C) { direction : input; clock : true; capacitance : 1; }",
                    "    pin (D) { direction : input; capacitance : 1; }",
                    '    pin (Q) { direction : output; function : "IQ"; }']
        else:
            for p in sorted(set(re.findall(r"[A-Z]", fn))):
                out.append(f"    pin ({p}) {{ direction : input; capacitance : 1; }}")
            out.append(f'    pin (Y) {{ direction : output; function : "{fn}"; }}')
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def builtin_library_texts() -> dict[str, str]:
    """The text paper.lib and ge.lib must have (they are generated from cells.csv)."""
    with open(CELLS_CSV, newline="") as f:
        rows = list(csv.DictReader(f))
    paper = {r["cell"]: float(r["paper_gates"]) for r in rows}
    ge_rows = [r for r in rows if r["area_um2"].strip()]     # cells the open library has
    ge = {r["cell"]: float(r["area_um2"]) / NAND2_UM2 for r in ge_rows}
    return {
        "paper": _liberty_text("hwdse_paper", paper, rows,
                               "Cell areas = Appendix-B gate costs of van Baalen et al. 2023 "
                               "(arXiv:2303.17951): AND2/OR2 1, AO21/OA21 2, MUX2/XOR2 3, DFF 6; "
                               "others C = sum(fan-in - 1) (INV/BUF 0, NAND2/NOR2 1, AOI21 2)"),
        "ge": _liberty_text("hwdse_ge", ge, ge_rows,
                            "Cell areas in NAND2 gate equivalents: Nangate 45nm Open Cell Library "
                            "X1 cell areas (um2) / NAND2_X1 0.798 um2; see cells.csv sources"),
    }


def write_builtin_libraries() -> None:
    for name, text in builtin_library_texts().items():
        BUILTIN[name].write_text(text)


def _check_mappable(cells: dict[str, LibCell], path: Path) -> None:
    """ABC needs a buffer and an inverter and some 2-input gate; dfflibmap needs an ff cell."""
    def norm(f):
        return re.sub(r"[\s()]", "", f)
    comb = {n: [f for _, f in c.outputs if f] for n, c in cells.items() if not c.sequential}
    comb = {n: fs for n, fs in comb.items() if fs}
    has_inv = any(len(cells[n].inputs) == 1 and re.fullmatch(r"!\w+|\w+'", norm(fs[0]))
                  for n, fs in comb.items())
    has_buf = any(len(cells[n].inputs) == 1 and re.fullmatch(r"\w+", norm(fs[0]))
                  for n, fs in comb.items())
    has_2 = any(len(cells[n].inputs) >= 2 for n in comb)
    missing = [what for what, ok in (("an inverter", has_inv), ("a buffer", has_buf),
                                     ("a 2-input logic gate", has_2),
                                     ("a flip-flop (ff group)", any(c.ff is not None for c in cells.values())))
               if not ok]
    if missing:
        raise DataError(f"{path}: Liberty library lacks {', '.join(missing)}; ABC/dfflibmap need "
                        f"them to map a design")


INSTALL = "apt-get install opensta qflow-tech-osu018"
NAMED_LIBRARIES = {"osu018": Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")}


def library_path(spec) -> str:
    """A named characterised library -> its Liberty path; anything else is returned unchanged."""
    s = str(spec)
    if s.lower() in NAMED_LIBRARIES:
        p = NAMED_LIBRARIES[s.lower()]
        if not p.is_file():
            raise DataError(f"library {s} needs Debian's qflow-tech-osu018 ({p} is missing): "
                            f"{INSTALL}")
        return str(p)
    return s


def resolve_library(spec: str | os.PathLike = "paper") -> Library:
    """'paper', 'ge', a named characterised library ('osu018'), or a path to a user Liberty file
    (areas taken as um^2)."""
    s = library_path(spec)
    if s in BUILTIN:
        path, unit = BUILTIN[s], ("gates" if s == "paper" else "ge")
        name = s
    else:
        path, unit, name = Path(s), "um2", Path(s).stem
        if not path.is_file():
            raise DataError(f"library must be paper, ge, osu018 or an existing Liberty file, not {s!r} "
                            f"(no such file)")
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise DataError(f"{path}: cannot read Liberty file ({exc.strerror})") from None
    cells = read_liberty(text, str(path))
    _check_mappable(cells, path)
    delay = None
    if s in BUILTIN:
        t = cell_table()
        delay = dict(zip(t["cell"], t["delay_fo4"]))
    return Library(name=name, path=path, text=text, unit=unit,
                   cell_area={n: c.area for n, c in cells.items()}, cell_delay_fo4=delay,
                   seq_cells=frozenset(n for n, c in cells.items() if c.sequential), cells=cells)
