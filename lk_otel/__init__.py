"""OpenTelemetry for LiveKit Agents voice agents: why a turn was slow, what a call cost."""

from __future__ import annotations

from .configure.backends import OTLP, Console, File, Jaeger, Langfuse
from .errors import ConfigError
from .tracing import TracingHandle, setup_tracing
from .version import __version__

__all__ = [
    "OTLP",
    "ConfigError",
    "Console",
    "File",
    "Jaeger",
    "Langfuse",
    "TracingHandle",
    "__version__",
    "setup_tracing",
]
