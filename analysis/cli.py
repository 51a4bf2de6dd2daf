"""The `hwdse` command line: one subcommand per job, each in analysis/commands/<name>.py.

Every command module defines HELP (one line), DESCRIPTION (the --help text), add_arguments(parser)
and run(args) -> int. Modules import heavy packages (amaranth, torch, matplotlib) inside run(),
so that `hwdse --help` stays fast and works without them.

Exit codes: 0 success, 1 a check or run failed (verification mismatch, failed points),
2 bad input or a missing/failed tool (a one-line message on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hwmodel.errors import HwdseError

# (subcommand, module under analysis.commands)
COMMANDS = [
    ("formats", "formats"),
    ("quantize", "quantize"),
    ("rtl", "rtl"),
    ("synth", "synth"),
    ("fpga", "fpga"),
    ("sta", "sta"),
    ("energy", "energy"),
    ("paper", "paper"),
    ("gpu-bench", "gpu_bench"),
    ("roofline", "roofline"),
    ("sweep", "sweep"),
    ("whatif", "whatif"),
    ("report", "report"),
    ("export", "export"),
]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code 2, with our one-line style
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hwdse",
        description="What a number format costs in silicon, and what it buys on a real "
                    "accelerator. Run `hwdse COMMAND --help` for each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS:
        try:
            module = importlib.import_module(f"analysis.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"analysis.commands.{module_name}":
                raise
            continue  # command not built yet
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except HwdseError as exc:
        print(f"hwdse {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hwdse {args.command}: interrupted; results computed so far are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
