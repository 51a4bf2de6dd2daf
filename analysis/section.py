"""The unit a report is made of: each analysis/sections/<name>.py has build(ctx) -> Section.

A section is rendered from saved or freshly computed results; it never edits files outside
ctx.outdir. Figures are PNG files written under ctx.figure_dir; tables are DataFrames whose column
names carry their units. Every table and figure names where its numbers come from (`source`):
"our synthesis (Yosys ...)", "our simulation (Verilator ...)", "our measurement (H100 ...)", or a
cited paper/datasheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Table:
    caption: str
    frame: pd.DataFrame
    source: str            # where the numbers come from, shown under the table


@dataclass
class Figure:
    caption: str
    path: Path             # a PNG under ctx.figure_dir
    source: str


@dataclass
class Section:
    key: str               # short id, e.g. "numerics"
    title: str
    intro: str = ""        # Markdown paragraphs before the tables
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: str = ""        # Markdown after the tables (findings, caveats)
    failed: str | None = None  # set when the section could not be built: the reason, shown in the report


@dataclass
class ReportContext:
    outdir: Path           # reports/ (or a test's tmp dir)
    cache_dir: Path        # content-hash cache shared by synthesis, energy and sweeps
    seed: int = 0
    quick: bool = False    # smaller sample sizes for tests
    jobs: int = 2
    scheduler: str | None = None   # Dask scheduler address for sweeps; None runs them locally
    config: object = None          # analysis.config.Config from --config, or None for defaults
    retry_failed: bool = False     # evaluate the sweep's cached failed design points again

    @property
    def figure_dir(self) -> Path:
        d = self.outdir / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return d
