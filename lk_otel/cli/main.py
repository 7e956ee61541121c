"""Entry point of the ``lk-otel`` console script."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int``
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("lk_otel.cli.demo", "run a simulated voice call offline and export its trace"),
    "check": ("lk_otel.cli.check", "send one test trace to the configured backends"),
    "report": ("lk_otel.cli.report", "per-turn latency and usage from a file export"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s module is imported (the others' may need
    optional extras)."""
    parser = argparse.ArgumentParser(
        prog="lk-otel", description="OpenTelemetry for LiveKit Agents voice agents."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in _COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(cmd)
            cmd.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command if command in _COMMANDS else None).parse_args(argv)
    return int(args._run(args))


if __name__ == "__main__":
    sys.exit(main())
