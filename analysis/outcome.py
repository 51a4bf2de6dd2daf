"""What a failure means: one line for the reader, and whether it is the design's result.

A design point's evaluation can fail for two different reasons, and the cache must tell them apart:

- the **environment**: a tool that is missing or broken (`ToolNotFound`, `ToolFailed`), an
  operating-system error (disk full, permissions, a killed worker process, an exhausted memory or
  time limit). Such a failure says nothing about the design; a cached result carrying one is
  evaluated again on the next run, without any flag.
- the **design**: a configuration the RTL cannot build (`UnsupportedConfig`, `FormatError`), a
  verification mismatch, or any other exception raised by the code behind the numbers (the
  chain's cache key holds a fingerprint of that code, so a fix to it is a new key). Such a result
  stays cached until `--retry-failed`.

An exception may decide for itself by carrying a boolean attribute `environment` (e.g. a
`ToolFailed` raised because the design's own gate-level simulation disagrees with the golden model
can set `environment = False`).
"""

from __future__ import annotations

import re
import subprocess

from hwmodel.errors import ToolFailed, ToolNotFound

ENVIRONMENT = "environment"
DESIGN = "design"

# Exception types (by class) whose failures are the environment's, not the design's.
_ENVIRONMENT_TYPES = (ToolNotFound, ToolFailed, OSError, MemoryError, TimeoutError,
                      subprocess.TimeoutExpired, subprocess.SubprocessError)

# The same, by the name at the head of a one-line reason (results stored before `failure_kind`
# existed, or reasons composed by the engine itself).
_ENVIRONMENT_REASON = re.compile(
    r"^(?:\w+: )?(?:ToolNotFound|ToolFailed|OSError|PermissionError|FileNotFoundError|MemoryError|"
    r"TimeoutError|TimeoutExpired|BrokenProcessPool|KilledWorker|worker process died|"
    r"Dask task failed)\b")


def one_line(exc: BaseException) -> str:
    """A one-line reason for a failure: exception type and the first line of its message."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def failure_kind(exc: BaseException) -> str:
    """ENVIRONMENT or DESIGN for an exception raised while evaluating a design (module docstring)."""
    own = getattr(exc, "environment", None)
    if isinstance(own, bool):
        return ENVIRONMENT if own else DESIGN
    return ENVIRONMENT if isinstance(exc, _ENVIRONMENT_TYPES) else DESIGN


def reason_kind(reason: str | None) -> str:
    """ENVIRONMENT or DESIGN for a stored one-line reason ('ToolNotFound: ...', 'synth: ToolFailed: ...')."""
    return ENVIRONMENT if reason and _ENVIRONMENT_REASON.match(str(reason)) else DESIGN


def is_environment_failure(result: dict) -> bool:
    """True for a stored failed result whose failure is the environment's: it is evaluated again."""
    if result.get("status") != "failed":
        return False
    kind = result.get("failure_kind")
    if kind in (ENVIRONMENT, DESIGN):
        return kind == ENVIRONMENT
    return reason_kind(result.get("reason")) == ENVIRONMENT
