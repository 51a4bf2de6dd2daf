"""Shared plot helpers. Each takes a matplotlib `ax`, draws, and labels every axis with its unit.

`savefig(fig, path)` writes a PNG (Agg backend, fixed DPI) for the report; `new_figure()` makes a
figure without touching any global pyplot state a caller may rely on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def new_figure(width_in: float = 7.0, height_in: float = 4.2, ncols: int = 1):
    """(fig, axes) drawn with the non-interactive Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def savefig(fig, path: Path | str, dpi: int = 110) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def pareto_scatter(ax, df: pd.DataFrame, x: str, y: str, group: str, front: str = "pareto",
                   xlabel: str | None = None, ylabel: str | None = None, log_y: bool = False,
                   annotate: str = "in_fmt") -> None:
    """One marker series per `group` value; the group's non-dominated points joined by a line and
    named."""
    markers = "osD^v<>Px*"
    if log_y:
        # Exact results (error 0) cannot sit on a log axis: draw them at a floor, said in the label.
        floor = 1e-18
        df = df.assign(**{y: np.maximum(pd.to_numeric(df[y], errors="coerce"), floor)})
        ylabel = (ylabel or y) + " (0 drawn at 1e-18)"
    for i, (g, sub) in enumerate(df.groupby(group, sort=True)):
        sub = sub.sort_values(x)
        pts = ax.scatter(sub[x], sub[y], marker=markers[i % len(markers)], label=str(g), alpha=0.75)
        on = sub[sub[front]] if front in sub else sub.iloc[0:0]
        if len(on):
            ax.plot(on[x], on[y], color=pts.get_facecolor()[0], linewidth=1.2, alpha=0.8)
            for _, r in on.iterrows():
                ax.annotate(str(r[annotate]).replace("float", "fp"), (r[x], r[y]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
    mark_references(ax, df, x, y)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(title=group, fontsize=8)


# The reference designs every plot names: the paper's baseline and the FP8 format it compares.
def reference_label(in_fmt, acc) -> str | None:
    """'INT8/Kulisch (ref)' for int8 into a Kulisch register, 'FP8-E4M3/<acc> (ref)' for
    float8_e4m3fn, else None."""
    f, a = str(in_fmt), str(acc)
    if f == "int8" and a.startswith("kulisch"):
        return "INT8/Kulisch (ref)"
    if f == "float8_e4m3fn":
        return f"FP8-E4M3/{a.split(':')[0]} (ref)"
    return None


def mark_references(ax, df: pd.DataFrame, x: str, y: str) -> int:
    """Ring and name the reference points (reference_label) of `df`; returns how many."""
    n = 0
    if "in_fmt" not in df or "acc" not in df:
        return 0
    for _, r in df.iterrows():
        lab = reference_label(r["in_fmt"], r["acc"])
        if lab is None or pd.isna(r[x]) or pd.isna(r[y]):
            continue
        ax.scatter([r[x]], [r[y]], s=160, facecolors="none", edgecolors="black", linewidths=1.2, zorder=5)
        ax.annotate(lab, (r[x], r[y]), fontsize=7, fontweight="bold", xytext=(4, -10),
                    textcoords="offset points")
        n += 1
    return n


def reference_bars(ax, labels: list[str], values: list[float], ylabel: str,
                   missed: list[bool] | None = None, log_y: bool = False, highlight: str | None = None) -> None:
    """One bar per 'format/acc' label; reference designs outlined and named, designs that miss the
    common clock hatched (they run at the slower clock they reach); each bar carries its value."""
    from matplotlib.patches import Patch
    xs = np.arange(len(labels))
    missed = list(missed) if missed is not None else [False] * len(labels)
    for i, (lbl, v) in enumerate(zip(labels, values)):
        f, _, a = lbl.partition("/")
        ref = reference_label(f, a) is not None
        colour = "#d9822b" if lbl == highlight else ("#9bbbd4" if missed[i] else "#2b6a99")
        ax.bar(xs[i], v, 0.7, color=colour, hatch="xx" if missed[i] else None,
               edgecolor="black" if ref else "none", linewidth=2.0 if ref else 0)
        if v == v:
            ax.annotate(f"{v:.3g}", (xs[i], v), fontsize=7, ha="center", xytext=(0, 2),
                        textcoords="offset points")
    names = [(reference_label(*lbl.split("/", 1)) or lbl).replace("float", "fp") for lbl in labels]
    ax.set_xticks(xs, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)
    handles = [Patch(facecolor="#2b6a99", edgecolor="black", linewidth=2, label="reference (ref)")]
    if any(missed):
        handles.append(Patch(facecolor="#9bbbd4", hatch="xx", label="misses the common clock"))
    if highlight in labels:
        handles.append(Patch(facecolor="#d9822b", label=f"{highlight.replace('float', 'fp')} (new)"))
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.6)


def _tick(label: str) -> str:
    """A bar's tick: a 'format/acc' reference design by its reference name, else the label."""
    f, sep, a = str(label).partition("/")
    ref = reference_label(f, a) if sep else None
    return ref or str(label).replace("float", "fp")


def grouped_bars(ax, labels: list[str], series: dict[str, list[float]], ylabel: str,
                 log_y: bool = False) -> None:
    """Bars for each label, one colour per series (NaN values leave a gap)."""
    n = max(1, len(series))
    width = 0.8 / n
    xs = np.arange(len(labels))
    for i, (name, vals) in enumerate(series.items()):
        ax.bar(xs + (i - (n - 1) / 2) * width, vals, width, label=name)
    ax.set_xticks(xs, [_tick(lbl) for lbl in labels], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)
    if n > 1:
        ax.legend(fontsize=7, loc="best", framealpha=0.6)


# -- Marking references and the non-dominated designs on any plot kind ------------------------
REF_EDGE = dict(edgecolor="black", linewidth=1.8, hatch="//")   # a reference bar's look
BEST_COLOUR = "#c0392b"                                          # a non-dominated design's star


def format_reference(fmt) -> str | None:
    """'INT8 (ref)' / 'FP8-E4M3 (ref)' for a format on its own (no accumulator), else None."""
    f = str(fmt)
    return {"int8": "INT8 (ref)", "float8_e4m3fn": "FP8-E4M3 (ref)"}.get(f)


def bar_groups(ax) -> list[list]:
    """The bars at each x position of `ax` (one list per tick, one Rectangle per bar series), in
    the order the bar series were drawn (grouped_bars, reference_bars or plain ax.bar calls)."""
    conts = [c for c in ax.containers if hasattr(c, "patches")]
    if not conts:
        return []
    n = max(len(c.patches) for c in conts)
    return [[c.patches[i] for c in conts if i < len(c.patches)] for i in range(n)]


def mark_bars(ax, designs: list[list], names: list[str], refs: list[str | None],
              best: list[bool], best_what: str, ref_what: str | None = None) -> None:
    """Mark a bar chart's reference and best designs and say so in its legend.

    designs[i] are design i's bars (one or several Rectangles), names[i] its display name,
    refs[i] its reference name (None for a non-reference), best[i] whether it is non-dominated.
    Reference bars get a black edge and a hatch; a best design gets a star over its tallest bar
    and its name above it. The legend keeps its entries and gains one for each kind of mark."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    ref_names = []
    for bars, name, ref, b in zip(designs, names, refs, best):
        if ref:
            for p in bars:
                p.set_edgecolor(REF_EDGE["edgecolor"])
                p.set_linewidth(REF_EDGE["linewidth"])
                p.set_hatch(REF_EDGE["hatch"])
            if ref not in ref_names:
                ref_names.append(ref)
        if b and bars:
            top = max(bars, key=lambda p: p.get_height() if np.isfinite(p.get_height()) else -np.inf)
            x, h = top.get_x() + top.get_width() / 2, top.get_height()
            if not np.isfinite(h):
                continue
            ax.plot([x], [h], marker="*", markersize=11, color=BEST_COLOUR,
                    markeredgecolor="black", markeredgewidth=0.5, linestyle="none", zorder=6)
            ax.annotate(str(name).replace("float", "fp"), (x, h), fontsize=7, ha="center",
                        color=BEST_COLOUR, fontweight="bold", xytext=(0, 8),
                        textcoords="offset points", zorder=6)
    old = ax.get_legend()
    title = old.get_title().get_text() if old is not None else None
    # The series' own entries, redrawn as plain swatches (a hatched reference bar must not give
    # its series a hatched legend entry).
    from matplotlib.container import BarContainer
    handles = [Patch(facecolor=h.patches[0].get_facecolor(), label=lab)
               if isinstance(h, BarContainer) and h.patches else h
               for h, lab in zip(*ax.get_legend_handles_labels())]
    if ref_names:
        short = ", ".join(r.removesuffix(" (ref)") for r in ref_names)
        handles.append(Patch(facecolor="white", label=ref_what or f"reference: {short}", **REF_EDGE))
    if any(best):
        handles.append(Line2D([], [], marker="*", markersize=10, color=BEST_COLOUR,
                              markeredgecolor="black", markeredgewidth=0.5, linestyle="none",
                              label=best_what))
    if handles:
        ax.legend(handles=handles, fontsize=7, title=title, title_fontsize=7, framealpha=0.7,
                  loc="lower left", bbox_to_anchor=(0.0, 1.01), ncols=min(3, len(handles)))
    # Room above the tallest bar for the names.
    lo, hi = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(lo, hi * 3)
    else:
        ax.set_ylim(lo, hi + 0.08 * (hi - lo))


# Each name hangs on a thin leader line from its point.
_LEADER = dict(arrowstyle="-", linewidth=0.5, color="0.3", shrinkA=0, shrinkB=3)


def place_names(ax, items: list[tuple[float, float, str, dict]], fontsize: float = 7) -> None:
    """Write each (x, y, text, style) name beside its data point on a leader line, moved up or
    down until its box clears the names already placed (boxes estimated from the text length).
    Call after everything else is drawn and the axis scales are set."""
    ax.autoscale_view()
    fig = ax.figure
    fig.draw_without_rendering()                      # settle the layout: pixels are final
    pt = fig.dpi / 72.0                               # pixels per point
    h, char = (fontsize + 3) * pt, 0.62 * fontsize * pt
    to_disp = ax.transData.transform
    boxes = []                                        # (x0, x1, y0, y1) in pixels
    order = sorted(range(len(items)), key=lambda i: to_disp((items[i][0], items[i][1]))[1])
    for i in order:
        x, y, text, style = items[i]
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        px, py = to_disp((x, y))
        x0, x1 = px + 10 * pt, px + 10 * pt + char * len(text)
        dy = 6 * pt
        for step in range(40):                        # try +6, -6-h, +6+h, ... points
            cand = dy + (step + 1) // 2 * h * (1 if step % 2 == 0 else -1)
            y0 = py + cand
            if all(x1 < bx0 or x0 > bx1 or y0 + h <= by0 or y0 >= by1
                   for bx0, bx1, by0, by1 in boxes):
                dy = cand
                break
        boxes.append((x0, x1, py + dy, py + dy + h))
        ax.annotate(text, (x, y), xytext=(10, dy / pt), textcoords="offset points",
                    fontsize=fontsize, ha="left", va="bottom", arrowprops=_LEADER, **style)


def front_scatter(ax, df: pd.DataFrame, x: str, y: str, objectives: list[tuple[str, str]],
                  name: str, xlabel: str | None = None, ylabel: str | None = None,
                  log_x: bool = False, log_y: bool = False, front_what: str = "non-dominated") -> pd.Series:
    """All designs as one series; the non-dominated ones (analysis.pareto.non_dominated over
    `objectives`) joined in x order and named by `name`; references ringed and named
    (mark_references, needs `in_fmt` and `acc` columns). Returns the front (bool Series)."""
    from matplotlib.lines import Line2D

    from analysis.pareto import non_dominated
    on = non_dominated(df, objectives)
    ax.scatter(df[x], df[y], s=28, color="#2b6a99", alpha=0.8, zorder=3)
    front = df[on].sort_values(x)
    if len(front):
        ax.plot(front[x], front[y], "-", color=BEST_COLOUR, linewidth=1.2, zorder=4)
        ax.scatter(front[x], front[y], s=40, color=BEST_COLOUR, zorder=4)
    names = [(r[x], r[y], str(r[name]).replace("float", "fp"), {"color": BEST_COLOUR})
             for _, r in front.iterrows()]
    n_ref = 0
    if "in_fmt" in df and "acc" in df:
        for _, r in df.iterrows():
            lab = reference_label(r["in_fmt"], r["acc"])
            if lab is None or pd.isna(r[x]) or pd.isna(r[y]):
                continue
            ax.scatter([r[x]], [r[y]], s=160, facecolors="none", edgecolors="black",
                       linewidths=1.2, zorder=5)
            names.append((r[x], r[y], lab, {"fontweight": "bold"}))
            n_ref += 1
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.margins(0.14)     # room for the names of the outermost points
    ax.grid(True, alpha=0.3)
    place_names(ax, names)
    handles = [Line2D([], [], marker="o", color=BEST_COLOUR, label=front_what),
               Line2D([], [], marker="o", color="#2b6a99", linestyle="none", label="other designs")]
    if n_ref:
        handles.append(Line2D([], [], marker="o", markersize=10, markerfacecolor="none",
                              markeredgecolor="black", linestyle="none", label="reference (ringed)"))
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.7)
    return on

