"""The FP8-vs-INT8 paper's Fig. 3 (van Baalen et al. 2023, arXiv:2303.17951), synthesised: the
paper's gate counts beside the analytical model (hwmodel.papermodel) and a Yosys run of our
verified RTL MAC mapped to paper.lib, one row per configuration; and the helper that synthesises
many MACs at once.

Public API
    paper_pipeline_stages(in_fmt, acc) -> int       the paper's product registers for a MAC
    synth_many(points, library, *, jobs, cache_dir, pipeline, booth)
                                                    -> [(in_fmt, acc, SynthResult | None, error)]
    paper_reproduction(guard_bits=12, *, jobs, cache_dir, extra, booth) -> DataFrame
"""

from __future__ import annotations

from hwmodel import pool
from rtl.liberty import Library
from rtl.synth import SynthResult, synth_unit


def paper_pipeline_stages(in_fmt, acc) -> int:
    """Product registers the paper's Fig. 2 puts in a MAC: none for integer inputs into a
    fixed-point (Kulisch/int) accumulator, one otherwise."""
    from hwmodel.accum import parse_acc
    from hwmodel.formats import IntFormat, parse_format
    fixed_point = parse_acc(acc).kind in ("kulisch", "int")
    return 0 if isinstance(parse_format(in_fmt), IntFormat) and fixed_point else 1


def _synth_point(args):
    in_fmt, acc, library, cache_dir, pipeline, booth = args
    from hwmodel.errors import HwdseError
    try:
        stages = paper_pipeline_stages(in_fmt, acc) if pipeline is None else pipeline
        r = synth_unit(in_fmt, acc, library=library, cache_dir=cache_dir, pipeline_stages=stages,
                       booth=booth)
        return in_fmt, acc, r.to_dict(), None
    except HwdseError as exc:
        return in_fmt, acc, None, f"{type(exc).__name__}: {exc}"


def synth_many(points, library="paper", *, jobs: int = 2, cache_dir=None,
               pipeline: int | None = None, booth: bool = False) -> list:
    """Synthesise MACs for (in_fmt, acc) points on a process pool, with `pipeline` product
    registers (None: the paper's choice, paper_pipeline_stages). Returns [(in_fmt, acc, SynthResult | None, error | None)] in input order; a point that
    cannot be built or synthesised carries its one-line error instead of stopping the rest."""
    args = [(f, a, str(library) if not isinstance(library, Library) else str(library.path),
             None if cache_dir is None else str(cache_dir), pipeline, booth) for f, a in points]
    raw = pool.map_ordered(_synth_point, args, jobs)  # the tool's one pool policy (hwmodel.pool)
    return [(f, a, None if d is None else SynthResult(**d), e) for f, a, d, e in raw]


def paper_reproduction(guard_bits: int = 12, *, jobs: int = 2, cache_dir=None, extra=(),
                       booth: bool = False):
    """Fig. 3 beside the analytical model and our synthesis with paper.lib: one row per config.

    Columns: in_fmt, acc, pipeline, paper_* / model_* / synth_* gates for mpy, alignadd, normacc
    and total (paper_* empty for `extra` points, which are (in_fmt, acc) pairs beyond Fig. 3),
    synth_depth_cells, synth_delay_fo4, synth_vs_paper, model_vs_paper, netlist_sha256, error.
    Kulisch rows use `guard_bits` (the paper's figures are for V = 12)."""
    import pandas as pd
    from hwmodel.papermodel import mac_cost, paper_fig3
    fig = paper_fig3()
    points = []
    for r in fig.itertuples(index=False):
        points.append((r.in_fmt, f"kulisch:{guard_bits}" if r.acc.startswith("kulisch") else r.acc,
                       r._asdict()))
    points += [(f, a, None) for f, a in extra]
    results = synth_many([(f, a) for f, a, _ in points], "paper", jobs=jobs, cache_dir=cache_dir,
                         booth=booth)
    rows = []
    for (f, a, paper), (_, _, s, err) in zip(points, results):
        m = mac_cost(f, a)
        row = {"in_fmt": f, "acc": a, "pipeline": paper_pipeline_stages(f, a)}
        for comp in ("mpy", "alignadd", "normacc", "total"):
            row[f"paper_{comp}_gates"] = None if paper is None else paper[f"{comp}_gates"]
        for comp in ("mpy", "alignadd", "normacc"):
            row[f"model_{comp}_gates"] = m.component(comp)
        row["model_total_gates"] = m.total_gates
        for comp in ("mpy", "alignadd", "normacc"):
            row[f"synth_{comp}_gates"] = None if s is None else s.area_by_part.get(comp)
        row["synth_total_gates"] = None if s is None else s.area
        row["synth_dff_count"] = None if s is None else s.cells_by_type.get("DFF", 0)
        row["synth_depth_cells"] = None if s is None else s.logic_depth
        row["synth_delay_fo4"] = None if s is None else s.delay_fo4
        row["netlist_sha256"] = None if s is None else s.netlist_sha256
        row["yosys"] = None if s is None else s.yosys_version
        row["error"] = err
        rows.append(row)
    df = pd.DataFrame(rows)
    df["model_vs_paper"] = df["model_total_gates"] / df["paper_total_gates"]
    df["synth_vs_paper"] = df["synth_total_gates"] / df["paper_total_gates"]
    return df
