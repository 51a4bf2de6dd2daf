"""Input checked before work: each function raises a one-line HwdseError (the CLI's exit 2) or returns.

Commands call these after parsing their arguments and before any stage runs, so that an output
path that cannot be written, a library that cannot be read or a budget that cannot be met ends the
run at once instead of after minutes of synthesis and simulation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from hwmodel.errors import DataError, UnsupportedConfig

BUILTIN_LIBRARIES = ("ge", "paper")


def output_dir(path: str | os.PathLike, what: str = "--out", files: Iterable[str] = ()) -> Path:
    """`path` must be a folder this process can write (created when missing), and none of the
    `files` that will be written into it may be a folder. A file where the folder should be, a
    parent that is a file, a folder under /proc or any other unwritable place is a DataError."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise DataError(f"{what} must be a folder, not the file {str(p)!r}")
    anc = p
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise DataError(f"{what} {str(p)!r} cannot be created: {str(anc)!r} is a file, not a folder")
    missing = []
    d = p
    while not d.exists() and d != d.parent:
        missing.append(d)
        d = d.parent
    created: list[Path] = []
    probe = p / f".hwdse-write-test.{os.getpid()}"
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        for d in reversed(created):
            try:
                d.rmdir()
            except OSError:
                pass
        raise DataError(f"{what} must be a folder this process can write, not {str(p)!r} "
                        f"({exc.strerror or type(exc).__name__})") from None
    for name in files:
        f = p / name
        if f.is_dir():
            raise DataError(f"{what}: {str(f)!r} must be a file to write, not a folder")
    return p


def output_file(path: str | os.PathLike, what: str = "-o") -> Path:
    """`path` must be a file this process can write: not a folder, in a folder that exists or can be
    created and can be written."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{what} must be a file to write, not the folder {str(p)!r}")
    output_dir(p.parent if str(p.parent) else Path("."), what=f"{what} folder")
    return p


def libraries(libs: Iterable[str]) -> None:
    """Every library must be ge, paper or a readable Liberty file that Yosys can map to."""
    libs = [str(x) for x in libs if str(x) not in BUILTIN_LIBRARIES]
    if not libs:
        return
    from rtl.synth import resolve_library
    for lib in libs:
        resolve_library(lib)


def budget_library(iso, libs: Iterable[str]) -> None:
    """A mm^2 budget compares areas in um^2, which only a Liberty library gives (ge and paper count
    gate equivalents)."""
    if getattr(iso, "budget_mm2", None) is None:
        return
    if not [x for x in libs if str(x) not in BUILTIN_LIBRARIES]:
        raise UnsupportedConfig("a budget in mm^2 needs a Liberty library with areas in um^2 (library = "
                                "\"path/to/cells.lib\"), not only ge/paper; or give the budget in gate "
                                "equivalents (--budget-ge)")
