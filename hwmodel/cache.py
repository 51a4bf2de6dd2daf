"""Content-hash result cache: JSON results keyed by the hash of everything that produced them.

Contract
    cache_key(*parts) -> str
        SHA-256 (hex) over the parts (str or bytes), each length-prefixed so that ("ab", "c") and
        ("a", "bc") differ. Put in every input that can change the result: RTL text, flow script,
        library text, tool version, the version of the code that post-processes the output.
    ResultCache(root)
        .get(key) -> dict | None     None on a miss, and on an unreadable/corrupt entry (which is
                                      removed, so the next put rewrites it)
        .put(key, value: dict)       write-then-rename: readers see either no entry or a whole one;
                                      an interrupted write leaves at most a stray *.tmp file that
                                      no reader ever opens. Safe with concurrent processes: two
                                      writers of the same key both rename a complete file, the last
                                      one wins, and both wrote the same content.
        .path(key) -> Path
    default_cache_dir() -> Path      $HWDSE_CACHE_DIR, else ~/.cache/hwdse
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from hwmodel.errors import DataError


def cache_key(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else bytes(p)
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def default_cache_dir() -> Path:
    env = os.environ.get("HWDSE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "hwdse"


class ResultCache:
    """A directory of `<namespace>/<key[:2]>/<key>.json` files (see the module docstring)."""

    def __init__(self, root: str | os.PathLike | None = None, namespace: str = "results"):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.namespace = namespace

    def path(self, key: str) -> Path:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise DataError(f"cache key must be a lowercase hex digest, not {key!r}")
        return self.root / self.namespace / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self.path(key)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            # only a foreign or disk-damaged file can be corrupt (our writes are atomic): drop it
            try:
                p.unlink()
            except OSError:
                pass
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict) -> Path:
        p = self.path(key)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cache directory {p.parent} cannot be created ({exc}); set "
                            f"HWDSE_CACHE_DIR to a writable directory") from None
        data = json.dumps(value, sort_keys=True, indent=1)
        # a unique temp name in the same directory, so that os.replace is an atomic rename
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return p
