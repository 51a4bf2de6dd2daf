"""What the shared scale costs: area, delay and energy per element product of block-scaled dot units.

`block_cost_table()` synthesises (Yosys, rtl.synth; ge.lib NAND2 equivalents by default, as the
report's headline) the block dot unit (rtl.blockdot via rtl.unit.unit_config) of every block format
of the catalogue at block sizes 16 / 32 / 64, and the scalar INT8, FP8-E4M3 and INT4 MACs beside
them, and measures energy per element product by gate-level simulation (sim.energy.block_energy /
mac_energy) at the block sizes in `energy_block_sizes`. Every figure is per element product: a
block unit's area and energy divided by its lanes (element products per cycle). Areas are split
into multipliers / adder tree / scale path / accumulator / control (rtl.blockdot.split_area; a
scalar MAC: its multiplier `mpy` -> multipliers, the rest -> accumulator, no scale path). Every
run is cached by content hash (synthesis and energy caches under cache_dir), so a second call
costs seconds.

Cost of a cold run (2 shared cores): synthesis of one block unit takes ~5-15 s, so the default
set (13 block format/accumulator pairs x 3 block sizes + 3 scalar MACs, area and delay) takes a
few minutes; energy needs a Verilator build of each unit's gate-level netlist (~1-3 min each), so
it is measured only at the block sizes asked for (energy_block_sizes=(32,): + ~16 builds).

Public API
    BLOCK_FORMATS, SCALARS, BLOCK_SIZES      the default set
    block_cost_table(formats=BLOCK_FORMATS, block_sizes=BLOCK_SIZES, ...) -> DataFrame
    plot_block_cost(ax, table, block_size=32)      area per element product by part (stacked bars)
    plot_block_energy(ax, table, block_size=32)    energy per element product by part (stacked bars)
    plot_scale_share(ax, table)                    scale path share of the unit vs block size
    MEASURED_TABLE, REMEASURE_COMMAND              the committed measured table and how it was made
    load_measured(path=None) -> DataFrame          read it (DataError when missing or malformed)
    synth_inputs(spec, acc, block_size, lanes)     what decides a unit's netlist, without Yosys
    check_measured(measured, live=None) -> DataFrame   status per row (current / stale), live area in
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from hwmodel.errors import UnsupportedConfig

# Catalogue block formats (hwmodel.formats) with the accumulators they are costed with: FP32 for
# all (the float adder every block format can use); ShiftQuant's power-of-two groups also into a
# Kulisch register, its point (no float adder at all). Jetfire and DeepSeek's 2-D tiles share one
# scale along the dot axis per block, which is what the unit sees.
BLOCK_FORMATS = (
    ("mxfp8_e4m3", "fp32"), ("mxfp8_e5m2", "fp32"), ("mxfp6_e2m3", "fp32"), ("mxfp6_e3m2", "fp32"),
    ("mxfp4", "fp32"), ("mxint8", "fp32"), ("nvfp4", "fp32"), ("jetfire_int8", "fp32"),
    ("shiftquant_int4", "fp32"), ("shiftquant_int4", "kulisch"), ("shiftquant_int8", "fp32"),
    ("shiftquant_int8", "kulisch"), ("deepseek_fp8_act", "fp32"),
)
# The scalar MACs beside them (rtl.unit "mac"), one element product per cycle.
SCALARS = (("int8", "int32"), ("float8_e4m3fn", "fp32"), ("int4", "int32"))
BLOCK_SIZES = (16, 32, 64)
LANES = 8
PARTS = ("multipliers", "adder_tree", "scale_path", "accumulator", "control")


def _at_block_size(fmt, bs: int):
    """fmt with block_size bs (its catalogue label dropped when the size changes)."""
    if fmt.block_size == bs:
        return fmt
    return dataclasses.replace(fmt, block_size=bs, label=None)


def _scalar_parts(area_by_part: dict) -> dict:
    out = dict.fromkeys(PARTS, 0.0)
    for name, a in area_by_part.items():
        out["multipliers" if name.split("$")[0] == "mpy" else "accumulator"] += a
    return out


def _cost_row(job: tuple) -> dict:
    """One unit: synthesis (+ energy when asked). Module level so that it pickles for the pool."""
    spec, acc, bs, lanes, library, energy, n_blocks, seed, cache_dir = job
    import warnings

    from hwmodel.formats import parse_format
    from rtl.blockdot import split_area
    from rtl.synth import synthesize
    from rtl.unit import unit_config
    from sim import energy as E

    fmt = parse_format(spec)
    block = hasattr(fmt, "block_size")
    if block:
        fmt = _at_block_size(fmt, bs)
    cfg = unit_config(fmt, acc, f"bdot:{lanes}" if block else "mac")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = synthesize(cfg.create(), library, cache_dir=cache_dir)
    n = cfg.lanes if block else 1
    parts = split_area(res.area_by_part) if block else _scalar_parts(res.area_by_part)
    hier = sum(parts.values()) or math.nan
    u = res.area_unit
    row = {"format": fmt.name, "family": spec, "format_spec": fmt.spec, "kind": "block" if block else "scalar",
           "element": (fmt.element.name if block else fmt.name),
           "scale": (fmt.scale.name if block else None), "block_size": (bs if block else None),
           "acc": cfg.acc.spec, "lanes": n, "config": cfg.name,
           f"area_per_product_{u}": res.area / n,
           **{f"area_{p}_per_product_{u}": parts[p] / n for p in PARTS},
           f"scale_path_{u}_per_product": parts["scale_path"] / n,
           "scale_path_share": parts["scale_path"] / hier,
           "delay_fo4": res.delay_fo4, "logic_depth": res.logic_depth,
           "synth_source": res.source, "netlist_sha256": res.netlist_sha256,
           # what decides the netlist (rtl.synth's cache key): a committed row is current while
           # these match what the checkout would synthesise (synth_inputs)
           "rtl_sha256": res.rtl_sha256, "script_sha256": res.script_sha256,
           "library_sha256": res.library_sha256, "yosys_version": res.yosys_version,
           "flow_version": res.flow_version}
    if energy:
        kw = {"cache_dir": Path(cache_dir)} if cache_dir else {}
        if block:
            e = E.block_energy(fmt, acc, lanes=n, n_blocks=n_blocks, library=library, seed=seed, **kw)
            row["energy_pj_per_product"] = e["pj_per_product"]
            row.update({f"energy_{p}_pj_per_product": e[f"pj_per_product_{p}"] for p in PARTS})
        else:
            e = E.mac_energy(fmt, acc, n=n_blocks * 32, library=library, seed=seed, **kw)
            row["energy_pj_per_product"] = e["pj_per_mac"]
            mpy = e.get("pj_per_mac_mpy", math.nan)
            row.update({f"energy_{p}_pj_per_product": 0.0 for p in PARTS})
            row["energy_multipliers_pj_per_product"] = mpy
            row["energy_accumulator_pj_per_product"] = e["pj_per_mac"] - mpy
        row["energy_source"] = e["source"]
        row.update(energy_flow_version=ENERGY_FLOW_VERSION(), energy_n_blocks=n_blocks, energy_seed=seed,
                   energy_dist="gaussian")
    return row


def block_cost_table(formats=BLOCK_FORMATS, block_sizes=BLOCK_SIZES, *, scalars=SCALARS,
                     lanes: int = LANES, library: str = "ge", energy_block_sizes=(),
                     n_blocks: int = 128, seed: int = 0, cache_dir=None, jobs: int = 2) -> pd.DataFrame:
    """One row per (block format, accumulator, block size) and per scalar MAC: area per element
    product in total and by part (`area_<part>_per_product_<unit>`), the scale path in the
    library's unit per element product and as a share of the unit's hierarchical area
    (`scale_path_share`), delay (`delay_fo4`, FO4 of the synthesised critical path, and
    `logic_depth`), and where measured (block sizes in energy_block_sizes, and the scalars when
    any is) energy per element product in pJ in total and by part. formats: (block format spec,
    accumulator) pairs; scalars: (format, accumulator) pairs of scalar MACs; lanes must divide
    every block size. Synthesis and energy are cached by content hash under cache_dir (None:
    hwmodel.cache.default_cache_dir()); points run on the tool's worker pool (hwmodel.pool)."""
    from hwmodel.cache import default_cache_dir
    from hwmodel.formats import parse_format
    from hwmodel.pool import map_ordered
    from rtl.unit import block_unit

    cache_dir = str(cache_dir if cache_dir is not None else default_cache_dir())
    energy_block_sizes = tuple(energy_block_sizes or ())
    jobs_list = []
    for spec, acc in formats:
        fmt = parse_format(spec)
        if not hasattr(fmt, "block_size"):
            raise UnsupportedConfig(f"block_cost_table formats must be block formats, not {spec!r}")
        for bs in block_sizes:
            block_unit(_at_block_size(fmt, bs), f"bdot:{lanes}")    # lanes must divide bs: raise now
            jobs_list.append((spec, acc, bs, lanes, library, bs in energy_block_sizes, n_blocks, seed,
                              cache_dir))
    for spec, acc in scalars:
        jobs_list.append((spec, acc, None, 1, library, bool(energy_block_sizes), n_blocks, seed, cache_dir))
    rows = map_ordered(_cost_row, jobs_list, jobs)
    return pd.DataFrame(rows)


def ENERGY_FLOW_VERSION() -> str:
    """The gate-level energy flow's version (sim.toggles.FLOW_VERSION): part of an energy row's identity."""
    from sim.toggles import FLOW_VERSION
    return FLOW_VERSION


# ---------------------------------------------------------------------------------------------
# The committed measured table and its check against the checkout
# ---------------------------------------------------------------------------------------------
MEASURED_TABLE = Path(__file__).resolve().parents[1] / "hwmodel" / "data" / "blockcost" / "blockcost.csv"
REMEASURE_COMMAND = ("python scripts/blockdot_cost.py --block-sizes 16 32 64 --energy-block-sizes 16 32 64 "
                     "--jobs 2 --csv hwmodel/data/blockcost/blockcost.csv")
# Columns every committed row must carry: its design, its figures and its provenance.
IDENTITY = ("rtl_sha256", "script_sha256", "library_sha256", "yosys_version", "flow_version")
MEASURED_COLUMNS = ("family", "acc", "kind", "block_size", "lanes", "netlist_sha256", *IDENTITY,
                    "delay_fo4", "scale_path_share", "measured_utc", "command", "git_sha")


def load_measured(path=None) -> pd.DataFrame:
    """The committed measured table (scripts/blockdot_cost.py --csv): one row per unit, with its
    provenance. Raises DataError when the file is missing or lacks a column of MEASURED_COLUMNS."""
    from hwmodel.errors import DataError
    path = Path(path) if path is not None else MEASURED_TABLE
    if not path.is_file():
        raise DataError(f"measured block cost table must exist, not missing: {path} (make it with "
                        f"{REMEASURE_COMMAND})")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"measured block cost table {path} must be a CSV, not unreadable ({exc})") from None
    missing = [c for c in MEASURED_COLUMNS if c not in df.columns]
    if missing or not any(c.startswith("area_per_product_") for c in df.columns):
        raise DataError(f"measured block cost table {path} must have columns {list(MEASURED_COLUMNS)} "
                        f"and area_per_product_<unit>, missing {missing or ['area_per_product_<unit>']}")
    return df


def unit_config_of(spec: str, acc: str, block_size, lanes: int = LANES):
    """The config a row of the cost table was synthesised from (as _cost_row builds it)."""
    from hwmodel.formats import parse_format
    from rtl.unit import unit_config
    fmt = parse_format(spec)
    if hasattr(fmt, "block_size"):
        return unit_config(_at_block_size(fmt, int(block_size)), acc, f"bdot:{int(lanes)}")
    return unit_config(fmt, acc, "mac")


def synth_inputs(spec: str, acc: str, block_size, lanes: int = LANES, library: str = "ge") -> dict:
    """What decides the unit's netlist, computed without running Yosys: sha256 of the RTLIL text
    rtl.synth.synthesize would hash (source-location attributes removed, as it does), of the flow
    script and of the library, the Yosys version and the flow version. Equal to a committed row's
    IDENTITY columns = rtl.synth would return the committed netlist (its cache key is these)."""
    import hashlib
    import re
    import warnings

    from amaranth.back import rtlil

    from rtl import synth as rsynth
    cfg = unit_config_of(spec, acc, block_size, lanes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rtl = rtlil.convert(cfg.create(), name=cfg.name)
    rtl = re.sub(r"^[ \t]*attribute \\src .*\n", "", rtl, flags=re.M)   # as rtl.synth.synthesize
    lib = rsynth.resolve_library(library)
    script = rsynth.flow_script(cfg.name)
    return {"rtl_sha256": hashlib.sha256(rtl.encode()).hexdigest(),
            "script_sha256": hashlib.sha256(script.encode()).hexdigest(),
            "library_sha256": lib.sha256, "yosys_version": rsynth.yosys_version(),
            "flow_version": rsynth.FLOW_VERSION}


def _row_key(r) -> tuple:
    bs = r["block_size"]
    return (str(r["family"]), str(r["acc"]), None if pd.isna(bs) else int(bs))


def _synth_inputs_job(job: tuple) -> dict:
    return synth_inputs(*job)


def check_measured(measured: pd.DataFrame, live: pd.DataFrame | None = None, current=None,
                   jobs: int = 1) -> pd.DataFrame:
    """The committed rows with `status` and `area_from`, stale figures blanked, live figures in.

    A row with a live synthesis in `live` (same family, acc, block size): its area, parts, delay
    and netlist hash are the live ones (area_from 'live synthesis'); status 'current' when the live
    netlist_sha256 equals the committed one, else 'stale: netlist changed' and its committed energy
    is blanked (it was measured on another circuit). A row without: `current(row) -> dict` gives
    the IDENTITY the checkout would synthesise (default synth_inputs); all equal -> 'current
    (synthesis inputs match)', else 'stale: <which differ>' and its committed area and energy are
    blanked. Energy rows also need the energy flow version they were measured with. Live rows with
    no committed row are added (status 'live only', no energy). The synthesis inputs are computed
    on `jobs` workers (hwmodel.pool)."""
    out = measured.copy().reset_index(drop=True)
    out["status"], out["area_from"] = "", "committed table"
    live_by = {} if live is None else {_row_key(r): r for _, r in live.iterrows()}
    if current is None:
        # the rows without a live synthesis: their synthesis inputs, on the worker pool
        from hwmodel.pool import map_ordered
        todo = [i for i, r in out.iterrows() if _row_key(r) not in live_by]
        got = map_ordered(_synth_inputs_job, [(str(out.at[i, "family"]), str(out.at[i, "acc"]),
                                               out.at[i, "block_size"], int(out.at[i, "lanes"]))
                                              for i in todo], jobs)
        by_index = dict(zip(todo, got))
        current = lambda r: by_index[r.name]      # noqa: E731  (r.name: the row's index)
    figures = [c for c in out.columns if c.startswith(("area_", "scale_path_")) or c in ("delay_fo4", "logic_depth")]
    energy = [c for c in out.columns if c.startswith("energy_") and c.endswith("_per_product")]
    seen = set()
    for i, r in out.iterrows():
        k = _row_key(r)
        if k in live_by:
            seen.add(k)
            lv = live_by[k]
            same = str(lv["netlist_sha256"]) == str(r["netlist_sha256"])
            for c in figures + ["netlist_sha256"]:
                if c in lv:
                    out.at[i, c] = lv[c]
            out.at[i, "area_from"] = "live synthesis"
            out.at[i, "status"] = "current" if same else "stale: netlist changed since the table was measured"
            stale = not same
        else:
            cur = current(r)
            diff = [c for c in IDENTITY if str(cur[c]) != str(r[c])]
            out.at[i, "status"] = ("current (synthesis inputs match)" if not diff
                                   else "stale: " + ", ".join(d.removesuffix("_sha256") for d in diff) + " changed")
            stale = bool(diff)
            if stale:
                for c in figures:
                    out.at[i, c] = math.nan
        ev = r.get("energy_flow_version")
        if stale or (isinstance(ev, str) and ev != ENERGY_FLOW_VERSION()):
            for c in energy:
                out.at[i, c] = math.nan
            if not stale:
                out.at[i, "status"] = f"energy stale: energy flow {ev} -> {ENERGY_FLOW_VERSION()}"
    if live is not None:
        extra = [r for _, r in live.iterrows() if _row_key(r) not in seen]
        if extra:
            add = pd.DataFrame(extra).assign(status="live only (no committed row)", area_from="live synthesis")
            out = pd.concat([out, add], ignore_index=True)
    return out


def _label(r) -> str:
    acc = "" if r["acc"] == "float32" else f" / {r['acc'].split(':')[0]}"
    return f"{r['family']}{acc}"


def plot_block_cost(ax, table: pd.DataFrame, block_size: int = 32):
    """Stacked horizontal bars: area per element product by part of each block format at
    `block_size`, and of the scalar MACs, in the table's area unit."""
    col = next(c for c in table.columns if c.startswith("area_per_product_"))
    unit = col.removeprefix("area_per_product_")
    sub = table[(table["kind"] == "scalar") | (table["block_size"] == block_size)].reset_index(drop=True)
    labels = [_label(r) for _, r in sub.iterrows()]
    left = [0.0] * len(sub)
    for p in PARTS:
        vals = list(sub[f"area_{p}_per_product_{unit}"])
        ax.barh(labels, vals, left=left, label=p.replace("_", " "))
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel(f"area per element product ({unit}; block {block_size}, scalar MACs per MAC)")
    ax.invert_yaxis()
    ax.legend(fontsize="small")
    return ax


def plot_block_energy(ax, table: pd.DataFrame, block_size: int = 32):
    """Stacked horizontal bars: energy per element product (pJ) by part of each block format at
    `block_size` and of the scalar MACs (a scalar MAC: multiplier and the rest); units without a
    measured energy are left out."""
    if "energy_pj_per_product" not in table:
        return ax
    sub = table[((table["kind"] == "scalar") | (table["block_size"] == block_size))
                & table["energy_pj_per_product"].notna()].reset_index(drop=True)
    labels = [_label(r) for _, r in sub.iterrows()]
    left = [0.0] * len(sub)
    for p in PARTS:
        vals = [0.0 if v != v else v for v in sub.get(f"energy_{p}_pj_per_product", [0.0] * len(sub))]
        ax.barh(labels, vals, left=left, label=p.replace("_", " "))
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel(f"energy per element product (pJ; block {block_size}, scalar MACs per MAC)")
    ax.invert_yaxis()
    ax.legend(fontsize="small")
    return ax


def plot_scale_share(ax, table: pd.DataFrame):
    """Scale path share of the block unit's area (%) against block size, one line per format."""
    sub = table[table["kind"] == "block"]
    for label, g in sub.groupby(sub.apply(_label, axis=1), sort=False):
        g = g.sort_values("block_size")
        ax.plot(g["block_size"], 100 * g["scale_path_share"], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("block size (elements per scale)")
    ax.set_ylabel("scale path share of the unit's area (%)")
    ax.legend(fontsize="x-small", ncol=2)
    return ax
