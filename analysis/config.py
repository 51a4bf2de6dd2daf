"""TOML configs parsed into the dataclasses the code uses.

A config file has up to four parts, each optional:

    seed = 0
    [sweep]      formats, accumulators, units, pipeline_stages, libraries   -> analysis.design.SweepSpec
    [isoarea]    budget_ge | budget_mm2, fo4_ps, clock_ghz_max, bandwidth_gb_s,
                 clock_fo4 | clock_ns, unpipelined, interleave               -> IsoAreaConfig
    [whatif]     format, acc, compare, compare_acc, library                  -> WhatIfConfig

Contract: `load_config(path)` returns a `Config`; a file that is missing or not valid TOML, an
unknown key (the message names the allowed keys), or a value of the wrong type raises `DataError`
with one line naming the file and the key. Values are validated further where they are used
(formats by the parser, budgets by analysis.isoarea).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwmodel.errors import DataError

from analysis.design import SweepSpec

# FO4 inverter delay assumed for converting the FO4-weighted critical path of ge.lib (Nangate
# 45 nm cell ratios) to seconds: the rule of thumb FO4 ~ 360 ps per um of drawn gate length
# (Ho, Mai & Horowitz, "The Future of Wires", Proc. IEEE 89(4), 2001) at 45 nm gives ~16 ps.
# An assumption, stated in every report that uses it; change it with [isoarea] fo4_ps.
FO4_PS_45NM = 16.2
FO4_SOURCE = ("assumed FO4 = 16.2 ps: 360 ps/um x 45 nm drawn length (Ho, Mai & Horowitz, "
              "'The Future of Wires', Proc. IEEE 2001), for ge.lib's Nangate 45 nm cell ratios")


@dataclass
class IsoAreaConfig:
    """Silicon budget, clock and memory of the iso-area accelerator (see analysis.isoarea)."""

    budget_ge: float | None = None
    budget_mm2: float | None = None
    fo4_ps: float = FO4_PS_45NM
    clock_ghz_max: float | None = None
    # H100 SXM5 HBM3 bandwidth (NVIDIA H100 datasheet), so the designs sit beside the GPU's memory.
    bandwidth_gb_s: float = 3350.0
    # One clock for every design (analysis.oneclock): the period given (FO4 with ge, ns with a
    # timing library), else the fastest clock INT8 into Kulisch meets; unpipelined: each design at
    # its own single-stage critical path (the comparison before one-clock).
    clock_fo4: float | None = None
    clock_ns: float | None = None
    unpipelined: bool = False
    # a design product registers cannot bring to the clock gets interleaved accumulation loops
    # (rtl.pipeline.meet_clock); false: shown at the clock it reaches
    interleave: bool = True

    def __post_init__(self):
        if self.budget_ge is None and self.budget_mm2 is None:
            # 10^8 gate equivalents ~ 80 mm^2 of Nangate-45 NAND2s: a mid-size accelerator's MAC array.
            self.budget_ge = 1e8


@dataclass
class WhatIfConfig:
    """A new format to try, and what to compare it with."""

    format: str | None = None
    acc: str = "fp32"
    compare: list[str] = field(default_factory=lambda: ["int8", "float8_e4m3fn"])
    compare_acc: list[str] = field(default_factory=lambda: ["kulisch", "fp32"])
    library: str = "ge"


@dataclass
class Config:
    seed: int = 0
    sweep: SweepSpec | None = None
    isoarea: IsoAreaConfig = field(default_factory=IsoAreaConfig)
    whatif: WhatIfConfig = field(default_factory=WhatIfConfig)


# Expected type of each key: "str", "int", "float", "float?" (may be absent/None), "[str]", "[int]".
_TYPES = {
    SweepSpec: {"formats": "[str]", "accumulators": "[str]", "units": "[str]",
                "pipeline_stages": "[int]", "libraries": "[str]"},
    IsoAreaConfig: {"budget_ge": "float", "budget_mm2": "float", "fo4_ps": "float",
                    "clock_ghz_max": "float", "bandwidth_gb_s": "float", "clock_fo4": "float",
                    "clock_ns": "float", "unpipelined": "bool", "interleave": "bool"},
    WhatIfConfig: {"format": "str", "acc": "str", "compare": "[str]", "compare_acc": "[str]",
                   "library": "str"},
}
_TOP = {"seed": "int", "sweep": SweepSpec, "isoarea": IsoAreaConfig, "whatif": WhatIfConfig}
_REQUIRED = {SweepSpec: ("formats", "accumulators")}


def _check(value: Any, kind: str, where: str) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise DataError(f"{where} must be a string, not {value!r}")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise DataError(f"{where} must be an integer, not {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise DataError(f"{where} must be true or false, not {value!r}")
        return value
    if kind == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise DataError(f"{where} must be a finite number, not {value!r}")
        return float(value)
    if kind.startswith("["):
        inner = kind[1:-1]
        if not isinstance(value, list) or not value:
            raise DataError(f"{where} must be a non-empty list of {inner}s, not {value!r}")
        return [_check(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    raise AssertionError(kind)  # pragma: no cover - a typo in _TYPES


def _build(cls, table: Any, where: str, path: str):
    if not isinstance(table, dict):
        raise DataError(f"{path}: [{where}] must be a table, not {table!r}")
    types = _TYPES[cls]
    unknown = [k for k in table if k not in types]
    if unknown:
        raise DataError(f"{path}: unknown key {unknown[0]!r} in [{where}]; allowed keys: "
                        f"{', '.join(types)}")
    for k in _REQUIRED.get(cls, ()):
        if k not in table:
            raise DataError(f"{path}: [{where}] must have key {k!r} (keys: {', '.join(types)})")
    kwargs = {k: _check(v, types[k], f"{path}: {where}.{k}") for k, v in table.items()}
    return cls(**kwargs)


def parse_config(data: dict, path: str = "<config>") -> Config:
    """A Config from an already-parsed TOML document (see the module docstring)."""
    unknown = [k for k in data if k not in _TOP]
    if unknown:
        raise DataError(f"{path}: unknown key {unknown[0]!r}; allowed top-level keys: {', '.join(_TOP)}")
    cfg = Config()
    if "seed" in data:
        cfg.seed = _check(data["seed"], "int", f"{path}: seed")
    if "sweep" in data:
        cfg.sweep = _build(SweepSpec, data["sweep"], "sweep", path)
    if "isoarea" in data:
        cfg.isoarea = _build(IsoAreaConfig, data["isoarea"], "isoarea", path)
        if cfg.isoarea.budget_mm2 is not None and "budget_ge" in data["isoarea"]:
            raise DataError(f"{path}: [isoarea] must give budget_ge or budget_mm2, not both")
        if cfg.isoarea.budget_mm2 is not None:
            cfg.isoarea.budget_ge = None
    if "whatif" in data:
        cfg.whatif = _build(WhatIfConfig, data["whatif"], "whatif", path)
    return cfg


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"config file must exist, not {str(p)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"config file {str(p)!r} cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{p}: malformed TOML: {exc}") from None
    return parse_config(data, str(p))


def as_dict(cfg: Config) -> dict:
    """The config as plain data (for metadata files)."""
    return dataclasses.asdict(cfg)
