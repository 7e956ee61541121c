"""``lk-otel check [--backend NAME ...] [--timeout S]``: is each backend taking traces?"""

from __future__ import annotations

import argparse
import sys

from lk_otel.configure.env import environ, parse_positive_float
from lk_otel.configure.selection import BY_NAME, backends_from_env
from lk_otel.errors import ConfigError
from lk_otel.export.check import CHECK_SPAN_NAME, DEFAULT_TIMEOUT, CheckResult, check_backends

_PROG = "lk-otel check"


def _timeout(value: str) -> float:
    try:
        return parse_positive_float(value, "--timeout")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``check`` arguments."""
    parser.add_argument(
        "--backend",
        metavar="NAME",
        action="append",
        help=(
            f"check this backend ({', '.join(BY_NAME)}); repeat or comma-separate for several. "
            "Default: the backends setup_tracing() would choose from the environment"
        ),
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        help=f"give up on a backend after S seconds (default {DEFAULT_TIMEOUT:g})",
    )


def format_result(result: CheckResult) -> str:
    """One line for an OK backend; two (where, then why) for a failed one."""
    if result.ok:
        millis = (result.seconds or 0.0) * 1000
        shown = f"{millis:.1f}" if millis < 10 else f"{millis:.0f}"
        return f"OK    {result.backend:<9} {result.destination}  round trip {shown} ms"
    where = "" if result.kind == "config" else f" {result.destination}"
    return f"FAIL  {result.backend:<9}{where}".rstrip() + f"\n      {result.cause}"


def run(args: argparse.Namespace) -> int:
    """Check each backend; 0 when every one took the test trace, 1 otherwise."""
    env = environ()
    names = [n.strip() for arg in args.backend or [] for n in arg.split(",") if n.strip()]
    if args.backend and not names:
        print(f"{_PROG}: error: --backend needs a name ({', '.join(BY_NAME)})", file=sys.stderr)
        return 1
    if not names and not backends_from_env(env):
        print(
            "no backend configured (LANGFUSE_* or OTEL_EXPORTER_OTLP_ENDPOINT); checking the "
            "default, OTLP/gRPC to localhost:4317"
        )
    try:
        results = check_backends(names or None, args.timeout, env=env)
    except ConfigError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
    trace_id = next((r.trace_id for r in results if r.trace_id), None)
    if trace_id:
        print(f"test span {CHECK_SPAN_NAME!r} in trace {trace_id}, timeout {args.timeout:g} s")
    for result in results:
        print(format_result(result))
    failed = sum(not r.ok for r in results)
    if failed:
        print(f"{failed} of {len(results)} backend(s) failed")
        return 1
    print(f"all {len(results)} backend(s) OK")
    return 0
