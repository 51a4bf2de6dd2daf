"""One cache default for every command: $HWDSE_CACHE_DIR, else hwmodel.cache's ~/.cache/hwdse."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.cli import main
from hwmodel.cache import default_cache_dir


class _Stop(Exception):
    pass


def test_default_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("HWDSE_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "hwdse"


@pytest.mark.parametrize("argv", [["sweep", "--formats", "int8", "--acc", "fp32"],
                                  ["whatif", "e3m4", "--acc", "fp32"],
                                  ["report", "--only", "isoarea"]])
def test_every_command_uses_the_default(tmp_path, monkeypatch, argv):
    monkeypatch.setenv("HWDSE_CACHE_DIR", str(tmp_path / "env"))
    seen = []

    def capture(*a, cache_dir=None, **k):
        seen.append(Path(cache_dir))
        raise _Stop

    from analysis import commands, engine, report, whatif  # noqa: F401
    for mod in (engine, whatif):
        monkeypatch.setattr(mod, "run_sweep", capture)
    monkeypatch.setattr(report, "build_report", capture)
    with pytest.raises(_Stop):
        main([*argv, "--out", str(tmp_path / "o")])
    assert seen == [tmp_path / "env"]
