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
