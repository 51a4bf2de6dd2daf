"""The CLI surface: help for every command, exit codes, one-line errors."""

import subprocess
import sys

import pytest

from analysis import cli


def test_every_listed_command_has_a_module():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = [name for name, _ in cli.COMMANDS if name not in sub.choices]
    assert missing == [], f"commands without a module: {missing}"


@pytest.mark.parametrize("name", [n for n, _ in cli.COMMANDS])
def test_help_explains_each_command(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert name in out and len(out.splitlines()) >= 3


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2


def test_console_script_runs_without_traceback():
    out = subprocess.run([sys.executable, "-m", "analysis.cli", "formats", "fp(e=0,m=3)"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
