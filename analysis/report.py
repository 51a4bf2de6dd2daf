"""The main job: run the report sections in order and render Markdown plus one self-contained HTML page.

Contract:
- `SECTION_ORDER` is the order of docs/DESIGN.md ("Reports"). Each name is a module
  `analysis.sections.<name>` with `build(ctx) -> Section`.
- `run_sections(ctx, ...)` isolates every section: a module that is missing, a dependency that
  cannot be imported, or a `build` that raises becomes a `Section` with `failed` set to a one-line
  reason; the other sections still run.
- After every section the report files are rewritten (`write_report`), so an interrupted or
  partly failing run keeps everything finished so far.
- Outputs under `ctx.outdir`: `report.md`, `report.html` (no external resources: PNG figures are
  base64-embedded, tables sort by clicking a header through a few lines of inline JS),
  `metadata.json` (git SHA, package and tool versions, seed, date, per-section status and time),
  `figures/*.png` (written by the sections).
"""

from __future__ import annotations

import base64
import html
import importlib
import json
import math
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from analysis.metadata import run_metadata
from analysis.outcome import one_line
from analysis.section import Figure, ReportContext, Section, Table

# docs/DESIGN.md, "Reports": area/energy per format, paper reproduction, verification, energy,
# numerics quality, GPU roofline, iso-area, Pareto, format catalogue.
# "findings" is shown first but built last (RUN_LAST): its statements are computed from the others'
# tables.
SECTION_ORDER = ["findings", "area", "paper", "verification", "energy", "fpga", "physical", "arrays",
                 "numerics", "blockscaled", "gpu", "isoarea", "pareto", "formats"]

RUN_LAST = ("findings",)

# A table longer than this shows its first rows on the page; every table is also written as CSV
# beside the report (data/<section>_<n>.csv) and linked under it.
MAX_ROWS = 25
HEAD_ROWS = 12

Builder = Callable[[ReportContext], Section]


# ----------------------------------------------------------------------------------------------
# Running sections
# ----------------------------------------------------------------------------------------------

def load_builder(name: str) -> Builder:
    """The `build` function of analysis.sections.<name>; raises ImportError when absent."""
    module = importlib.import_module(f"analysis.sections.{name}")
    build = getattr(module, "build", None)
    if not callable(build):
        raise ImportError(f"analysis.sections.{name} has no build(ctx) function")
    return build


def run_section(ctx: ReportContext, name: str, builder: Builder | None = None) -> tuple[Section, float]:
    """Build one section, never raising: failures come back as a `failed` Section. Returns (section, time_s)."""
    t0 = time.perf_counter()
    try:
        if builder is None:
            try:
                builder = load_builder(name)
            except ModuleNotFoundError as exc:
                if exc.name == f"analysis.sections.{name}":
                    raise ImportError(f"section module analysis/sections/{name}.py is not built yet") from None
                raise ImportError(f"section {name!r} needs module {exc.name!r}, which is missing") from None
        section = builder(ctx)
        if not isinstance(section, Section):
            raise TypeError(f"build() of section {name!r} must return a Section, not {type(section).__name__}")
        # a traceback left by an earlier failed run of this section no longer describes the report
        (Path(ctx.outdir) / "logs" / f"{name}.traceback.txt").unlink(missing_ok=True)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - one section must never take the report down
        reason = one_line(exc)
        # Keep the traceback for whoever debugs, out of the report itself.
        tb_dir = Path(ctx.outdir) / "logs"
        tb_dir.mkdir(parents=True, exist_ok=True)
        (tb_dir / f"{name}.traceback.txt").write_text(traceback.format_exc())
        section = Section(key=name, title=_default_title(name), failed=reason)
    return section, time.perf_counter() - t0


def _default_title(name: str) -> str:
    return {
        "area": "Area and delay per format (our synthesis)",
        "paper": "FP8 versus INT8 paper reproduction",
        "verification": "Verification of the RTL against the golden numerics",
        "energy": "Energy per MAC",
        "numerics": "Numerical quality",
        "gpu": "GPU roofline (H100, H200)",
        "isoarea": "Iso-area accelerator what-if",
        "findings": "Findings",
        "pareto": "Pareto fronts: quality versus cost",
        "formats": "Format catalogue",
        "arrays": "MAC arrays: area and energy per MAC",
    }.get(name, name.capitalize())


def run_sections(ctx: ReportContext, names: Iterable[str] | None = None,
                 builders: dict[str, Builder] | None = None, *, write: bool = True,
                 progress: bool = False, title: str = "hwdse report",
                 extra_metadata: dict | None = None) -> list[Section]:
    """Run the named sections (default SECTION_ORDER) in order; rewrite the report after each.

    `builders` overrides the module lookup per name (tests inject stub sections this way).
    """
    names = list(SECTION_ORDER if names is None else names)
    builders = builders or {}
    ctx.outdir = Path(ctx.outdir)
    ctx.outdir.mkdir(parents=True, exist_ok=True)
    built: dict[str, Section] = {}
    timings: dict[str, float] = {}
    # Shown in `names` order; built with RUN_LAST sections after the others.
    run_order = [n for n in names if n not in RUN_LAST] + [n for n in names if n in RUN_LAST]
    for name in run_order:
        if progress:
            print(f"[report] section {name} ...", file=sys.stderr, flush=True)
        section, dt = run_section(ctx, name, builders.get(name))
        built[name] = section
        sections = [built[n] for n in names if n in built]
        timings[section.key] = dt
        if progress:
            status = f"FAILED ({section.failed})" if section.failed else "ok"
            print(f"[report] section {name}: {status} in {dt:.1f} s", file=sys.stderr, flush=True)
        if write:
            write_report(ctx, sections, timings, title=title, extra_metadata=extra_metadata)
    return [built[n] for n in names if n in built]


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------

def _fmt_cell(v) -> str:
    """Human text for a table cell: 4 significant digits for floats, ints as is."""
    if v is None:
        return ""
    if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
        v = float(v)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == 0:
            return "0"
        a = abs(v)
        if 1e-3 <= a < 1e6:
            s = f"{v:.4g}"
        else:
            s = f"{v:.3e}"
        return s
    if isinstance(v, bool):
        return "yes" if v else "no"
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def _sort_key(v) -> str | None:
    """A numeric sort key for the HTML table (data-sort), or None for text cells."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iuf"):
        f = float(v)
        if math.isnan(f):
            return None
        return repr(f)
    return None


def table_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no external dependency such as tabulate)."""
    cols = [str(c) for c in frame.columns]

    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(esc(_fmt_cell(v)) for v in row) + " |")
    return "\n".join(lines)


def _shown(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The rows a page shows of a table: all up to MAX_ROWS, else the first HEAD_ROWS."""
    if len(frame) > MAX_ROWS:
        return frame.head(HEAD_ROWS), True
    return frame, False


def render_markdown(sections: list[Section], metadata: dict, outdir: Path,
                    title: str = "hwdse report", csvs: dict | None = None) -> str:
    """The whole report as Markdown; figures are linked relative to `outdir`; `csvs` maps
    (section key, table number) to the table's CSV file relative to `outdir`."""
    out = [f"# {title}", "",
           f"Generated {metadata.get('date_utc', '')} from commit `{metadata.get('git_sha')}` "
           f"(seed {metadata.get('seed')}{', quick mode' if metadata.get('quick') else ''}). "
           "Every table and figure names its source. Full provenance: `metadata.json`.", ""]
    out.append("## Contents")
    out.append("")
    for i, s in enumerate(sections, 1):
        mark = " — **failed**" if s.failed else ""
        out.append(f"{i}. [{s.title}](#{_anchor(s)}){mark}")
    out.append("")
    for i, s in enumerate(sections, 1):
        out.append(f'<a id="{_anchor(s)}"></a>')
        out.append(f"## {i}. {s.title}")
        out.append("")
        if s.failed:
            out.append(f"> **Section failed:** {s.failed}")
            out.append("")
            continue
        if s.intro:
            out += [s.intro.strip(), ""]
        # Plots first, then the tables they rest on (long ones cut, every one also as CSV).
        for f_i, f in enumerate(s.figures, 1):
            try:
                rel = os.path.relpath(Path(f.path).resolve(), Path(outdir).resolve())
            except ValueError:
                rel = str(f.path)
            out.append(f"![Figure {i}.{f_i}. {f.caption}]({rel})")
            out.append("")
            out.append(f"*Figure {i}.{f_i}. {f.caption} Source: {f.source}*")
            out.append("")
        for t_i, t in enumerate(s.tables, 1):
            csv = (csvs or {}).get((s.key, t_i))
            out.append(f"**Table {i}.{t_i}. {t.caption}**")
            out.append("")
            frame, cut = _shown(t.frame)
            out.append(table_markdown(frame))
            out.append("")
            if cut or csv:
                out.append((f"First {len(frame)} of {len(t.frame)} rows. " if cut else "")
                           + (f"Full table: [{csv}]({csv})" if csv else ""))
                out.append("")
            out.append(f"*Source: {t.source}*")
            out.append("")
        if s.notes:
            out += [s.notes.strip(), ""]
    return "\n".join(out).rstrip() + "\n"


def _anchor(s: Section) -> str:
    return "sec-" + re.sub(r"[^a-z0-9_-]+", "-", s.key.lower())


_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)"), r'<a href="\2">\1</a>'),
]


def _inline_html(text: str) -> str:
    s = html.escape(text, quote=False)
    for pat, rep in _INLINE:
        s = pat.sub(rep, s)
    return s


def markdown_to_html(md: str) -> str:
    """A small Markdown subset to HTML: paragraphs, `-`/`*`/`1.` lists, `#` headings, `>` quotes,
    inline code, bold, italics and http(s) links. Everything else is escaped text."""
    blocks = re.split(r"\n\s*\n", md.strip()) if md.strip() else []
    out = []
    for block in blocks:
        lines = block.splitlines()
        if all(re.match(r"\s*[-*] ", ln) for ln in lines):
            items = [re.sub(r"^\s*[-*] ", "", ln) for ln in lines]
            out.append("<ul>" + "".join(f"<li>{_inline_html(it)}</li>" for it in items) + "</ul>")
        elif all(re.match(r"\s*\d+\. ", ln) for ln in lines):
            items = [re.sub(r"^\s*\d+\. ", "", ln) for ln in lines]
            out.append("<ol>" + "".join(f"<li>{_inline_html(it)}</li>" for it in items) + "</ol>")
        elif lines[0].startswith("#"):
            level = min(6, len(lines[0]) - len(lines[0].lstrip("#")) + 2)
            out.append(f"<h{level}>{_inline_html(lines[0].lstrip('#').strip())}</h{level}>")
            if len(lines) > 1:
                out.append(f"<p>{_inline_html(' '.join(lines[1:]))}</p>")
        elif all(ln.startswith(">") for ln in lines):
            out.append("<blockquote>" + _inline_html(" ".join(ln.lstrip("> ") for ln in lines)) + "</blockquote>")
        else:
            out.append(f"<p>{_inline_html(' '.join(lines))}</p>")
    return "\n".join(out)


def table_html(frame: pd.DataFrame, table_id: str) -> str:
    """An HTML table whose headers sort it on click (numeric cells carry data-sort)."""
    head = "".join(f'<th title="click to sort">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for v in row:
            key = _sort_key(v)
            # numeric cells sort by value and align right; text aligns left and may wrap
            attr = f' data-sort="{key}"' if key is not None else ' class="text"'
            cells.append(f"<td{attr}>{html.escape(_fmt_cell(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1a1a1a;line-height:1.45}
h1{border-bottom:2px solid #333}h2{border-bottom:1px solid #bbb;margin-top:2em}
.table-wrap{overflow-x:auto;max-width:100%;margin:.6em 0;border:1px solid #e4e4e4}
table{border-collapse:collapse;margin:0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right;white-space:nowrap}
th{background:#f0f0f0;cursor:pointer;user-select:none}
td.text{text-align:left;white-space:normal;min-width:4em;max-width:36em}th.asc::after{content:" \\25B2"}
th.desc::after{content:" \\25BC"}td:first-child,th:first-child{text-align:left}
.source{color:#555;font-size:.85em;font-style:italic;margin-top:0}
.caption{font-weight:600;margin-bottom:.2em}
.failed{background:#fff1f0;border-left:4px solid #c0392b;padding:.5em 1em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2em}.meta{color:#555;font-size:.9em}
"""

# Sort a table by the clicked column; numeric cells sort by data-sort, text cells by text.
_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = !th.classList.contains('asc');
    th.parentNode.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
    th.classList.add(asc ? 'asc' : 'desc');
    var rows = Array.prototype.slice.call(body.rows);
    function key(r) { var c = r.cells[idx]; if (!c) return ''; var s = c.getAttribute('data-sort');
      return s === null ? c.textContent : parseFloat(s); }
    rows.sort(function (a, b) { var x = key(a), y = key(b);
      if (typeof x === 'number' && typeof y === 'number') return asc ? x - y : y - x;
      if (typeof x === 'number') return -1; if (typeof y === 'number') return 1;
      return asc ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x)); });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def _img_data_uri(path: Path) -> str | None:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(sections: list[Section], metadata: dict, title: str = "hwdse report",
                csvs: dict | None = None) -> str:
    """The whole report as one HTML page with no external resources."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             # An empty data: icon stops the browser from asking for /favicon.ico.
             '<link rel="icon" href="data:,">',
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f'<p class="meta">Generated {html.escape(str(metadata.get("date_utc", "")))} from commit '
             f'<code>{html.escape(str(metadata.get("git_sha")))}</code>, seed {html.escape(str(metadata.get("seed")))}'
             f'{", quick mode" if metadata.get("quick") else ""}. Every table and figure names its source; '
             'click a column header to sort a table.</p>',
             "<h2>Contents</h2><ol>"]
    for s in sections:
        mark = ' <span style="color:#c0392b">(failed)</span>' if s.failed else ""
        parts.append(f'<li><a href="#{_anchor(s)}">{html.escape(s.title)}</a>{mark}</li>')
    parts.append("</ol>")
    for i, s in enumerate(sections, 1):
        parts.append(f'<section id="{_anchor(s)}"><h2>{i}. {html.escape(s.title)}</h2>')
        if s.failed:
            parts.append(f'<div class="failed"><strong>Section failed:</strong> {html.escape(s.failed)}</div>')
            parts.append("</section>")
            continue
        if s.intro:
            parts.append(markdown_to_html(s.intro))
        tables = []
        for t_i, t in enumerate(s.tables, 1):
            csv = (csvs or {}).get((s.key, t_i))
            frame, cut = _shown(t.frame)
            tables.append(f'<p class="caption">Table {i}.{t_i}. {_inline_html(t.caption)}</p>')
            # a wide table scrolls inside its own box, never the page
            tables.append(f'<div class="table-wrap">{table_html(frame, f"t-{s.key}-{t_i}")}</div>')
            if cut or csv:
                tables.append('<p class="source">'
                              + (f"First {len(frame)} of {len(t.frame)} rows. " if cut else "")
                              + (f'Full table: <a href="{html.escape(csv)}">{html.escape(csv)}</a>' if csv else "")
                              + "</p>")
            tables.append(f'<p class="source">Source: {_inline_html(t.source)}</p>')
        for f_i, f in enumerate(s.figures, 1):
            uri = _img_data_uri(f.path)
            cap = f"Figure {i}.{f_i}. {f.caption}"
            if uri is None:
                parts.append(f'<div class="failed">{html.escape(cap)}: image file {html.escape(str(f.path))} '
                             "is missing</div>")
                continue
            parts.append(f'<figure><img alt="{html.escape(cap)}" src="{uri}">'
                         f"<figcaption>{_inline_html(cap)} <span class=\"source\">Source: "
                         f"{_inline_html(f.source)}</span></figcaption></figure>")
        parts += tables
        if s.notes:
            parts.append(markdown_to_html(s.notes))
        parts.append("</section>")
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_table_csvs(outdir: Path, sections: list[Section], stem: str = "report") -> dict:
    """Every table of the built sections as CSV under outdir/data/ (<stem>_<section>_<n>.csv for a
    page other than the report). Returns {(section key, table number): path relative to outdir}."""
    out = {}
    d = Path(outdir) / "data"
    for s in sections:
        if s.failed:
            continue
        for t_i, t in enumerate(s.tables, 1):
            name = (f"{s.key}_{t_i}.csv" if stem == "report" else f"{stem}_{s.key}_{t_i}.csv")
            try:
                d.mkdir(parents=True, exist_ok=True)
                tmp = d / f".{name}.{os.getpid()}.tmp"
                t.frame.to_csv(tmp, index=False)
                os.replace(tmp, d / name)
            except OSError:
                continue  # the page still shows the table
            out[(s.key, t_i)] = f"data/{name}"
    return out


def write_report(ctx: ReportContext, sections: list[Section], timings: dict[str, float] | None = None,
                 *, title: str = "hwdse report", stem: str = "report",
                 extra_metadata: dict | None = None) -> dict[str, Path]:
    """Write <stem>.md, <stem>.html and metadata.json under ctx.outdir (atomically). Returns the paths."""
    outdir = Path(ctx.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    timings = timings or {}
    md = run_metadata(ctx, sections=[
        {"key": s.key, "title": s.title, "status": "failed" if s.failed else "ok",
         "reason": s.failed, "time_s": round(timings.get(s.key, float("nan")), 3)
         if s.key in timings else None} for s in sections], **(extra_metadata or {}))
    paths = {"md": outdir / f"{stem}.md", "html": outdir / f"{stem}.html",
             "metadata": outdir / ("metadata.json" if stem == "report" else f"{stem}.metadata.json")}
    csvs = write_table_csvs(outdir, sections, stem)
    _atomic_write(paths["md"], render_markdown(sections, md, outdir, title, csvs))
    _atomic_write(paths["html"], render_html(sections, md, title, csvs))
    _atomic_write(paths["metadata"], json.dumps(md, indent=2, default=str) + "\n")
    return paths


def build_report(outdir: Path | str = "reports", *, quick: bool = False, jobs: int = 2, seed: int = 0,
                 cache_dir: Path | str | None = None, scheduler: str | None = None,
                 names: Iterable[str] | None = None, progress: bool = True, config=None,
                 retry_failed: bool = False) -> list[Section]:
    """The main job: run every section (or `names`) into `outdir`. Returns the sections built.
    `config` (analysis.config.Config) replaces the default sweep and iso-area settings;
    `retry_failed` evaluates the report sweep's cached failed design points again."""
    from hwmodel.cache import default_cache_dir

    from analysis.reportsweep import forget_report_sweeps
    outdir = Path(outdir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    ctx = ReportContext(outdir=outdir, cache_dir=cache_dir, seed=seed, quick=quick, jobs=jobs,
                        scheduler=scheduler, config=config, retry_failed=retry_failed)
    forget_report_sweeps()  # sections share one sweep per report run, never one from an earlier run
    extra = {"scheduler": scheduler}
    if config is not None:
        from analysis.config import as_dict
        extra["config"] = as_dict(config)
    return run_sections(ctx, names, progress=progress, extra_metadata=extra)
